import Shared

/// `processors: attributes:` (contrib `processor/attributesprocessor`, reference §5): `actions` (required)
/// run in order on every span's, log record's and metric data point's attributes (never on resource or
/// scope attributes), limited by the optional `include` / `exclude` properties.
///
/// Validation follows upstream's `attraction.NewAttrProc` and its wording, prefixed with the key path:
/// `processors::attributes/x: error creating AttrProc due to missing required field "key" at the 0-th actions`.
struct AttributesConfig: Sendable, Equatable {
    /// `actions`, required and non-empty.
    var actions: [AttributeAction] = []
    /// `include`: when set, only matching items are processed.
    var include: AttributeMatchProperties?
    /// `exclude`: matching items are passed on untouched (checked after `include`).
    var exclude: AttributeMatchProperties?

    static func decode(_ reader: inout ConfigReader) -> AttributesConfig {
        var config = AttributesConfig()
        switch reader.raw("actions") {
        case nil, .null?:
            reader.fail(nil, #"missing required field "actions""#)
        case .sequence(let items)?:
            if items.isEmpty { reader.fail(nil, #"missing required field "actions""#) }
            for (index, item) in items.enumerated() {
                var actionReader = ConfigReader(item, path: reader.path + ["actions[\(index)]"])
                if let action = AttributeAction.decode(&actionReader, index: index, componentPath: reader.path) {
                    config.actions.append(action)
                }
                reader.absorb(actionReader)
            }
        case .scalar(let text, _)?:
            reader.fail("actions", "expected a list, got \"\(text)\"")
        case .mapping?:
            reader.fail("actions", "expected a list, got a map")
        }
        for key in ["include", "exclude"] where reader.keys.contains(key) {
            var child = reader.child(key)
            let properties = AttributeMatchProperties.decode(&child)
            if key == "include" { config.include = properties } else { config.exclude = properties }
            reader.absorb(child)
        }
        return config
    }

    /// The problem with running this configuration on `signal`'s items (upstream finds these when it creates
    /// the processor for that signal's pipeline), e.g. `services` on log records; nil when fine.
    func problem(for signal: Signal) -> String? {
        for properties in [include, exclude].compactMap({ $0 }) {
            if let problem = properties.problem(for: signal) { return problem }
        }
        return nil
    }
}

// MARK: - Actions

extension AttributeAction {
    /// Decodes one `actions` entry; upstream's errors are reported on the component's path (`componentPath`),
    /// unknown keys and type errors on the entry's own path (`processors::attributes::actions[0]`).
    static func decode(_ reader: inout ConfigReader, index: Int, componentPath: [String]) -> AttributeAction? {
        var upstreamErrors: [String] = []
        func fail(_ message: String) {
            upstreamErrors.append("error creating AttrProc" + message)
        }
        let key = reader.string("key") ?? ""
        let rawValue = reader.raw("value")
        let fromAttribute = reader.string("from_attribute") ?? ""
        let fromContext = reader.string("from_context") ?? ""
        let pattern = reader.string("pattern") ?? ""
        let convertedType = reader.string("converted_type") ?? ""
        let actionName = (reader.string("action") ?? "").lowercased()
        var value: OTLPAnyValue?
        if let rawValue {
            value = AttributeValueYAML.anyValue(rawValue)
        }

        defer {
            var entry = ConfigReader(nil, path: componentPath)
            for message in upstreamErrors { entry.fail(nil, message) }
            reader.absorb(entry)
        }

        switch actionName {
        case "delete", "hash":
            if key.isEmpty && pattern.isEmpty {
                fail(#" due to missing required field (at least one of "key" and "pattern" have to be used) at the \#(index)-th actions"#)
                return nil
            }
        default:
            if key.isEmpty {
                fail(#" due to missing required field "key" at the \#(index)-th actions"#)
                return nil
            }
        }
        let sourceCount = (value != nil ? 1 : 0) + (fromAttribute.isEmpty ? 0 : 1) + (fromContext.isEmpty ? 0 : 1)
        func compile(_ pattern: String) -> AttributePattern? {
            do {
                return try AttributePattern(pattern)
            } catch {
                fail(#". Field "pattern" has invalid pattern: "\#(pattern)" to be set at the \#(index)-th actions"#)
                return nil
            }
        }
        switch actionName {
        case "insert", "update", "upsert":
            if sourceCount == 0 {
                fail(#". Either field "value", "from_attribute" or "from_context" setting must be specified for \#(index)-th action"#)
                return nil
            }
            if sourceCount > 1 {
                fail(" due to multiple value sources being set at the \(index)-th actions")
                return nil
            }
            if !pattern.isEmpty {
                fail(#". Action "\#(actionName)" does not use the "pattern" field. This must not be specified for \#(index)-th action"#)
                return nil
            }
            if !convertedType.isEmpty {
                fail(#". Action "\#(actionName)" does not use the "converted_type" field. This must not be specified for \#(index)-th action"#)
                return nil
            }
            let source: ValueSource
            if let value {
                source = .value(value)
            } else if !fromAttribute.isEmpty {
                source = .attribute(fromAttribute)
            } else {
                reader.fail("from_context", "is not served by this collector yet (it needs include_metadata on the receiver)")
                return nil
            }
            switch actionName {
            case "insert": return AttributeAction(key: key, kind: .insert(source))
            case "update": return AttributeAction(key: key, kind: .update(source))
            default: return AttributeAction(key: key, kind: .upsert(source))
            }
        case "delete", "hash":
            if value != nil || !fromAttribute.isEmpty {
                fail(#". Action "\#(actionName)" does not use "value" or "from_attribute" field. These must not be specified for \#(index)-th action"#)
                return nil
            }
            var compiled: AttributePattern?
            if !pattern.isEmpty {
                guard let regex = compile(pattern) else { return nil }
                compiled = regex
            }
            if !convertedType.isEmpty {
                fail(#". Action "\#(actionName)" does not use the "converted_type" field. This must not be specified for \#(index)-th action"#)
                return nil
            }
            return AttributeAction(key: key, kind: actionName == "delete" ? .delete(pattern: compiled) : .hash(pattern: compiled))
        case "extract":
            if sourceCount > 0 {
                fail(#". Action "\#(actionName)" does not use a value source field. These must not be specified for \#(index)-th action"#)
                return nil
            }
            if pattern.isEmpty {
                fail(#" due to missing required field "pattern" for action "\#(actionName)" at the \#(index)-th action"#)
                return nil
            }
            if !convertedType.isEmpty {
                fail(#". Action "\#(actionName)" does not use the "converted_type" field. This must not be specified for \#(index)-th action"#)
                return nil
            }
            guard let compiled = compile(pattern) else { return nil }
            if compiled.groupNames.isEmpty {
                fail(#". Field "pattern" contains no named matcher groups at the \#(index)-th actions"#)
                return nil
            }
            if compiled.groupNames.contains(where: { $0 == nil || $0 == "" }) {
                fail(#". Field "pattern" contains at least one unnamed matcher group at the \#(index)-th actions"#)
                return nil
            }
            return AttributeAction(key: key, kind: .extract(pattern: compiled))
        case "convert":
            if sourceCount > 0 || !pattern.isEmpty {
                fail(#". Action "\#(actionName)" does not use value sources or "pattern" field. These must not be specified for \#(index)-th action"#)
                return nil
            }
            if convertedType.isEmpty {
                fail(#" due to missing required field "converted_type" for action "\#(actionName)" at the \#(index)-th action"#)
                return nil
            }
            guard let target = ConversionTarget(rawValue: convertedType) else {
                fail(#" due to invalid value "\#(convertedType)" in field "converted_type" for action "\#(actionName)" at the \#(index)-th action"#)
                return nil
            }
            return AttributeAction(key: key, kind: .convert(target))
        default:
            fail(#" due to unsupported action "\#(actionName)" at the \#(index)-th actions"#)
            return nil
        }
    }
}

// MARK: - include / exclude

extension AttributeMatchProperties {
    /// Decodes `include` or `exclude`. `match_type` is required (`strict` or `regexp`); patterns and
    /// attribute values are checked here, the rules that depend on the signal in `problem(for:)`.
    static func decode(_ reader: inout ConfigReader) -> AttributeMatchProperties? {
        let matchTypeText = reader.string("match_type") ?? ""
        guard let matchType = MatchType(rawValue: matchTypeText) else {
            reader.fail(nil, "unrecognized match_type: '\(matchTypeText)', valid types are: [regexp strict]")
            // Read the rest so that only this problem is reported for it.
            for key in reader.keys { _ = reader.raw(key) }
            return nil
        }
        var properties = AttributeMatchProperties(matchType: matchType)
        // `regexp: {cacheenabled, cachemaxnumentries}` tunes upstream's match cache; accepted, not needed here.
        var regexpOptions = reader.child("regexp")
        _ = regexpOptions.bool("cacheenabled")
        _ = regexpOptions.int("cachemaxnumentries")
        reader.absorb(regexpOptions)

        func strings(_ key: String) -> StringMatcher? {
            guard let list = reader.stringList(key), !list.isEmpty else { return nil }
            return matcher(list, key: key, matchType: matchType, reader: &reader)
        }
        properties.services = strings("services")
        properties.spanNames = strings("span_names")
        properties.spanKindNames = reader.keys.contains("span_kinds") ? (reader.stringList("span_kinds") ?? []) : []
        if !properties.spanKindNames.isEmpty {
            properties.spanKinds = matcher(properties.spanKindNames, key: "span_kinds", matchType: matchType, reader: &reader)
        }
        properties.logBodies = strings("log_bodies")
        properties.logSeverityTexts = strings("log_severity_texts")
        properties.metricNames = strings("metric_names")
        properties.attributes = criteria("attributes", matchType: matchType, reader: &reader)
        properties.resources = criteria("resources", matchType: matchType, reader: &reader)
        properties.libraries = libraries(matchType: matchType, reader: &reader)
        if reader.keys.contains("log_severity_number") {
            _ = reader.raw("log_severity_number")
            reader.fail("log_severity_number", "is not served by this collector yet")
        }
        return properties
    }

    private static func matcher(_ list: [String], key: String, matchType: MatchType, reader: inout ConfigReader) -> StringMatcher {
        guard matchType == .regexp else { return .strict(Set(list)) }
        var patterns: [AttributePattern] = []
        for text in list {
            do {
                patterns.append(try AttributePattern(text))
            } catch {
                reader.fail(key, "error parsing regexp \"\(text)\": \(error)")
            }
        }
        return .regexp(patterns)
    }

    /// `attributes` / `resources`: a list of `{key, value}`; `value` keeps its YAML type and, with `regexp`,
    /// must be a string (upstream: `match_type=regexp for "k" only supports Str, but found Int`).
    private static func criteria(_ key: String, matchType: MatchType, reader: inout ConfigReader) -> [AttributeCriterion] {
        guard let list = entries(key, reader: &reader) else { return [] }
        var criteria: [AttributeCriterion] = []
        for (index, item) in list.enumerated() {
            var entry = ConfigReader(item, path: reader.path + ["\(key)[\(index)]"])
            let attributeKey = entry.string("key") ?? ""
            let value = entry.raw("value").flatMap(AttributeValueYAML.anyValue)
            reader.absorb(entry)
            if attributeKey.isEmpty {
                reader.fail(key, "can't have empty key in the list of attributes")
                continue
            }
            var criterion = AttributeCriterion(key: attributeKey)
            if let value {
                switch matchType {
                case .strict:
                    criterion.value = .exact(value)
                case .regexp:
                    guard case .stringValue(let text)? = value.value else {
                        reader.fail(
                            key, "match_type=regexp for \"\(attributeKey)\" only supports Str, but found \(DebugTextBuffer.typeName(of: value))")
                        continue
                    }
                    do {
                        criterion.value = .pattern(try AttributePattern(text))
                    } catch {
                        reader.fail(key, "error parsing regexp \"\(text)\": \(error)")
                        continue
                    }
                }
            }
            criteria.append(criterion)
        }
        return criteria
    }

    /// `libraries`: a list of `{name, version}`, both matched with the match type.
    private static func libraries(matchType: MatchType, reader: inout ConfigReader) -> [LibraryCriterion] {
        guard let list = entries("libraries", reader: &reader) else { return [] }
        var libraries: [LibraryCriterion] = []
        for (index, item) in list.enumerated() {
            var entry = ConfigReader(item, path: reader.path + ["libraries[\(index)]"])
            let name = entry.string("name") ?? ""
            let version = entry.string("version")
            reader.absorb(entry)
            var library = LibraryCriterion(name: matcher([name], key: "libraries", matchType: matchType, reader: &reader))
            if let version { library.version = matcher([version], key: "libraries", matchType: matchType, reader: &reader) }
            libraries.append(library)
        }
        return libraries
    }

    private static func entries(_ key: String, reader: inout ConfigReader) -> [ConfigValue]? {
        switch reader.raw(key) {
        case nil, .null?: return nil
        case .sequence(let items)?: return items
        case .scalar(let text, _)?:
            reader.fail(key, "expected a list, got \"\(text)\"")
        case .mapping?:
            reader.fail(key, "expected a list, got a map")
        }
        return nil
    }
}

// MARK: - YAML values

/// `value` keeps its YAML type, as upstream's `pcommon.Value.FromRaw` of the decoded YAML: an unquoted
/// `2245` is an Int, `1.5` a Double, `true` a Bool, a quoted scalar is always a string, lists become
/// slices and maps become maps.
enum AttributeValueYAML {
    /// Nil for a YAML null (an absent value, as upstream treats it).
    static func anyValue(_ value: ConfigValue) -> OTLPAnyValue? {
        var result = OTLPAnyValue()
        switch value {
        case .null:
            return nil
        case .scalar(let text, let quoted):
            if quoted {
                result.stringValue = text
            } else if let bool = bool(text) {
                result.boolValue = bool
            } else if let int = int(text) {
                result.intValue = int
            } else if let double = double(text) {
                result.doubleValue = double
            } else {
                result.stringValue = text
            }
        case .sequence(let items):
            var array = OTLPArrayValue()
            array.values = items.map { anyValue($0) ?? OTLPAnyValue() }
            result.arrayValue = array
        case .mapping(let entries):
            var map = OTLPKeyValueList()
            map.values = entries.map { entry in
                var keyValue = OTLPKeyValue()
                keyValue.key = entry.key
                keyValue.value = anyValue(entry.value) ?? OTLPAnyValue()
                return keyValue
            }
            result.kvlistValue = map
        }
        return result
    }

    /// YAML 1.2 core schema booleans.
    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    /// YAML 1.2 core schema integers: decimal with an optional sign, `0o` octal, `0x` hex (and `_` separators).
    static func int(_ text: String) -> Int64? {
        let plain = text.filter { $0 != "_" }
        var body = Substring(plain)
        var negative = false
        if body.first == "+" || body.first == "-" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        let radix: Int
        if body.hasPrefix("0x") {
            radix = 16
            body = body.dropFirst(2)
        } else if body.hasPrefix("0o") {
            radix = 8
            body = body.dropFirst(2)
        } else {
            radix = 10
        }
        guard !body.isEmpty, body.allSatisfy({ $0.isHexDigit }) else { return nil }
        guard let magnitude = UInt64(body, radix: radix) else { return nil }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// YAML 1.2 core schema floats: `1.5`, `-2e3`, `.5`, `.inf`, `-.Inf`, `.nan`.
    static func double(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        var body = Substring(text)
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        let mantissaEnd = body.firstIndex(where: { $0 == "e" || $0 == "E" }) ?? body.endIndex
        let mantissa = body[..<mantissaEnd]
        guard mantissa.contains(where: \.isNumber), mantissa.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            mantissa.filter({ $0 == "." }).count <= 1
        else { return nil }
        if mantissaEnd < body.endIndex {
            var exponent = body[body.index(after: mantissaEnd)...]
            if exponent.first == "+" || exponent.first == "-" { exponent = exponent.dropFirst() }
            guard !exponent.isEmpty, exponent.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        }
        return Double(text)
    }
}
