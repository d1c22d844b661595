/// A place an ambassador can share to. The raw value is the code used in CSV files, config and tokens.
public enum Network: String, Sendable, Codable, CaseIterable, Hashable {
    case linkedin
    case x
    case facebook
    case whatsapp
    case bluesky
    case threads
    case telegram
    case mastodon
    case email

    /// The name shown on a share button.
    public var displayName: String {
        switch self {
        case .linkedin: "LinkedIn"
        case .x: "X"
        case .facebook: "Facebook"
        case .whatsapp: "WhatsApp"
        case .bluesky: "Bluesky"
        case .threads: "Threads"
        case .telegram: "Telegram"
        case .mastodon: "Mastodon"
        case .email: "E-mail"
        }
    }

    /// Whether the network's share dialog takes pre-filled text. LinkedIn and Facebook only take a URL, so the
    /// digest shows the suggested text as a block to copy for them.
    public var prefillsText: Bool {
        switch self {
        case .linkedin, .facebook: false
        default: true
        }
    }

    /// A stable small number for compact link tokens. Never renumber: issued links depend on it.
    public var code: UInt8 {
        switch self {
        case .linkedin: 1
        case .x: 2
        case .facebook: 3
        case .whatsapp: 4
        case .bluesky: 5
        case .threads: 6
        case .telegram: 7
        case .mastodon: 8
        case .email: 9
        }
    }

    /// The network with the given token code.
    public init?(code: UInt8) {
        guard let network = Network.allCases.first(where: { $0.code == code }) else { return nil }
        self = network
    }

    /// The codes Advocate accepts, for error messages.
    public static let codes = allCases.map(\.rawValue).joined(separator: ", ")
}
