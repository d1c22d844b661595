import AdvocateCore
import Foundation
import Testing

@testable import Advocate

@Suite("The digest's words")
struct DigestWordsTests {
    let templates = try! TemplateSet.load(directory: packageRoot.appendingPathComponent("Templates"))

    @Test(
        "singular and plural for 0, 1 and 2 in both languages",
        arguments: [
            (Language.en, "post", ["0 posts", "1 post", "2 posts"]),
            (.en, "visit", ["0 visits", "1 visit", "2 visits"]),
            (.en, "colleague", ["0 colleagues", "1 colleague", "2 colleagues"]),
            (.nl, "post", ["0 berichten", "1 bericht", "2 berichten"]),
            (.nl, "visit", ["0 bezoeken", "1 bezoek", "2 bezoeken"]),
            (.nl, "colleague", ["0 collega's", "1 collega", "2 collega's"]),
            (.en, "more", ["0 more posts this week", "1 more post this week", "2 more posts this week"]),
            (
                .nl, "more",
                ["Nog 0 berichten deze week", "Nog 1 bericht deze week", "Nog 2 berichten deze week"]
            ),
        ])
    func plurals(language: Language, noun: String, expected: [String]) {
        #expect((0...2).map { templates.plural(language, noun, $0) } == expected)
    }

    @Test("a sentence agrees with its number: the preheader and the copy hint")
    func agreement() {
        #expect(templates.plural(.nl, "preheader", 1).hasPrefix("1 bericht dat bij jou past"))
        #expect(templates.plural(.nl, "preheader", 3).hasPrefix("3 berichten die bij jou passen"))
        #expect(templates.plural(.en, "preheader", 1).hasPrefix("1 post picked for you, with"))
        #expect(
            templates.plural(.nl, "copyHint", 1, context: ["copyNetworks": "LinkedIn"])
                .hasPrefix("LinkedIn neemt geen tekst over"))
        #expect(
            templates.plural(.en, "copyHint", 2, context: ["copyNetworks": "LinkedIn and Facebook"])
                .hasPrefix("LinkedIn and Facebook take no pre-filled text"))
    }

    @Test("the team line agrees with its number of colleagues in Dutch")
    func teamAgreement() {
        let context: [String: Any] = [
            "sharersText": "2 collega's", "teamSharesText": "3 berichten", "teamVisitsText": "1 bezoek",
        ]
        #expect(templates.plural(.nl, "resultsTeam", 1, context: context).hasPrefix("Het team: 1 collega deelde 3"))
        #expect(templates.plural(.nl, "resultsTeam", 2, context: context).hasPrefix("Het team: 2 collega's deelden"))
    }

    @Test("button labels name the action, not only the network, in both languages")
    func buttons() {
        #expect(templates.text(.nl, "button.email") == "Stuur via e-mail")
        #expect(templates.text(.en, "button.email") == "Send by e-mail")
        #expect(templates.text(.nl, "button.linkedin") == "Plaats op LinkedIn")
        #expect(templates.text(.en, "button.whatsapp") == "Send via WhatsApp")
    }

    @Test("plain text is wrapped at 72 columns, links are never cut")
    func wrapping() {
        let link = "https://go.acme.example/s/" + String(repeating: "A", count: 60)
        let text = String(repeating: "woord ", count: 30) + link + " einde"
        let lines = TextWrap.wrap(text).split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 72 || $0 == Substring(link) })
        #expect(lines.contains(Substring(link)))
        #expect(TextWrap.wrap(text).replacingOccurrences(of: "\n", with: " ") == text)
    }
}
