import AdvocateCore
import Foundation
import Mustache
import Synchronization

/// One ambassador's digest, ready to be put in a message.
public struct RenderedDigest: Sendable {
    public var subject: String
    public var text: String
    public var html: String
}

/// Renders personal digests fast: the Mustache templates are rendered once per *group* (language, items, networks)
/// with markers in the personal places, and each ambassador's copy fills those markers (see ``Skeleton``).
public final class DigestRenderer: Sendable {
    /// A personal place in the templates.
    enum Slot: Hashable {
        case firstName
        case results
        case unsubscribe
        case preferences
        case trap
        case text(item: Int)
        case button(item: Int, network: Network)
    }

    /// The group-wide rendering, with its slots.
    struct Group {
        var html: Skeleton
        var text: Skeleton
        var subject: Skeleton
        var slots: [Slot]
        var items: [ContentItem]
    }

    struct GroupKey: Hashable {
        var language: Language
        var itemIDs: [Int64]
        var networks: [Network]
        /// The items left out by the cap (their ids): they are named at the end.
        var moreIDs: [Int64]
    }

    private let templates: TemplateSet
    private let organization: String
    private let links: any ShareLinks
    private let plan: PlanConfig?
    private let look: DigestConfig
    private let groups = Mutex<[GroupKey: Group]>([:])

    /// Creates a renderer; `plan` supplies the themes' readable labels, `look` the brand, the item cap and the
    /// disclosure.
    public init(
        templates: TemplateSet, organization: String, links: any ShareLinks, plan: PlanConfig? = nil,
        look: DigestConfig? = nil
    ) {
        self.templates = templates
        self.organization = organization
        self.links = links
        self.plan = plan
        self.look = look ?? DigestConfig()
    }

    /// The items an ambassador gets: theirs, at most ``DigestConfig/maxItems``, and the ones left out.
    private func selection(_ weekItems: [ContentItem], for ambassador: Ambassador) -> (
        items: [ContentItem], more: [ContentItem]
    ) {
        let all = DigestSelection.items(weekItems, for: ambassador)
        return (Array(all.prefix(look.maxItems)), Array(all.dropFirst(look.maxItems)))
    }

    /// The suggested text with the disclosure of `language` (once).
    private func disclosed(_ text: String, _ language: Language) -> String {
        ShareText.with(disclosure: look.disclosure[language.rawValue], text)
    }

    /// The digest of `week` for `ambassador`, choosing from the week's items; `nil` when none fits them. `test`
    /// puts test links in (they count nothing and unsubscribe nobody).
    public func render(
        for ambassador: Ambassador, weekItems: [ContentItem], week: ISOWeek,
        results: (html: String, text: String) = ("", ""), test: Bool = false
    ) -> RenderedDigest? {
        let links = test ? self.links.forTests : self.links
        let (items, more) = selection(weekItems, for: ambassador)
        guard !items.isEmpty, let ambassadorID = ambassador.id else { return nil }
        let key = GroupKey(
            language: ambassador.language, itemIDs: items.map { $0.id ?? 0 }, networks: ambassador.networks,
            moreIDs: more.map { $0.id ?? 0 })
        let group = groups.withLock { cache in
            if let group = cache[key] { return group }
            let group = makeGroup(key: key, items: items, more: more, week: week)
            cache[key] = group
            return group
        }
        var html: [String] = []
        var text: [String] = []
        html.reserveCapacity(group.slots.count)
        text.reserveCapacity(group.slots.count)
        for slot in group.slots {
            switch slot {
            case .firstName:
                text.append(ambassador.firstName)
                html.append(ambassador.firstName.htmlEscaped)
            case .results:
                text.append(results.text)
                html.append(results.html)
            case .unsubscribe:
                let url = links.unsubscribe(ambassadorID: ambassadorID, week: week)
                text.append(url)
                html.append(url.htmlEscaped)
            case .preferences:
                let url = links.preferences(ambassadorID: ambassadorID, week: week)
                text.append(url)
                html.append(url.htmlEscaped)
            case .trap:
                let url = links.trap(ambassadorID: ambassadorID, week: week) ?? ""
                text.append(url)
                html.append(url.htmlEscaped)
            case .text(let index):
                let value = disclosed(
                    DigestSelection.text(for: group.items[index], ambassadorID: ambassadorID), ambassador.language)
                text.append(TextWrap.wrap(value))
                html.append(value.htmlEscaped)
            case .button(let index, let network):
                let url = links.share(
                    item: group.items[index], network: network, ambassadorID: ambassadorID, week: week)
                text.append(url)
                html.append(url.htmlEscaped)
            }
        }
        return RenderedDigest(
            subject: group.subject.fill(text), text: group.text.fill(text), html: group.html.fill(html))
    }

    /// How many distinct groups were rendered through Mustache so far.
    public var groupCount: Int { groups.withLock { $0.count } }

    private func makeGroup(key: GroupKey, items: [ContentItem], more: [ContentItem], week: ISOWeek) -> Group {
        var slots: [Slot] = []
        let contexts = makeContexts(
            language: key.language, networks: key.networks, items: items, more: more, week: week
        ) { slot in
            slots.append(slot)
            return Skeleton.marker(slots.count - 1)
        }
        return Group(
            html: Skeleton(rendered: templates.render(contexts.html, template: "digest.html")),
            // Wrapped once per group: the personal values sit on lines of their own (links, the suggested text,
            // the results) or in short ones (the greeting), and the long ones are wrapped as they are filled in.
            text: Skeleton(rendered: TextWrap.wrap(templates.render(contexts.text, template: "digest.txt"))),
            subject: Skeleton(rendered: contexts.text["subject"] as? String ?? ""), slots: slots, items: items)
    }

    /// Renders one digest the straightforward way, through Mustache with every personal value in the context.
    /// Slower than ``render(for:weekItems:week:results:)``; it exists to prove that both give the same output and
    /// to measure the difference.
    public func renderDirectly(
        for ambassador: Ambassador, weekItems: [ContentItem], week: ISOWeek,
        results: (html: String, text: String) = ("", "")
    ) -> RenderedDigest? {
        guard let contexts = directContexts(for: ambassador, weekItems: weekItems, week: week, results: results) else {
            return nil
        }
        return RenderedDigest(
            subject: contexts.text["subject"] as? String ?? "",
            text: TextWrap.wrap(templates.render(contexts.text, template: "digest.txt")),
            html: templates.render(contexts.html, template: "digest.html"))
    }

    /// The full Mustache contexts (HTML and text) of one ambassador's digest, personal values included.
    public func directContexts(
        for ambassador: Ambassador, weekItems: [ContentItem], week: ISOWeek,
        results: (html: String, text: String) = ("", "")
    ) -> (html: [String: Any], text: [String: Any])? {
        let (items, more) = selection(weekItems, for: ambassador)
        guard !items.isEmpty, let id = ambassador.id else { return nil }
        var rawHTML: [String: String] = [:]
        let contexts = makeContexts(
            language: ambassador.language, networks: ambassador.networks, items: items, more: more, week: week
        ) {
            slot in
            switch slot {
            case .firstName: return ambassador.firstName
            case .results:
                rawHTML["results"] = results.html
                return results.text
            case .unsubscribe: return links.unsubscribe(ambassadorID: id, week: week)
            case .preferences: return links.preferences(ambassadorID: id, week: week)
            case .trap: return links.trap(ambassadorID: id, week: week) ?? ""
            case .text(let index):
                return disclosed(DigestSelection.text(for: items[index], ambassadorID: id), ambassador.language)
            case .button(let index, let network):
                return links.share(item: items[index], network: network, ambassadorID: id, week: week)
            }
        }
        var html = contexts.html
        html["results"] = rawHTML["results"] ?? ""
        return (html, contexts.text)
    }

    /// Builds the HTML and text contexts of a digest; `value` supplies each personal place (a marker for a group
    /// render, the real value for a direct render).
    private func makeContexts(
        language: Language, networks: [Network], items: [ContentItem], more: [ContentItem], week: ISOWeek,
        value: (Slot) -> String
    ) -> (html: [String: Any], text: [String: Any]) {
        let base: [String: Any] = [
            "organization": organization, "weekNumber": week.week, "week": week.description,
            "firstTitle": items[0].title, "itemCount": items.count, "firstName": value(.firstName),
            "itemsText": templates.plural(language, "post", items.count),
        ]
        var words = templates.words(language, context: base)
        // The copy hint names only the networks this person uses that take no text ("LinkedIn and Facebook").
        let copyNetworks = networks.filter { !$0.prefillsText }.map(\.displayName)
        if !copyNetworks.isEmpty {
            let names =
                copyNetworks.count == 1
                ? copyNetworks[0]
                : copyNetworks.dropLast().joined(separator: ", ") + templates.text(language, "and")
                    + copyNetworks.last!
            let hint = templates.plural(language, "copyHint", copyNetworks.count, context: ["copyNetworks": names])
            words.text["copyHint"] = hint
            words.html["copyHint"] = hint.htmlEscaped
        }
        var itemContexts: [[String: Any]] = []
        for (index, item) in items.enumerated() {
            let buttons: [[String: Any]] = networks.map { network in
                [
                    "label": templates.text(language, "button.\(network.rawValue)"), "network": network.rawValue,
                    "color": Self.color(network), "href": value(.button(item: index, network: network)),
                    // A black outline would vanish on a dark card: those get a light one in dark mode.
                    "dark": Self.color(network) == "#000000",
                ]
            }
            var context: [String: Any] = [
                "title": item.title, "url": item.url, "buttons": buttons, "hasText": !item.texts.isEmpty,
                "lead": index == 0,
            ]
            if !item.texts.isEmpty { context["text"] = value(.text(item: index)) }
            if !item.summary.isEmpty { context["summary"] = item.summary }
            if let prompt = item.prompt, !prompt.isEmpty {
                context["prompt"] = prompt
                context["hasPrompt"] = true
            }
            if let image = item.imageURL { context["imageURL"] = image }
            if let theme = item.theme { context["theme"] = plan?.label(theme: theme, language: language) ?? theme }
            itemContexts.append(context)
        }
        var context = base
        context["lang"] = language.rawValue
        context["accent"] = look.accentColor
        if let logo = look.logoURL { context["logoURL"] = logo }
        if !more.isEmpty {
            // The rest of the week: one link to the newsroom when there is one, else the titles themselves.
            var block: [String: Any] = ["label": templates.plural(language, "more", more.count)]
            if let url = look.moreURL {
                block["url"] = url
            } else {
                block["items"] = more.map { ["title": $0.title, "url": $0.url] }
            }
            context["more"] = block
        }
        context["items"] = itemContexts
        context["results"] = value(.results)
        context["unsubscribeURL"] = value(.unsubscribe)
        context["preferencesURL"] = value(.preferences)
        context["trapURL"] = value(.trap)
        context["subject"] = words.text["subject"] ?? ""
        context["preheader"] = templates.plural(language, "preheader", items.count)
        var htmlContext = context
        htmlContext["t"] = words.html
        var textContext = context
        textContext["t"] = words.text
        return (htmlContext, textContext)
    }

    /// Button colours with white text at a contrast of at least 4.5:1.
    static func color(_ network: Network) -> String {
        switch network {
        case .linkedin: "#0A66C2"
        case .x, .threads: "#000000"
        case .facebook: "#1877F2"
        case .whatsapp: "#0F7A5A"
        case .bluesky: "#0B6BD6"
        case .telegram: "#1C6FA0"
        case .mastodon: "#563ACC"
        case .email: "#4B5563"
        }
    }
}
