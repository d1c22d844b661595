"""The click writer's peer: Python's sqlite3 module running the statements `advocate-bench clickwrite` runs, in the same
batches of 12 (one transaction each) into the click inbox, then moving them into `click` in the same slices of 1,024
(select, insert each, delete; one transaction per slice), with the same columns and ids, on a copy of the same database
file (the share
key is a SHA-256 prefix here and Advocate's own hash there: both spread evenly, which is what the index cares about). What it costs per
click is what SQLite itself costs (B-tree and index updates, WAL writes, checkpoints), without Advocate's code.

Usage: python3 sqlite_clicks.py DATABASE INBOX_SQL_FILE INSERT_SQL_FILE N
prints SQLITE_CLICKWRITE_US and SQLITE_CLICKMOVE_US <microseconds per click>
"""
import hashlib
import sqlite3
import sys
import time
from datetime import datetime, timezone

NETWORKS = ["linkedin", "x", "facebook", "whatsapp", "bluesky", "email"]


def share_key(ambassador, item, network, week):
    # Any well-spread 63-bit key does: only where the rows land in the index matters here.
    digest = hashlib.sha256(f"{ambassador}|{item}|{network}|{week}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def main():
    path, inbox_file, insert_file, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    inbox, insert = open(inbox_file).read(), open(insert_file).read()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 10000")
    week = "2026-W49"
    rows = []
    for index in range(count):
        network = NETWORKS[index % len(NETWORKS)]
        item, ambassador = index % 8 + 1, index % 5000 + 1
        at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        rows.append((at, "share", week, item, network, ambassador, "human", "browser",
                     share_key(ambassador, item, network, week), None, 0, 0, None, None, None))
    started = time.perf_counter()
    for start in range(0, count, 12):
        db.execute("BEGIN IMMEDIATE")
        for row in rows[start:start + 12]:
            db.execute(inbox, row)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    print("SQLITE_CLICKWRITE_US %.1f" % (elapsed / count * 1e6))
    columns = "at, kind, week, itemId, network, ambassadorId, class, reason, shareKey, confirms, newReader, " \
        "newItemReader, requestId"
    started = time.perf_counter()
    while True:
        db.execute("BEGIN IMMEDIATE")
        slice = db.execute(f"SELECT id, {columns} FROM clickInbox ORDER BY id LIMIT 1024").fetchall()
        for row in slice:
            db.execute(insert, row[1:]).fetchall()
        if slice:
            db.execute("DELETE FROM clickInbox WHERE id <= ?", (slice[-1][0],))
        db.execute("COMMIT")
        if not slice:
            break
    elapsed = time.perf_counter() - started
    print("SQLITE_CLICKMOVE_US %.1f" % (elapsed / count * 1e6))


main()
