/// `extensions: bearertokenauth:` — the contrib extension's server-side keys. Exactly one source of
/// tokens: `token`, `tokens` (any of them is accepted, for rotation) or `filename` (re-read when it
/// changes, as Kubernetes updates a mounted Secret).
struct BearerTokenAuthConfig: Sendable, Equatable {
    enum Source: Sendable, Equatable {
        case tokens([String])
        case file(String)
    }

    var source: Source = .tokens([])
    /// `scheme`, default `Bearer`: the header must read `<scheme> <token>` (just `<token>` when empty).
    var scheme = "Bearer"
    /// `header`, default `Authorization` (matched case-insensitively, as HTTP header names are).
    var header = "Authorization"

    static func decode(_ reader: inout ConfigReader) -> BearerTokenAuthConfig {
        var config = BearerTokenAuthConfig()
        if let scheme = reader.string("scheme") { config.scheme = scheme }
        if let header = reader.string("header") {
            if header.isEmpty || header.contains(where: { $0 == ":" || $0.isWhitespace }) {
                reader.fail("header", "invalid header name \"\(header)\"")
            } else {
                config.header = header
            }
        }
        let token = reader.string("token")
        let tokens = reader.stringList("tokens")
        let filename = reader.string("filename")
        switch (token, tokens, filename) {
        case (let token?, nil, nil):
            if token.isEmpty { reader.fail("token", "must not be empty") }
            config.source = .tokens([token])
        case (nil, let tokens?, nil):
            if tokens.isEmpty || tokens.contains(where: \.isEmpty) { reader.fail("tokens", "must be a list of non-empty tokens") }
            config.source = .tokens(tokens)
        case (nil, nil, let filename?):
            if filename.isEmpty { reader.fail("filename", "must not be empty") }
            config.source = .file(filename)
        case (nil, nil, nil):
            reader.fail(nil, "one of token, tokens or filename must be set")
        default:
            reader.fail(nil, "only one of token, tokens or filename may be set")
        }
        return config
    }
}
