"""The click writer's peer: Python's sqlite3 module running the statements `advocate-bench clickwrite` runs, in the same
batches of 12 (one transaction each, the batch's clicks as one parcel: a line of tab-separated fields per click, the
text Advocate writes) into the click inbox, then moving them into `click` in the same slices of SLICE clicks (default
128, the idle server's; select the parcels, insert each click, delete; one transaction per slice), with the same
columns and ids, on a copy of the same database file (the share key is a SHA-256 prefix here and Advocate's own hash
there: both spread evenly, which is what the index cares about). What it costs per click is what SQLite itself costs
(B-tree and index updates, WAL writes, checkpoints), with Python's text handling in place of Advocate's.

Usage: python3 sqlite_clicks.py DATABASE INBOX_SQL_FILE INSERT_SQL_FILE N [SLICE]
prints SQLITE_CLICKWRITE_US and SQLITE_CLICKMOVE_US <microseconds per click>
"""
import hashlib
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone

NETWORKS = ["linkedin", "x", "facebook", "whatsapp", "bluesky", "email"]


def share_key(ambassador, item, network, week):
    # Any well-spread 63-bit key does: only where the rows land in the index matters here.
    digest = hashlib.sha256(f"{ambassador}|{item}|{network}|{week}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def main():
    path, inbox_file, insert_file, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    slice_ = int(sys.argv[5]) if len(sys.argv) > 5 else 128
    inbox, insert = open(inbox_file).read(), open(insert_file).read()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA busy_timeout = 10000")
    week = "2026-W49"
    rows = []
    reference = datetime(2001, 1, 1, tzinfo=timezone.utc)
    for index in range(count):
        network = NETWORKS[index % len(NETWORKS)]
        item, ambassador = index % 8 + 1, index % 5000 + 1
        rows.append((datetime.now(timezone.utc), "share", week, item, network, ambassador, "human", "browser",
                     share_key(ambassador, item, network, week), None, 0, 0, None))
    started = time.perf_counter()
    for start in range(0, count, 12):
        batch = rows[start:start + 12]
        # The parcel's fields: at (seconds since 2001), kind, week, item, network, person, class, reason, confirms,
        # newReader, newItemReader, requestId, taints, checkBefore; \N for none.
        lines = "".join("%r\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t\\N\t0\t0\t\\N\t\t\\N\n" % (
            (row[0] - reference).total_seconds(), *row[1:8]) for row in batch)
        db.execute("BEGIN IMMEDIATE")
        db.execute(inbox, (len(batch), lines))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    print("SQLITE_CLICKWRITE_US %.1f" % (elapsed / count * 1e6))
    keys = {(row[5], row[3], row[4]): row[8] for row in rows}
    started = time.perf_counter()
    while True:
        db.execute("BEGIN IMMEDIATE")
        # Whole parcels up to a slice of clicks, as the idle server's slices take them.
        sizes = db.execute("SELECT id, clicks FROM clickParcel ORDER BY id LIMIT ?", (slice_,)).fetchall()
        total, end = 0, None
        for parcel, clicks in sizes:
            if total >= slice_:
                break
            total, end = total + clicks, parcel
        if end is not None:
            for (lines,) in db.execute("SELECT lines FROM clickParcel WHERE id <= ? ORDER BY id", (end,)).fetchall():
                for line in lines.split("\n")[:-1]:
                    f = line.split("\t")
                    at = (reference + timedelta(seconds=float(f[0]))).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
                    item, ambassador = int(f[3]), int(f[5])
                    db.execute(insert, (at, f[1], f[2], item, f[4], ambassador, f[6], f[7],
                                        keys[(ambassador, item, f[4])], None, 0, 0, None)).fetchall()
            db.execute("DELETE FROM clickParcel WHERE id <= ?", (end,))
        db.execute("COMMIT")
        if end is None:
            break
    elapsed = time.perf_counter() - started
    print("SQLITE_CLICKMOVE_US %.1f" % (elapsed / count * 1e6))


main()
