import Foundation
import Synchronization

/// A digest e-mail: `multipart/alternative` with a plain-text part first and an HTML part second, both UTF-8
/// quoted-printable, and the headers a bulk sender owes its recipients (RFC 5322, RFC 2047, RFC 2369, RFC 8058).
public struct MailMessage: Sendable {
    /// A display name and an address.
    public struct Mailbox: Sendable, Equatable {
        public var name: String
        public var address: String

        /// Creates a mailbox.
        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }
    }

    public var from: Mailbox
    public var to: Mailbox
    public var replyTo: String?
    public var subject: String
    public var date: Date
    public var timeZone: TimeZone
    /// Message-ID without angle brackets, `local@domain`.
    public var messageID: String
    /// The one-click unsubscribe URL (https), for `List-Unsubscribe` and `List-Unsubscribe-Post`.
    public var unsubscribeURL: String?
    /// `List-Id` (RFC 2919): a description and the list's identifier, e.g. `Acme ambassadors` and
    /// `ambassadors.acme.example`. Only the description is ever encoded, so filters always see the identifier.
    public var listID: ListID?
    /// Whether the unsubscribe URL takes an RFC 8058 one-click POST (`List-Unsubscribe-Post`); test messages,
    /// whose links unsubscribe nobody, say no.
    public var oneClickUnsubscribe = true
    public var text: String
    public var html: String

    /// A list's description and identifier, for `List-Id`.
    public struct ListID: Sendable, Equatable {
        public var name: String
        /// A dot-atom such as `ambassadors.acme.example`.
        public var id: String

        /// Creates a list id.
        public init(name: String, id: String) {
            self.name = name
            self.id = id
        }
    }

    /// Creates a message.
    public init(
        from: Mailbox, to: Mailbox, replyTo: String? = nil, subject: String, date: Date, timeZone: TimeZone,
        messageID: String, unsubscribeURL: String? = nil, listID: ListID? = nil, text: String, html: String
    ) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.date = date
        self.timeZone = timeZone
        self.messageID = messageID
        self.unsubscribeURL = unsubscribeURL
        self.listID = listID
        self.text = text
        self.html = html
    }

    /// The message as it goes over the wire: CRLF line ends, no line over 998 characters.
    public func encoded() -> [UInt8] {
        let boundary =
            "=_advocate_"
            + String(
                String.UnicodeScalarView(
                    // RFC 2046 allows ASCII only in a boundary.
                    messageID.unicodeScalars.filter { scalar in
                        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    }
                ).suffix(20))
        var head = ""
        func header(_ name: String, _ value: String) { head += "\(name): \(value)\r\n" }
        header("Date", Self.rfc5322Date(date, timeZone: timeZone))
        // From, Subject and List-Id repeat across a send's messages: encoded once each (To never does).
        header(
            "From",
            Self.recent("From", from.name, from.address) {
                HeaderEncoding.mailbox(name: $0, address: $1, headerName: "From")
            })
        header("To", HeaderEncoding.mailbox(name: to.name, address: to.address, headerName: "To"))
        if let replyTo { header("Reply-To", "<\(replyTo)>") }
        header(
            "Subject",
            Self.recent("Subject", subject, "") { value, _ in HeaderEncoding.unstructured(value, headerName: "Subject")
            })
        let id = messageID.collapsingWhitespace
        header(
            "Message-ID", "<\(id.utf8.contains(UInt8(ascii: " ")) ? id.replacingOccurrences(of: " ", with: "") : id)>")
        header("MIME-Version", "1.0")
        if let listID {
            header(
                "List-Id",
                Self.recent("List-Id", listID.name, listID.id) {
                    HeaderEncoding.mailbox(name: $0, address: $1, headerName: "List-Id")
                })
        }
        if let unsubscribeURL, Self.fitsAngleBrackets(unsubscribeURL) {
            header("List-Unsubscribe", "<\(unsubscribeURL)>")
            if oneClickUnsubscribe { header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click") }
        }
        header("Auto-Submitted", "auto-generated")
        header("Content-Type", "multipart/alternative;\r\n boundary=\"\(boundary)\"")
        head += "\r\nThis is a multi-part message in MIME format.\r\n"

        var output = Array(head.utf8)
        output.reserveCapacity(head.utf8.count + (text.utf8.count + html.utf8.count) * 11 / 10 + 512)
        for (type, body) in [("text/plain", text), ("text/html", html)] {
            output += Array(
                "\r\n--\(boundary)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                    .utf8)
            QuotedPrintable.encode(body, into: &output)
        }
        output += Array("\r\n--\(boundary)--\r\n".utf8)
        return output
    }

    /// Whether `url` is an http(s) URL with a host that can stand between `<` and `>` in a header as it is: printable
    /// ASCII only (no space, CR or LF), and no angle bracket. A byte check, not a URL parser: it runs for every
    /// message, and the unsubscribe URL is one Advocate built from its own base URL and a token.
    static func fitsAngleBrackets(_ url: String) -> Bool {
        let bytes = url.utf8
        let lowered = bytes.prefix(8).map { $0 | ($0 >= 65 && $0 <= 90 ? 32 : 0) }  // the scheme, any case
        let scheme =
            lowered.starts(with: "https://".utf8) ? 8 : lowered.starts(with: "http://".utf8) ? 7 : bytes.count + 1
        guard bytes.count > scheme, bytes.dropFirst(scheme).first != UInt8(ascii: "/") else { return false }
        return bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
    }

    /// Header values encoded lately, by header name and raw value: a send encodes the same From, List-Id and
    /// (per group of readers) Subject for message after message. Cleared when it holds 64.
    private static let recentValues = Mutex<[RecentKey: String]>([:])

    /// A header and the raw values it was encoded from.
    private struct RecentKey: Hashable {
        var name: String
        var first: String
        var second: String
    }

    /// `encode(first, second)`, or what it returned the last time for the same header and values.
    private static func recent(
        _ name: String, _ first: String, _ second: String, _ encode: (String, String) -> String
    ) -> String {
        let key = RecentKey(name: name, first: first, second: second)
        if let value = recentValues.withLock({ $0[key] }) { return value }
        let value = encode(first, second)
        recentValues.withLock { values in
            if values.count >= 64 { values.removeAll(keepingCapacity: true) }
            values[key] = value
        }
        return value
    }

    /// `Wed, 02 Dec 2026 10:00:00 +0100`. A send formats the same second for many messages, so the last one is
    /// kept.
    public static func rfc5322Date(_ date: Date, timeZone: TimeZone) -> String {
        let second = date.timeIntervalSince1970.rounded(.down)
        if let last = lastDate.withLock({ $0 }), last.second == second, last.timeZone == timeZone { return last.text }
        let text = formatDate(date, timeZone: timeZone)
        lastDate.withLock { $0 = (second, timeZone, text) }
        return text
    }

    private static let lastDate = Mutex<(second: Double, timeZone: TimeZone, text: String)?>(nil)

    private static func formatDate(_ date: Date, timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let offset = timeZone.secondsFromGMT(for: date) / 60
        let sign = offset < 0 ? "-" : "+"
        return String(
            format: "%@, %02d %@ %04d %02d:%02d:%02d %@%02d%02d", days[c.weekday! - 1], c.day!, months[c.month! - 1],
            c.year!, c.hour!, c.minute!, c.second!, sign, abs(offset) / 60, abs(offset) % 60)
    }
}
