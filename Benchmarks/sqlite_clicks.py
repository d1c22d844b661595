"""The click writer's peer: Python's sqlite3 module running the statement `advocate-bench clickwrite` runs, in the same
batches of 12 (one transaction each), with the same columns and ids, on a copy of the same database file (the share
key is a SHA-256 prefix here and Advocate's own hash there: both spread evenly, which is what the index cares about). What it costs per
click is what SQLite itself costs (B-tree and index updates, WAL writes, checkpoints), without Advocate's code.

Usage: python3 sqlite_clicks.py DATABASE INSERT_SQL_FILE N      prints SQLITE_CLICKWRITE_US <microseconds per click>
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
    path, sql_file, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sql = open(sql_file).read()
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
                     share_key(ambassador, item, network, week), None, 0, 0, None))
    started = time.perf_counter()
    for start in range(0, count, 12):
        db.execute("BEGIN IMMEDIATE")
        for row in rows[start:start + 12]:
            db.execute(sql, row).fetchall()
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    print("SQLITE_CLICKWRITE_US %.1f" % (elapsed / count * 1e6))


main()
