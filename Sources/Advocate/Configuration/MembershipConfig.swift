import AdvocateCore
import Foundation

/// Self-service membership: who may join through `/join`, how long things last, and the limits that keep the join
/// form from being used to mail-bomb anyone.
public struct MembershipConfig: Sendable, Decodable {
    /// Domains whose addresses may join (e.g. `acme.example`); empty means sign-up is closed.
    public var allowedDomains: [String] = []
    /// Days a sign-up waits for its confirmation.
    public var signupExpiryDays = 7
    /// Mails the join form may cause per address per 24 hours.
    public var mailsPerAddressPerDay = 3
    /// Mails the join form may cause in all per hour.
    public var mailsPerHour = 100
    /// Nobody is invited again within this many days (unless `--force`).
    public var invitationCooldownDays = 30
    /// An invitation's join link works for this many weeks.
    public var invitationLinkWeeks = 8
    /// A digest's preferences link can change settings for this many weeks; an older one offers a fresh link.
    public var preferencesLinkWeeks = 26

    enum CodingKeys: String, CodingKey, CaseIterable {
        case allowedDomains, signupExpiryDays, mailsPerAddressPerDay, mailsPerHour, invitationCooldownDays
        case invitationLinkWeeks, preferencesLinkWeeks
    }

    init() {}

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        allowedDomains = try c.value(.allowedDomains, default: allowedDomains).map { $0.lowercased() }
        for (index, domain) in allowedDomains.enumerated()
        where EmailAddress.normalized("a@\(domain)") == nil || domain.contains("@") {
            throw ConfigError.invalidValue(
                path: "membership.allowedDomains[\(index)]", reason: "'\(domain)' is not a domain like acme.example")
        }
        signupExpiryDays = try c.value(.signupExpiryDays, default: signupExpiryDays)
        mailsPerAddressPerDay = try c.value(.mailsPerAddressPerDay, default: mailsPerAddressPerDay)
        mailsPerHour = try c.value(.mailsPerHour, default: mailsPerHour)
        invitationCooldownDays = try c.value(.invitationCooldownDays, default: invitationCooldownDays)
        invitationLinkWeeks = try c.value(.invitationLinkWeeks, default: invitationLinkWeeks)
        preferencesLinkWeeks = try c.value(.preferencesLinkWeeks, default: preferencesLinkWeeks)
        for (key, value) in [
            ("signupExpiryDays", signupExpiryDays), ("mailsPerAddressPerDay", mailsPerAddressPerDay),
            ("mailsPerHour", mailsPerHour), ("invitationLinkWeeks", invitationLinkWeeks),
            ("preferencesLinkWeeks", preferencesLinkWeeks),
        ] where value < 1 {
            throw ConfigError.invalidValue(path: "membership.\(key)", reason: "must be 1 or more")
        }
        if invitationCooldownDays < 0 {
            throw ConfigError.invalidValue(path: "membership.invitationCooldownDays", reason: "must be 0 or more")
        }
    }
}
