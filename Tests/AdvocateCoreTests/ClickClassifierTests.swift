import AdvocateCore
import Foundation
import Testing

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
}
