import Foundation
import Testing

@testable import AdvocateCore

@Suite("Click classification")
struct ClickClassifierTests {
    let classifier = ClickClassifier()
    let now = Date(timeIntervalSince1970: 1_796_202_000)
    let browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"

    func verdict(
        method: String = "GET", agent: String?, deliveredAt: Date? = nil, others: [Date] = []
    ) -> ClickVerdict {
        classifier.classify(
            method: method, userAgent: agent, at: now, deliveredAt: deliveredAt, otherLinksOfMail: others)
    }

    @Test("people, preview crawlers and scanners are told apart, with the rule that decided")
    func rules() {
        #expect(verdict(agent: browser) == ClickVerdict(.human, "browser"))
        #expect(verdict(method: "HEAD", agent: browser) == ClickVerdict(.scanner, "HEAD request"))
        #expect(verdict(agent: nil) == ClickVerdict(.scanner, "no user agent"))
        #expect(verdict(agent: "   ") == ClickVerdict(.scanner, "no user agent"))
        #expect(verdict(agent: "LinkedInBot/1.0 (compatible; Mozilla/5.0)").classification == .crawler)
        #expect(verdict(agent: "facebookexternalhit/1.1").reason == "user agent: facebookexternalhit")
        #expect(verdict(agent: "WhatsApp/2.23.20.0").classification == .crawler)
        #expect(verdict(agent: "Mastodon/4.2.1 (http.rb/5.1.1; +https://social.example/)").classification == .crawler)
        #expect(verdict(agent: "Mozilla/5.0 HeadlessChrome/120.0").classification == .scanner)
        #expect(verdict(agent: "python-requests/2.31").classification == .scanner)
        #expect(verdict(agent: browser, deliveredAt: now.addingTimeInterval(-3)).reason == "within 15 s of delivery")
        #expect(verdict(agent: browser, deliveredAt: now.addingTimeInterval(-3600)).classification == .human)
        #expect(verdict(agent: browser, others: [now.addingTimeInterval(-1)]).classification == .scanner)
        #expect(verdict(agent: browser, others: [now.addingTimeInterval(-60)]).classification == .human)
    }

    @Test("the agent's patterns: the first of each list that occurs, as searching each in turn finds")
    func firstPatterns() {
        // A plain search per pattern, in list order, over the same bytes is the reference; the agents hold every
        // pattern, several at once, overlapping ones, near misses and bytes beyond ASCII (only A–Z are folded).
        func reference(_ agent: [UInt8], _ patterns: [[UInt8]]) -> Int? {
            patterns.firstIndex { ClickClassifier.contains(agent, $0) }
        }
        let all = ClickClassifier.scanners + ClickClassifier.crawlers
        var agents = [
            browser, "", "b", "bo", "bot", "BOT/", "Bingpreview/1.0", "Mozilla/5.0 (compatible; bingbot/2.0)",
        ]
        agents += all.map { "Mozilla/5.0 (X11) \($0.uppercased())/1.2" }
        agents += all.map { String($0.dropLast()) }  // one byte short: no match of that pattern
        agents += zip(all, all.reversed()).map { "\($0)\($1)" }
        agents += ["preview-twitterbot", "curl/8 linkedinbot", "slack-imgproxy (+https://api.slack.com/robots)"]
        agents += ["Zoë curl/8 ÄBOT/", "O\u{212A}HTTP", "ĞooglebotÿBingPreview", "\u{80}\u{FF}wget"]
        for agent in agents {
            let bytes = agent.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }
            let found = ClickClassifier.firstPatterns(in: bytes)
            #expect(found.scanner == reference(bytes, ClickClassifier.scannerPatterns), "\(agent)")
            #expect(found.crawler == reference(bytes, ClickClassifier.crawlerPatterns), "\(agent)")
        }
        #expect(ClickClassifier.firstPatterns(in: Array("x curl/8 twitterbot".utf8)) == (10, 4))
        #expect(ClickClassifier.firstPatterns(in: Array("O\u{212A}HTTP ĝ".utf8)) == (nil, nil))  // Kelvin sign: not k
    }
}

@Suite("Click classification with a mail's context: paced scans, time-of-click checks, confirmations")
struct ClickContextTests {
    let classifier = ClickClassifier()
    let now = Date(timeIntervalSince1970: 1_796_202_000)
    let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"

    func share(
        _ link: String = "s1", at offset: TimeInterval = 0, client: UInt64 = 1, earlier: [MailHit] = [],
        network scanner: String? = nil, delivered: TimeInterval? = -3600, agent: String? = nil
    ) -> Judgement {
        classifier.judge(
            Hit(
                method: "GET", userAgent: agent ?? chrome, at: now.addingTimeInterval(offset), kind: .share,
                network: .linkedin, deliveredAt: delivered.map { now.addingTimeInterval($0) }, scannerNetwork: scanner,
                link: link, client: client, mailHits: earlier))
    }

    func hit(_ link: String, _ offset: TimeInterval, client: UInt64 = 1) -> MailHit {
        MailHit(at: now.addingTimeInterval(offset), link: link, client: client)
    }

    @Test("three different links of a mail a few seconds apart are a paced scan, and taint the earlier ones")
    func paced() {
        let judgement = share("s3", earlier: [hit("s1", -9), hit("s2", -4)])
        #expect(judgement.verdict == ClickVerdict(.scanner, "paced: 3 links of one mail in 9 s"))
        #expect(judgement.taints == [now.addingTimeInterval(-4), now.addingTimeInterval(-9)])
        #expect(
            share("s3", client: 5, earlier: [hit("s1", -9), hit("s2", -4)]).verdict.classification == .human,
            "a person reading the mail while a scanner walks it is another client")
        #expect(share("s2", earlier: [hit("s1", -5)]).verdict.classification == .human, "two links are a person")
        #expect(
            share("s3", earlier: [hit("s1", -70), hit("s2", -35)]).verdict.classification == .human,
            "a person posting between clicks takes longer")
        #expect(
            share("s3", earlier: [hit("s1", -25), hit("s2", -12)]).verdict.classification == .human,
            "one gap longer than the paced gap breaks the walk")
    }

    @Test(
        "a second hit on the same link within two seconds: after a gateway's check it is the person; from the same client a double click"
    )
    func timeOfClick() {
        let afterCheck = share("s1", client: 2, earlier: [hit("s1", -0.6, client: 9)])
        #expect(afterCheck.verdict == ClickVerdict(.human, "after a time-of-click check"))
        #expect(afterCheck.checkBefore == now.addingTimeInterval(-0.6))
        let double = share("s1", client: 2, earlier: [hit("s1", -0.3, client: 2)])
        #expect(double.verdict == ClickVerdict(.human, "double click"))
        #expect(double.checkBefore == nil)
        #expect(share("s1", client: 2, earlier: [hit("s1", -30, client: 9)]).checkBefore == nil)
    }

    @Test("a documented scanner network, the delivery moment, a burst and the honeypot")
    func machines() {
        #expect(share(network: "microsoft").verdict == ClickVerdict(.scanner, "network: microsoft"))
        #expect(share(delivered: -4).verdict == ClickVerdict(.scanner, "within 15 s of delivery"))
        #expect(share("s2", earlier: [hit("s1", -1)]).verdict.reason == "several links of one mail within 2 s")
        let trap = classifier.judge(
            Hit(
                method: "GET", userAgent: chrome, at: now, kind: .trap, client: 1,
                mailHits: [hit("s1", -3), hit("s2", -20, client: 2)]))
        #expect(trap.verdict == ClickVerdict(.scanner, "honeypot link"))
        #expect(trap.taints == [now.addingTimeInterval(-3)], "only the same client's hits")
        // A scanner that checks the honeypot with HEAD has revealed its earlier GETs just the same.
        let headTrap = classifier.judge(
            Hit(method: "HEAD", userAgent: chrome, at: now, kind: .trap, client: 1, mailHits: [hit("s1", -3)]))
        #expect(headTrap.verdict == ClickVerdict(.scanner, "honeypot link"))
        #expect(headTrap.taints == [now.addingTimeInterval(-3)])
        let afterTrap = share(
            "s2", earlier: [MailHit(at: now.addingTimeInterval(-30), link: "t", client: 1, trap: true)])
        #expect(afterTrap.verdict == ClickVerdict(.scanner, "after the honeypot link"))
    }

    @Test("a post's link: the network's own preview bot confirms the share, a browser is a reader, another bot is not")
    func visits() {
        func visit(_ agent: String?, network: Network = .linkedin, scanner: String? = nil) -> Judgement {
            classifier.judge(
                Hit(method: "GET", userAgent: agent, at: now, kind: .visit, network: network, scannerNetwork: scanner))
        }
        let preview = visit("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)")
        #expect(preview.verdict == ClickVerdict(.crawler, "preview: linkedinbot") && preview.confirms == "preview")
        #expect(visit("Twitterbot/1.0", network: .x).confirms == "preview")
        #expect(visit("Bluesky Cardyb/1.1", network: .bluesky).confirms == "preview")
        #expect(visit("WhatsApp/2.24.1.5 A", network: .whatsapp).confirms == "preview")
        let foreign = visit("Twitterbot/1.0", network: .linkedin)
        #expect(foreign.verdict.classification == .crawler && foreign.confirms == nil, "X's bot on a LinkedIn post")
        #expect(visit(chrome).verdict == ClickVerdict(.human, "browser") && visit(chrome).confirms == "reader")
        #expect(visit(chrome, scanner: "microsoft").confirms == nil)
        #expect(visit(nil).verdict.classification == .scanner)
        // The post's link opened by a client that just opened this mail's share links: not a reader.
        func after(_ seconds: TimeInterval) -> Judgement {
            classifier.judge(
                Hit(
                    method: "GET", userAgent: chrome, at: now, kind: .visit, network: .linkedin, client: 4,
                    mailHits: [MailHit(at: now.addingTimeInterval(-seconds), link: "s1", client: 4)]))
        }
        #expect(
            after(3).verdict == ClickVerdict(.scanner, "followed from the mail's links") && after(3).confirms == nil)
        #expect(after(40).verdict == ClickVerdict(.human, "the sharer's own visit") && after(40).confirms == nil)
    }
}
