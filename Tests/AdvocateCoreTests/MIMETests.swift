import AdvocateCore
import Foundation
import Testing

/// Decodes RFC 2047 Q encoded-words, for checking what a mail client would show.
func decodeHeader(_ value: String) -> String {
    let unfolded = value.replacingOccurrences(of: "\r\n ", with: " ")
    var bytes: [UInt8] = []
    var plain = ""
    for word in unfolded.split(separator: " ", omittingEmptySubsequences: false) {
        if word.hasPrefix("=?UTF-8?Q?") && word.hasSuffix("?=") {
            var payload = Array(word.dropFirst(10).dropLast(2).utf8)[...]
            while let byte = payload.popFirst() {
                if byte == UInt8(ascii: "=") {
                    let hex = String(decoding: payload.prefix(2), as: UTF8.self)
                    bytes.append(UInt8(hex, radix: 16)!)
                    payload = payload.dropFirst(2)
                } else {
                    bytes.append(byte == UInt8(ascii: "_") ? 32 : byte)
                }
            }
        } else {
            plain += String(decoding: bytes, as: UTF8.self) + (plain.isEmpty && bytes.isEmpty ? "" : " ") + word
            bytes = []
        }
    }
    return plain + String(decoding: bytes, as: UTF8.self)
}

/// Decodes quoted-printable bytes.
func decodeQP(_ bytes: [UInt8]) -> String {
    var output: [UInt8] = []
    var index = 0
    while index < bytes.count {
        if bytes[index] == UInt8(ascii: "=") {
            if bytes[index + 1] == 13 {
                index += 3
                continue
            }
            output.append(UInt8(String(decoding: bytes[index + 1...index + 2], as: UTF8.self), radix: 16)!)
            index += 3
        } else {
            output.append(bytes[index])
            index += 1
        }
    }
    return String(decoding: output, as: UTF8.self)
}

@Suite("MIME")
struct MIMETests {
    @Test("non-ASCII names and subjects become encoded-words of at most 75 characters that decode back")
    func encodedWords() {
        #expect(HeaderEncoding.encodedWords("Stéphan") == ["=?UTF-8?Q?St=C3=A9phan?="])
        let subject = "Deelklaar voor week 49: Zoë's zonnepark ☀️ levert stroom voor 4.000 huishoudens 🚀🚀🚀"
        let header = HeaderEncoding.unstructured(subject, headerName: "Subject")
        for (index, line) in header.components(separatedBy: "\r\n").enumerated() {
            #expect((index == 0 ? "Subject: " + line : line).count <= 78)
        }
        for word in header.replacingOccurrences(of: "\r\n ", with: " ").split(separator: " ") {
            #expect(word.count <= 75)
        }
        #expect(decodeHeader(header) == subject)
        // One character longer than a word can hold (the flag of England: 7 code points, 28 bytes, 84 encoded) is
        // split between its code points, and still decodes to the same text.
        let flags = "Go 🏴󠁧󠁢󠁥󠁮󠁧󠁿 and 👨‍👩‍👧‍👦!"
        let flagged = HeaderEncoding.unstructured(flags, headerName: "Subject")
        for word in flagged.replacingOccurrences(of: "\r\n ", with: " ").split(separator: " ") {
            #expect(word.count <= 75, "\(word)")
        }
        #expect(decodeHeader(flagged) == flags)
    }

    @Test(
        "CR and LF in a value can never start a new header line",
        arguments: [
            "Hello\r\nBcc: victim@example.org", "Hello\nBcc: victim@example.org", "Zoë\r\n\r\n<html>",
            "a\u{2028}b\u{0085}c",
        ])
    func injection(value: String) {
        let subject = HeaderEncoding.unstructured(value, headerName: "Subject")
        let mailbox = HeaderEncoding.mailbox(name: value, address: "a@example.org", headerName: "To")
        for encoded in [subject, mailbox] {
            for line in encoded.components(separatedBy: "\r\n").dropFirst() {
                #expect(
                    line.hasPrefix(" "), "every continuation line is folded whitespace: \(encoded.debugDescription)")
            }
            #expect(!encoded.contains("\n") || encoded.contains("\r\n "))
            #expect(!encoded.replacingOccurrences(of: "\r\n ", with: "").contains("\r"))
            #expect(!encoded.replacingOccurrences(of: "\r\n ", with: "").contains("\n"))
        }
    }

    @Test("ASCII names with specials are quoted, plain ones left alone")
    func mailboxes() {
        #expect(
            HeaderEncoding.mailbox(name: "Anke Sluis", address: "a@x.nl", headerName: "To") == "Anke Sluis <a@x.nl>")
        #expect(
            HeaderEncoding.mailbox(name: "Sluis, Anke \"PR\"", address: "a@x.nl", headerName: "To")
                == "\"Sluis, Anke \\\"PR\\\"\" <a@x.nl>")
        #expect(HeaderEncoding.mailbox(name: "", address: "a@x.nl", headerName: "To") == "<a@x.nl>")
    }

    @Test("quoted-printable keeps lines within 76 characters and decodes to the original")
    func quotedPrintable() {
        let text =
            "Hoi Zoë,\n" + String(repeating: "lange regel met ☀️ en = tekens ", count: 20) + "   \n.punt\nFrom here\nend"
        let encoded = QuotedPrintable.encode(text)
        let lines = String(decoding: encoded, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.count <= 76 })
        #expect(!lines.contains { $0.hasPrefix(".") || $0.hasPrefix("From ") })
        #expect(!lines.contains { $0.hasSuffix(" ") })
        #expect(decodeQP(encoded) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test(
        "a dot or 'From ' pushed to the start of a line by a soft break is still protected",
        arguments: Array(60...80))
    func protectionAfterSoftBreak(prefix: Int) {
        for tail in [". Deel het verhaal", "From here on", "..", "From "] {
            let text =
                String(repeating: "a", count: prefix) + tail + "\n" + String(repeating: "é", count: prefix / 2)
                + tail
            let encoded = QuotedPrintable.encode(text)
            let lines = String(decoding: encoded, as: UTF8.self).components(separatedBy: "\r\n")
            #expect(!lines.contains { $0.hasPrefix(".") || $0.hasPrefix("From ") }, "\(prefix) \(tail)")
            #expect(lines.allSatisfy { $0.utf8.count <= 76 })
            #expect(decodeQP(encoded) == text.replacingOccurrences(of: "\n", with: "\r\n"))
        }
    }

    @Test("random text: lines within 76, nothing unprotected at a line start or end, only what must be is encoded")
    func quotedPrintableRandom() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "=", ".", "From ", " ", "  ", "\t", "\n", "\r\n", "é", "☀️", "<a href=\"x\">", "\r"]
        for _ in 0..<500 {
            let text = (0..<Int.random(in: 0...120, using: &generator)).map { _ in
                pieces.randomElement(using: &generator)!
            }.joined()
            let encoded = QuotedPrintable.encode(text)
            let lines = String(decoding: encoded, as: UTF8.self).components(separatedBy: "\r\n")
            #expect(lines.allSatisfy { $0.utf8.count <= 76 }, "\(text)")
            #expect(!lines.contains { $0.hasPrefix(".") || $0.hasPrefix("From ") }, "\(text)")
            #expect(!lines.contains { $0.hasSuffix(" ") || $0.hasSuffix("\t") }, "\(text)")
            #expect(
                decodeQP(encoded)
                    == text.replacingOccurrences(of: "\r\n", with: "\n")
                    .replacingOccurrences(of: "\n", with: "\r\n"), "\(text)")
        }
        // Plain words and single spaces stay as they are: the only "=" are soft breaks at the ends of lines.
        let words = (0..<200).map { _ in ["het", "verhaal", "deel", "x"].randomElement(using: &generator)! }
        let lines = String(decoding: QuotedPrintable.encode(words.joined(separator: " ")), as: UTF8.self)
            .components(separatedBy: "\r\n")
        #expect(lines.dropLast().allSatisfy { $0.hasSuffix("=") && $0.dropLast().allSatisfy { $0 != "=" } })
        #expect(lines.dropLast().allSatisfy { $0.utf8.count >= 70 }, "lines are filled")
    }

    @Test("the line of a real digest that broke: 'passen=' then a dot at the start of the next line")
    func reportedSoftBreakDot() {
        // 75 characters before the dot: the soft break falls right before it.
        let text = "Kies de tekst die bij jou past, of schrijf zelf iets dat bij je werk passen. Deel"
        let encoded = String(decoding: QuotedPrintable.encode(text), as: UTF8.self)
        #expect(encoded.contains("passen=\r\n=2E Deel"))
    }

    @Test("List-Id keeps its identifier readable when the organisation's name needs encoding")
    func listID() {
        let message = MailMessage(
            from: .init(name: "A", address: "a@x.nl"), to: .init(name: "B", address: "b@x.nl"), subject: "S",
            date: Date(), timeZone: .current, messageID: "m@x.nl",
            listID: .init(name: "Gemeente Súdwest-Fryslân ambassadeurs", id: "ambassadors.sudwest.example"),
            text: "t", html: "h")
        let raw = String(decoding: message.encoded(), as: UTF8.self)
        let header = raw.components(separatedBy: "\r\nList-Id: ")[1].components(separatedBy: "\r\n")
            .prefix { !$0.contains(":") || $0.hasPrefix(" ") }.joined(separator: "\r\n")
        #expect(header.hasSuffix("<ambassadors.sudwest.example>"))
        #expect(decodeHeader(header) == "Gemeente Súdwest-Fryslân ambassadeurs <ambassadors.sudwest.example>")
    }

    @Test("a digest message has the headers a bulk sender owes, and both parts")
    func message() {
        let message = MailMessage(
            from: .init(name: "Acme", address: "news@acme.example"),
            to: .init(name: "Zoë d'Hondt", address: "zoe@x.nl"),
            replyTo: "comms@acme.example", subject: "Week 49", date: Date(timeIntervalSince1970: 1_796_202_000),
            timeZone: TimeZone(identifier: "Europe/Amsterdam")!, messageID: "advocate.2026-W49.7@acme.example",
            unsubscribeURL: "https://advocate.acme.example/u/TOKEN",
            listID: .init(name: "Acme", id: "ambassadors.acme.example"),
            text: "Hoi Zoë", html: "<p>Hoi Zoë</p>")
        let raw = String(decoding: message.encoded(), as: UTF8.self)
        let head = raw.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.contains("Date: Wed, 02 Dec 2026 10:00:00 +0100\r\n"))
        #expect(head.contains("To: =?UTF-8?Q?Zo=C3=AB_d=27Hondt?= <zoe@x.nl>\r\n"))
        #expect(head.contains("Message-ID: <advocate.2026-W49.7@acme.example>\r\n"))
        #expect(
            head.contains("boundary=\"=_advocate_e2026W497acmeexample\""), "the Message-ID's last 20 letters and digits"
        )
        #expect(head.contains("List-Unsubscribe: <https://advocate.acme.example/u/TOKEN>\r\n"))
        #expect(head.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        #expect(head.contains("MIME-Version: 1.0\r\n"))
        let plain = raw.range(of: "Content-Type: text/plain; charset=utf-8")!
        let html = raw.range(of: "Content-Type: text/html; charset=utf-8")!
        #expect(plain.lowerBound < html.lowerBound, "text first, then HTML")
        #expect(raw.components(separatedBy: "\r\n").allSatisfy { $0.count <= 78 })
        #expect(!raw.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test("an unsubscribe URL that could break the header is left out")
    func unsafeUnsubscribe() {
        var message = MailMessage(
            from: .init(name: "A", address: "a@x.nl"), to: .init(name: "B", address: "b@x.nl"), subject: "S",
            date: Date(), timeZone: .current, messageID: "m@x.nl", text: "t", html: "h")
        message.unsubscribeURL = "https://x.nl/u/a>\r\nBcc: evil@x.nl"
        let raw = String(decoding: message.encoded(), as: UTF8.self)
        #expect(!raw.contains("List-Unsubscribe"))
        #expect(!raw.contains("Bcc"))
        for unsafe in [
            "https://x.nl/u/a\nBcc: evil@x.nl", "https://x.nl/u/a b", "https://x.nl/u/<a", "https://x.nl/u/ä",
            "https://x.nl/u/a\u{7F}", "javascript:alert(1)", "ftp://x.nl/u/a", "https://", "https:///u/a", "http://",
            "mailto:a@x.nl", "", " https://x.nl/u/a",
        ] {
            message.unsubscribeURL = unsafe
            #expect(!String(decoding: message.encoded(), as: UTF8.self).contains("List-Unsubscribe"), "\(unsafe)")
        }
        for safe in ["https://x.nl/u/AbC-_9", "http://127.0.0.1:8080/advocate/u/t?x=1&y=%20", "HTTPS://X.nl/u/a"] {
            message.unsubscribeURL = safe
            #expect(String(decoding: message.encoded(), as: UTF8.self).contains("List-Unsubscribe: <\(safe)>\r\n"))
        }
    }

    @Test("a Message-ID with spaces loses them; the boundary keeps only its ASCII letters and digits")
    func messageIDSpaces() {
        let message = MailMessage(
            from: .init(name: "A", address: "a@x.nl"), to: .init(name: "B", address: "b@x.nl"), subject: "S",
            date: Date(), timeZone: .current, messageID: "zoë 7@acme.example", text: "t", html: "h")
        let raw = String(decoding: message.encoded(), as: UTF8.self)
        #expect(raw.contains("Message-ID: <zoë7@acme.example>\r\n"))
        #expect(raw.contains("boundary=\"=_advocate_zo7acmeexample\""))
    }

    @Test("headers that repeat across messages are encoded anew for each different value")
    func repeatedHeaders() {
        var message = MailMessage(
            from: .init(name: "Acme Energie", address: "news@acme.example"), to: .init(name: "B", address: "b@x.nl"),
            subject: "Week 49", date: Date(), timeZone: .current, messageID: "m@x.nl",
            listID: .init(name: "Acme", id: "ambassadors.acme.example"), text: "t", html: "h")
        func head() -> String {
            String(decoding: message.encoded(), as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
        }
        for round in 0..<2 {  // the second round is answered from what the first encoded
            message.subject = "Week 49"
            message.from = .init(name: "Acme Energie", address: "news@acme.example")
            #expect(head().contains("Subject: Week 49\r\nMessage-ID"), "round \(round)")
            #expect(head().contains("From: Acme Energie <news@acme.example>\r\n"))
            message.subject = "Week 50 ☀️"
            message.from = .init(name: "Zoë", address: "zoe@acme.example")
            #expect(head().contains("Subject: =?UTF-8?Q?Week_50_=E2=98=80=EF=B8=8F?=\r\n"), "round \(round)")
            #expect(head().contains("From: =?UTF-8?Q?Zo=C3=AB?= <zoe@acme.example>\r\n"))
            message.listID = .init(name: "Other", id: "other.acme.example")
            #expect(head().contains("List-Id: Other <other.acme.example>\r\n"))
            message.listID = .init(name: "Acme", id: "ambassadors.acme.example")
            #expect(head().contains("List-Id: Acme <ambassadors.acme.example>\r\n"))
            // The same name with another address is another value.
            message.listID = .init(name: "Acme", id: "other.acme.example")
            #expect(head().contains("List-Id: Acme <other.acme.example>\r\n"))
            message.from = .init(name: "Zoë", address: "news@acme.example")
            #expect(head().contains("From: =?UTF-8?Q?Zo=C3=AB?= <news@acme.example>\r\n"))
        }
        // Many different subjects (more than the 64 kept) each still get their own header.
        for index in 0..<200 {
            message.subject = "Subject \(index)"
            #expect(head().contains("Subject: Subject \(index)\r\n"))
        }
    }

    @Test("a subject with a word too long for a header line is split into encoded-words: no line passes 998 octets")
    func overlongWord() {
        let title = "Lees: https://acme.example/" + String(repeating: "a", count: 1_100)
        let header = "Subject: " + HeaderEncoding.unstructured(title, headerName: "Subject")
        let lines = header.components(separatedBy: "\r\n")
        #expect(lines.count > 10 && lines.allSatisfy { $0.utf8.count <= 78 }, "\(lines.map(\.utf8.count))")
        #expect(header.contains("=?UTF-8?Q?"))
        let short = HeaderEncoding.unstructured("Lees dit", headerName: "Subject")
        #expect(short == "Lees dit", "plain ASCII stays plain")
    }
}
