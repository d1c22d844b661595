import Advocate
import AdvocateCore
import ArgumentParser
import Foundation

extension AdvocateCommand {
    /// `advocate content …`
    struct Content: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the content ambassadors are offered, week by week.",
            subcommands: [Add.self, Fetch.self, Translate.self, Import.self, List.self, Remove.self, History.self]
        )
    }
}

extension AdvocateCommand.Content {
    /// `advocate content add URL`
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add one content item; without --title the page is fetched for its title, summary and image.",
            discussion: """
                The page's OpenGraph, Twitter-card or plain HTML metadata fill title, summary, image and the \
                canonical URL; any option given overrides the fetched value. Fetching follows at most \
                fetch.maxRedirects redirects, reads at most fetch.maxBytes and never connects to a loopback, \
                private or link-local address unless fetch.allowAddresses allows it.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The page to share (http or https).") var url: String
        @Option(help: "Headline (given: the page is not fetched unless --fetch).") var title: String?
        @Option(help: "Short description.") var summary: String?
        @Option(help: "Image URL.") var image: String?
        @Option(help: "Theme of the plan.") var theme: String?
        @Option(help: "Language of the texts: nl or en (default from config).") var language: String?
        @Option(help: "An 'in your own words' question shown above the suggested text.") var prompt: String?
        @Option(help: "ISO week to offer it in, e.g. 2026-W49 (repeatable; default: this week).") var week: [String] =
            []
        @Flag(help: "Add it as a draft, in no week yet.") var draft = false
        @Flag(help: "Fetch the page even though --title is given.") var fetch = false
        @Option(name: .customLong("text"), help: "A suggested post (repeatable; prefix 'x:' etc. for one network).")
        var texts: [String] = []
        @Flag(help: "Print the new item as JSON.") var json = false

        func validate() throws {
            if draft && !week.isEmpty { throw ValidationError("--draft and --week exclude each other") }
        }

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                var object: [String: Any] = ["url": url, "weeks": draft ? [] : week]
                if draft || week.isEmpty { object["weeks"] = draft ? [String]() : nil }
                if title == nil || fetch {
                    let fetched = try PageFetcher(settings: context.config.fetch).metadata(of: url)
                    object["url"] = fetched.canonicalURL
                    object["title"] = fetched.title
                    object["summary"] = fetched.summary
                    object["image"] = fetched.imageURL
                }
                for (key, value) in [
                    ("title", title), ("summary", summary), ("image", image), ("theme", theme),
                    ("language", language), ("prompt", prompt),
                ] {
                    if let value { object[key] = value }
                }
                object["texts"] = Self.parse(texts)
                let item: ContentItem
                switch ContentImport.item(object, line: 0, rules: context.importRules()) {
                case .success(let value): item = value
                case .failure(let problem): throw ValidationError("--\(problem.field ?? "url"): \(problem.message)")
                }
                let saved = try context.openDatabase().addContent(item, now: context.now(), by: Self.who)
                if json { return try Output.json(saved) }
                let weeks = saved.weeks.isEmpty ? "drafts" : saved.weeks.map(\.description).joined(separator: ", ")
                print("Added item \(saved.id ?? 0) for \(weeks): \(saved.title) <\(saved.url)>")
            }
        }

        /// `x:text` is a text for one network, anything else a text for all.
        static func parse(_ texts: [String]) -> [Any] {
            texts.map { text -> Any in
                if let colon = text.firstIndex(of: ":"), let network = Network(rawValue: String(text[..<colon])) {
                    return ["network": network.rawValue, "text": String(text[text.index(after: colon)...])]
                }
                return text
            }
        }

        /// Who changes content from the command line, for the item's history.
        static var who: String { "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "unknown")" }
    }

    /// `advocate content fetch`
    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add the new entries of the configured feeds (RSS 2.0 or Atom).",
            discussion: """
                Entries already seen (by guid or id, else link) are skipped, and an unchanged feed costs one \
                conditional request (ETag / Last-Modified). Safe to run from cron. Exit 3 when some feed failed \
                (the others are loaded).
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: "Put new entries in this ISO week (default: each feed's schedule, next week or drafts).")
        var week: String?
        @Flag(help: "Add new entries as drafts.") var drafts = false
        @Flag(help: "Print the outcome as JSON.") var json = false

        func validate() throws {
            if let week {
                do { _ = try ISOWeek(parsing: week) } catch { throw ValidationError("--week: \(error.description)") }
            }
            if drafts && week != nil { throw ValidationError("--drafts and --week exclude each other") }
        }

        func run() throws {
            var failed = false
            try reportingErrors {
                let context = try global.context()
                guard !context.config.feeds.isEmpty else {
                    throw ConfigError.missingKey(path: "feeds")
                }
                let loader = FeedLoader(
                    database: try context.openDatabase(), fetcher: PageFetcher(settings: context.config.fetch),
                    feeds: context.config.feeds, nextWeek: context.currentWeek.next, now: context.now)
                let target: FeedLoader.Target =
                    if drafts { .drafts } else if let week { .week(try ISOWeek(parsing: week)) } else { .configured }
                let reports = loader.run(target: target)
                failed = reports.contains { $0.error != nil }
                if json { return try Output.json(reports) }
                for report in reports {
                    switch report.outcome {
                    case "unchanged": print("\(report.url): unchanged")
                    case "loaded" where report.firstFetch:
                        print(
                            "\(report.url): first fetch, \(report.added) entries added as drafts "
                                + "(schedule the ones you want; later entries go to the feed's week)")
                    case "loaded": print("\(report.url): \(report.added) new of \(report.entries)")
                    default: FileHandle.standardError.write(Data("error: \(report.url): \(report.error ?? "")\n".utf8))
                    }
                }
            }
            if failed { throw ExitCode(3) }
        }
    }

    /// `advocate content translate ID LANGUAGE`
    struct Translate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an item its title, summary, prompt and texts in one more language.",
            discussion: "Ambassadors of that language get these; without a variant they get the main language.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Item id (see content list).") var id: Int64
        @Argument(help: "Language: nl or en.") var language: String
        @Option(help: "Headline in that language (default: the main one).") var title: String?
        @Option(help: "Description in that language.") var summary: String?
        @Option(help: "'In your own words' question in that language.") var prompt: String?
        @Option(name: .customLong("text"), help: "A suggested post (repeatable; prefix 'x:' etc. for one network).")
        var texts: [String] = []
        @Flag(help: "Remove the variant of that language instead.") var remove = false

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let database = try context.openDatabase()
                guard var item = try database.contentItem(id: id) else {
                    throw StoreError.notFound("no content item with id \(id)")
                }
                if remove {
                    guard let code = Language(rawValue: language),
                        item.variants.contains(where: { $0.language == code })
                    else { throw ValidationError("item \(id) has no '\(language)' version") }
                    item.variants.removeAll { $0.language == code }
                    _ = try database.updateContent(item, now: context.now(), by: Add.who)
                    return print("Removed the \(language) version of item \(id).")
                }
                var variant: [String: Any] = ["texts": Add.parse(texts)]
                variant["title"] = title
                variant["summary"] = summary
                variant["prompt"] = prompt
                let main = item.language ?? context.config.defaultLanguage
                let parsed: [ContentVariant]
                switch ContentImport.variants([language: variant], main: main, line: 0) {
                case .success(let value): parsed = value
                case .failure(let problem): throw ValidationError("\(problem.field ?? "language"): \(problem.message)")
                }
                item.variants.removeAll { $0.language == parsed[0].language }
                item.variants.append(parsed[0])
                _ = try database.updateContent(item, now: context.now(), by: Add.who)
                print("Item \(id) now has a \(language) version.")
            }
        }
    }

    /// `advocate content import FILE.json`
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import content items from a JSON array; updates items with a known URL.",
            discussion: """
                Each item: {"url", "title", "summary", "image", "theme", "weeks": ["2026-W49"], \
                "texts": ["…", {"network": "x", "text": "…"}]}. If any item is invalid nothing is imported, \
                unless --skip-invalid is given.
                """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "JSON file.") var file: String
        @Flag(help: "Import the valid items and report the invalid ones.") var skipInvalid = false
        @Flag(help: "Print the outcome as JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                let importer = Importer(database: try context.openDatabase(), rules: context.importRules())
                let outcome = try importer.importContent(file: file, skipInvalid: skipInvalid, by: Add.who)
                if json { return try Output.json(outcome) }
                print("Imported \(file): \(outcome.count.created) added, \(outcome.count.updated) updated.")
                for problem in outcome.skipped { print("  skipped \(file) \(problem)") }
            }
        }
    }

    /// `advocate content list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List content items.")

        @OptionGroup var global: GlobalOptions
        @Option(help: "Only items offered in this ISO week, e.g. 2026-W49.") var week: String?
        @Flag(help: "Print as JSON.") var json = false

        func validate() throws {
            if let week {
                do { _ = try ISOWeek(parsing: week) } catch { throw ValidationError("--week: \(error.description)") }
            }
        }

        func run() throws {
            try reportingErrors {
                let items = try global.context().openDatabase().contentItems(
                    week: week.map { try ISOWeek(parsing: $0) })
                if json { return try Output.json(items) }
                Output.table(
                    headers: ["ID", "WEEKS", "THEME", "TEXTS", "TITLE"],
                    rows: items.map {
                        [
                            "\($0.id ?? 0)", $0.weeks.map(\.description).joined(separator: ","), $0.theme ?? "",
                            "\($0.texts.count)", $0.title,
                        ]
                    })
                print("\(items.count) item(s)")
            }
        }
    }

    /// `advocate content remove ID`
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a content item.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Item id (see content list).") var id: Int64

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                guard try context.openDatabase().removeContent(id: id, now: context.now(), by: Add.who) else {
                    throw StoreError.notFound("no content item with id \(id)")
                }
                print("Removed item \(id).")
            }
        }
    }

    /// `advocate content history [ID]`
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Who changed content, and when.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Only this item.") var id: Int64?
        @Flag(help: "Print as JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let changes = try global.context().openDatabase().contentChanges(itemID: id)
                if json { return try Output.json(changes) }
                let format = ISO8601DateFormatter()
                Output.table(
                    headers: ["WHEN", "WHO", "ITEM", "ACTION", "DETAIL"],
                    rows: changes.map {
                        [format.string(from: $0.at), $0.editor, $0.itemID.map(String.init) ?? "", $0.action, $0.detail]
                    })
            }
        }
    }
}
