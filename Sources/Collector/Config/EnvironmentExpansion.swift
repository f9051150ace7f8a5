
/// Expands `${env:NAME}`, `${NAME}` and `${env:NAME:-default}` in configuration values, with `$$`
/// as an escaped `$`, following upstream's confmap rules (reference §10.2): only values are expanded,
/// never keys; `$NAME` without braces stays literal; a default applies only when NAME is unset; a value
/// that is exactly one reference is re-read as YAML, so `${env:PORT}` can become an integer.
struct EnvironmentExpansion {
    var environment: ConfigEnvironment
    /// Names of referenced variables that are unset (upstream warns about each).
    private(set) var unsetVariables: [String] = []

    init(environment: ConfigEnvironment) {
        self.environment = environment
    }

    mutating func expand(_ value: ConfigValue, path: [String] = []) throws(ConfigError) -> ConfigValue {
        switch value {
        case .null:
            return .null
        case .scalar(let text, let quoted):
            guard text.contains("$") else { return value }
            let (expanded, wholeReference) = try expand(text, path: path)
            guard wholeReference else { return .scalar(expanded, quoted: quoted) }
            // A whole-value reference is typed by its content: re-read it as YAML.
            guard let parsed = try? ConfigValue.parse(yaml: expanded) else { return .scalar(expanded, quoted: false) }
            return parsed
        case .sequence(let items):
            var out: [ConfigValue] = []
            for (index, item) in items.enumerated() { out.append(try expand(item, path: path + ["\(index)"])) }
            return .sequence(out)
        case .mapping(let entries):
            var out: [(key: String, value: ConfigValue)] = []
            for (key, item) in entries { out.append((key, try expand(item, path: path + [key]))) }
            return .mapping(out)
        }
    }

    /// Expands one string; also says whether it consisted of exactly one reference.
    mutating func expand(_ text: String, path: [String]) throws(ConfigError) -> (String, Bool) {
        var out = ""
        var references = 0
        var literalChars = false
        var rest = text[...]
        while let dollar = rest.firstIndex(of: "$") {
            if dollar > rest.startIndex { literalChars = true }
            out += rest[..<dollar]
            let after = rest.index(after: dollar)
            if after < rest.endIndex, rest[after] == "$" {
                out += "$"
                literalChars = true
                rest = rest[rest.index(after: after)...]
            } else if after < rest.endIndex, rest[after] == "{" {
                let bodyStart = rest.index(after: after)
                guard let close = rest[bodyStart...].firstIndex(of: "}") else {
                    throw ConfigError("unterminated reference in \"\(text)\"", path: path)
                }
                out += try resolve(String(rest[bodyStart..<close]), path: path)
                references += 1
                rest = rest[rest.index(after: close)...]
            } else {
                out += "$"
                literalChars = true
                rest = rest[after...]
            }
        }
        if !rest.isEmpty { literalChars = true }
        out += rest
        return (out, references == 1 && !literalChars)
    }

    private mutating func resolve(_ body: String, path: [String]) throws(ConfigError) -> String {
        if body.contains("$") {
            throw ConfigError("the uri \"${\(body)}\" contains unsupported characters ('$')", path: path)
        }
        var reference = body[...]
        if let colon = reference.firstIndex(of: ":") {
            let scheme = reference[..<colon]
            guard scheme == "env" else {
                throw ConfigError(
                    "unsupported reference \"${\(body)}\": only ${env:NAME}, ${NAME} and ${env:NAME:-default} are served",
                    path: path)
            }
            reference = reference[reference.index(after: colon)...]
        }
        var name = reference
        var fallback: Substring? = nil
        // Not `firstRange(of:)`: its code sits in _StringProcessing's one-section object, 0.1 MiB more resident.
        if let colon = reference.indices.first(where: { reference[$0...].hasPrefix(":-") }) {
            name = reference[..<colon]
            fallback = reference[reference.index(colon, offsetBy: 2)...]
        }
        guard Self.isValidName(name) else {
            throw ConfigError(
                "environment variable \"\(name)\" has invalid name: must match regex ^[a-zA-Z_][a-zA-Z0-9_]*$", path: path)
        }
        if let value = environment.value(String(name)) { return value }
        if let fallback { return String(fallback) }
        unsetVariables.append(String(name))
        return ""
    }

    private static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }
}
