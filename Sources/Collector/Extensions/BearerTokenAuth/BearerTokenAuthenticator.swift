#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import ServiceLifecycle
import Shared
import Synchronization

/// The `bearertokenauth` extension on the server side: checks a request's header against the
/// configured tokens. The comparison takes the same time whatever the presented value is: both
/// sides are reduced to SHA-256 digests and the digests compared without an early exit. Tokens are
/// never logged, and only their digests are kept.
final class BearerTokenAuthenticator: Service, Sendable {
    let id: ComponentID
    let config: BearerTokenAuthConfig
    private let logger: Logger
    /// Digests of every accepted header value (`<scheme> <token>`).
    private let accepted: Mutex<[[UInt8]]>
    /// How often `filename` is checked for a new token.
    private let reloadInterval: Duration

    enum Outcome: Equatable, Sendable {
        case allowed
        case denied(String)
    }

    /// Reads the token file now, so a missing or empty file fails start-up with its name.
    init(id: ComponentID, config: BearerTokenAuthConfig, logger: Logger, reloadInterval: Duration = .seconds(1)) throws {
        self.id = id
        self.config = config
        self.logger = logger
        self.reloadInterval = reloadInterval
        let tokens: [String]
        switch config.source {
        case .tokens(let list): tokens = list
        case .file(let path): tokens = [try Self.readToken(path, id: id)]
        }
        accepted = Mutex(tokens.map { Self.digest(Self.expectedValue(scheme: config.scheme, token: $0)) })
    }

    /// Decides on one request given the value of the configured header (nil when absent).
    func authenticate(headerValue: String?) -> Outcome {
        guard let headerValue, !headerValue.isEmpty else { return .denied("missing or empty authorization header") }
        let presented = Self.digest(headerValue)
        // Every accepted digest is compared in full, whichever matches.
        var matches = 0
        for expected in accepted.withLock({ $0 }) where Self.constantTimeEquals(presented, expected) { matches += 1 }
        return matches > 0 ? .allowed : .denied("the bearer token does not match")
    }

    func run() async throws {
        guard case .file(let path) = config.source else {
            try? await gracefulShutdown()
            return
        }
        var last = try? Data(contentsOf: URL(fileURLWithPath: path))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: reloadInterval)
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)), data != last else { continue }
            last = data
            guard let token = Self.token(from: data) else {
                logger.warning("Ignoring an empty token file; keeping the previous token", metadata: ["filename": "\(path)"])
                continue
            }
            accepted.withLock { $0 = [Self.digest(Self.expectedValue(scheme: config.scheme, token: token))] }
            logger.info("Reloaded the bearer token", metadata: ["filename": "\(path)"])
        }
    }

    static func expectedValue(scheme: String, token: String) -> String {
        scheme.isEmpty ? token : "\(scheme) \(token)"
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    private static func digest(_ text: String) -> [UInt8] { SHA256.hash(Array(text.utf8)) }

    /// The file's content without surrounding whitespace (a trailing newline is usual); nil when empty.
    private static func token(from data: Data) -> String? {
        let text = String(decoding: data, as: UTF8.self).trimming(\.isWhitespace)
        return text.isEmpty ? nil : String(text)
    }

    private static func reason(_ error: any Error) -> String {
        switch (error as? CocoaError)?.code {
        case .fileReadNoSuchFile?: "no such file"
        case .fileReadNoPermission?: "permission denied"
        default: "\(error)"
        }
    }

    private static func readToken(_ path: String, id: ComponentID) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TokenFileError(message: "extensions::\(id)::filename: cannot read \"\(path)\": \(Self.reason(error))")
        }
        guard let token = token(from: data) else { throw TokenFileError(message: "extensions::\(id)::filename: \"\(path)\" is empty") }
        return token
    }
}

/// A token file that cannot serve: start-up fails with this line.
struct TokenFileError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
