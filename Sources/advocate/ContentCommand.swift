import Advocate
import AdvocateCore
import ArgumentParser
import Foundation

extension AdvocateCommand {
    /// `advocate content …`
    struct Content: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage the content ambassadors are offered, week by week.",
            subcommands: [Add.self, Import.self, List.self, Remove.self]
        )
    }
}

extension AdvocateCommand.Content {
    /// `advocate content add URL`
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add one content item.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The page to share (http or https).") var url: String
        @Option(help: "Headline.") var title: String
        @Option(help: "Short description.") var summary: String?
        @Option(help: "Image URL.") var image: String?
        @Option(help: "Theme of the plan.") var theme: String?
        @Option(help: "ISO week to offer it in, e.g. 2026-W49 (repeatable; default: this week).") var week: [String] =
            []
        @Option(name: .customLong("text"), help: "A suggested post (repeatable; prefix 'x:' etc. for one network).")
        var texts: [String] = []
        @Flag(help: "Print the new item as JSON.") var json = false

        func run() throws {
            try reportingErrors {
                let context = try global.context()
                var object: [String: Any] = ["url": url, "title": title, "weeks": week]
                object["summary"] = summary
                object["image"] = image
                object["theme"] = theme
                object["texts"] = texts.map { text -> Any in
                    if let colon = text.firstIndex(of: ":"), let network = Network(rawValue: String(text[..<colon])) {
                        return ["network": network.rawValue, "text": String(text[text.index(after: colon)...])]
                    }
                    return text
                }
                let item: ContentItem
                switch ContentImport.item(object, line: 0, rules: context.importRules()) {
                case .success(let value): item = value
                case .failure(let problem): throw ValidationError("--\(problem.field ?? "url"): \(problem.message)")
                }
                let saved = try context.openDatabase().addContent(item, now: context.now())
                if json { return try Output.json(saved) }
                print("Added item \(saved.id ?? 0) for \(saved.weeks.map(\.description).joined(separator: ", ")).")
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
                let outcome = try importer.importContent(file: file, skipInvalid: skipInvalid)
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
                guard try global.context().openDatabase().removeContent(id: id) else {
                    throw StoreError.notFound("no content item with id \(id)")
                }
                print("Removed item \(id).")
            }
        }
    }
}
