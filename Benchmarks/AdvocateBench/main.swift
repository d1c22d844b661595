import Advocate
import AdvocateCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes
import Synchronization

// Benchmark helper for scripts/bench. It prints figures; the script compares them with peers run on the same machine.
//
//   advocate-bench seed N DIR        write DIR/people.csv (N ambassadors, 6 networks) and DIR/content.json (8 items)
//   advocate-bench render N DIR      time N personal renders; write DIR/contexts.jsonl for the chevron comparison
//   advocate-bench clicks N DIR      add N clicks (mixed kinds, classes, weeks) to the store of DIR/config.json
//   advocate-bench tokens N DIR      write DIR/paths.txt: N real /s/ share paths (keys from ADVOCATE_LINK_KEYS)
//                                    for ambassadors 1…N and items 1…8 of a seeded database, and DIR/paths-test.txt:
//                                    the same links as a test message's (they redirect alike and record nothing),
//                                    and DIR/paths-visit.txt: the /l/ links in those shares' posts (a reader's visit)
//   advocate-bench delivered N DIR   record the seeded week's mail to up to N active ambassadors of the store of
//                                    DIR/config.json as delivered an hour ago, as a programme's share clicks come
//                                    from delivered mails (each mail's first click reads its delivery); the mails
//                                    to the others stay pending
//   advocate-bench clickwrite N DIR  commit N share clicks in batches of 12 (the click server's group commits) to the
//                                    click inbox of DIR/config.json (a parcel each), then move them into `click` in
//                                    the idle server's slices, and print the time per click of each;
//                                    DIR/click-inbox.sql and DIR/click-insert.sql get the statements, for the peer
//                                    (Benchmarks/sqlite_clicks.py) to run the same inserts
//   advocate-bench follow N DIR     call the /s/ link handler N times, 64 at once, without HTTP (after one unmeasured
//                                    call per link to warm its caches): on the test links of
//                                    DIR/paths-test.txt (nothing recorded), then on DIR/paths.txt (each click committed), and
//                                    print the process's CPU time per call of each
//   advocate-bench bare PORT DIR     serve a bare Hummingbird route on 127.0.0.1:PORT that answers every /s/ link with
//                                    a constant 302: the framework's own limit, the peer of scripts/loadcheck
//   advocate-bench barenio PORT DIR  the same constant 302 from a NIO channel handler on the event loop (no task, no
//                                    router; what advocate serve's LinkFastPath builds on), the floor under `bare`
//   advocate-bench ledger N DIR      commit the send ledger's note and outcome for N deliveries of the week after the seeded
//                                    one in the store of DIR/config.json and print the time of each; the peer is
//                                    Benchmarks/sqlite_ledger.py, the same statements in Python's sqlite3
//   advocate-bench curlsend N DIR    send DIR/message.eml N times to the relay at $SMTP_URL over 4 libcurl sessions
//                                    (Advocate's SMTP transport alone: no rendering, no ledger) and print the rate

let networks: [Network] = [.linkedin, .x, .facebook, .whatsapp, .bluesky, .email]
let week = try! ISOWeek(parsing: "2026-W49")

func items() -> [ContentItem] {
    (1...8).map { index in
        ContentItem(
            id: Int64(index), url: "https://www.acme-energie.example/nieuws/artikel-\(index)?ref=site",
            title: "Nieuws \(index): ons zonnepark levert stroom voor \(index * 500) huishoudens",
            summary: "Na twee jaar bouwen is het project open. Collega's uit het team vertellen wat het voor de buurt "
                + "betekent en waarom het ertoe doet.",
            imageURL: "https://www.acme-energie.example/media/\(index).jpg", weeks: [week],
            texts: [
                .init(
                    text: "Trots op ons team: project \(index) is af! Genoeg stroom voor \(index * 500) huishoudens ☀️"),
                .init(text: "Twee jaar bouwen, nu echt open. Zo ziet de energietransitie er in onze buurt uit."),
                .init(network: .x, text: "Project \(index) is open ☀️ #energietransitie"),
            ])
    }
}

func person(_ id: Int) -> Ambassador {
    Ambassador(
        id: Int64(id), email: "person\(id)@example.org", name: "Persoon \(id) van Dijk",
        language: id % 3 == 0 ? .en : .nl,
        networks: networks, joinedAt: Date())
}

/// Takes the send lock of the store of `directory`/config.json, begins the digest of `digestWeek` and claims up to
/// `count` of its deliveries, 256 at a time, handing each to `each` with the run's sender key; returns how many.
func claimDeliveries(
    of digestWeek: ISOWeek, in directory: URL, count: Int,
    _ each: (AppDatabase, DueDelivery, _ sender: Int64) throws -> Void
) throws -> Int {
    let database = try AppContext.load(configPath: directory.appendingPathComponent("config.json").path)
        .openDatabase()
    let lock = try database.acquireSendLock()
    defer { withExtendedLifetime(lock) {} }
    let digest = try database.beginDigest(week: digestWeek, now: Date())
    try database.enqueueDeliveries(digestID: digest.id, week: digestWeek, now: Date())
    var done = 0
    while done < count {
        let batch = try database.claimDeliveries(
            digestID: digest.id, now: Date(), sender: lock.sender, limit: min(256, count - done))
        if batch.isEmpty { break }
        for delivery in batch { try each(database, delivery, lock.sender) }
        done += batch.count
    }
    return done
}

let arguments = CommandLine.arguments
let usage =
    "usage: advocate-bench seed|render|clicks|tokens|delivered|clickwrite|follow|ledger|curlsend N DIR, or bare|barenio PORT DIR"
guard arguments.count == 4, let count = Int(arguments[2]) else {
    print(usage)
    exit(2)
}
// The link keys' absence is said plainly, before any work (a missing secret would otherwise end in a crash report).
if ["tokens", "follow"].contains(arguments[1]), ProcessInfo.processInfo.environment["ADVOCATE_LINK_KEYS"] == nil {
    FileHandle.standardError.write(
        Data("advocate-bench \(arguments[1]): set ADVOCATE_LINK_KEYS (as scripts/loadcheck does)\n".utf8))
    exit(2)
}
let directory = URL(fileURLWithPath: arguments[3])
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

switch arguments[1] {
case "bare", "barenio":
    let router = Router()
    router.get("/s/:token") { _, _ in
        Response(
            status: .found, headers: [.location: "https://x.com/intent/tweet?text=hello", .cacheControl: "no-store"])
    }
    // barenio: the same answer from a channel handler in front of the router, which then sees no request.
    let onLoop = arguments[1] == "barenio"
    let application = Application(
        router: router, server: .http1(configuration: .init(additionalChannelHandlers: onLoop ? [Fast302()] : [])),
        configuration: .init(address: .hostname("127.0.0.1", port: count)))
    try await application.runService()

case "curlsend":
    // What libcurl's SMTP alone reaches: the transport the digest send uses, with a message already built and
    // nothing recorded, against the same relay as smtp-source.
    let url = ProcessInfo.processInfo.environment["SMTP_URL"] ?? "smtp://127.0.0.1:25"
    let settings = try JSONDecoder().decode(
        SMTPConfig.self, from: Data(#"{"url": "\#(url)", "startTLS": "off", "reconnectAfter": 1000}"#.utf8))
    let transport = CurlSMTPTransport(settings: settings, password: nil, caFile: nil, heloDomain: "acme.example")
    let data = try [UInt8](Data(contentsOf: directory.appendingPathComponent("message.eml")))
    let mail = OutgoingMail(
        sender: "ambassadors@acme.example", recipient: "person@example.org", messageID: "bench@acme.example",
        data: data)
    let next = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let done = DispatchGroup()
    let started = ContinuousClock.now
    for _ in 0..<4 {
        done.enter()
        Thread {
            let session = try! transport.makeSession()  // sessions are made on the thread that uses them
            while next.add(1, ordering: .relaxed).oldValue < count {
                if case .sent = session.send(mail) {} else { failed.add(1, ordering: .relaxed) }
            }
            session.close()
            done.leave()
        }.start()
    }
    done.wait()
    let seconds = (ContinuousClock.now - started) / .seconds(1)
    let failures = failed.load(ordering: .relaxed)
    print(
        String(
            format:
                "libcurl SMTP alone   : %6d messages in %6.1f s = %7.0f msg/s (%d bytes each, 4 sessions, %d failed)",
            count, seconds, Double(count) / seconds, data.count, failures))
    print("CURLSEND_RATE \(Double(count) / seconds)")
    if failures > 0 { exit(1) }

case "seed":
    var csv = "email,name,language,themes,networks\n"
    for id in 1...count {
        let p = person(id)
        csv += "\(p.email),\(p.name),\(p.language.rawValue),,\(networks.map(\.rawValue).joined(separator: ";"))\n"
    }
    try Data(csv.utf8).write(to: directory.appendingPathComponent("people.csv"))
    let content = items().map { item -> [String: Any] in
        [
            "url": item.url, "title": item.title, "summary": item.summary, "image": item.imageURL!,
            "weeks": ["2026-W49"],
            "texts": item.texts.map { text -> Any in
                text.network.map { ["network": $0.rawValue, "text": text.text] } ?? text.text
            },
        ]
    }
    try JSONSerialization.data(withJSONObject: content).write(to: directory.appendingPathComponent("content.json"))
    print("seeded \(count) ambassadors and 8 items in \(directory.path)")

case "render":
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let templates = try TemplateSet.load(directory: root.appendingPathComponent("Templates"))
    let sealer = LinkSealer(keyring: try LinkKeyring(parsing: LinkKeyring.generateEntry(id: 1)))
    let renderer = DigestRenderer(
        templates: templates, organization: "Acme Energie",
        links: TrackedShareLinks(baseURL: "https://advocate.example.org", sealer: sealer))
    let weekItems = items()

    func time(_ body: () -> Int) -> (seconds: Double, bytes: Int) {
        let start = DispatchTime.now().uptimeNanoseconds
        let bytes = body()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, bytes)
    }
    let fast = time {
        var bytes = 0
        for id in 1...count {
            let digest = renderer.render(for: person(id), weekItems: weekItems, week: week)!
            bytes += digest.html.utf8.count + digest.text.utf8.count
        }
        return bytes
    }
    let withMIME = time {
        var bytes = 0
        for id in 1...count {
            let digest = renderer.render(for: person(id), weekItems: weekItems, week: week)!
            let message = MailMessage(
                from: .init(name: "Acme", address: "a@acme.example"), to: .init(name: "P", address: "p@example.org"),
                subject: digest.subject, date: Date(), timeZone: .current, messageID: "m\(id)@acme.example",
                unsubscribeURL: "https://advocate.example.org/u/x", text: digest.text, html: digest.html)
            bytes += message.encoded().count
        }
        return bytes
    }
    let naiveCount = ProcessInfo.processInfo.environment["BENCH_NAIVE"] == "0" ? 1 : min(count, 2_000)
    let naive = time {
        var bytes = 0
        for id in 1...naiveCount {
            let digest = renderer.renderDirectly(for: person(id), weekItems: weekItems, week: week)!
            bytes += digest.html.utf8.count + digest.text.utf8.count
        }
        return bytes
    }
    // Contexts for the chevron comparison: the same data, fully personal, one JSON object per line.
    var lines = ""
    for id in 1...naiveCount {
        let contexts = renderer.directContexts(for: person(id), weekItems: weekItems, week: week)!
        let pair: [String: Any] = ["html": contexts.html, "text": contexts.text]
        lines += String(decoding: try JSONSerialization.data(withJSONObject: pair), as: UTF8.self) + "\n"
    }
    try Data(lines.utf8).write(to: directory.appendingPathComponent("contexts.jsonl"))
    print(
        String(
            format: "advocate group render:        %8.0f digests/s  (%d digests, %.1f KB html+text each)",
            Double(count) / fast.seconds, count, Double(fast.bytes) / Double(count) / 1024))
    print(
        String(
            format: "advocate render + MIME:       %8.0f messages/s (%.1f KB per message)",
            Double(count) / withMIME.seconds, Double(withMIME.bytes) / Double(count) / 1024))
    print(
        String(
            format: "swift-mustache per ambassador:%8.0f digests/s  (%d digests, the naive way)",
            Double(naiveCount) / naive.seconds, naiveCount))
    print("RENDER_RATE \(Double(count) / fast.seconds)")

case "clicks":
    // The store DIR/config.json names: its SQLite file, or PostgreSQL (databaseURL).
    let database = try AppContext.load(configPath: directory.appendingPathComponent("config.json").path)
        .openDatabase()
    let classes: [ClickVerdict] = [
        .init(.human, "browser"), .init(.human, "browser"), .init(.crawler, "user agent: linkedinbot"),
        .init(.scanner, "HEAD request"),
    ]
    var weeks = [week]
    while weeks.count < 26 { weeks.append(weeks.last!.previous) }
    let start = Date().addingTimeInterval(-26 * 7 * 86_400)
    try database.loadClicks { [weeks] add in
        var generator = SystemRandomNumberGenerator()
        for index in 0..<count {
            var click = ClickRecord(
                at: start.addingTimeInterval(Double(index) / Double(count) * 26 * 7 * 86_400),
                kind: Int.random(in: 0..<4, using: &generator) == 0 ? .share : .visit,
                week: weeks[Int.random(in: 0..<weeks.count, using: &generator)],
                itemID: Int64.random(in: 1...8, using: &generator),
                network: networks.randomElement(using: &generator),
                ambassadorID: Int64.random(in: 1...5_000, using: &generator),
                verdict: classes.randomElement(using: &generator)!)
            // Visits carry what the click server stores with them: confirmations and first-of-the-day readers.
            if click.kind == .visit && click.verdict.classification != .scanner {
                click.confirms = click.verdict.classification == .human ? "reader" : "preview"
                click.newReader =
                    click.verdict.classification == .human && Int.random(in: 0..<10, using: &generator) < 7
                click.newItemReader = click.newReader
            }
            try add(click)
        }
    }
    print("added \(count) clicks")

case "clickwrite":
    let database = try AppContext.load(configPath: directory.appendingPathComponent("config.json").path)
        .openDatabase()
    try Data(AppDatabase.clickInsertSQL.utf8).write(to: directory.appendingPathComponent("click-insert.sql"))
    try Data(AppDatabase.parcelInsertSQL.utf8).write(to: directory.appendingPathComponent("click-inbox.sql"))
    let batchSize = 12
    var batches: [[ClickRecord]] = []
    for start in stride(from: 0, to: count, by: batchSize) {
        batches.append(
            (start..<min(start + batchSize, count)).map { (index: Int) -> ClickRecord in
                let network: Network = networks[index % networks.count]
                let verdict = ClickVerdict(.human, "browser")
                return ClickRecord(
                    at: Date(), kind: .share, week: week, itemID: Int64(index % 8 + 1), network: network,
                    ambassadorID: Int64(index % 5_000 + 1), verdict: verdict)
            })
    }
    // What a click waits for before its redirect (the inbox's commit on SQLite), then the move into the indexed
    // table in the idle server's slices, as the click server runs them.
    let started = ContinuousClock.now
    for batch in batches { try database.takeClicks(batch) }
    let seconds = (ContinuousClock.now - started) / .seconds(1)
    print(String(format: "CLICKWRITE_US %.1f", seconds / Double(count) * 1e6))
    // The idle server's slices, or CLICKWRITE_SLICE clicks each (to compare stores or versions at one size).
    let slice =
        ProcessInfo.processInfo.environment["CLICKWRITE_SLICE"].flatMap { Int($0) } ?? ClickRecorder.Limits().idleSlice
    let moving = ContinuousClock.now
    while try database.moveInboxClicks(limit: slice) > 0 {}
    let moved = (ContinuousClock.now - moving) / .seconds(1)
    print(String(format: "CLICKMOVE_US %.1f", moved / Double(count) * 1e6))
    print("CLICKMOVE_SLICE \(slice)")
    // The waiting clicks past which a server moves between its commits (loadcheck tells a burst from an overload).
    print("CLICK_BACKLOG \(ClickRecorder.Limits().backlog)")

case "delivered":
    let deliveredAt = Date().addingTimeInterval(-3_600)
    let done = try claimDeliveries(of: week, in: directory, count: count) { database, delivery, sender in
        try database.recordOutcome(deliveryID: delivery.id, status: .sent, error: nil, now: deliveredAt, sender: sender)
    }
    print("delivered \(done) mails of \(week)")

case "ledger":
    // The send ledger's two commits per message, alone: note the hand-over, record "sent"; for the deliveries of
    // the week after the seeded one, so that it can run on the store of a send of that one.
    let ledgerWeek = week.next
    var handOver = Duration.zero
    var outcome = Duration.zero
    let done = try claimDeliveries(of: ledgerWeek, in: directory, count: count) { database, delivery, sender in
        let first = ContinuousClock.now
        try database.markHandedOver(
            deliveryID: delivery.id, messageID: "advocate.\(ledgerWeek).\(delivery.id)@acme.example", now: Date(),
            sender: sender)
        let second = ContinuousClock.now
        try database.recordOutcome(deliveryID: delivery.id, status: .sent, error: nil, now: Date(), sender: sender)
        outcome += ContinuousClock.now - second
        handOver += second - first
    }
    print(String(format: "LEDGER_HANDOVER_US %.1f", handOver / .seconds(1) / Double(done) * 1e6))
    print(String(format: "LEDGER_OUTCOME_US %.1f", outcome / .seconds(1) / Double(done) * 1e6))
    print("LEDGER_COUNT \(done)")

case "follow":
    // The link handler alone, without HTTP: 64 calls at once on the share links of DIR/paths.txt, first as test
    // links (nothing recorded), then as they are (each click committed to the store before the call returns).
    let context = try AppContext.load(configPath: directory.appendingPathComponent("config.json").path)
    let database = try context.openDatabase()
    let recorder = ClickRecorder(database: database)
    let sealer = LinkSealer(keyring: try context.secrets.linkKeys())
    let handler = LinkHandler(
        context: context, database: database, recorder: recorder,
        pages: try PageRenderer.load(directory: context.config.resolve(context.config.templatesDirectory)),
        sealer: sealer)
    func links(_ file: String) throws -> [String] {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            .split(separator: "\n").map { String($0.dropFirst("/s/".count)) }
    }
    /// CPU seconds of the whole process (the writer thread's included).
    func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        return user + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
    let runs = [("HANDLER_TEST_US", try links("paths-test.txt")), ("HANDLER_CLICK_US", try links("paths.txt"))]
    // Once over every link of both kinds first, unmeasured: the item, language and delivery caches are then warm
    // for both measured runs alike.
    @Sendable func follow(_ token: String) async throws {
        let answer = try await handler.follow(
            token, kind: .share, method: "GET", userAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            client: [127, 0, 0, 1])
        guard answer.status == 302 || answer.status == 200 else { fatalError("answered \(answer)") }
    }
    for (_, tokens) in runs {
        for token in tokens { try await follow(token) }
    }
    for (label, tokens) in runs {
        let started = cpuSeconds()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for first in 0..<64 {
                group.addTask {
                    for index in stride(from: first, to: count, by: 64) {
                        try await follow(tokens[index % tokens.count])
                    }
                }
            }
            try await group.waitForAll()
        }
        print(String(format: "%@ %.1f", label, (cpuSeconds() - started) / Double(count) * 1e6))
    }
    recorder.shutdown()

case "tokens":
    let keys = ProcessInfo.processInfo.environment["ADVOCATE_LINK_KEYS"] ?? ""
    let sealer = LinkSealer(keyring: try LinkKeyring(parsing: keys))
    var paths = ""
    var testPaths = ""
    var visitPaths = ""
    for id in 1...count {
        var token = LinkToken(
            kind: .share, ambassadorID: Int64(id), itemID: Int64(id % 8 + 1), network: networks[id % networks.count],
            week: week)
        paths += "/s/\(sealer.seal(token))\n"
        token.kind = .visit
        visitPaths += "/l/\(sealer.seal(token))\n"
        token.kind = .share
        token.test = true
        testPaths += "/s/\(sealer.seal(token))\n"
    }
    try Data(paths.utf8).write(to: directory.appendingPathComponent("paths.txt"))
    try Data(testPaths.utf8).write(to: directory.appendingPathComponent("paths-test.txt"))
    try Data(visitPaths.utf8).write(to: directory.appendingPathComponent("paths-visit.txt"))
    print("wrote \(count) share paths")

default:
    print(usage)
    exit(2)
}

/// Answers every request with the constant 302 on the event loop, for `barenio`.
final class Fast302: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head, .body: break
        case .end:
            let head = HTTPResponse(
                status: .found,
                headerFields: [
                    .location: "https://x.com/intent/tweet?text=hello", .cacheControl: "no-store", .contentLength: "0",
                ])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
