/// Which network addresses a fetch of an editor's or a feed's URL may connect to. Public addresses are fine;
/// loopback, private, shared, link-local (cloud metadata services live at 169.254.169.254), multicast and reserved
/// ranges are refused unless a configured range allows them explicitly. The check runs on the address actually
/// connected to, after DNS and after every redirect, so neither a rebinding name nor a redirect gets around it.
public struct AddressPolicy: Sendable, Hashable {
    /// Ranges allowed even though they are not public (e.g. `127.0.0.1/32` for tests).
    public var allowed: [AddressRange]

    /// Creates a policy that allows `allowed` on top of the public internet.
    public init(allowed: [AddressRange] = []) { self.allowed = allowed }

    /// Whether a connection to `address` (4 or 16 bytes, network order) may be made.
    public func allows(_ address: [UInt8]) -> Bool {
        if allowed.admits(address) { return true }
        return !Self.blocked.contains { $0.contains(address) } && (address.count == 4 || address.count == 16)
            && !Self.embedsBlockedIPv4(address)
    }

    /// Addresses that carry an IPv4 address are judged by it: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated
    /// (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
    /// (`2002:AABB:CCDD::`) ones.
    private static func embedsBlockedIPv4(_ address: [UInt8]) -> Bool {
        guard address.count == 16 else { return false }
        let zeros = { (range: Range<Int>) in address[range].allSatisfy { $0 == 0 } }
        let mapped = zeros(0..<10) && address[10] == 0xFF && address[11] == 0xFF
        let translated = zeros(0..<8) && address[8] == 0xFF && address[9] == 0xFF && zeros(10..<12)
        let compatible = zeros(0..<12)
        let nat64 = address[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]
        let sixToFour = address[0] == 0x20 && address[1] == 0x02
        guard mapped || translated || compatible || nat64 || sixToFour else { return false }
        let ipv4 = Array(sixToFour ? address[2..<6] : address[12..<16])
        return blocked.contains { $0.contains(ipv4) }
    }

    /// Not the public internet (RFC 6890 and friends).
    static let blocked: [AddressRange] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "100::/64", "2001:db8::/32",
        "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
        // NAT64 for local use (RFC 8215), whose IPv4 part sits elsewhere, and Teredo, whose IPv4 is obscured.
        "64:ff9b:1::/48", "2001::/32",
    ].map { AddressRange(parsing: $0)! }
}

/// A CIDR range such as `10.0.0.0/8` or `fd00::/8`; a bare address is a range of one.
public struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    /// The network's bytes.
    public let network: [UInt8]
    /// Leading bits that must match.
    public let prefix: Int

    /// Parses `ADDRESS[/PREFIX]`; `nil` when it is not one.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let bytes = Self.address(String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 0, value <= bits else { return nil }
            prefix = value
        } else {
            prefix = bits
        }
        network = bytes
    }

    public var description: String { "\(Self.text(network))/\(prefix)" }

    /// An IPv4 client on a dual-stack listener arrives as `::ffff:a.b.c.d`: its 4 bytes; any other address as it is.
    public static func unmapped(_ address: [UInt8]) -> [UInt8] {
        guard address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF
        else { return address }
        return Array(address[12..<16])
    }

    /// An address's usual text: dotted IPv4, or IPv6 as eight hexadecimal groups.
    public static func text(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // RFC 5952: the longest run of two or more zero groups becomes "::".
        var best: Range<Int>? = nil
        var start: Int? = nil
        for index in 0...groups.count {
            if index < groups.count, groups[index] == 0 {
                if start == nil { start = index }
            } else if let first = start {
                if index - first >= 2, index - first > (best?.count ?? 0) { best = first..<index }
                start = nil
            }
        }
        let text = { (part: ArraySlice<UInt16>) in part.map { String($0, radix: 16) }.joined(separator: ":") }
        guard let best else { return text(groups[...]) }
        return text(groups[..<best.lowerBound]) + "::" + text(groups[best.upperBound...])
    }

    /// Whether `address` lies in the range (an IPv4 address never lies in an IPv6 range, nor the other way).
    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var remaining = prefix
        for index in network.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != network[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The bytes of a dotted IPv4 or a textual IPv6 address (with `::`, and an IPv4 tail).
    public static func address(_ text: String) -> [UInt8]? {
        if !text.contains(":") {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else {
                    return nil
                }
                bytes.append(value)
            }
            return bytes
        }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            guard !part.isEmpty else { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains(".") {
                    guard let ipv4 = address(String(piece)) else { return nil }
                    bytes += ipv4
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4, let value = UInt16(piece, radix: 16) else { return nil }
                bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
    }
}

extension [AddressRange] {
    /// Whether `address` lies in one of the ranges (the trusted proxies' check, in one place).
    public func admits(_ address: [UInt8]) -> Bool { contains { $0.contains(address) } }
}
