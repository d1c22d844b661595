import AdvocateCore
import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A fetched page or feed.
public struct FetchedPage: Sendable {
    /// The address after redirects.
    public var url: String
    /// The media type without parameters, lowercased (`text/html`).
    public var mediaType: String
    /// The `charset` parameter of `Content-Type`, if any.
    public var charset: String?
    /// The body, decompressed.
    public var body: [UInt8]
    /// Validators for the next conditional request.
    public var etag: String?
    /// Validators for the next conditional request.
    public var lastModified: String?
}

/// The answer to a (conditional) fetch.
public enum FetchResult: Sendable {
    /// A new body.
    case page(FetchedPage)
    /// 304: unchanged since the validators given.
    case notModified
}

/// Why a URL could not be fetched.
public struct FetchError: Error, CustomStringConvertible, Sendable {
    /// The URL asked for.
    public var url: String
    /// What went wrong.
    public var reason: String

    public var description: String { "cannot fetch \(url): \(reason)" }
}

/// GET over libcurl, safe by default: http and https only (redirects too), at most ``FetchConfig/maxRedirects``
/// redirects, a size cap, timeouts, no proxy from the environment, and every connection checked against
/// ``AddressPolicy`` at the moment it is opened. Blocking: call it off the cooperative pool (``offThePool(_:)``).
public struct PageFetcher: Sendable {
    let settings: FetchConfig
    let userAgent: String

    /// Creates a fetcher.
    public init(settings: FetchConfig, userAgent: String = "Advocate/1.0 (+content preview)") {
        _ = Self.globalInit
        self.settings = settings
        self.userAgent = userAgent
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Fetches `url`; with validators the request is conditional and an unchanged resource is ``FetchResult/notModified``.
    public func fetch(_ url: String, etag: String? = nil, lastModified: String? = nil) throws(FetchError) -> FetchResult
    {
        guard let checked = WebURL.validated(url) else {
            throw FetchError(url: url, reason: "not an absolute http(s) URL")
        }
        guard let handle = curl_easy_init() else { throw FetchError(url: url, reason: "libcurl could not start") }
        defer { curl_easy_cleanup(handle) }
        let transfer = Transfer(policy: AddressPolicy(allowed: settings.allowAddresses), limit: settings.maxBytes)
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        if let etag { headers = curl_slist_append(headers, "If-None-Match: \(etag)") }
        if let lastModified { headers = curl_slist_append(headers, "If-Modified-Since: \(lastModified)") }
        headers = curl_slist_append(
            headers,
            "Accept: text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/xml;q=0.9,*/*;q=0.5"
        )
        defer { curl_slist_free_all(headers) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        errorBuffer[0] = 0

        advocate_curl_set_string(handle, CURLOPT_URL, checked)
        advocate_curl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        advocate_curl_set_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        advocate_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        advocate_curl_set_long(handle, CURLOPT_MAXREDIRS, settings.maxRedirects)
        advocate_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        advocate_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT, min(5, settings.timeoutSeconds))
        advocate_curl_set_long(handle, CURLOPT_TIMEOUT, settings.timeoutSeconds)
        advocate_curl_set_long(handle, CURLOPT_MAXFILESIZE, settings.maxBytes)
        advocate_curl_set_string(handle, CURLOPT_PROXY, "")
        advocate_curl_set_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        advocate_curl_set_string(handle, CURLOPT_USERAGENT, userAgent)
        advocate_curl_set_slist(handle, CURLOPT_HTTPHEADER, headers)
        advocate_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        advocate_curl_set_opensocket_callback(handle, openSocket)
        advocate_curl_set_pointer(handle, CURLOPT_OPENSOCKETDATA, context.toOpaque())
        advocate_curl_set_write_callback(handle, writeBody)
        advocate_curl_set_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
        advocate_curl_set_header_callback(handle, writeHeader)
        advocate_curl_set_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque())

        let code = curl_easy_perform(handle)
        // A refused address matters only when no other address of the host could be used instead.
        if code != CURLE_OK, let refused = transfer.refused {
            throw FetchError(
                url: url, reason: "\(refused) is not a public address (allow it in fetch.allowAddresses if intended)")
        }
        if transfer.tooLarge || code == CURLE_FILESIZE_EXCEEDED {
            throw FetchError(url: url, reason: "larger than \(settings.maxBytes) bytes")
        }
        guard code == CURLE_OK else {
            let reason =
                switch code {
                case CURLE_TOO_MANY_REDIRECTS: "more than \(settings.maxRedirects) redirects"
                case CURLE_UNSUPPORTED_PROTOCOL: "redirected to a scheme other than http or https"
                case CURLE_OPERATION_TIMEDOUT: "no complete answer within \(settings.timeoutSeconds) s"
                default:
                    errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
                }
            throw FetchError(url: url, reason: reason)
        }
        var status = 0
        advocate_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        if status == 304 { return .notModified }
        guard (200..<300).contains(status) else { throw FetchError(url: url, reason: "the server answered \(status)") }
        var effective: UnsafePointer<CChar>? = nil
        advocate_curl_get_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
        var contentType: UnsafePointer<CChar>? = nil
        advocate_curl_get_string(handle, CURLINFO_CONTENT_TYPE, &contentType)
        let type = contentType.map { String(cString: $0) } ?? ""
        let parameters = type.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let charset = parameters.dropFirst().first { $0.lowercased().hasPrefix("charset=") }.map {
            String($0.dropFirst(8)).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        return .page(
            FetchedPage(
                url: effective.map { String(cString: $0) } ?? checked, mediaType: parameters.first?.lowercased() ?? "",
                charset: charset, body: transfer.body, etag: transfer.headers["etag"],
                lastModified: transfer.headers["last-modified"]))
    }
}

/// State shared with libcurl's callbacks during one transfer.
private final class Transfer {
    let policy: AddressPolicy
    let limit: Int
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var refused: String?
    var tooLarge = false

    init(policy: AddressPolicy, limit: Int) {
        self.policy = policy
        self.limit = limit
    }
}

private let writeBody: advocate_curl_io_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    guard transfer.body.count + length <= transfer.limit else {
        transfer.tooLarge = true
        return 0
    }
    buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
        transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

/// Keeps the headers of the last response only (each redirect starts a new set).
private let writeHeader: advocate_curl_io_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
    if line.hasPrefix("HTTP/") {
        transfer.headers = [:]
    } else if let colon = line.firstIndex(of: ":") {
        transfer.headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return length
}

/// Opens a socket only to an address the policy allows; libcurl calls it for every connection, redirects included.
private let openSocket: advocate_curl_opensocket_callback = { context, purpose, address in
    guard let context, let address else { return CURL_SOCKET_BAD }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let family = address.pointee.family
    // `addr` is declared as a plain sockaddr but holds the whole (larger) sockaddr_in6 for IPv6: read it through a
    // raw pointer into the curl_sockaddr itself, never through the 16-byte field.
    let start = UnsafeRawPointer(address) + MemoryLayout<curl_sockaddr>.offset(of: \curl_sockaddr.addr)!
    let length = Int(address.pointee.addrlen)
    var bytes: [UInt8] = []
    if family == AF_INET, length >= MemoryLayout<sockaddr_in>.size {
        withUnsafeBytes(of: start.loadUnaligned(as: sockaddr_in.self).sin_addr) { bytes = Array($0) }
    } else if family == AF_INET6, length >= MemoryLayout<sockaddr_in6>.size {
        withUnsafeBytes(of: start.loadUnaligned(as: sockaddr_in6.self).sin6_addr) { bytes = Array($0) }
    }
    guard transfer.policy.allows(bytes) else {
        transfer.refused = bytes.isEmpty ? "an address of an unknown family" : AddressRange.text(bytes)
        return CURL_SOCKET_BAD
    }
    return socket(family, address.pointee.socktype, address.pointee.protocol)
}
