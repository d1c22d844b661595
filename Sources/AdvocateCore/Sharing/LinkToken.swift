import Crypto
import _CryptoExtras

/// What a personal link points at. It is sealed into a short opaque token, so no database row is needed per
/// link and nobody can read who it belongs to or change it into another valid link.
public struct LinkToken: Sendable, Hashable {
    /// What the link does.
    public enum Kind: UInt8, Sendable, Hashable {
        /// Share button in the digest: count the share, redirect to the network's dialog.
        case share = 1
        /// Link inside the post: count the visit, redirect to the item.
        case visit = 2
        /// Unsubscribe link of one digest.
        case unsubscribe = 3
        /// Honeypot link hidden in the digest; only scanners follow it.
        case trap = 4
        /// An invitation's join link; `ambassadorID` holds the invitation's id.
        case invite = 5
        /// The ambassador's preferences page.
        case preferences = 6
        /// An invitation's opt-out (`/u/`, its `List-Unsubscribe`): never invite its address again; `ambassadorID`
        /// holds the invitation's id. (The last kind three bits can hold.)
        case stopInvitations = 7
    }

    /// What the link does.
    public var kind: Kind
    /// The ambassador the link belongs to.
    public var ambassadorID: Int64
    /// The content item, 0 for unsubscribe and trap links.
    public var itemID: Int64
    /// The network, for share and visit links.
    public var network: Network?
    /// The digest week the link was mailed in.
    public var week: ISOWeek
    /// A link of a test message (`digest send --test`, the editor's test send): it works like the real one but
    /// counts nothing and unsubscribes nobody.
    public var test: Bool

    /// Creates a token value.
    public init(
        kind: Kind, ambassadorID: Int64, itemID: Int64 = 0, network: Network? = nil, week: ISOWeek, test: Bool = false
    ) {
        self.kind = kind
        self.ambassadorID = ambassadorID
        self.itemID = itemID
        self.network = network
        self.week = week
        self.test = test
    }

    /// The ISO-week years a token can carry (its week is stored in 16 bits from 2000 on).
    public static let years: ClosedRange<Int> = 2000...3023

    /// Whether links of `week` can be sealed; digests of other weeks are refused with a clear error.
    public static func canCarry(_ week: ISOWeek) -> Bool { years.contains(week.year) }

    /// Largest ambassador id a token can carry.
    public static let maxAmbassadorID: Int64 = Int64(UInt32.max)
    /// Largest item id a token can carry.
    public static let maxItemID: Int64 = (1 << 24) - 1
}

/// Seals and opens ``LinkToken``s. A token is the key id followed by one AES-256 block holding 10 bytes of
/// payload and 6 bytes of fixed redundancy (encode-then-encipher): altering any bit of the block scrambles all
/// of it, so a forged or damaged token passes with probability 2⁻⁴⁸. 17 bytes, 23 URL-safe characters.
public struct LinkSealer: Sendable {
    private let keyring: LinkKeyring
    private static let redundancy: [UInt8] = [0x41, 0x44, 0x56, 0x4F, 0x43, 0x54]

    /// Creates a sealer over the given keys.
    public init(keyring: LinkKeyring) {
        self.keyring = keyring
    }

    /// The token text for a link, sealed with the current key. Callers check the week with
    /// ``LinkToken/canCarry(_:)`` first (the CLI refuses other weeks); ids beyond the limits are programming errors.
    public func seal(_ token: LinkToken) -> String {
        precondition((1...LinkToken.maxAmbassadorID).contains(token.ambassadorID), "ambassador id out of range")
        precondition((0...LinkToken.maxItemID).contains(token.itemID), "item id out of range")
        precondition(LinkToken.canCarry(token.week), "week \(token.week) out of range")
        let weekCode = UInt16((token.week.year - 2000) * 64 + token.week.week)
        let ambassador = UInt32(token.ambassadorID)
        let item = UInt32(token.itemID)
        var block: [UInt8] = [
            (token.test ? 0x80 : 0) | token.kind.rawValue << 4 | (token.network?.code ?? 0),
            UInt8(ambassador >> 24), UInt8(ambassador >> 16 & 0xFF), UInt8(ambassador >> 8 & 0xFF),
            UInt8(ambassador & 0xFF),
            UInt8(item >> 16 & 0xFF), UInt8(item >> 8 & 0xFF), UInt8(item & 0xFF),
            UInt8(weekCode >> 8), UInt8(weekCode & 0xFF),
        ]
        block += Self.redundancy
        let key = keyring.current
        try! AES.permute(&block, key: key.cipherKey)
        return Base64URL.encode([key.id] + block)
    }

    /// The link a token stands for, or `nil` when it is malformed, tampered with, or sealed with a key that is no
    /// longer listed.
    public func open(_ text: String) -> LinkToken? {
        guard text.utf8.count == 23, let bytes = Base64URL.decode(text), bytes.count == 17,
            let key = keyring.key(id: bytes[0])
        else { return nil }
        var block = Array(bytes[1...])
        guard (try? AES.inversePermute(&block, key: key.cipherKey)) != nil else { return nil }
        var difference: UInt8 = 0
        for (byte, expected) in zip(block[10...], Self.redundancy) { difference |= byte ^ expected }
        guard difference == 0, let kind = LinkToken.Kind(rawValue: block[0] >> 4 & 0x07) else { return nil }
        let networkCode = block[0] & 0x0F
        let network = networkCode == 0 ? nil : Network(code: networkCode)
        if networkCode != 0 && network == nil { return nil }
        let ambassador = block[1...4].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let item = block[5...7].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let weekCode = Int(block[8]) << 8 | Int(block[9])
        guard ambassador > 0, let week = try? ISOWeek(year: 2000 + weekCode / 64, week: weekCode % 64) else {
            return nil
        }
        return LinkToken(
            kind: kind, ambassadorID: ambassador, itemID: item, network: network, week: week, test: block[0] & 0x80 != 0
        )
    }
}
