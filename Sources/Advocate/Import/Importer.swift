import AdvocateCore
import Foundation

/// Why an import changed nothing.
public enum ImportError: Error, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case invalidRows(file: String, problems: [ImportProblem])
    /// Invalid rows of a file that `advocate invite` reads (it has no `--skip-invalid`).
    case invalidInvitations(file: String, problems: [ImportProblem])

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            "\(file): \(reason)"
        case .invalidRows(let file, let problems):
            Self.listing(file, problems, "nothing was imported (use --skip-invalid to import the rest)")
        case .invalidInvitations(let file, let problems):
            Self.listing(file, problems, "nobody was invited (mend them, or leave them out, and run again)")
        }
    }

    /// The file's invalid rows, each with its line, under a headline that says what happened.
    private static func listing(_ file: String, _ problems: [ImportProblem], _ outcome: String) -> String {
        (["\(file): \(problems.count) invalid row(s); \(outcome)"] + problems.map { "  \(file) \($0)" })
            .joined(separator: "\n")
    }
}

/// What an import did.
public struct ImportOutcome: Sendable, Codable {
    /// Rows created and updated.
    public var count: UpsertCount
    /// Rows left out because of `--skip-invalid`.
    public var skipped: [ImportProblem]
}

/// Reads import files, validates them whole, and writes them in one transaction: either every valid row lands
/// or, when a row is invalid and skipping is off, nothing does.
public struct Importer: Sendable {
    let database: AppDatabase
    let rules: ImportRules

    /// Creates an importer.
    public init(database: AppDatabase, rules: ImportRules) {
        self.database = database
        self.rules = rules
    }

    /// Imports ambassadors from a CSV file.
    public func importAmbassadors(file: String, skipInvalid: Bool) throws -> ImportOutcome {
        let text = try read(file)
        let validation: ImportValidation<Ambassador>
        do { validation = try AmbassadorImport.validate(csv: text, rules: rules) } catch {
            throw ImportError.unreadable(file: file, reason: error.description)
        }
        try check(validation.problems, file: file, skipInvalid: skipInvalid)
        let count = try database.upsertAmbassadors(validation.rows, now: rules.now)
        return ImportOutcome(count: count, skipped: validation.problems)
    }

    /// Imports content items from a JSON file.
    public func importContent(file: String, skipInvalid: Bool, by editor: String = "cli") throws -> ImportOutcome {
        let data = Data(try read(file).utf8)
        let validation: ImportValidation<ContentItem>
        do { validation = try ContentImport.validate(json: data, rules: rules) } catch {
            throw ImportError.unreadable(file: file, reason: error.description)
        }
        try check(validation.problems, file: file, skipInvalid: skipInvalid)
        let count = try database.upsertContent(
            validation.rows.map(\.value), now: rules.now, by: editor,
            keepingWeeksOf: Set(validation.rows.filter { $0.blank.contains("weeks") }.map(\.value.url)))
        return ImportOutcome(count: count, skipped: validation.problems)
    }

    private func check(_ problems: [ImportProblem], file: String, skipInvalid: Bool) throws {
        if !problems.isEmpty && !skipInvalid { throw ImportError.invalidRows(file: file, problems: problems) }
    }

    private func read(_ file: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ImportError.unreadable(file: file, reason: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ImportError.unreadable(file: file, reason: "the file is not UTF-8 text")
        }
        return text
    }
}
