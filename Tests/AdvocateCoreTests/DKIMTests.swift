import Foundation
import Testing
import _CryptoExtras

@testable import AdvocateCore

@Suite("DKIM canonicalisation and signing")
struct DKIMTests {
    @Test("relaxed canonicalisation matches RFC 6376 §3.4.5")
    func rfcExample() {
        #expect(DKIMSigner.canonicalHeader("A: X") == "a:X")
        #expect(DKIMSigner.canonicalHeader("B : Y\t\r\n\tZ  ") == "b:Y Z")
        let body = Array(" C \r\nD \t E\r\n\r\n\r\n".utf8)
        #expect(String(decoding: DKIMSigner.canonicalBody(body), as: UTF8.self) == " C\r\nD E\r\n")
        #expect(DKIMSigner.canonicalBody([]).isEmpty)
    }

    @Test("a signature header per key, folded within 78 columns, in front of the unchanged message")
    func signatureHeader() throws {
        let message = Array(
            "From: A <a@acme.example>\r\nTo: b@x.nl\r\nSubject: Hi\r\nDate: Wed, 02 Dec 2026 10:00:00 +0100\r\n\r\nHello\r\n"
                .utf8)
        let rsa = try DKIMSigner.rsaKey(
            base64: try _RSA.Signing.PrivateKey(keySize: .bits2048).derRepresentation.base64EncodedString())
        let signer = DKIMSigner(domain: "acme.example", selector: "adv", keys: [rsa])
        let signed = String(
            decoding: try signer.sign(message, time: Date(timeIntervalSince1970: 1_796_202_000)), as: UTF8.self)
        #expect(signed.hasPrefix("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=acme.example; s=adv;"))
        #expect(
            signed.contains("t=1796202000; h=from:to:subject:date:from:to:subject:date:"), "signed, then over-signed")
        #expect(signed.hasSuffix(String(decoding: message, as: UTF8.self)))
        #expect(signed.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        // The body hash of "Hello\r\n", computed independently: printf 'Hello\r\n' | openssl sha256 -binary | base64
        #expect(signed.contains("bh=Ba3gj8+xBPQLJTahTfzW6RbWQ/XPgESxkCi2B66PSQg=;"))
    }
}
