import Foundation

/// Validates an ambassador CSV file (`email,name,language,themes,networks`) row by row.
public enum AmbassadorImport {
    /// The columns a file may have; `email` is required.
    public static let columns = ["email", "name", "language", "themes", "networks"]

    /// Reads and checks every row. Syntax errors in the file as a whole are thrown; problems with single rows are
    /// collected so that all of them can be reported at once.
    public static func validate(csv text: String, rules: ImportRules) throws(CSVSyntaxError) -> ImportValidation<
        Ambassador
    > {
        let records = try CSVParser.parse(text)
        guard let header = records.first else {
            throw CSVSyntaxError(
                line: 1, reason: "the file is empty; expected a header \(columns.joined(separator: ","))")
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if let unknown = names.first(where: { !columns.contains($0) }) {
            throw CSVSyntaxError(
                line: header.line,
                reason: "unknown column '\(unknown)' in the header (expected \(columns.joined(separator: ",")))")
        }
        if let repeated = names.enumerated().first(where: { names.prefix($0.offset).contains($0.element) }) {
            throw CSVSyntaxError(
                line: header.line, reason: "column '\(repeated.element)' appears twice in the header")
        }
        guard names.contains("email") else {
            throw CSVSyntaxError(line: header.line, reason: "the header has no 'email' column")
        }

        var rows: [ImportRow<Ambassador>] = []
        var problems: [ImportProblem] = []
        var firstLineOfEmail: [String: Int] = [:]
        for record in records.dropFirst() {
            // A spreadsheet's filler row (",,,,") holds nobody: skipped, as a blank line is.
            if record.fields.allSatisfy({ isBlank($0) }) { continue }
            guard record.fields.count == names.count else {
                problems.append(
                    ImportProblem(
                        line: record.line, field: nil,
                        message: "expected \(names.count) fields, found \(record.fields.count)"))
                continue
            }
            var values: [String: String] = [:]
            for (name, value) in zip(names, record.fields) { values[name] = value }
            switch ambassador(values, line: record.line, rules: rules) {
            case .failure(let problem):
                problems.append(problem)
            case .success(let ambassador):
                if let first = firstLineOfEmail[ambassador.email] {
                    problems.append(
                        ImportProblem(
                            line: record.line, field: "email",
                            message: "duplicate e-mail '\(ambassador.email)', already on line \(first)"))
                    continue
                }
                firstLineOfEmail[ambassador.email] = record.line
                let blank = ["name", "language", "themes", "networks"].filter { isBlank(values[$0] ?? "") }
                rows.append(ImportRow(line: record.line, value: ambassador, blank: Set(blank)))
            }
        }
        return ImportValidation(rows: rows, problems: problems)
    }

    /// Whether a cell says nothing: empty, spaces, or only the lists' separators (`;`, a spreadsheet's leftover),
    /// which must not clear what is stored.
    static func isBlank(_ cell: String) -> Bool {
        cell.unicodeScalars.allSatisfy { $0 == ";" || CharacterSet.whitespaces.contains($0) }
    }

    /// Builds one ambassador from named values, as the CSV import and the `add` command both do.
    public static func ambassador(_ values: [String: String], line: Int, rules: ImportRules) -> Result<
        Ambassador, ImportProblem
    > {
        func fail(_ field: String, _ message: String) -> Result<Ambassador, ImportProblem> {
            .failure(ImportProblem(line: line, field: field, message: message))
        }
        let rawEmail = values["email"] ?? ""
        guard let email = EmailAddress.normalized(rawEmail) else {
            return fail("email", rawEmail.isEmpty ? "e-mail is missing" : "'\(rawEmail)' is not a valid e-mail address")
        }
        let language: Language
        switch rules.language(values["language"] ?? "") {
        case .success(let value): language = value
        case .failure(let violation): return fail("language", violation.message)
        }
        let themes: [String]
        switch rules.themes(values["themes"] ?? "") {
        case .success(let value): themes = value
        case .failure(let violation): return fail("themes", violation.message)
        }
        let networks: [Network]
        switch rules.networks(values["networks"] ?? "") {
        case .success(let value): networks = value
        case .failure(let violation): return fail("networks", violation.message)
        }
        let name = (values["name"] ?? "").collapsingWhitespace
        guard name.count <= 200 else { return fail("name", "is longer than 200 characters") }
        return .success(
            Ambassador(
                email: email, name: name, language: language, themes: themes, networks: networks,
                joinedAt: rules.now))
    }
}
