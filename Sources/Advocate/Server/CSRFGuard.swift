import AdvocateCore
import Foundation
import Hummingbird

/// Protects every form POST of the membership pages against cross-site request forgery with a double-submit
/// token: a random value in an `HttpOnly; SameSite=Strict` cookie that a page also puts in a hidden field. A
/// forged POST from another site cannot read or set the cookie, so the two never match; a browser's `Origin` and
/// `Sec-Fetch-Site` headers, when present, must also say the POST comes from this site. (The RFC 8058 one-click
/// unsubscribe is exempt on purpose: mail providers post it without any cookie.)
struct CSRFGuard: Sendable {
    /// Whether the cookie gets `Secure` (publicBaseURL is https).
    let secure: Bool
    /// `__Host-advocate_csrf` over https (a sibling subdomain cannot set or shadow such a cookie), else
    /// `advocate_csrf`.
    var cookieName: String { secure ? "__Host-advocate_csrf" : "advocate_csrf" }
    /// `scheme://host[:port]` of publicBaseURL.
    let origin: String

    init(publicBaseURL: String) {
        secure = publicBaseURL.hasPrefix("https://")
        let components = URLComponents(string: publicBaseURL)
        origin =
            "\(components?.scheme ?? "http")://\(components?.host ?? "")"
            + (components?.port.map { ":\($0)" } ?? "")
    }

    /// The request's token, or a new one with the `Set-Cookie` value that hands it to the browser.
    func token(for request: Request) -> (value: String, setCookie: String?) {
        if let value = request.cookies[cookieName]?.value, Self.wellFormed(value) { return (value, nil) }
        let value = SecretToken.make()
        let cookie =
            "\(cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=86400" + (secure ? "; Secure" : "")
        return (value, cookie)
    }

    /// Whether a POST carries the same token in its cookie and its form, and comes from this site.
    func allows(_ request: Request, field: String?) -> Bool {
        guard fromThisSite(request) else { return false }
        guard let cookie = request.cookies[cookieName]?.value, Self.wellFormed(cookie), let field else {
            return false
        }
        let a = Array(cookie.utf8)
        let b = Array(field.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Whether the browser, where it says where a POST comes from, says "this very site" (or "typed by the user"):
    /// true when it says nothing.
    func fromThisSite(_ request: Request) -> Bool {
        if let site = request.headers[.init("Sec-Fetch-Site")!], site != "same-origin", site != "none" { return false }
        // Browsers send `Origin: null` when the page's Referrer-Policy is no-referrer (as every page here says);
        // that tells nothing either way, and the token pair still decides.
        if let sent = request.headers[.origin], sent != "null", !isThisSite(sent, request) { return false }
        return true
    }

    /// Whether the browser says plainly that a POST comes from this very site: `Sec-Fetch-Site: same-origin`, or,
    /// from a browser that does not send that header, an `Origin` of this site (`null`, or none, says nothing).
    func surelyFromThisSite(_ request: Request) -> Bool {
        if let site = request.headers[.init("Sec-Fetch-Site")!] { return site == "same-origin" }
        guard let sent = request.headers[.origin] else { return false }
        return isThisSite(sent, request)
    }

    /// Whether an `Origin` is this site's: publicBaseURL's, or the request's own host (a server reached directly).
    private func isThisSite(_ sent: String, _ request: Request) -> Bool {
        let host = request.head.authority ?? ""
        return sent == origin || sent == "http://\(host)" || sent == "https://\(host)"
    }

    private static func wellFormed(_ value: String) -> Bool {
        value.utf8.count == 43
            && value.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D
                    || $0 == 0x5F
            }
    }
}
