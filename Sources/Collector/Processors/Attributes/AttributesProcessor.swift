import Logging
import Shared

/// The `attributes` processor (contrib, reference §5): runs its actions, in order, on the attributes of
/// every span, log record or metric data point that `include` / `exclude` select, then hands the payload
/// to `next`. Resource and scope attributes are never changed.
///
/// It has no state and no background work, so it is a plain `Consumer` and not a `Service`. The payload is
/// a value: the processor changes its own copy, and whoever else holds the request (another pipeline of a
/// fan-out) keeps seeing the original.
struct AttributesProcessor<Payload: PipelinePayload>: Consumer {
    let id: ComponentID
    let next: any Consumer<Payload>
    private let rules: AttributeRules

    /// Fails, with upstream's wording, when `include` / `exclude` use properties that `Payload`'s items
    /// do not have (e.g. `services` on log records), as upstream does when it creates the processor.
    init(id: ComponentID, config: AttributesConfig, next: any Consumer<Payload>, logger: Logger = Logger(label: "attributes"))
        throws(ConfigError)
    {
        if let problem = config.problem(for: Payload.signal) {
            throw ConfigError(
                "\(problem) (in a \(Payload.signal.rawValue) pipeline)", path: [ComponentKind.processor.configKey, id.description])
        }
        self.id = id
        self.next = next
        self.rules = AttributeRules(config: config, logger: logger)
    }

    func consume(_ payload: Payload) async throws {
        let request: Payload.Request
        do {
            request = try payload.request()
        } catch {
            throw ConsumerError.permanent(error.description)
        }
        try await next.consume(Payload(rules.applied(to: request)))
    }
}

/// The compiled actions and filters, applied to one payload of any signal.
struct AttributeRules: Sendable {
    let actions: [AttributeAction]
    let include: AttributeMatchProperties?
    let exclude: AttributeMatchProperties?
    let logger: Logger

    init(config: AttributesConfig, logger: Logger) {
        actions = config.actions
        include = config.include
        exclude = config.exclude
        self.logger = logger
    }

    /// `payload` with the actions applied to every selected item.
    func applied<P: SignalPayload>(to payload: P) -> P {
        if var traces = payload as? OTLPTracesRequest {
            apply(to: &traces)
            return traces as! P
        }
        if var logs = payload as? OTLPLogsRequest {
            apply(to: &logs)
            return logs as! P
        }
        if var metrics = payload as? OTLPMetricsRequest {
            apply(to: &metrics)
            return metrics as! P
        }
        return payload
    }

    // MARK: - Per signal

    func apply(to traces: inout OTLPTracesRequest) {
        for r in traces.resourceSpans.indices {
            let resource = traces.resourceSpans[r].resource
            for s in traces.resourceSpans[r].scopeSpans.indices {
                let scope = traces.resourceSpans[r].scopeSpans[s].scope
                for i in traces.resourceSpans[r].scopeSpans[s].spans.indices {
                    let span = traces.resourceSpans[r].scopeSpans[s].spans[i]
                    if let include, !include.matches(span: span, resource: resource, scope: scope) { continue }
                    if let exclude, exclude.matches(span: span, resource: resource, scope: scope) { continue }
                    run(on: &traces.resourceSpans[r].scopeSpans[s].spans[i].attributes)
                }
            }
        }
    }

    func apply(to logs: inout OTLPLogsRequest) {
        for r in logs.resourceLogs.indices {
            let resource = logs.resourceLogs[r].resource
            for s in logs.resourceLogs[r].scopeLogs.indices {
                let scope = logs.resourceLogs[r].scopeLogs[s].scope
                for i in logs.resourceLogs[r].scopeLogs[s].logRecords.indices {
                    let record = logs.resourceLogs[r].scopeLogs[s].logRecords[i]
                    if let include, !include.matches(log: record, resource: resource, scope: scope) { continue }
                    if let exclude, exclude.matches(log: record, resource: resource, scope: scope) { continue }
                    run(on: &logs.resourceLogs[r].scopeLogs[s].logRecords[i].attributes)
                }
            }
        }
    }

    /// Metrics are selected as a whole (by name and resource); the actions run on each data point.
    func apply(to metrics: inout OTLPMetricsRequest) {
        for r in metrics.resourceMetrics.indices {
            let resource = metrics.resourceMetrics[r].resource
            for s in metrics.resourceMetrics[r].scopeMetrics.indices {
                for m in metrics.resourceMetrics[r].scopeMetrics[s].metrics.indices {
                    let metric = metrics.resourceMetrics[r].scopeMetrics[s].metrics[m]
                    if let include, include.matches(metric: metric, resource: resource) == false { continue }
                    if let exclude, exclude.matches(metric: metric, resource: resource) == true { continue }
                    runOnDataPoints(of: &metrics.resourceMetrics[r].scopeMetrics[s].metrics[m])
                }
            }
        }
    }

    private func runOnDataPoints(of metric: inout OTLPMetric) {
        switch metric.data {
        case .gauge(var gauge)?:
            metric.data = nil  // let the points be uniquely referenced while they change
            for p in gauge.dataPoints.indices { run(on: &gauge.dataPoints[p].attributes) }
            metric.data = .gauge(gauge)
        case .sum(var sum)?:
            metric.data = nil
            for p in sum.dataPoints.indices { run(on: &sum.dataPoints[p].attributes) }
            metric.data = .sum(sum)
        case .histogram(var histogram)?:
            metric.data = nil
            for p in histogram.dataPoints.indices { run(on: &histogram.dataPoints[p].attributes) }
            metric.data = .histogram(histogram)
        case .exponentialHistogram(var histogram)?:
            metric.data = nil
            for p in histogram.dataPoints.indices { run(on: &histogram.dataPoints[p].attributes) }
            metric.data = .exponentialHistogram(histogram)
        case .summary(var summary)?:
            metric.data = nil
            for p in summary.dataPoints.indices { run(on: &summary.dataPoints[p].attributes) }
            metric.data = .summary(summary)
        case nil:
            break
        }
    }

    // MARK: - Actions (contrib `AttrProc.Process`)

    /// Runs every action, in order, on one item's attributes.
    func run(on attributes: inout [OTLPKeyValue]) {
        for action in actions {
            switch action.kind {
            case .insert(let source):
                guard let value = Self.value(of: source, in: attributes), Self.index(of: action.key, in: attributes) == nil else { continue }
                Self.put(action.key, value, in: &attributes)
            case .update(let source):
                guard let value = Self.value(of: source, in: attributes), let index = Self.index(of: action.key, in: attributes) else { continue }
                attributes[index].value = value
            case .upsert(let source):
                guard let value = Self.value(of: source, in: attributes) else { continue }
                Self.put(action.key, value, in: &attributes)
            case .delete(let pattern):
                attributes.removeAll { $0.key == action.key || (pattern?.matches($0.key) ?? false) }
            case .hash(let pattern):
                // Upstream hashes `key`, then every key the pattern matches: a key that is both is hashed twice.
                if let index = Self.index(of: action.key, in: attributes) {
                    attributes[index].value = AttributeValueText.hashed(attributes[index].value)
                }
                if let pattern {
                    for index in attributes.indices where pattern.matches(attributes[index].key) {
                        attributes[index].value = AttributeValueText.hashed(attributes[index].value)
                    }
                }
            case .extract(let pattern):
                guard let index = Self.index(of: action.key, in: attributes),
                    case .stringValue(let text)? = attributes[index].value.value,
                    let captures = pattern.namedCaptures(in: text)
                else { continue }
                for capture in captures {
                    guard let name = capture.name else { continue }
                    var value = OTLPAnyValue()
                    value.stringValue = capture.value
                    Self.put(name, value, in: &attributes)
                }
            case .convert(let target):
                guard let index = Self.index(of: action.key, in: attributes) else { continue }
                if let converted = AttributeValueText.converted(attributes[index].value, to: target) {
                    attributes[index].value = converted
                } else {
                    logger.debug(
                        "Attribute value could not be converted", metadata: ["key": "\(action.key)", "type": "\(target.rawValue)"])
                }
            }
        }
    }

    private static func index(of key: String, in attributes: [OTLPKeyValue]) -> Int? {
        attributes.firstIndex { $0.key == key }
    }

    private static func value(of source: AttributeAction.ValueSource, in attributes: [OTLPKeyValue]) -> OTLPAnyValue? {
        switch source {
        case .value(let value): value
        case .attribute(let key): attributes.first { $0.key == key }?.value
        }
    }

    /// Sets `key` (the first entry with it) or appends it, as pdata's `Map.Put…`.
    private static func put(_ key: String, _ value: OTLPAnyValue, in attributes: inout [OTLPKeyValue]) {
        if let index = index(of: key, in: attributes) {
            attributes[index].value = value
        } else {
            var entry = OTLPKeyValue()
            entry.key = key
            entry.value = value
            attributes.append(entry)
        }
    }
}
