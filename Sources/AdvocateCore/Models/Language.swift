/// A language a digest can be written in. The raw value is the code used in CSV files, config and templates.
public enum Language: String, Sendable, Codable, CaseIterable, Hashable {
    case nl
    case en

    /// The codes Advocate accepts, for error messages.
    public static let codes = allCases.map(\.rawValue).joined(separator: ", ")
}
