"""The send ledger's peer: Python's sqlite3 module running the two statements a message commits
(`advocate-bench ledger` runs them through Advocate's store): the note that its end is handed over, and its outcome
("sent"), each its own transaction, on a copy of the same database file, for the deliveries of the same week, claimed
256 at a time. The two timed statements are those of Sources/Advocate/Database/AppDatabase+Deliveries.swift
(markHandedOver and recordOutcome with a sender); the untimed claim is the pending half of claimDeliveries (a new
digest has no retries), and every active person gets a delivery (the seeded people are all weekly, none paused:
scripts/bench checks that both sides did as many). What it costs is what SQLite itself costs, without Advocate's code.

Usage: python3 sqlite_ledger.py DATABASE WEEK N     prints SQLITE_HANDOVER_US, SQLITE_OUTCOME_US (microseconds each)
                                                    and SQLITE_COUNT (deliveries done)
"""
import sqlite3
import sys
import time
from datetime import datetime, timezone

HAND_OVER = """UPDATE delivery SET status = 'sending', attempts = attempts + 1, messageId = ?, updatedAt = ?,
    handedOverAt = ?
WHERE id = ? AND status IN ('pending', 'retry') AND claimedBy = ?
  AND EXISTS (SELECT 1 FROM ambassador a WHERE a.id = delivery.ambassadorId AND a.status = 'active')"""
OUTCOME = """UPDATE delivery SET status = ?, lastError = ?, nextAttemptAt = ?, updatedAt = ?, claimedBy = NULL,
    sentAt = CASE WHEN ? = 'sent' THEN ? ELSE sentAt END,
    attempts = attempts + ?, messageId = COALESCE(?, messageId)
WHERE id = ? AND claimedBy = ?"""
CLAIM = """UPDATE delivery SET claimedBy = ? WHERE id IN (
    SELECT d.id FROM delivery d JOIN ambassador a ON a.id = d.ambassadorId
    WHERE d.digestId = ? AND d.status = 'pending' AND d.claimedBy IS NULL AND a.status = 'active'
    ORDER BY 1 LIMIT ?)
RETURNING id"""
SENDER = 7


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def main():
    path, week, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("INSERT INTO digest (week, createdAt) VALUES (?, ?) ON CONFLICT(week) DO NOTHING", (week, now()))
    digest = db.execute("SELECT id FROM digest WHERE week = ?", (week,)).fetchone()[0]
    db.execute(
        "INSERT INTO delivery (digestId, ambassadorId, status, createdAt, updatedAt) "
        "SELECT ?, id, 'pending', ?, ? FROM ambassador WHERE status = 'active' ON CONFLICT DO NOTHING",
        (digest, now(), now()))
    hand_over = outcome = 0.0
    done = 0
    while done < count:
        claimed = sorted(row[0] for row in db.execute(CLAIM, (SENDER, digest, min(256, count - done))).fetchall())
        if not claimed:
            break
        for delivery in claimed:
            at = now()
            first = time.perf_counter()
            db.execute(HAND_OVER, (f"advocate.{week}.{delivery}@acme.example", at, at, delivery, SENDER))
            second = time.perf_counter()
            db.execute(OUTCOME, ("sent", None, None, at, "sent", at, 0, None, delivery, SENDER))
            hand_over += second - first
            outcome += time.perf_counter() - second
        done += len(claimed)
    print("SQLITE_HANDOVER_US %.1f" % (hand_over / done * 1e6))
    print("SQLITE_OUTCOME_US %.1f" % (outcome / done * 1e6))
    print("SQLITE_COUNT %d" % done)


if __name__ == "__main__":
    main()
