#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads `--config` sources, merges them left to right, expands environment references and decodes.
struct ConfigLoader {
    var environment: ConfigEnvironment = .process

    init() {}

    /// A loader that sees `environment` instead of the process's (tests).
    init(environment: [String: String]) {
        self.environment = .fixed(environment)
    }

    struct Loaded: Sendable {
        var config: CollectorConfig
        /// Variables referenced but unset (upstream warns: `Configuration references unset environment variable`).
        var unsetVariables: [String]
    }

    func load(paths: [String]) throws(ConfigErrors) -> Loaded {
        guard !paths.isEmpty else { throw ConfigErrors(errors: [ConfigError("at least one config flag must be provided")]) }
        var merged = ConfigValue.null
        for path in paths {
            let text: String
            do {
                text = try String(contentsOfFile: Self.filePath(path), encoding: .utf8)
            } catch {
                throw ConfigErrors(errors: [ConfigError("cannot read config file \"\(path)\": \(Self.reason(error))")])
            }
            do {
                merged = merged.merged(with: try ConfigValue.parse(yaml: text))
            } catch {
                throw ConfigErrors(errors: [ConfigError("\(path): \(error.message)")])
            }
        }
        var expansion = EnvironmentExpansion(environment: environment)
        do {
            merged = try expansion.expand(merged)
        } catch {
            throw ConfigErrors(errors: [error])
        }
        return Loaded(config: try CollectorConfig.decode(merged), unsetVariables: expansion.unsetVariables)
    }

    /// `file:` URIs and plain paths name files; other schemes are not served.
    private static func filePath(_ source: String) throws -> String {
        if source.hasPrefix("file:") { return String(source.dropFirst(5)) }
        if let colon = source.firstIndex(of: ":"), source[..<colon].allSatisfy({ $0.isLetter }), source[..<colon].count > 1 {
            throw UnsupportedScheme(scheme: String(source[..<colon]))
        }
        return source
    }

    private struct UnsupportedScheme: Error {
        var scheme: String
    }

    private static func reason(_ error: any Error) -> String {
        if let unsupported = error as? UnsupportedScheme { return "unsupported scheme \"\(unsupported.scheme)\" (only files are served)" }
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileReadNoSuchFile: return "no such file"
            case .fileReadNoPermission: return "permission denied"
            default: break
            }
        }
        return "\(error)"
    }
}
