/// A page or file the membership routes answer with, independent of the HTTP framework.
public struct PageResponse: Sendable, Equatable {
    public var status: Int
    public var body: String
    public var contentType = "text/html; charset=utf-8"
    /// Extra headers (`Set-Cookie`, `Content-Disposition`).
    public var headers: [String: String] = [:]

    /// Creates a response.
    public init(status: Int = 200, body: String, contentType: String = "text/html; charset=utf-8") {
        self.status = status
        self.body = body
        self.contentType = contentType
    }
}

/// The fields any membership form may post. Unknown fields are ignored; repeated ones make the body malformed.
struct MemberFormFields: Decodable, Sendable {
    var csrf: String?
    var action: String?
    var invite: String?
    var email: String?
    var name: String?
    var language: String?
    var themes: [String]?
    var networks: [String]?
    var frequency: String?
    var pausedUntil: String?
    var leaderboard: String?
    var confirm: String?
}
