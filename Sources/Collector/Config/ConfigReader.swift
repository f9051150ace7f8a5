import Shared

/// Reads one mapping of the configuration with types, remembering which keys were read so that
/// `finish()` can reject the rest upstream-style: `processors::batch: has invalid keys: sendbatchsize`.
///
/// Type errors are collected, not thrown, so one run reports every problem of a component.
struct ConfigReader {
    let path: [String]
    private let entries: [(key: String, value: ConfigValue)]
    private var readKeys: Set<String> = []
    private(set) var errors: [ConfigError] = []

    /// A reader over `value`, which must be a mapping or null (null reads as empty: `batch:`).
    init(_ value: ConfigValue?, path: [String]) {
        self.path = path
        switch value {
        case .mapping(let entries)?:
            self.entries = entries
        case .null?, nil:
            self.entries = []
        case .scalar(let text, _)?:
            self.entries = []
            errors.append(ConfigError("expected a map, got \"\(text)\"", path: path))
        case .sequence?:
            self.entries = []
            errors.append(ConfigError("expected a map, got a list", path: path))
        }
    }

    /// Keys present in the mapping, in source order.
    var keys: [String] { entries.map(\.key) }

    mutating func raw(_ key: String) -> ConfigValue? {
        readKeys.insert(key)
        return entries.last(where: { $0.key == key })?.value
    }

    mutating func fail(_ key: String?, _ message: String) {
        errors.append(ConfigError(message, path: key.map { path + [$0] } ?? path))
    }

    /// Reads a scalar through `parse`; nil when absent or null; records an error when unparsable.
    private mutating func scalar<T>(_ key: String, as typeName: String, _ parse: (String, Bool) -> T?) -> T? {
        switch raw(key) {
        case nil, .null?:
            return nil
        case .scalar(let text, let quoted)?:
            if let value = parse(text, quoted) { return value }
            fail(key, "cannot parse \"\(text)\" as \(typeName)")
        case .sequence?:
            fail(key, "expected \(typeName), got a list")
        case .mapping?:
            fail(key, "expected \(typeName), got a map")
        }
        return nil
    }

    mutating func string(_ key: String) -> String? {
        scalar(key, as: "a string") { text, _ in text }
    }

    mutating func bool(_ key: String) -> Bool? {
        scalar(key, as: "a bool") { text, _ in
            switch text.lowercased() {
            case "true": true
            case "false": false
            default: nil
            }
        }
    }

    mutating func int(_ key: String) -> Int? {
        scalar(key, as: "an integer") { text, _ in Int(text.replacingUnderscores) }
    }

    mutating func double(_ key: String) -> Double? {
        scalar(key, as: "a number") { text, _ in Double(text) }
    }

    /// A Go-syntax duration (`200ms`, `1m30s`); `0` alone is accepted as zero.
    mutating func duration(_ key: String) -> Duration? {
        scalar(key, as: "a duration (e.g. 200ms, 5s, 1m30s)") { text, _ in GoDuration.parse(text) }
    }

    mutating func stringList(_ key: String) -> [String]? {
        switch raw(key) {
        case nil, .null?:
            return nil
        case .sequence(let items)?:
            var out: [String] = []
            for (index, item) in items.enumerated() {
                guard case .scalar(let text, _) = item else {
                    fail(key, "item \(index) must be a string")
                    continue
                }
                out.append(text)
            }
            return out
        case .scalar(let text, _)?:
            fail(key, "expected a list, got \"\(text)\"")
        case .mapping?:
            fail(key, "expected a list, got a map")
        }
        return nil
    }

    /// A nested mapping's reader (its errors are merged back with `absorb`).
    mutating func child(_ key: String) -> ConfigReader {
        ConfigReader(raw(key), path: path + [key])
    }

    /// Errors found by a reader over a value that is not one of this mapping's keys (a list item).
    mutating func record(_ more: [ConfigError]) {
        errors += more
    }

    mutating func absorb(_ child: ConfigReader) {
        errors += child.finishErrors()
    }

    /// Every error found, plus one for the keys never read.
    func finishErrors() -> [ConfigError] {
        let unknown = entries.map(\.key).filter { !readKeys.contains($0) }
        var all = errors
        if !unknown.isEmpty {
            all.insert(ConfigError("has invalid keys: \(unknown.joined(separator: ", "))", path: path), at: 0)
        }
        return all
    }
}

extension String {
    /// YAML allows `1_000`; Go's decoder too.
    fileprivate var replacingUnderscores: String { String(filter { $0 != "_" }) }
}
