/// The address a request really comes from. The connection's peer, unless that peer is a trusted reverse proxy:
/// then the proxies' `X-Forwarded-For` (or RFC 7239 `Forwarded: for=`) list is read from the right, skipping
/// trusted proxies, and the first other address is the client. Anything a client writes further left is ignored,
/// so it cannot pretend to be someone else.
public enum ClientAddress {
    /// The client's address bytes, or the peer's when nothing better is known.
    public static func resolve(
        peer: [UInt8]?, forwardedFor: String?, forwarded: String?, trusted: [AddressRange]
    ) -> [UInt8]? {
        guard let peer, trusted.admits(peer) else { return peer }
        var hops: [String] = []
        if let forwarded {
            for element in forwarded.split(separator: ",") {
                for pair in element.split(separator: ";") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for"
                    else { continue }
                    var value = parts[1].trimmingCharacters(in: .whitespaces)
                    value = value.trimmingCharacters(in: ["\""])
                    if value.hasPrefix("["), let end = value.firstIndex(of: "]") {
                        value = String(value[value.index(after: value.startIndex)..<end])
                    } else if value.filter({ $0 == ":" }).count == 1, let colon = value.firstIndex(of: ":") {
                        value = String(value[..<colon])
                    }
                    hops.append(value)
                }
            }
        } else if let forwardedFor {
            hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        for hop in hops.reversed() {
            guard let address = AddressRange.address(hop) else { return peer }
            if !trusted.admits(address) { return address }
        }
        return peer
    }
}
