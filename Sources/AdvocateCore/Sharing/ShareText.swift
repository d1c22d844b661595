/// The words that go into a post.
public enum ShareText {
    /// `text` with the disclosure (`#employee`) at the end, once; unchanged without a disclosure. A post about one's
    /// employer should say so (advertising rules such as the FTC's endorsement guides).
    public static func with(disclosure: String?, _ text: String) -> String {
        guard let disclosure, !disclosure.isEmpty, !text.contains(disclosure) else { return text }
        return text.isEmpty ? disclosure : "\(text) \(disclosure)"
    }
}
