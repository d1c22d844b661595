/// Why mail cannot be sent at all.
public enum MailError: Error, CustomStringConvertible {
    case setup(String)
    case transport(String)

    public var description: String {
        switch self {
        case .setup(let what): what
        case .transport(let what): "the mail transport stopped working: \(what)"
        }
    }
}
