import AdvocateCore
import CCurl
import Foundation

/// SMTP through libcurl: one easy handle per connection, kept open across messages (libcurl reuses the SMTP
/// session), reopened after ``SMTPConfig/reconnectAfter`` messages or after any error.
public struct CurlSMTPTransport: MailTransport {
    let settings: SMTPConfig
    let password: String?
    let caFile: String?
    let heloDomain: String

    /// Creates a transport; `caFile` is already resolved to an absolute path.
    public init(settings: SMTPConfig, password: String?, caFile: String?, heloDomain: String) {
        Self.globalInit
        self.settings = settings
        self.password = password
        self.caFile = caFile
        self.heloDomain = heloDomain
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public func makeSession() throws -> any MailSession { CurlSMTPSession(transport: self) }
}

/// The body of one upload, read by libcurl through ``readCallback``.
private final class Upload {
    let bytes: [UInt8]
    var offset = 0
    /// Runs before the last bytes are handed to libcurl; a failure aborts the upload.
    var handedOver: () throws -> Void = {}
    /// Why ``handedOver`` failed, if it did.
    var failure: (any Error)?
    /// Set as soon as the last byte has been handed to libcurl: from then on the message may reach the relay
    /// (libcurl adds the final dot itself), so a failure is "in doubt", never "try again". libcurl does not
    /// reliably call the read callback once more after the last byte when the upload size is known.
    var finished = false

    init(bytes: [UInt8]) { self.bytes = bytes }
}

/// How many bytes of a message are held back until the ledger has noted that its end may now leave.
private let heldBack = 2

private let readCallback: advocate_curl_io_callback = { buffer, size, count, context in
    guard let buffer, let context else { return 0 }
    let upload = Unmanaged<Upload>.fromOpaque(context).takeUnretainedValue()
    let room = size * count
    let remaining = upload.bytes.count - upload.offset
    if remaining == 0 {
        upload.finished = true
        return 0
    }
    var length = min(room, remaining)
    if length == remaining && remaining > heldBack {
        // Send the message without its last bytes first: the wait for the body to leave then falls before the
        // ledger's "handed over", and only the last bytes and the final dot fall after it.
        length = remaining - heldBack
    } else if length == remaining {
        // The end of the message is about to go: record that first, so that a kill before this point is known
        // to be "not delivered", and one after it "maybe delivered".
        do { try upload.handedOver() } catch {
            upload.failure = error
            return Int(CURL_READFUNC_ABORT)
        }
    }
    upload.bytes.withUnsafeBytes { source in
        UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + upload.offset, byteCount: length)
    }
    upload.offset += length
    if upload.offset == upload.bytes.count { upload.finished = true }
    return length
}

/// One SMTP connection on one thread.
final class CurlSMTPSession: MailSession {
    private let transport: CurlSMTPTransport
    private var handle: UnsafeMutableRawPointer?
    private var sentOnHandle = 0
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(transport: CurlSMTPTransport) {
        self.transport = transport
    }

    deinit {
        close()
        errorBuffer.deallocate()
    }

    func send(_ mail: OutgoingMail, handedOver: () throws -> Void) -> SendOutcome {
        if handle == nil || sentOnHandle >= transport.settings.reconnectAfter {
            close()
            handle = curl_easy_init()
            sentOnHandle = 0
            guard handle != nil else { return .temporary("libcurl could not create a handle") }
        }
        guard let handle else { return .temporary("no handle") }
        let upload = Upload(bytes: mail.data)
        return withoutActuallyEscaping(handedOver) { hook in
            upload.handedOver = hook
            defer { upload.handedOver = {} }
            return perform(mail, upload: upload, handle: handle)
        }
    }

    /// One SMTP transaction on an open handle.
    private func perform(_ mail: OutgoingMail, upload: Upload, handle: UnsafeMutableRawPointer) -> SendOutcome {
        let context = Unmanaged.passRetained(upload)
        defer { context.release() }
        let recipients = curl_slist_append(nil, "<\(mail.recipient)>")
        defer { curl_slist_free_all(recipients) }
        errorBuffer[0] = 0

        configure(handle)
        advocate_curl_set_string(handle, CURLOPT_MAIL_FROM, "<\(mail.sender)>")
        advocate_curl_set_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        advocate_curl_set_pointer(handle, CURLOPT_READDATA, context.toOpaque())
        advocate_curl_set_long(handle, CURLOPT_INFILESIZE, mail.data.count)

        let code = curl_easy_perform(handle)
        var reply = 0
        advocate_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &reply)
        if code == CURLE_OK {
            sentOnHandle += 1
            return .sent
        }
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        let wasConnected = connected(handle)
        close()  // never reuse a connection in an unknown state
        if let failure = upload.failure { return EndHeldBack.outcome(of: failure) }
        switch code {
        case CURLE_LOGIN_DENIED, CURLE_USE_SSL_FAILED, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_CERTPROBLEM, CURLE_UNSUPPORTED_PROTOCOL, CURLE_COULDNT_RESOLVE_HOST, CURLE_URL_MALFORMAT:
            return .unusable(detail)
        case _ where [530, 534, 535, 538].contains(reply):
            return .unusable("\(reply) authentication failed: \(detail)")
        case CURLE_COULDNT_CONNECT:
            return .unreachable(detail)
        case _
        where (code == CURLE_WEIRD_SERVER_REPLY || code == CURLE_REMOTE_ACCESS_DENIED) && reply == 421
            && upload.offset == 0:
            // 421 to the greeting (or to EHLO when STARTTLS is required): the relay is not taking mail now (RFC 5321
            // 4.2.2), before any word about this message. (A 421 to MAIL, RCPT or the data, which some relays use
            // for rate limits, stays a temporary failure that counts; so does a 421 to a plain EHLO, which libcurl
            // answers with HELO and reports as a send error.)
            return .unreachable("\(reply) \(detail)")
        case CURLE_OPERATION_TIMEDOUT where !wasConnected && upload.offset == 0:
            // Timed out connecting (no byte of the message was taken: a timeout after one is a failed attempt, or
            // in doubt once the whole message went).
            return .unreachable(detail)
        default:
            return SendOutcome.smtp(
                succeeded: false, replyCode: reply, messageComplete: upload.finished, detail: detail)
        }
    }

    /// Whether the last transfer on `handle` got as far as a connection.
    private func connected(_ handle: UnsafeMutableRawPointer) -> Bool {
        var microseconds = 0
        advocate_curl_get_long(handle, CURLINFO_CONNECT_TIME_T, &microseconds)
        return microseconds > 0
    }

    private func configure(_ handle: UnsafeMutableRawPointer) {
        let settings = transport.settings
        advocate_curl_set_string(handle, CURLOPT_URL, "\(settings.url)/\(transport.heloDomain)")
        advocate_curl_set_long(handle, CURLOPT_UPLOAD, 1)
        advocate_curl_set_read_callback(handle, readCallback)
        advocate_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        advocate_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT, settings.connectTimeoutSeconds)
        advocate_curl_set_long(handle, CURLOPT_TIMEOUT, settings.timeoutSeconds)
        // Also bounds the wait for the reply to QUIT when a connection to a stalled relay is closed.
        advocate_curl_set_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, settings.timeoutSeconds)
        advocate_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        let useSSL: curl_usessl =
            switch settings.startTLS {
            case .required: CURLUSESSL_ALL
            case .opportunistic: CURLUSESSL_TRY
            case .off: CURLUSESSL_NONE
            }
        advocate_curl_set_long(handle, CURLOPT_USE_SSL, Int(useSSL.rawValue))
        if let username = settings.username {
            advocate_curl_set_string(handle, CURLOPT_USERNAME, username)
            advocate_curl_set_string(handle, CURLOPT_PASSWORD, transport.password ?? "")
        }
        if let caFile = transport.caFile { advocate_curl_set_string(handle, CURLOPT_CAINFO, caFile) }
        advocate_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, settings.verifyPeer ? 1 : 0)
        advocate_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, settings.verifyPeer ? 2 : 0)
    }

    func close() {
        if let handle { curl_easy_cleanup(handle) }
        handle = nil
    }
}
