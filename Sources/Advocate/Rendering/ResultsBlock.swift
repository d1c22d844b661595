import AdvocateCore
import Foundation
import Mustache
import Synchronization

/// The results block at the top of a digest ("Your 3 shares brought 41 visits"), from `results.html` and
/// `results.txt`. Most ambassadors share the same figures (often none), so blocks are cached by figures.
public final class ResultsBlock: Sendable {
    private let templates: TemplateSet
    private let leaderboard: PlanConfig.Leaderboard
    private let snapshot: ResultsSnapshot
    private let cache = Mutex<[String: (html: String, text: String)]>([:])

    /// Creates the block for one run.
    public init(templates: TemplateSet, leaderboard: PlanConfig.Leaderboard, snapshot: ResultsSnapshot) {
        self.templates = templates
        self.leaderboard = leaderboard
        self.snapshot = snapshot
    }

    /// The block for one ambassador, HTML and text.
    public func render(for ambassador: Ambassador) -> (html: String, text: String) {
        let mine = ambassador.id.flatMap { snapshot.personal[$0] } ?? PersonalResults()
        let key =
            "\(ambassador.language.rawValue)/\(mine.weekShares)/\(mine.weekVisits)/\(mine.allShares)/\(mine.allVisits)/"
            + "\(mine.weekConfirmed)/\(mine.weekReaders)"
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let team = snapshot.team
        var context: [String: Any] = [
            "weekNumber": snapshot.week.week, "weekShares": mine.weekShares, "weekVisits": mine.weekVisits,
            "allShares": mine.allShares, "allVisits": mine.allVisits,
        ]
        if mine.weekShares > 0 { context["sharedLastWeek"] = true }
        if mine.weekShares > 0 && (mine.weekConfirmed > 0 || mine.weekReaders > 0) { context["reach"] = true }
        if mine.allShares > 0 { context["sharedEver"] = true }
        if leaderboard != .off && team.shares > 0 {
            context["team"] = true
            context["sharers"] = team.sharers
            context["teamShares"] = team.shares
            context["teamVisits"] = team.visits
            if let title = team.bestItemTitle, team.bestItemVisits > 0 {
                context["best"] = true
                context["bestTitle"] = title
                context["bestVisits"] = team.bestItemVisits
            }
        }
        if leaderboard == .optIn && !team.topSharers.isEmpty {
            context["leaders"] = true
            context["leaderNames"] = team.topSharers.joined(separator: ", ")
        }
        let language = ambassador.language
        for (key, noun, count) in [
            ("weekSharesText", "post", mine.weekShares), ("weekVisitsText", "visit", mine.weekVisits),
            ("allSharesText", "post", mine.allShares), ("allVisitsText", "visit", mine.allVisits),
            ("sharersText", "colleague", team.sharers), ("teamSharesText", "post", team.shares),
            ("teamVisitsText", "visit", team.visits), ("bestVisitsText", "visit", team.bestItemVisits),
            ("weekConfirmedText", "post", mine.weekConfirmed), ("weekReadersText", "reader", mine.weekReaders),
        ] {
            context[key] = templates.plural(language, noun, count)
        }
        var words = templates.words(language, context: context)
        // The verb agrees with the number of colleagues ("1 collega deelde", "2 collega's deelden").
        let teamLine = templates.plural(language, "resultsTeam", team.sharers, context: context)
        words.text["resultsTeam"] = teamLine
        words.html["resultsTeam"] = teamLine.htmlEscaped
        var html = context
        html["t"] = words.html
        var text = context
        text["t"] = words.text
        let block = (
            templates.render(html, template: "results.html"),
            TextWrap.wrap(templates.render(text, template: "results.txt"))
        )
        cache.withLock { $0[key] = block }
        return block
    }
}
