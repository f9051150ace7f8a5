import Foundation
import Logging
import Testing

@testable import Collector

@Suite("bearertokenauth")
struct BearerTokenAuthenticatorTests {
    private let id = ComponentID(type: "bearertokenauth")

    private func authenticator(_ source: BearerTokenAuthConfig.Source, scheme: String = "Bearer") throws -> BearerTokenAuthenticator {
        try BearerTokenAuthenticator(
            id: id, config: BearerTokenAuthConfig(source: source, scheme: scheme), logger: Logger(label: "test"),
            reloadInterval: .milliseconds(20))
    }

    @Test("accepts exactly `<scheme> <token>` for any configured token")
    func tokens() throws {
        let auth = try authenticator(.tokens(["one", "two"]))
        #expect(auth.authenticate(headerValue: "Bearer one") == .allowed)
        #expect(auth.authenticate(headerValue: "Bearer two") == .allowed)
        #expect(auth.authenticate(headerValue: "Bearer three") == .denied("the bearer token does not match"))
        #expect(auth.authenticate(headerValue: "Bearer one ") == .denied("the bearer token does not match"))
        #expect(auth.authenticate(headerValue: "bearer one") == .denied("the bearer token does not match"))
        #expect(auth.authenticate(headerValue: "one") == .denied("the bearer token does not match"))
        #expect(auth.authenticate(headerValue: nil) == .denied("missing or empty authorization header"))
        #expect(auth.authenticate(headerValue: "") == .denied("missing or empty authorization header"))
    }

    @Test("an empty scheme means the bare token")
    func bareToken() throws {
        let auth = try authenticator(.tokens(["abc"]), scheme: "")
        #expect(auth.authenticate(headerValue: "abc") == .allowed)
        #expect(auth.authenticate(headerValue: "Bearer abc") == .denied("the bearer token does not match"))
    }

    @Test("constant-time comparison compares whole digests")
    func comparison() {
        #expect(BearerTokenAuthenticator.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!BearerTokenAuthenticator.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!BearerTokenAuthenticator.constantTimeEquals([1, 2, 3], [1, 2]))
    }

    @Test("a token file is read at start (trimmed) and re-read when it changes; a missing file fails start-up")
    func file() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: TokenFileError.self) { try authenticator(.file(path)) }
        try "first\n".write(toFile: path, atomically: true, encoding: .utf8)
        let auth = try authenticator(.file(path))
        #expect(auth.authenticate(headerValue: "Bearer first") == .allowed)
        let running = Task { try await auth.run() }
        defer { running.cancel() }
        try await Task.sleep(for: .milliseconds(50))
        try "second".write(toFile: path, atomically: true, encoding: .utf8)
        var waited = 0
        while auth.authenticate(headerValue: "Bearer second") != .allowed && waited < 200 {
            try await Task.sleep(for: .milliseconds(20))
            waited += 1
        }
        #expect(auth.authenticate(headerValue: "Bearer second") == .allowed)
        #expect(auth.authenticate(headerValue: "Bearer first") == .denied("the bearer token does not match"))
        // An emptied file keeps the previous token rather than locking everyone out or letting everyone in.
        try "".write(toFile: path, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(100))
        #expect(auth.authenticate(headerValue: "Bearer second") == .allowed)
    }
}
