/// What is wrong with a configuration; every case names the key so the operator knows where to look.
public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case notJSON(path: String, reason: String)
    case unknownKey(path: String, allowed: [String])
    case missingKey(path: String)
    case wrongType(path: String, expected: String)
    case invalidValue(path: String, reason: String)
    case missingSecret(name: String, key: String, hint: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            "configuration file '\(path)' not found (use --config PATH or ADVOCATE_CONFIG)"
        case .notJSON(let path, let reason):
            "configuration file '\(path)' is not valid JSON: \(reason)"
        case .unknownKey(let path, let allowed):
            "config key '\(path)' is unknown (allowed here: \(allowed.joined(separator: ", ")))"
        case .missingKey(let path):
            "config key '\(path)' is missing"
        case .wrongType(let path, let expected):
            "config key '\(path)' has the wrong type: expected \(expected)"
        case .invalidValue(let path, let reason):
            "config key '\(path)' is invalid: \(reason)"
        case .missingSecret(let name, let key, let hint):
            "missing secret \(name) (needed by config key '\(key)'): \(hint)"
        }
    }
}
