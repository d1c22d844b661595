import Foundation

/// Reads `config.json`, turning every decoding failure into a ``ConfigError`` that names the key.
public enum ConfigLoader {
    /// The config path from `--config`, else `ADVOCATE_CONFIG`, else `./config.json`.
    public static func path(option: String?, environment: [String: String]) -> String {
        option ?? environment["ADVOCATE_CONFIG"] ?? "config.json"
    }

    /// Loads and validates the file at `path`; relative paths inside it are resolved against its folder.
    public static func load(path: String, environment: [String: String]) throws -> (AdvocateConfig, Secrets) {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigError.fileNotFound(path: path)
        }
        var config = try decode(data, path: path)
        config.baseDirectory = url.deletingLastPathComponent().standardizedFileURL
        let secrets = try Secrets.load(config: config, environment: environment)
        return (config, secrets)
    }

    /// Decodes configuration JSON.
    public static func decode(_ data: Data, path: String = "config.json") throws -> AdvocateConfig {
        do {
            return try JSONDecoder().decode(AdvocateConfig.self, from: data)
        } catch let error as ConfigError {
            throw error
        } catch DecodingError.typeMismatch(let type, let context) {
            throw ConfigError.wrongType(path: keyPath(context.codingPath), expected: typeName(type))
        } catch DecodingError.keyNotFound(let key, let context) {
            throw ConfigError.missingKey(path: keyPath(context.codingPath + [key]))
        } catch DecodingError.valueNotFound(let type, let context) {
            throw ConfigError.wrongType(path: keyPath(context.codingPath), expected: typeName(type))
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            throw ConfigError.invalidValue(path: keyPath(context.codingPath), reason: context.debugDescription)
        } catch DecodingError.dataCorrupted(let context) {
            let reason = (context.underlyingError as NSError?)?.userInfo["NSDebugDescription"] as? String
            throw ConfigError.notJSON(path: path, reason: reason ?? context.debugDescription)
        } catch {
            throw ConfigError.notJSON(path: path, reason: "\(error)")
        }
    }

    static func keyPath(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [String].Type, is [Any].Type: "an array"
        default:
            String(describing: type).contains("Array") ? "an array" : "an object"
        }
    }
}
