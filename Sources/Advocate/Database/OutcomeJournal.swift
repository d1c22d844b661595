import AdvocateCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The relay's replies to a digest run's messages, noted in a plain file beside the SQLite store before the ledger
/// commits them. A message is in doubt from the ledger's note that its end may leave until its reply is kept where a
/// crash cannot take it. One `write` to this file does that in microseconds; the ledger's commit, which rewrites the
/// delivery's row and its status index, takes about 80. So the end gate (``EndGate``) lets the next message's end go
/// as soon as the reply is noted here, and the pace, which allows `inDoubtShare` divided by the time a message is in
/// doubt, allows more messages a second.
///
/// It keeps what the ledger keeps: a killed process loses nothing it wrote (the kernel holds it). Like SQLite's WAL at
/// `synchronous = NORMAL`, it is not synced: a power cut may lose its last lines (those deliveries are then in doubt)
/// and, at worst, keep a line while losing the ledger's later commits, which, as for the ledger alone, could let a
/// message be sent again. The next digest run records what a stopped run left here before anything else
/// (``AppDatabase/openOutcomeJournal()``) and empties the file; a run that recorded every reply empties it at its
/// end, so a killed run leaves at most its own replies (about 60 bytes each), replayed in one transaction. Only the
/// run that holds the digest send lock opens it.
final class OutcomeJournal: Sendable {
    /// One reply to the end of a message: what the ledger is to record for that attempt.
    struct Entry: Equatable, Sendable {
        var digestID: Int64
        var deliveryID: Int64
        /// The attempt this reply answers (the delivery's `attempts` after its hand-over note): a reply is recorded
        /// only on the attempt it belongs to.
        var attempt: Int
        var status: DeliveryStatus
        var error: String?
        var nextAttemptAt: Date?
        var at: Date
    }

    /// The database the journal belongs to, and the journal's own path beside it.
    let databasePath: String
    let path: String
    private let descriptor: Int32
    /// The file's length as this journal wrote it (only the run holding the send lock writes it), so that a write
    /// cut short can be cut back without asking the file; nil once one could not be: every later reply then waits
    /// for the ledger's commit, as without a journal. The lock of every write.
    private let length: Mutex<off_t?>

    /// Opens (creating when needed) the journal beside the SQLite file at `databasePath` for appending.
    init(databasePath: String) throws {
        self.databasePath = databasePath
        path = databasePath + ".outcomes"
        descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw Self.failure(databasePath, path, "cannot be opened for writing", String(cString: strerror(errno)))
        }
        var status = stat()
        length = Mutex(fstat(descriptor, &status) == 0 ? status.st_size : nil)
    }

    /// What went wrong with the journal, and what to check.
    private static func failure(_ databasePath: String, _ path: String, _ what: String, _ why: String) -> StoreError {
        .unavailable(
            path: databasePath,
            reason: "its journal of replies \(path) \(what) (\(why)); check the folder's permissions and free space")
    }

    deinit { Glibc.close(descriptor) }

    /// Notes a reply with one `write`; false when it could not be written whole (the caller then keeps the message
    /// in doubt until the ledger has committed it, as without a journal). A part written is cut off again, so that
    /// the next line does not run on from it.
    func append(_ entry: Entry) -> Bool {
        var line = Self.line(entry)
        return length.withLock { length in
            guard let end = length else { return false }
            return line.withUTF8 { bytes in
                let written = Glibc.write(descriptor, bytes.baseAddress, bytes.count)
                if written == bytes.count {
                    length = end + off_t(written)
                    return true
                }
                if written > 0 && ftruncate(descriptor, end) != 0 { length = nil }
                return false
            }
        }
    }

    /// Empties the journal once the ledger holds everything in it.
    func empty() throws {
        try length.withLock { length in
            guard ftruncate(descriptor, 0) == 0 else {
                throw Self.failure(databasePath, path, "cannot be emptied", String(cString: strerror(errno)))
            }
            if length != nil { length = 0 }
        }
    }

    /// The whole lines of the journal, in the order they were written. A last line without its newline (a write cut
    /// short) and lines that do not parse are left out: their deliveries stay in doubt.
    func entries() throws -> [Entry] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Self.failure(databasePath, path, "cannot be read", "\(error)")
        }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines.removeLast()  // after the last newline: empty, or a line cut short
        return lines.compactMap { Self.entry(String(decoding: $0, as: UTF8.self)) }
    }

    /// `digest delivery attempt status at next error`: times in seconds since 1970 (`-` for no next attempt), the
    /// error last and escaped (no newline in it), empty for none.
    static func line(_ entry: Entry) -> String {
        let next = entry.nextAttemptAt.map { "\($0.timeIntervalSince1970)" } ?? "-"
        return
            "\(entry.digestID) \(entry.deliveryID) \(entry.attempt) \(entry.status.rawValue) "
            + "\(entry.at.timeIntervalSince1970) \(next) \(escape(entry.error ?? ""))\n"
    }

    /// Parses one line written by ``line(_:)``, without its newline.
    static func entry(_ line: String) -> Entry? {
        // Split over Unicode scalars: an error that begins with a combining mark would join the space before it in
        // one Character.
        let fields = line.unicodeScalars.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false).map {
            String(String.UnicodeScalarView($0))
        }
        guard fields.count == 7, let digestID = Int64(fields[0]), let deliveryID = Int64(fields[1]),
            let attempt = Int(fields[2]), let status = DeliveryStatus(rawValue: String(fields[3])),
            let at = Double(fields[4])
        else { return nil }
        let next: Date?
        if fields[5] == "-" {
            next = nil
        } else if let seconds = Double(fields[5]) {
            next = Date(timeIntervalSince1970: seconds)
        } else {
            return nil
        }
        let error = unescape(fields[6])
        return Entry(
            digestID: digestID, deliveryID: deliveryID, attempt: attempt, status: status,
            error: error.isEmpty ? nil : error, nextAttemptAt: next, at: Date(timeIntervalSince1970: at))
    }

    /// The error with backslashes, CRs and LFs escaped, so that it stays on its line (over Unicode scalars: a CRLF is
    /// one `Character`).
    static func escape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// The text ``escape(_:)`` was given.
    static func unescape(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                switch scalar {
                case "n": out.append("\n")
                case "r": out.append("\r")
                default: out.append(scalar)
                }
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
