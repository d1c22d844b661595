import AdvocateCore
import Foundation

extension PageFetcher {
    /// Fetches an HTML page and reads its title, summary, image and canonical address. A page that cannot be
    /// fetched, is not HTML or has no title is an error naming the URL and the reason.
    public func metadata(of url: String) throws(FetchError) -> PageMetadata {
        guard case .page(let page) = try fetch(url) else {
            throw FetchError(url: url, reason: "the server answered 304 to an unconditional request")
        }
        return try Self.metadata(of: page, asked: url)
    }

    /// ``metadata(of:)`` without blocking a Swift concurrency thread.
    public func metadataAsync(of url: String) async throws -> PageMetadata {
        try await offThePool { try metadata(of: url) }
    }

    private static func metadata(of page: FetchedPage, asked url: String) throws(FetchError) -> PageMetadata {
        guard page.mediaType.isEmpty || page.mediaType == "text/html" || page.mediaType == "application/xhtml+xml"
        else { throw FetchError(url: url, reason: "not an HTML page (\(page.mediaType))") }
        guard let metadata = MarkupParser.metadata(html: page.body, charset: page.charset, pageURL: page.url),
            metadata.title != nil
        else { throw FetchError(url: url, reason: "the page has no title (no og:title, twitter:title or <title>)") }
        return metadata
    }
}
