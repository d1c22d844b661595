import AdvocateCore
import Foundation
import Testing

@testable import Advocate

@Test("the Date header: RFC 9110's IMF-fixdate, the path to link kinds and tokens")
func fastPathParts() {
    #expect(HTTPDateCache.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    #expect(HTTPDateCache.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    #expect(HTTPDateCache.format(1_796_184_000) == "Wed, 02 Dec 2026 04:00:00 GMT")
    #expect(LinkFastPath.link(in: "/s/AbC-_9")?.1 == "AbC-_9")
    #expect(LinkFastPath.link(in: "/l/x")?.0 == .visit)
    #expect(LinkFastPath.link(in: "/t/x")?.0 == .trap)
    // The router's: a query, an escape, another segment, an empty token, another route.
    for path in ["/s/abc?x=1", "/s/a%41", "/s/abc/pressed", "/s/", "/u/abc", "//s/abc", "/s/ab.c"] {
        #expect(LinkFastPath.link(in: path) == nil, "\(path)")
    }
}

/// The whole answer to one request: status line, headers but `Date` (in order, as sent) and body.
private func rawAnswer(_ url: String, head: Bool = false, keepDate: Bool = false) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments =
        ["-s", "-i", "-A", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"] + (head ? ["-I"] : []) + [url]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).components(separatedBy: "\r\n")
        .filter { keepDate || !$0.lowercased().hasPrefix("date:") }.joined(separator: "\n")
}

@Suite("Links answered on the event loops, as a real process", .serialized)
struct LinkFastPathTests {
    let week = try! ISOWeek(parsing: "2026-W49")
    let sealer = LinkSealer(keyring: try! LinkKeyring(parsing: testLinkKeys))
    let token = "metrics-token-0123456789"

    /// The counter of link answers given on the event loops, from `/metrics`.
    func fastAnswers(_ server: ServerProcess) throws -> Int {
        let text = try http("\(server.baseURL)/metrics", headers: ["Authorization: Bearer \(token)"]).body
        let line = text.split(separator: "\n").first { $0.hasPrefix("advocate_link_fast_answers_total ") }
        return line.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
    }

    @Test("a link's second request is answered without the router, byte for byte as the first, and recorded alike")
    func sameAnswers() throws {
        let (directory, database) = try serverFolder(
            people: "email,name,language,themes,networks\nzoe@example.org,Zoë,en,,x\n", week: week)
        defer { withExtendedLifetime(directory) {} }
        let server = try ServerProcess(
            directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": token, "LOG_LEVEL": "warning"])
        defer { server.stop() }
        let zoe = try #require(try database.ambassador(email: "zoe@example.org")?.id)
        let item = try #require(try database.contentItems().first?.id)
        var links = Network.allCases.flatMap { network in
            [
                "/s/"
                    + sealer.seal(
                        LinkToken(kind: .share, ambassadorID: zoe, itemID: item, network: network, week: week)),
                "/l/"
                    + sealer.seal(
                        LinkToken(kind: .visit, ambassadorID: zoe, itemID: item, network: network, week: week)),
            ]
        }
        links.append("/t/" + sealer.seal(LinkToken(kind: .trap, ambassadorID: zoe, week: week)))
        // A test message's link: the same answer, nothing recorded.
        links.append(
            "/s/"
                + sealer.seal(
                    LinkToken(kind: .share, ambassadorID: zoe, itemID: item, network: .x, week: week, test: true)))
        // A token that does not open: the one 404 page, nothing recorded.
        links.append("/s/" + String(links[0].dropFirst(3).reversed()))
        #expect(try fastAnswers(server) == 0)
        var answers = 0
        for link in links {
            // The first request reads the item, delivery time and language from the store (the router's route)
            // and fills the caches; the next ones are answered on the event loop.
            let first = try rawAnswer(server.baseURL + link)
            let before = try fastAnswers(server)
            let second = try rawAnswer(server.baseURL + link)
            let head = try rawAnswer(server.baseURL + link, head: true)
            let date = try #require(
                try rawAnswer(server.baseURL + link, keepDate: true).split(separator: "\n").first {
                    $0.hasPrefix("Date: ")
                })
            #expect(try fastAnswers(server) == before + 3, "\(link) was answered on the event loop")
            #expect(second == first, "\(link)")
            #expect(date.wholeMatch(of: /Date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT/) != nil)
            #expect(
                first.hasPrefix("HTTP/1.1 302") || first.hasPrefix("HTTP/1.1 200") || first.hasPrefix("HTTP/1.1 404"))
            #expect(first.contains("X-Content-Type-Options: nosniff") && first.contains("Content-Security-Policy: "))
            // HEAD: the same status and headers, no body (Content-Length 0, as the router answers it).
            let headLines = head.components(separatedBy: "\n\n")[0]
            #expect(headLines.hasPrefix(String(first.prefix(12))), "\(link): \(headLines)")
            #expect(headLines.contains("Content-Length: 0"))
            answers += 4
        }
        #expect(answers == 4 * links.count)
        #expect(server.stop() == 0)
        // Every recorded link counted four times (GET, GET, HEAD, GET); the test link and the bad token none.
        let recorded = Network.allCases.count * 2 + 1
        #expect(try database.clickCounts().values.reduce(0, +) == 4 * recorded)
    }

    @Test("pipelined requests get their answers in order, links answered here between ones the router answers")
    func pipelining() throws {
        let (directory, database) = try serverFolder(
            people: "email,name,language,themes,networks\nzoe@example.org,Zoë,en,,x\n", week: week)
        defer { withExtendedLifetime(directory) {} }
        let server = try ServerProcess(
            directory: directory.url, environment: ["ADVOCATE_ADMIN_TOKEN": token, "LOG_LEVEL": "warning"])
        defer { server.stop() }
        let zoe = try #require(try database.ambassador(email: "zoe@example.org")?.id)
        let item = try #require(try database.contentItems().first?.id)
        let x = "/s/" + sealer.seal(LinkToken(kind: .share, ambassadorID: zoe, itemID: item, network: .x, week: week))
        let visit =
            "/l/" + sealer.seal(LinkToken(kind: .visit, ambassadorID: zoe, itemID: item, network: .x, week: week))
        // Warm the caches, so that both links are answered on the event loop below.
        #expect(try http(server.baseURL + x).status == 302)
        #expect(try http(server.baseURL + visit).status == 302)
        let expectedX = try http(server.baseURL + x).location
        let expectedVisit = try http(server.baseURL + visit).location
        let before = try fastAnswers(server)
        // One write: a link, the health check (the router), the other link, the first again, a 404 path.
        let paths = [x, "/healthz", visit, x, "/nothing-here"]
        let port = try #require(URL(string: server.baseURL)?.port)
        let script = """
            import socket, sys
            paths = sys.argv[2:]
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
            s.sendall(b"".join(b"GET " + p.encode() + b" HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" for p in paths))
            data = b""
            answers = []
            while len(answers) < len(paths):
                head, sep, rest = data.partition(b"\\r\\n\\r\\n")
                if sep:
                    lines = head.decode().split("\\r\\n")
                    fields = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
                    length = int(fields.get("content-length", "0"))
                    if len(rest) >= length:
                        answers.append(lines[0].split(" ")[1] + " " + fields.get("location", rest[:length].decode()[:2]))
                        data = rest[length:]
                        continue
                more = s.recv(65536)
                if not more: break
                data += more
            print("\\n".join(answers))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, String(port)] + paths
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let answers = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(
            answers.map { $0.hasPrefix("404") ? "404" : $0 }
                == ["302 \(expectedX)", "200 ok", "302 \(expectedVisit)", "302 \(expectedX)", "404"],
            "\(answers)")
        // At least the first link went on the event loop; links behind an open request go through the router.
        #expect(try fastAnswers(server) > before)
        #expect(server.stop() == 0)
        #expect(try database.clickCounts().values.reduce(0, +) == 4 + 3)
    }
}
