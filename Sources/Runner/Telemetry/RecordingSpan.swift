import Shared
import Synchronization
import Tracing

/// Where ended spans go (the span batch queue; an array in tests).
protocol SpanSink: Sendable {
    func consume(_ span: OTLPSpan)
}

/// A span of our `OTLPTracer`: records everything swift-distributed-tracing's API sets and turns itself
/// into an OTLP span, handed to the sink, when it ends (once).
final class RecordingSpan: Span {
    let context: InstrumentationContext
    let identity: SpanIdentity
    let parentSpanID: SpanID?
    let kind: SpanKind
    let startNanos: UInt64
    private let sink: any SpanSink
    private let state: Mutex<State>

    private struct State {
        var name: String
        var attributes = SpanAttributes()
        var events: [SpanEvent] = []
        var links: [SpanLink] = []
        var status: SpanStatus?
        var ended = false
    }

    init(name: String, context: InstrumentationContext, identity: SpanIdentity, parentSpanID: SpanID?, kind: SpanKind, startNanos: UInt64, sink: any SpanSink) {
        var context = context
        context.spanIdentity = identity
        self.context = context
        self.identity = identity
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanos = startNanos
        self.sink = sink
        self.state = Mutex(State(name: name))
    }

    var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { if !$0.ended { $0.name = newValue } } }
    }

    var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { if !$0.ended { $0.attributes = newValue } } }
    }

    var isRecording: Bool { state.withLock { !$0.ended } }

    /// Sets one attribute in place (the `attributes` property copies the whole set).
    func setAttribute(_ key: String, _ value: SpanAttribute) {
        state.withLock { if !$0.ended { $0.attributes.set(key, value: value) } }
    }

    func setStatus(_ status: SpanStatus) {
        state.withLock { state in
            guard !state.ended else { return }
            // OK is final; otherwise the last status wins (OTel spec, "Set Status").
            if state.status?.code != .ok { state.status = status }
        }
    }

    func addEvent(_ event: SpanEvent) {
        state.withLock { if !$0.ended { $0.events.append(event) } }
    }

    func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        var eventAttributes = attributes
        eventAttributes.set("exception.type", value: .string(String(describing: type(of: error))))
        eventAttributes.set("exception.message", value: .string(String(describing: error)))
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: eventAttributes))
    }

    func addLink(_ link: SpanLink) {
        state.withLock { if !$0.ended { $0.links.append(link) } }
    }

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let endNanos = instant().nanosecondsSinceEpoch
        let finished: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard let finished else { return }
        sink.consume(otlpSpan(finished, endNanos: endNanos))
    }

    // MARK: - OTLP

    private func otlpSpan(_ state: State, endNanos: UInt64) -> OTLPSpan {
        var span = OTLPSpan()
        span.traceID = identity.traceID.data
        span.spanID = identity.spanID.data
        if let parentSpanID { span.parentSpanID = parentSpanID.data }
        span.name = state.name
        span.kind = Self.kind(kind)
        span.startTimeUnixNano = startNanos
        span.endTimeUnixNano = max(endNanos, startNanos)
        span.attributes = OTLPAttributes.keyValues(state.attributes)
        span.events = state.events.map { event in
            var otlp = OTLPSpan.Event()
            otlp.name = event.name
            otlp.timeUnixNano = event.nanosecondsSinceEpoch
            otlp.attributes = OTLPAttributes.keyValues(event.attributes)
            return otlp
        }
        span.links = state.links.compactMap { link in
            guard let linked = link.context.spanIdentity else { return nil }
            var otlp = OTLPSpan.Link()
            otlp.traceID = linked.traceID.data
            otlp.spanID = linked.spanID.data
            otlp.attributes = OTLPAttributes.keyValues(link.attributes)
            return otlp
        }
        if let status = state.status {
            var otlp = OTLPStatus()
            otlp.code = status.code == .ok ? .ok : .error
            otlp.message = status.message ?? ""
            span.status = otlp
        }
        return span
    }

    private static func kind(_ kind: SpanKind) -> OTLPSpan.SpanKind {
        switch kind {
        case .server: .server
        case .client: .client
        case .producer: .producer
        case .consumer: .consumer
        case .internal: .internal
        }
    }
}

/// A `Tracer` for swift-distributed-tracing that records OTLP spans: `withSpan` anywhere under the job
/// (including model code) produces spans in the record's trace.
struct OTLPTracer: Tracer {
    typealias Span = RecordingSpan
    let sink: any SpanSink
    let ids: IDGenerator

    init(sink: any SpanSink, ids: IDGenerator = IDGenerator()) {
        self.sink = sink
        self.ids = ids
    }

    func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> InstrumentationContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> RecordingSpan {
        let parentContext = context()
        let parent = parentContext.spanIdentity
        let identity = SpanIdentity(traceID: parent?.traceID ?? ids.traceID(), spanID: ids.spanID())
        return RecordingSpan(
            name: operationName, context: parentContext, identity: identity, parentSpanID: parent?.spanID,
            kind: kind, startNanos: instant().nanosecondsSinceEpoch, sink: sink)
    }

    func forceFlush() {}

    // MARK: - Instrument (no propagation: the job makes no outgoing requests that carry context)

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract.Carrier == Carrier {}

    func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {}
}
