import AdvocateCore
import Testing

@Suite("Link tokens")
struct LinkTokenTests {
    let keyring = try! LinkKeyring(parsing: LinkKeyring.generateEntry(id: 7))
    let week = try! ISOWeek(parsing: "2026-W49")

    @Test("a sealed token opens to the same link and is short and URL-safe")
    func roundTrip() throws {
        let sealer = LinkSealer(keyring: keyring)
        for kind in [LinkToken.Kind.share, .visit, .unsubscribe, .trap, .invite, .preferences, .stopInvitations] {
            let token = LinkToken(
                kind: kind, ambassadorID: 4_000_000_000, itemID: LinkToken.maxItemID, network: .mastodon, week: week)
            let text = sealer.seal(token)
            #expect(text.count == 23)
            #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(sealer.open(text) == token)
        }
    }

    @Test("tokens of other keys, truncated or altered tokens do not open")
    func tampering() throws {
        let sealer = LinkSealer(keyring: keyring)
        let other = LinkSealer(keyring: try LinkKeyring(parsing: LinkKeyring.generateEntry(id: 7)))
        let text = sealer.seal(LinkToken(kind: .share, ambassadorID: 42, itemID: 3, network: .x, week: week))
        #expect(other.open(text) == nil)
        #expect(sealer.open(String(text.dropLast())) == nil)
        #expect(sealer.open(text + "A") == nil)
        var bytes = Base64URL.decode(text)!
        for index in bytes.indices {
            for bit in 0..<8 {
                bytes[index] ^= 1 << bit
                #expect(sealer.open(Base64URL.encode(bytes)) == nil)
                bytes[index] ^= 1 << bit
            }
        }
    }

    @Test("rotated keys: old tokens open while their key is listed, new tokens use the first key")
    func rotation() throws {
        let old = LinkKeyring.generateEntry(id: 1)
        let new = LinkKeyring.generateEntry(id: 2)
        let before = LinkSealer(keyring: try LinkKeyring(parsing: old))
        let after = LinkSealer(keyring: try LinkKeyring(parsing: "\(new),\(old)"))
        let dropped = LinkSealer(keyring: try LinkKeyring(parsing: new))
        let link = LinkToken(kind: .visit, ambassadorID: 1, itemID: 1, network: .linkedin, week: week)
        let issued = before.seal(link)
        #expect(after.open(issued) == link)
        #expect(dropped.open(issued) == nil)
        #expect(Base64URL.decode(after.seal(link))!.first == 2)
    }

    @Test("a token reveals nothing readable: the same ids in other links look unrelated")
    func opaque() {
        let sealer = LinkSealer(keyring: keyring)
        let a = sealer.seal(LinkToken(kind: .share, ambassadorID: 1, itemID: 1, network: .x, week: week))
        let b = sealer.seal(LinkToken(kind: .share, ambassadorID: 1, itemID: 2, network: .x, week: week))
        let shared = zip(Base64URL.decode(a)!.dropFirst(), Base64URL.decode(b)!.dropFirst()).filter { $0 == $1 }.count
        #expect(shared < 6, "one changed field must scramble the whole block")
    }

    @Test("bad key lists are refused with a reason")
    func badKeys() {
        #expect(throws: LinkKeyring.ParseError.self) { try LinkKeyring(parsing: "") }
        #expect(throws: LinkKeyring.ParseError.self) { try LinkKeyring(parsing: "1:c2hvcnQ") }
        #expect(throws: LinkKeyring.ParseError.self) {
            try LinkKeyring(parsing: "x:" + String(repeating: "A", count: 43))
        }
    }
}

@Suite("Link tokens cannot be forged")
struct LinkTokenForgeryTests {
    @Test("1,000,000 random tokens and 100,000 bit-flipped tokens: none is accepted")
    func forgery() throws {
        let keyring = try LinkKeyring(parsing: LinkKeyring.generateEntry(id: 3))
        let sealer = LinkSealer(keyring: keyring)
        var generator = SystemRandomNumberGenerator()
        var accepted = 0
        for _ in 0..<1_000_000 {
            // Random blocks under the right key id: the only part an attacker cannot get right is the cipher block.
            let bytes = [UInt8(3)] + (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if sealer.open(Base64URL.encode(bytes)) != nil { accepted += 1 }
        }
        let week = try ISOWeek(parsing: "2026-W49")
        for index in 0..<100_000 {
            let token = LinkToken(
                kind: .share, ambassadorID: Int64(index + 1), itemID: Int64(index % 1000), network: .x, week: week)
            var bytes = Base64URL.decode(sealer.seal(token))!
            let bit = Int.random(in: 8..<(bytes.count * 8), using: &generator)  // flip a bit of the cipher block
            bytes[bit / 8] ^= 1 << (bit % 8)
            if sealer.open(Base64URL.encode(bytes)) != nil { accepted += 1 }
        }
        #expect(accepted == 0)
    }
}
