import CLibYAML

/// Reads one YAML document into a `ConfigValue` tree with libyaml's event parser: scalars keep their text and whether
/// they were quoted (typing waits for the component that reads them, after `${env:…}` expansion); anchors and aliases
/// resolve to the anchored node; tags are not interpreted.
///
/// libyaml is the parser Yams wraps; used directly, the collector links no Foundation (Yams' Swift layer imports it
/// whole, with ICU): BENCHMARKS.md, "Start-up and resident memory".
struct YAMLComposer: ~Copyable {
    private let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
    /// Each anchored node with the number of nodes it stands for.
    private var anchors: [String: (value: ConfigValue, nodes: Int)] = [:]
    /// Nodes of the document with every alias expanded, and the current nesting: both bounded, so that a document of
    /// nested aliases ("billion laughs") or of deep nesting is an error instead of exhausting memory or the stack.
    private var nodes = 0
    private var depth = 0
    static let maxNodes = 1_000_000
    static let maxDepth = 1_000
    /// The input, owned here: the parser reads it until `deinit`.
    private let input: UnsafeMutableBufferPointer<UInt8>

    /// Parses `text`; an empty stream is `.null`. More than one document is an error, as is an undefined alias.
    static func compose(_ text: String) throws(ConfigError) -> ConfigValue {
        var composer = YAMLComposer(text)
        return try composer.document()
    }

    private init(_ text: String) {
        input = .allocate(capacity: text.utf8.count)
        _ = input.initialize(from: text.utf8)
        yaml_parser_initialize(parser)
        yaml_parser_set_input_string(parser, input.baseAddress, input.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    private mutating func document() throws(ConfigError) -> ConfigValue {
        var event = try next()
        if event.type == YAML_STREAM_START_EVENT { event = try next() }
        guard event.type != YAML_STREAM_END_EVENT else { return .null }
        guard event.type == YAML_DOCUMENT_START_EVENT else { throw unexpected(event) }
        let root = try node(try next())
        guard try next().type == YAML_DOCUMENT_END_EVENT else { throw ConfigError("cannot parse YAML: expected the end of the document") }
        let after = try next()
        guard after.type == YAML_STREAM_END_EVENT else {
            throw ConfigError("cannot parse YAML: line \(after.line), column \(after.column): expected a single document, found another")
        }
        return root
    }

    private mutating func node(_ event: Event) throws(ConfigError) -> ConfigValue {
        let value: ConfigValue
        let nodesBefore = nodes
        nodes += 1
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else {
            throw ConfigError("cannot parse YAML: line \(event.line), column \(event.column): nested deeper than \(Self.maxDepth) levels")
        }
        switch event.type {
        case YAML_ALIAS_EVENT:
            guard let target = anchors[event.anchor ?? ""] else {
                throw ConfigError("cannot parse YAML: line \(event.line), column \(event.column): undefined alias *\(event.anchor ?? "")")
            }
            nodes += target.nodes - 1
            guard nodes <= Self.maxNodes else {
                throw ConfigError("cannot parse YAML: line \(event.line), column \(event.column): the document contains excessive aliasing (more than \(Self.maxNodes) nodes)")
            }
            return target.value
        case YAML_SCALAR_EVENT:
            value = Self.scalar(event)
        case YAML_SEQUENCE_START_EVENT:
            var items: [ConfigValue] = []
            while true {
                let item = try next()
                if item.type == YAML_SEQUENCE_END_EVENT { break }
                items.append(try node(item))
            }
            value = .sequence(items)
        case YAML_MAPPING_START_EVENT:
            var entries: [(key: String, value: ConfigValue)] = []
            while true {
                let keyEvent = try next()
                if keyEvent.type == YAML_MAPPING_END_EVENT { break }
                guard case .scalar(let key, _) = try node(keyEvent) else { throw ConfigError("mapping keys must be scalars") }
                entries.append((key, try node(try next())))
            }
            value = .mapping(entries)
        default:
            throw unexpected(event)
        }
        if let anchor = event.anchor { anchors[anchor] = (value, nodes - nodesBefore) }
        return value
    }

    /// A plain `~`, `null`, `Null`, `NULL` or empty scalar is null (YAML 1.1/1.2 core schema, as upstream's decoder);
    /// quoted and block scalars are always strings.
    private static func scalar(_ event: Event) -> ConfigValue {
        let text = event.value
        guard event.style == YAML_PLAIN_SCALAR_STYLE || event.style == YAML_ANY_SCALAR_STYLE else { return .scalar(text, quoted: true) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        default: return .scalar(text, quoted: false)
        }
    }

    /// The next event, copied out of libyaml's (which is freed here).
    private mutating func next() throws(ConfigError) -> Event {
        var raw = yaml_event_t()
        guard yaml_parser_parse(parser, &raw) == 1 else { throw parseError() }
        defer { yaml_event_delete(&raw) }
        return Event(raw)
    }

    private func parseError() -> ConfigError {
        let parser = parser.pointee
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        var text = "cannot parse YAML: line \(parser.problem_mark.line + 1), column \(parser.problem_mark.column + 1): \(problem)"
        if let context = parser.context {
            text += " (\(String(cString: context)), line \(parser.context_mark.line + 1), column \(parser.context_mark.column + 1))"
        }
        return ConfigError(text)
    }

    private func unexpected(_ event: Event) -> ConfigError {
        ConfigError("cannot parse YAML: line \(event.line), column \(event.column): unexpected event \(event.type.rawValue)")
    }

    /// What the composer reads of a libyaml event.
    private struct Event {
        var type: yaml_event_type_t
        var anchor: String?
        var value = ""
        var style = YAML_ANY_SCALAR_STYLE
        /// 1-based position of the event's start.
        var line: Int
        var column: Int

        init(_ raw: yaml_event_t) {
            type = raw.type
            line = Int(raw.start_mark.line) + 1
            column = Int(raw.start_mark.column) + 1
            switch raw.type {
            case YAML_ALIAS_EVENT:
                anchor = raw.data.alias.anchor.map { String(cString: $0) }
            case YAML_SCALAR_EVENT:
                let scalar = raw.data.scalar
                anchor = scalar.anchor.map { String(cString: $0) }
                value = String(decoding: UnsafeBufferPointer(start: UnsafePointer(scalar.value), count: Int(scalar.length)), as: UTF8.self)
                style = scalar.style
            case YAML_SEQUENCE_START_EVENT:
                anchor = raw.data.sequence_start.anchor.map { String(cString: $0) }
            case YAML_MAPPING_START_EVENT:
                anchor = raw.data.mapping_start.anchor.map { String(cString: $0) }
            default:
                break
            }
        }
    }
}
