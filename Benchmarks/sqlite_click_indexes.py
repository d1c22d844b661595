"""What each index of the click table costs the click writer's move (Python's sqlite3, so SQLite's own cost).

The click table and its indexes are copied from an Advocate store (any SQLite file `advocate init` made), filled with
SEED clicks spread as the load check's are (5,000 people, 8 items, 6 networks, one week), and then, on a fresh copy
each time, N more clicks are inserted in slices of 1,024 (one transaction each, as a read settles the inbox):
with every index, without each index in turn, and without all the indexes whose order is not the order of arrival.
These are the move's INSERTs alone (no parcel read, decoded or deleted, foreign keys off); `click_request` is
partial (only clicks with a proxy's request id) and these clicks have none, so dropping it changes nothing.
Each line prints microseconds per click (wall clock and CPU of this process), twice, alternating.

Usage: python3 sqlite_click_indexes.py STORE [SEED] [N]     (defaults 1000000 and 30000; the scratch files go to
       a temporary folder, about 250 MB for a million clicks)
"""
import hashlib
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time

NETWORKS = ["linkedin", "x", "facebook", "whatsapp", "bluesky", "email"]
INSERT = ("INSERT INTO click (at, kind, week, itemId, network, ambassadorId, class, reason, shareKey, confirms, "
          "newReader, newItemReader, requestId) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def click(number, rng):
    network, item, person = NETWORKS[number % 6], number % 8 + 1, rng.randint(1, 5000)
    key = int.from_bytes(hashlib.sha256(f"{person}|{item}|{network}".encode()).digest()[:8], "big") >> 1
    at = "2026-12-02 %02d:%02d:%02d.%03d" % (number // 3600000 % 24, number // 60000 % 60, number // 1000 % 60,
                                            number % 1000)
    return (at, "share", "2026-W49", item, network, person, "human", "browser", key, None, 0, 0, None)


def main():
    store = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 30_000
    source = sqlite3.connect(store)
    table = source.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'click'").fetchone()[0]
    indexes = source.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'click' "
                             "AND sql IS NOT NULL ORDER BY name").fetchall()
    source.close()
    folder = tempfile.mkdtemp(prefix="click-indexes-")
    try:
        measure(folder, table, indexes, seed, count)
    finally:
        shutil.rmtree(folder)


def measure(folder, table, indexes, seed, count):
    base = os.path.join(folder, "base.sqlite")
    db = sqlite3.connect(base, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    # Foreign keys stay off (Python's default): this file has no people or items.
    db.execute(table)
    rng = random.Random(1)
    db.execute("BEGIN")
    db.executemany(INSERT, (click(number, rng) for number in range(seed)))
    db.execute("COMMIT")
    for _, sql in indexes:
        db.execute(sql)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    rows = [click(seed + number, rng) for number in range(count)]
    # The indexes whose first columns do not follow arrival (a new click lands on a random page of each, by person
    # or by share; the others lead with the week, the item, the request id, or kind, class and time, and new clicks
    # land at the end of a few runs).
    # (`click_report` took time first in migration v19; before it, it was scattered too.)
    scattered = [name for name, sql in indexes if name in ("click_ambassador", "click_share")
                 or name == "click_report" and "(kind, class, at," not in sql]
    variants = [("every index", [])] + [(f"without {name}", [name]) for name, _ in indexes]
    variants.append(("without " + ", ".join(scattered), scattered))
    print(f"{seed} clicks stored, {count} more moved in slices of 1,024; indexes whose order is not arrival's: "
          + ", ".join(scattered))
    for run in range(2):
        for label, dropped in variants:
            copy = os.path.join(folder, "copy.sqlite")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(copy + suffix):
                    os.remove(copy + suffix)
            shutil.copy(base, copy)
            db = sqlite3.connect(copy, isolation_level=None)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            for name in dropped:
                db.execute(f"DROP INDEX {name}")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            started, cpu = time.perf_counter(), time.process_time()
            for start in range(0, count, 1024):
                db.execute("BEGIN IMMEDIATE")
                for row in rows[start:start + 1024]:
                    db.execute(INSERT, row)
                db.execute("COMMIT")
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            db.close()
            print("run %d, %-60s %6.1f us/click, CPU %6.1f us" % (run + 1, label + ":", wall / count * 1e6,
                                                                   cpu / count * 1e6), flush=True)


main()
