import Shared

/// The four kinds of component a collector config names, with their top-level YAML key.
enum ComponentKind: String, Sendable, CaseIterable {
    case receiver, processor, exporter, `extension`

    /// `receivers`, `processors`, `exporters`, `extensions`.
    var configKey: String { rawValue + "s" }
}

/// A component id, `type[/name]`, validated as upstream does (reference §9.1).
struct ComponentID: Hashable, Sendable, CustomStringConvertible, Comparable {
    var type: String
    var name: String?

    init(type: String, name: String? = nil) {
        self.type = type
        self.name = name
    }

    init(parsing text: String) throws(ConfigError) {
        guard !text.isEmpty else { throw ConfigError("id must not be empty") }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let type = String(parts[0])
        guard !type.isEmpty else { throw ConfigError("in \"\(text)\" id: the part before / should not be empty") }
        guard Self.isValidType(type) else { throw ConfigError("invalid character(s) in type \"\(type)\"") }
        self.type = type
        if parts.count == 2 {
            let name = String(parts[1])
            guard !name.isEmpty else { throw ConfigError("in \"\(text)\" id: the part after / should not be empty") }
            guard name.count <= 1024, name.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.value >= 0x20 && $0.value != 0x7F })
            else { throw ConfigError("invalid character(s) in name \"\(name)\"") }
            self.name = name
        }
    }

    /// `^[a-zA-Z][0-9a-zA-Z_]{0,62}$`
    private static func isValidType(_ type: String) -> Bool {
        let scalars = Array(type.unicodeScalars)
        guard (1...63).contains(scalars.count), scalars[0].isASCIILetter else { return false }
        return scalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "_" }
    }

    var description: String { name.map { "\(type)/\($0)" } ?? type }

    static func < (lhs: ComponentID, rhs: ComponentID) -> Bool { lhs.description < rhs.description }
}

/// A pipeline id, `signal[/name]`.
struct PipelineID: Hashable, Sendable, CustomStringConvertible, Comparable {
    var signal: Signal
    var name: String?

    init(signal: Signal, name: String? = nil) {
        self.signal = signal
        self.name = name
    }

    init(parsing text: String) throws(ConfigError) {
        let id = try ComponentID(parsing: text)
        guard let signal = Signal(rawValue: id.type) else {
            throw ConfigError(id.type == "profiles"
                ? "the profiles signal is not served by this collector"
                : "unknown pipeline signal: \"\(id.type)\"")
        }
        self.signal = signal
        self.name = id.name
    }

    var description: String { name.map { "\(signal.rawValue)/\($0)" } ?? signal.rawValue }

    static func < (lhs: PipelineID, rhs: PipelineID) -> Bool { lhs.description < rhs.description }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
