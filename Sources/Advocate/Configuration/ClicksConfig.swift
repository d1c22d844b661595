import AdvocateCore
import Foundation

/// How clicks are judged and valued.
public struct ClicksConfig: Sendable, Decodable {
    /// Networks mail-security scanners run from, by operator name. A hit from one of them is a scanner's (the
    /// person's own click comes from their own connection). The address is used at that moment and never stored.
    public var scannerNetworks: [String: [AddressRange]] = ClicksConfig.documentedScannerNetworks
    /// What buying one visit as an ad would cost, per network (e.g. `{"linkedin": 5.0}`): earned media value is
    /// unique readers × this, labelled as an estimate. Networks not listed add nothing.
    public var costPerClick: [Network: Double] = [:]
    /// Currency of ``costPerClick`` (ISO 4217 code, shown with the figures).
    public var currency = "EUR"

    /// Microsoft Exchange Online Protection / Defender for Office 365 (Safe Links), as Microsoft documents the
    /// outbound ranges of Exchange Online ("Microsoft 365 URLs and IP address ranges", ID 1/2 and EOP).
    public static let documentedScannerNetworks: [String: [AddressRange]] = [
        "microsoft": [
            "40.92.0.0/15", "40.94.0.0/16", "40.107.0.0/16", "52.100.0.0/14", "104.47.0.0/17",
            "2a01:111:f400::/48", "2a01:111:f403::/48",
        ].map { AddressRange(parsing: $0)! }
    ]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case scannerNetworks, costPerClick, currency
    }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let networks = try c.decodeIfPresent([String: [String]].self, forKey: .scannerNetworks) {
            scannerNetworks = try networks.mapValues { ranges in
                try ranges.map { text in
                    guard let range = AddressRange(parsing: text) else {
                        throw ConfigError.invalidValue(
                            path: "clicks.scannerNetworks", reason: "'\(text)' is not an address or CIDR range")
                    }
                    return range
                }
            }
        }
        for (code, value) in try c.value(.costPerClick, default: [String: Double]()) {
            guard let network = Network(rawValue: code) else {
                throw ConfigError.invalidValue(
                    path: "clicks.costPerClick.\(code)", reason: "unknown network (use: \(Network.codes))")
            }
            guard value >= 0, value < 1_000 else {
                throw ConfigError.invalidValue(path: "clicks.costPerClick.\(code)", reason: "must be 0 to 1000")
            }
            costPerClick[network] = value
        }
        currency = try c.value(.currency, default: currency)
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw ConfigError.invalidValue(path: "clicks.currency", reason: "use a three-letter code such as EUR")
        }
    }

    /// The network a client address lies in, if it is a documented scanner network.
    public func scannerNetwork(of address: [UInt8]?) -> String? {
        guard let address = address.map(AddressRange.unmapped) else { return nil }
        return scannerNetworks.first { $0.value.contains { $0.contains(address) } }?.key
    }
}
