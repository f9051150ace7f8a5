import Shared

/// `include:` / `exclude:` of the attributes processor: which spans, log records and metrics it acts on
/// (contrib `internal/filter/filterconfig`, `filterspan`, `filterlog`, `filtermetric`, reference §5).
///
/// Every criterion that is set must match; within one list any entry may match. Strings match exactly
/// (`strict`) or by an unanchored regular expression (`regexp`, as Go's `MatchString`).
struct AttributeMatchProperties: Sendable, Equatable {
    enum MatchType: String, Sendable, Equatable {
        case strict, regexp
    }

    /// An attribute (or resource attribute) to look for: `key`, and `value` when set.
    struct AttributeCriterion: Sendable, Equatable {
        enum Value: Sendable, Equatable {
            /// `strict`: same type and same value.
            case exact(OTLPAnyValue)
            /// `regexp`: the value's text (strings, bools, ints, doubles only) matches.
            case pattern(AttributePattern)
        }

        var key: String
        /// Nil: the key only has to be present.
        var value: Value?
    }

    /// An instrumentation scope to look for: `name`, and `version` when set (`""` matches only an empty version).
    struct LibraryCriterion: Sendable, Equatable {
        var name: StringMatcher
        var version: StringMatcher?
    }

    var matchType: MatchType
    var services: StringMatcher?
    var spanNames: StringMatcher?
    var spanKinds: StringMatcher?
    /// The raw `span_kinds` entries (strict mode checks them against the standard names).
    var spanKindNames: [String] = []
    var logBodies: StringMatcher?
    var logSeverityTexts: StringMatcher?
    var metricNames: StringMatcher?
    var attributes: [AttributeCriterion] = []
    var resources: [AttributeCriterion] = []
    var libraries: [LibraryCriterion] = []

    // MARK: - Per-signal validation (upstream checks these when it creates the processor for a signal)

    /// Upstream's `SPAN_KIND_*` names, sorted as its error message lists them.
    static let standardSpanKinds = [
        "SPAN_KIND_CLIENT", "SPAN_KIND_CONSUMER", "SPAN_KIND_INTERNAL", "SPAN_KIND_PRODUCER", "SPAN_KIND_SERVER",
    ]

    /// The problem with using these properties on `signal`'s items, in upstream's words; nil when fine.
    func problem(for signal: Signal) -> String? {
        switch signal {
        case .traces:
            if logBodies != nil { return "log_bodies should not be specified for trace spans" }
            if logSeverityTexts != nil { return "log_severity_texts should not be specified for trace spans" }
            if services == nil && spanNames == nil && attributes.isEmpty && libraries.isEmpty && resources.isEmpty
                && spanKinds == nil
            {
                return #"at least one of "attributes", "libraries",  or "resources" field must be specified"#
            }
            if matchType == .strict, spanKindNames.contains(where: { !Self.standardSpanKinds.contains($0) }) {
                return "span_kinds string must match one of the standard span kinds when match_type=strict: ["
                    + Self.standardSpanKinds.joined(separator: " ") + "]"
            }
            return nil
        case .logs:
            if spanNames != nil || services != nil || spanKinds != nil {
                return "services, span_names, and span_kinds are not valid for log records"
            }
            if attributes.isEmpty && libraries.isEmpty && resources.isEmpty && logBodies == nil && logSeverityTexts == nil {
                return #"at least one of "attributes", "libraries", "span_kinds", "resources", "log_bodies", "log_severity_texts" or "log_severity_number" field must be specified"#
            }
            return nil
        case .metrics:
            // Upstream's metric filter reads only `metric_names` and `resources`; without both it matches everything.
            return nil
        }
    }

    // MARK: - Matching

    /// Whether a span matches (services, span_names, span_kinds, libraries, resources, attributes).
    func matches(span: OTLPSpan, resource: OTLPResource, scope: OTLPInstrumentationScope) -> Bool {
        if let services, !services.matches(Self.serviceName(resource)) { return false }
        if let spanNames, !spanNames.matches(span.name) { return false }
        if let spanKinds, !spanKinds.matches(Self.spanKindName(span.kind)) { return false }
        return matchesCommon(attributes: span.attributes, resource: resource, scope: scope)
    }

    /// Whether a log record matches (libraries, resources, attributes, log_bodies, log_severity_texts).
    func matches(log: OTLPLogRecord, resource: OTLPResource, scope: OTLPInstrumentationScope) -> Bool {
        if let logBodies, !logBodies.matches(AttributeValueText.asString(log.body)) { return false }
        if let logSeverityTexts, !logSeverityTexts.matches(log.severityText) { return false }
        return matchesCommon(attributes: log.attributes, resource: resource, scope: scope)
    }

    /// Whether a metric matches (metric_names, resources), as upstream's `filtermetric`; nil when these
    /// properties do not filter metrics at all (neither is set).
    func matches(metric: OTLPMetric, resource: OTLPResource) -> Bool? {
        guard metricNames != nil || !resources.isEmpty else { return nil }
        if let metricNames, !metricNames.matches(metric.name) { return false }
        return Self.match(resources, in: resource.attributes)
    }

    private func matchesCommon(attributes itemAttributes: [OTLPKeyValue], resource: OTLPResource, scope: OTLPInstrumentationScope) -> Bool {
        // Upstream requires every library entry to match.
        for library in libraries {
            if !library.name.matches(scope.name) { return false }
            if let version = library.version, !version.matches(scope.version) { return false }
        }
        if !resources.isEmpty && !Self.match(resources, in: resource.attributes) { return false }
        return Self.match(attributes, in: itemAttributes)
    }

    /// Upstream's `AttributesMatcher.Match`: no criteria match everything; otherwise every key must be present
    /// (so an item without attributes never matches) with a matching value when one is given.
    static func match(_ criteria: [AttributeCriterion], in attributes: [OTLPKeyValue]) -> Bool {
        guard !criteria.isEmpty else { return true }
        guard !attributes.isEmpty else { return false }
        for criterion in criteria {
            guard let value = attributes.first(where: { $0.key == criterion.key })?.value else { return false }
            switch criterion.value {
            case nil:
                continue
            case .exact(let expected)?:
                if !AttributeValueText.sameValue(expected, value) { return false }
            case .pattern(let pattern)?:
                guard let text = AttributeValueText.scalarText(value), pattern.matches(text) else { return false }
            }
        }
        return true
    }

    /// `service.name` of the resource as text, or upstream's placeholder when it is missing.
    static func serviceName(_ resource: OTLPResource) -> String {
        guard let value = resource.attributes.first(where: { $0.key == "service.name" })?.value else { return "<nil-service-name>" }
        return AttributeValueText.asString(value)
    }

    /// Upstream's `traceutil.SpanKindStr`.
    static func spanKindName(_ kind: OTLPSpan.SpanKind) -> String {
        switch kind {
        case .unspecified: "SPAN_KIND_UNSPECIFIED"
        case .internal: "SPAN_KIND_INTERNAL"
        case .server: "SPAN_KIND_SERVER"
        case .client: "SPAN_KIND_CLIENT"
        case .producer: "SPAN_KIND_PRODUCER"
        case .consumer: "SPAN_KIND_CONSUMER"
        case .UNRECOGNIZED: ""
        }
    }
}

/// A list of strings from the configuration, matched exactly or as regular expressions (any one may match).
enum StringMatcher: Sendable, Equatable {
    case strict(Set<String>)
    case regexp([AttributePattern])

    func matches(_ text: String) -> Bool {
        switch self {
        case .strict(let values): values.contains(text)
        case .regexp(let patterns): patterns.contains { $0.matches(text) }
        }
    }
}
