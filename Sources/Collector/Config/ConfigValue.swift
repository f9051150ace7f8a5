/// A decoded YAML tree, scalars kept as their source text until a component reads them with a type
/// (so `${env:PORT}` can expand before typing, as upstream's confmap does).
indirect enum ConfigValue: Sendable, Equatable {
    case null
    /// A scalar and whether it was quoted in the source (a quoted scalar is always a string).
    case scalar(String, quoted: Bool)
    case sequence([ConfigValue])
    /// Keys in source order (error messages and the debug output follow that order).
    case mapping([(key: String, value: ConfigValue)])

    static func == (lhs: ConfigValue, rhs: ConfigValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.scalar(a, qa), .scalar(b, qb)): a == b && qa == qb
        case let (.sequence(a), .sequence(b)): a == b
        case let (.mapping(a), .mapping(b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        default: false
        }
    }

    /// Parses one YAML document; an empty document is `.null` (`YAMLComposer`).
    static func parse(yaml: String) throws(ConfigError) -> ConfigValue {
        try YAMLComposer.compose(yaml)
    }

    /// The value of `key` in a mapping (nil when absent or not a mapping).
    subscript(key: String) -> ConfigValue? {
        guard case .mapping(let entries) = self else { return nil }
        return entries.last(where: { $0.key == key })?.value
    }

    /// `other` laid over `self`: maps merge deeply, scalars and lists from `other` win (lists are
    /// replaced, not appended), as upstream merges several `--config` files.
    func merged(with other: ConfigValue) -> ConfigValue {
        guard case .mapping(var base) = self, case .mapping(let overlay) = other else { return other }
        for (key, value) in overlay {
            if let index = base.firstIndex(where: { $0.key == key }) {
                base[index].value = base[index].value.merged(with: value)
            } else {
                base.append((key, value))
            }
        }
        return .mapping(base)
    }
}

/// A configuration problem, printed upstream-style as `path::to::key: message`.
struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    var path: [String]
    var message: String

    init(_ message: String, path: [String] = []) {
        self.message = message
        self.path = path
    }

    var description: String { path.isEmpty ? message : "\(path.joined(separator: "::")): \(message)" }
}

/// Several configuration problems, reported together (upstream collects every issue).
struct ConfigErrors: Error, CustomStringConvertible, Sendable {
    var errors: [ConfigError]
    var description: String { errors.map(\.description).joined(separator: "\n") }
}
