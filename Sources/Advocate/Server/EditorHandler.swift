import AdvocateCore
import Foundation
import Logging

/// The editor's week in the browser: weeks and drafts, items added by URL (fetched, shown, edited before saving),
/// texts per network and language, order, moves, removal, the digest of any ambassador exactly as mailed, and test
/// sends. Every answer is a ``PageResponse``; the routes (``addEditorRoutes``) add sign-in and CSRF checks.
struct EditorHandler: Sendable {
    let database: AppDatabase
    let pages: EditorPages
    let context: AppContext
    let fetcher: PageFetcher
    let transport: any MailTransport
    let logger: Logger
    /// `basePath` + `/admin`.
    let base: String
    /// When each editor's test mails of the last hour were sent (``testsPerHour``).
    let testsSent = Locked<[String: [Date]]>([:])

    /// Test mails one editor may send an hour: a stolen session cannot send signed mail from the organisation to
    /// thousands of addresses.
    static let testsPerHour = 20

    var config: AdvocateConfig { context.config }

    /// The values every page gets.
    func frame(_ title: String, editor: Editor?, csrf: String, notice: String? = nil, problem: String? = nil)
        -> [String: Any]
    {
        var values: [String: Any] = [
            "pageTitle": title, "organization": config.organization, "base": base, "csrf": csrf,
        ]
        if let editor { values["editor"] = editor.name }
        if let notice { values["notice"] = notice }
        if let problem { values["problem"] = problem }
        return values
    }

    func page(_ name: String, _ values: [String: Any], status: Int = 200) -> PageResponse {
        var response = PageResponse(status: status, body: pages.render(name, values))
        response.headers["Content-Security-Policy"] = editorContentSecurityPolicy
        return response
    }

    func redirect(_ path: String, headers: [String: String] = [:]) -> PageResponse {
        var response = PageResponse(status: 303, body: "")
        response.headers = headers
        response.headers["Location"] = path
        return response
    }

    // MARK: - Sign-in

    func loginPage(csrf: String, name: String = "", problem: String? = nil, status: Int = 200) -> PageResponse {
        var values = frame("Sign in", editor: nil, csrf: csrf, problem: problem)
        values["name"] = name
        return page("login", values, status: status)
    }

    // MARK: - Weeks

    func weeksPage(editor: Editor, csrf: String, notice: String?) async throws -> PageResponse {
        let current = context.currentWeek
        let (weeks, drafts, changes) = try await database.perform { database in
            (try database.contentWeeks(), try database.draftItems(), try database.contentChanges(limit: 15))
        }
        var counts: [ISOWeek: Int] = [:]
        for entry in weeks { counts[entry.week] = entry.items }
        var shown = Set(weeks.map(\.week).filter { $0 >= current.previous.previous.previous.previous })
        var week = current
        for _ in 0...8 {
            shown.insert(week)
            week = week.next
        }
        var values = frame("Weeks", editor: editor, csrf: csrf, notice: notice)
        values["weeks"] = shown.sorted().map { week -> [String: Any] in
            [
                "week": week.description, "items": counts[week] ?? 0, "current": week == current,
                "starts": day(week.start(in: config.timeZone)),
            ]
        }
        values["weekOptions"] = weekOptions(selected: current.next)
        values["drafts"] = drafts.map { ["id": $0.id ?? 0, "title": $0.title, "url": $0.url] }
        values["changes"] = changes.map(changeValues)
        return page("weeks", values)
    }

    func weekPage(_ week: ISOWeek, editor: Editor, csrf: String, notice: String?, problem: String? = nil)
        async throws -> PageResponse
    {
        let (items, ambassadors) = try await database.perform { database in
            (try database.contentItems(week: week), try database.ambassadors(status: .active))
        }
        var values = frame("Week \(week)", editor: editor, csrf: csrf, notice: notice, problem: problem)
        values["week"] = week.description
        values["starts"] = day(week.start(in: config.timeZone))
        values["previous"] = week.previous.description
        values["next"] = week.next.description
        let moveOptions =
            [["value": "draft", "label": "Drafts"]]
            + (0..<10).map { offset -> [String: String] in
                var target = context.currentWeek
                for _ in 0..<offset { target = target.next }
                return ["value": target.description, "label": target.description]
            }.filter { $0["value"] != week.description }
        values["items"] = items.map { item -> [String: Any] in
            var languages = [(item.language ?? config.defaultLanguage).rawValue]
            languages += item.variants.map(\.language.rawValue)
            var entry: [String: Any] = [
                "id": item.id ?? 0, "title": item.title, "url": item.url, "languages": languages,
                "textCount": item.texts.count + item.variants.reduce(0) { $0 + $1.texts.count },
                "moveOptions": moveOptions, "week": week.description,
            ]
            if let theme = item.theme { entry["theme"] = theme }
            if let image = item.imageURL { entry["imageURL"] = image }
            if item.prompt != nil { entry["prompt"] = true }
            return entry
        }
        let fitting = ambassadors.filter { !DigestSelection.items(items, for: $0).isEmpty }
        values["ambassadors"] = fitting.prefix(200).map(\.email)
        values["firstAmbassador"] = fitting.first?.email ?? ""
        return page("week", values)
    }

    // MARK: - Items

    /// The form for a new item, filled from the page at `url` (or with the problem when it cannot be fetched).
    func fetchedItemPage(url: String, week: String?, editor: Editor, csrf: String) async -> PageResponse {
        var fields = ["url": url, "weeks": week == "draft" ? "" : (week ?? context.currentWeek.next.description)]
        var problem: String?
        do {
            let metadata = try await fetcher.metadataAsync(of: url)
            fields["url"] = metadata.canonicalURL
            fields["title"] = metadata.title ?? ""
            fields["summary"] = metadata.summary ?? ""
            fields["image"] = metadata.imageURL ?? ""
        } catch {
            problem = "\(error) — fill in the fields by hand, or try another address."
        }
        return itemPage(
            fields: fields, id: nil, editor: editor, csrf: csrf,
            notice: problem == nil ? "Fetched. Check the texts, then save." : nil, problem: problem, changes: [])
    }

    func newItemPage(week: String?, editor: Editor, csrf: String) -> PageResponse {
        itemPage(
            fields: ["weeks": week ?? context.currentWeek.next.description], id: nil, editor: editor, csrf: csrf,
            notice: nil, problem: nil, changes: [])
    }

    func editItemPage(id: Int64, editor: Editor, csrf: String, notice: String?) async throws -> PageResponse {
        guard
            let (item, changes, version) = try await database.perform({
                database -> (ContentItem, [ContentChange], String)? in
                // The version first: an edit landing between the two reads then shows as a conflict on saving,
                // never as a silent overwrite of the newer text.
                guard let version = try database.contentVersion(id: id), let item = try database.contentItem(id: id)
                else { return nil }
                return (item, try database.contentChanges(itemID: id, limit: 30), version)
            })
        else { return notFound(editor: editor, csrf: csrf) }
        var fields = ItemForm.fields(item)
        fields["version"] = version
        return itemPage(
            fields: fields, id: id, editor: editor, csrf: csrf, notice: notice, problem: nil, changes: changes)
    }

    /// Creates (`id == nil`) or updates an item from posted fields; an invalid form comes back with its problem and
    /// the values as typed.
    func saveItem(id: Int64?, fields: [String: String], editor: Editor, csrf: String) async throws -> PageResponse {
        let main = fields["language"].flatMap(Language.init(rawValue:)) ?? config.defaultLanguage
        if ["title", "summary", "prompt", "texts.all"].contains(where: {
            !(fields["\(main.rawValue).\($0)"] ?? "").isEmpty
        }) {
            return itemPage(
                fields: fields, id: id, editor: editor, csrf: csrf, notice: nil,
                problem:
                    "Not saved: the \(Self.languageName(main)) version is filled in. To make \(Self.languageName(main)) "
                    + "the main language, first move its texts into the main fields and empty that version.",
                changes: [], status: 422)
        }
        let object = ItemForm.object(fields, defaultLanguage: config.defaultLanguage)
        let rules = context.importRules()
        var item: ContentItem
        switch ContentImport.item(object, line: 0, rules: rules) {
        case .failure(let problem):
            return itemPage(
                fields: fields, id: id, editor: editor, csrf: csrf, notice: nil,
                problem: "Not saved: \(problem.field ?? "form") \(problem.message).", changes: [], status: 422)
        case .success(let value): item = value
        }
        item.id = id
        let now = context.now()
        let version = fields["version"].flatMap { $0.isEmpty ? nil : $0 }
        // Every item page's form says which version it edits: a save of an item without it checks nothing and
        // would overwrite whatever changed meanwhile (a form not made by these pages), so it is a conflict.
        if id != nil && version == nil {
            return itemPage(
                fields: fields, id: id, editor: editor, csrf: csrf, notice: nil,
                problem: "Not saved: the form did not say which version of the item it changes. Reload the item, "
                    + "then make your changes again.", changes: [], status: 409)
        }
        let saved: ContentItem
        do {
            saved = try await database.perform { [item] database in
                if item.id == nil { return try database.addContent(item, now: now, by: editor.name) }
                return try database.updateContent(item, now: now, by: editor.name, expectedVersion: version)
            }
        } catch let error as StoreError {
            return itemPage(
                fields: fields, id: id, editor: editor, csrf: csrf, notice: nil, problem: "Not saved: \(error).",
                changes: [], status: 409)
        }
        logger.info("editor \(editor.name) saved item \(saved.id ?? 0)")
        return redirect("\(base)/items/\(saved.id ?? 0)?done=saved")
    }

    func move(id: Int64, week: ISOWeek, up: Bool, editor: Editor) async throws -> PageResponse {
        let now = context.now()
        do {
            try await database.perform {
                try $0.moveContent(id: id, in: week, by: up ? -1 : 1, now: now, editor: editor.name)
            }
        } catch is StoreError { return redirect("\(base)/weeks/\(week)?done=stale") }
        return redirect("\(base)/weeks/\(week)?done=moved")
    }

    func reschedule(id: Int64, from: ISOWeek?, to: ISOWeek?, editor: Editor) async throws -> PageResponse {
        let now = context.now()
        let back = from.map { "\(base)/weeks/\($0)" } ?? "\(base)/weeks"
        do {
            try await database.perform {
                try $0.rescheduleContent(id: id, from: from, to: to, now: now, editor: editor.name)
            }
        } catch is StoreError { return redirect("\(back)?done=stale") }
        return redirect("\(back)?done=moved")
    }

    /// `POST …/remove` from a week page takes the item out of that week only: it stays in its other weeks (or
    /// becomes a draft), so a week already mailed keeps it and the links in sent mails and posted shares keep
    /// working. An item no longer in that week is stale. Without a week (a draft) the item itself is deleted, but
    /// only while it is a draft: a request without a week (or with one that does not parse) for an item in a week
    /// is stale, and deletes nothing.
    func remove(id: Int64, week: ISOWeek?, editor: Editor) async throws -> PageResponse {
        let now = context.now()
        guard let week else {
            let removed = try await database.perform {
                try $0.removeContent(id: id, now: now, by: editor.name, draftOnly: true)
            }
            return redirect("\(base)/weeks?done=\(removed ? "removed" : "stale")")
        }
        do {
            try await database.perform {
                try $0.rescheduleContent(id: id, from: week, to: nil, now: now, editor: editor.name)
            }
        } catch is StoreError { return redirect("\(base)/weeks/\(week)?done=stale") }
        return redirect("\(base)/weeks/\(week)?done=removedFromWeek")
    }

    // MARK: - Preview and test

    /// The digest of `week` for one ambassador, rendered by the same composer as the mail, with test links.
    func composed(week: ISOWeek, ambassadorID: Int64) async throws -> (Ambassador, MailMessage, RenderedDigest)? {
        try await database.perform { [context] database in
            let composer = try context.makeComposer()  // fresh, off the event loops: an edit a second ago must show
            guard let ambassador = try database.ambassador(id: ambassadorID) else { return nil }
            let items = try database.contentItems(week: week)
            let results = composer.resultsBlock(
                try database.resultsSnapshot(
                    digestWeek: week, timeZone: context.config.timeZone, only: ambassadorID))
            guard
                let composed = composer.compose(
                    for: ambassador, weekItems: items, week: week, now: context.now(), results: results,
                    recipient: ambassador.email)
            else { return nil }
            return (ambassador, composed.message, composed.rendered)
        }
    }

    /// `POST …/preview` (the week page's form names the person by address): to the preview by the person's id, so
    /// that no address ends up in a URL (browser history, a proxy's access log).
    func preview(week: ISOWeek, fields: [String: String], editor: Editor, csrf: String) async throws -> PageResponse {
        let email = fields["ambassador"] ?? ""
        let address = EmailAddress.normalized(email) ?? email
        guard let id = try await database.perform({ try $0.ambassador(email: address)?.id }) else {
            return try await weekPage(
                week, editor: editor, csrf: csrf, notice: nil, problem: "No digest: \(email) is not an ambassador.")
        }
        return redirect("\(base)/weeks/\(week)/preview?id=\(id)")
    }

    func previewPage(week: ISOWeek, ambassadorID: Int64?, editor: Editor, csrf: String) async throws -> PageResponse {
        guard let ambassadorID,
            let (ambassador, _, rendered) = try await composed(week: week, ambassadorID: ambassadorID)
        else {
            return try await weekPage(
                week, editor: editor, csrf: csrf, notice: nil,
                problem: "No digest: no such ambassador, or nothing of \(week) fits them.")
        }
        var values = frame("Preview \(week)", editor: editor, csrf: csrf)
        values["week"] = week.description
        values["ambassador"] = ambassador.email
        values["subject"] = rendered.subject
        values["text"] = rendered.text
        values["htmlURL"] = "\(base)/weeks/\(week)/preview.html?id=\(ambassadorID)"
        return page("preview", values)
    }

    func previewHTML(week: ISOWeek, ambassadorID: Int64?) async throws -> PageResponse {
        guard let ambassadorID, let (_, _, rendered) = try await composed(week: week, ambassadorID: ambassadorID) else {
            return PageResponse(status: 404, body: "no digest", contentType: "text/plain; charset=utf-8")
        }
        var response = PageResponse(body: rendered.html)
        response.headers["Content-Security-Policy"] = previewContentSecurityPolicy
        return response
    }

    func sendTest(week: ISOWeek, fields: [String: String], editor: Editor, csrf: String) async throws -> PageResponse {
        guard let recipient = EmailAddress.normalized(fields["address"] ?? "") else {
            return try await weekPage(
                week, editor: editor, csrf: csrf, notice: nil, problem: "Not sent: the address to send to is not valid."
            )
        }
        let sentAt = context.now()
        let allowed = testsSent.withLock { sent in
            var mine = (sent[editor.name] ?? []).filter { sentAt.timeIntervalSince($0) < 3_600 }
            defer { sent[editor.name] = mine }
            guard mine.count < Self.testsPerHour else { return false }
            mine.append(sentAt)
            return true
        }
        guard allowed else {
            logger.warning("editor \(editor.name) reached \(Self.testsPerHour) test mails in an hour")
            var page = try await weekPage(
                week, editor: editor, csrf: csrf, notice: nil,
                problem: "Not sent: at most \(Self.testsPerHour) test mails an hour per editor.")
            page.status = 429
            return page
        }
        let email = fields["ambassador"] ?? ""
        let transport = self.transport
        let (database, context) = (self.database, self.context)
        do {
            let sentAs = try await offThePool {
                let preview = DigestPreview(
                    database: database, composer: try context.makeComposer(), timeZone: context.config.timeZone,
                    now: context.now)
                return try preview.sendTest(
                    week: week, to: recipient, as: email.isEmpty ? nil : email, transport: transport)
            }
            logger.info(
                "editor \(editor.name) sent a test of \(week) to an address at \(EmailAddress.domain(of: recipient))")
            return try await weekPage(
                week, editor: editor, csrf: csrf, notice: "Test of \(sentAs)'s digest sent to \(recipient).")
        } catch {
            return try await weekPage(week, editor: editor, csrf: csrf, notice: nil, problem: "Not sent: \(error)")
        }
    }

    // MARK: - Parts

    func notFound(editor: Editor?, csrf: String) -> PageResponse {
        page(
            "weeks", frame("Not found", editor: editor, csrf: csrf, problem: "There is no such page or item."),
            status: 404)
    }

    func itemPage(
        fields: [String: String], id: Int64?, editor: Editor, csrf: String, notice: String?, problem: String?,
        changes: [ContentChange], status: Int = 200
    ) -> PageResponse {
        var values = frame(
            id == nil ? "New item" : "Edit item", editor: editor, csrf: csrf, notice: notice, problem: problem)
        values["heading"] = id == nil ? "New item" : "Edit item \(id!)"
        values["fields"] = fields
        values["action"] = id.map { "\(base)/items/\($0)" } ?? "\(base)/items"
        values["button"] = id == nil ? "Save item" : "Save changes"
        let weeks = (fields["weeks"] ?? "").split(separator: " ").first.map(String.init)
        values["back"] = weeks.map { "\(base)/weeks/\($0)" } ?? "\(base)/weeks"
        if let image = fields["image"], WebURL.validated(image) != nil { values["imageURL"] = image }
        values["hasThemes"] = !config.plan.themes.isEmpty
        values["themes"] = config.plan.themes.map { theme -> [String: Any] in
            [
                "value": theme, "label": config.plan.label(theme: theme, language: .en),
                "selected": fields["theme"] == theme,
            ]
        }
        let main = fields["language"].flatMap(Language.init(rawValue:)) ?? config.defaultLanguage
        values["mainLanguages"] = Language.allCases.map {
            ["value": $0.rawValue, "label": Self.languageName($0), "selected": $0 == main] as [String: Any]
        }
        func texts(_ prefix: String, _ suffix: String) -> [[String: String]] {
            [["name": "\(prefix)texts.all", "label": "For every network\(suffix)"]]
                .map { ["name": $0["name"]!, "label": $0["label"]!, "value": fields[$0["name"]!] ?? ""] }
                + Network.allCases.map { network in
                    let name = "\(prefix)texts.\(network.rawValue)"
                    return [
                        "name": name, "label": "Only on \(network.displayName)\(suffix)", "value": fields[name] ?? "",
                    ]
                }
        }
        values["mainTexts"] = texts("", "")
        values["variants"] = Language.allCases.filter { $0 != main }.map { language -> [String: Any] in
            let code = language.rawValue
            return [
                "code": code, "label": Self.languageName(language), "title": fields["\(code).title"] ?? "",
                "summary": fields["\(code).summary"] ?? "", "prompt": fields["\(code).prompt"] ?? "",
                "texts": texts("\(code).", " (\(Self.languageName(language)))"),
            ]
        }
        values["hasChanges"] = !changes.isEmpty
        values["changes"] = changes.map(changeValues)
        return page("item", values, status: status)
    }

    private func changeValues(_ change: ContentChange) -> [String: Any] {
        var values: [String: Any] = [
            "at": stamp(change.at), "editor": change.editor, "action": change.action, "detail": change.detail,
        ]
        if let id = change.itemID, change.action != "remove" { values["itemID"] = id }
        return values
    }

    func weekOptions(selected: ISOWeek) -> [[String: Any]] {
        var options: [[String: Any]] = [["value": "draft", "label": "Drafts (schedule later)", "selected": false]]
        var week = context.currentWeek
        for _ in 0..<10 {
            options.append(["value": week.description, "label": week.description, "selected": week == selected])
            week = week.next
        }
        return options
    }

    /// A day ("Mon 7 Dec 2026") for week starts.
    private func day(_ date: Date) -> String { formatted(date, "EEE d MMM yyyy") }

    /// A moment ("7 Dec 2026 10:15") for the history.
    private func stamp(_ date: Date) -> String { formatted(date, "d MMM yyyy HH:mm") }

    private func formatted(_ date: Date, _ pattern: String) -> String {
        let format = DateFormatter()
        format.timeZone = config.timeZone
        format.locale = Locale(identifier: "en_GB")
        format.dateFormat = pattern
        return format.string(from: date)
    }

    static func languageName(_ language: Language) -> String {
        switch language {
        case .nl: "Dutch"
        case .en: "English"
        }
    }

    /// The fixed notices a redirect may ask for (`?done=`): nothing from the URL is shown as such.
    static func notice(_ done: String?) -> String? {
        switch done {
        case "saved": "Saved."
        case "moved": "Moved."
        case "removed": "Removed."
        case "removedFromWeek": "Removed from this week (the item stays in its other weeks, or in the drafts)."
        case "signedin": "Signed in."
        case "stale":
            "Nothing changed: that item was moved or removed by someone else meanwhile. This is the page as it is now."
        default: nil
        }
    }
}
