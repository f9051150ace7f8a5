import Shared
import Synchronization
import Tracing

/// Where ended spans go (the span batch queue).
protocol SpanSink: Sendable {
    /// Takes one span: the `Span` message `body` writes, in place (for the queue: into its `EncodedItems`).
    func consume(encoding body: (inout ProtobufWriter) -> Void)
    /// False when spans are thrown away unread: ended spans are then not encoded at all.
    var keepsSpans: Bool { get }
}

extension SpanSink {
    var keepsSpans: Bool { true }
}

/// A span of our `OTLPTracer`: records everything swift-distributed-tracing's API sets and turns itself
/// into an OTLP span, handed to the sink, when it ends (once).
final class RecordingSpan: Span {
    /// The context the span was started in; `context` adds the span's ids to it when asked (building it costs a
    /// dictionary, which most spans never need).
    private let parentContext: InstrumentationContext
    let identity: SpanIdentity
    let parentSpanID: SpanID?
    let kind: SpanKind
    let startNanos: UInt64
    private let sink: any SpanSink
    private let state: Mutex<State>

    /// A link whose context carries one of our span identities (other links are not exported).
    private struct Link {
        var identity: SpanIdentity
        var attributes: SpanAttributes
    }

    private struct State {
        var name: String
        /// In the order first set (a handful per span: cheaper than `SpanAttributes`' dictionary).
        var attributes: [RecordedAttribute] = []
        var events: [SpanEvent] = []
        /// The links, in the order added: most spans have none or one (the job's record spans), held inline.
        var firstLink: Link?
        var moreLinks: [Link] = []
        var status: SpanStatus?
        var ended = false

        init(name: String) {
            self.name = name
            attributes.reserveCapacity(8)
        }

        mutating func addLink(_ link: Link) {
            if firstLink == nil, moreLinks.isEmpty { firstLink = link } else { moreLinks.append(link) }
        }

        func forEachLink(_ body: (Link) -> Void) {
            if let firstLink { body(firstLink) }
            for link in moreLinks { body(link) }
        }
    }

    init(name: String, context: InstrumentationContext, identity: SpanIdentity, parentSpanID: SpanID?, kind: SpanKind, startNanos: UInt64, sink: any SpanSink) {
        self.parentContext = context
        self.identity = identity
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanos = startNanos
        self.sink = sink
        self.state = Mutex(State(name: name))
    }

    var context: InstrumentationContext {
        var context = parentContext
        context.spanIdentity = identity
        return context
    }

    var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { if !$0.ended { $0.name = newValue } } }
    }

    var attributes: SpanAttributes {
        get {
            let pairs = state.withLock { $0.attributes }
            var attributes = SpanAttributes()
            for pair in pairs { attributes.set(pair.key, value: pair.value) }
            return attributes
        }
        set {
            var pairs: [RecordedAttribute] = []
            newValue.forEach { key, value in pairs.append(RecordedAttribute(key: key, value: value)) }
            state.withLock { if !$0.ended { $0.attributes = pairs } }
        }
    }

    var isRecording: Bool { state.withLock { !$0.ended } }

    /// Sets one attribute in place (the `attributes` property copies the whole set).
    func setAttribute(_ key: String, _ value: SpanAttribute) {
        state.withLock { state in
            guard !state.ended else { return }
            // By index: `firstIndex(where:)` copied every attribute it passed.
            var index = 0
            while index < state.attributes.count, state.attributes[index].key != key { index += 1 }
            if index < state.attributes.count {
                state.attributes[index] = RecordedAttribute(key: key, value: value)
            } else {
                state.attributes.append(RecordedAttribute(key: key, value: value))
            }
        }
    }

    /// Appends attributes under one lock, for keys the span has not been given yet (the job sets a record's result
    /// once): no search for an earlier value of the same key.
    func appendNewAttributes(_ body: (inout NewAttributes) -> Void) {
        state.withLock { state in
            guard !state.ended else { return }
            var list = NewAttributes(attributes: [])
            swap(&list.attributes, &state.attributes)  // moved, not copied: appends need no copy-on-write
            body(&list)
            swap(&list.attributes, &state.attributes)
        }
    }

    /// What `appendNewAttributes` appends to.
    struct NewAttributes {
        fileprivate var attributes: [RecordedAttribute]

        /// `append(key, value)` for a literal key, without making a `String` of it.
        mutating func append(_ key: StaticString, _ value: SpanAttribute) {
            assert(!attributes.contains { $0.key == key.description }, "\(key) is set already")
            attributes.append(RecordedAttribute(key: key, value: value))
        }

        /// `append(key, .double(value))` for a literal key, without making the `SpanAttribute` or a `String`.
        mutating func append(_ key: StaticString, _ value: Double) {
            assert(!attributes.contains { $0.key == key.description }, "\(key) is set already")
            attributes.append(RecordedAttribute(key: key, double: value))
        }
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
        guard let identity = link.context.spanIdentity else { return }
        let kept = Link(identity: identity, attributes: link.attributes)
        state.withLock { if !$0.ended { $0.addLink(kept) } }
    }

    /// `addLink` to a span of ours without attributes, without looking its ids up in a context (the job links every
    /// record's span to the job's).
    func addLink(to identity: SpanIdentity) {
        state.withLock { if !$0.ended { $0.addLink(Link(identity: identity, attributes: [:])) } }
    }

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let endNanos = instant().nanosecondsSinceEpoch
        let keep = sink.keepsSpans
        // Encoded under the lock, from the state in place (no copy of it), straight into the sink's storage; nothing
        // when the sink throws spans away.
        state.withLock { state in
            guard !state.ended else { return }
            state.ended = true
            if keep { sink.consume { encode(&state, endNanos: endNanos, into: &$0) } }
        }
    }

    // MARK: - OTLP

    /// What `end` would send now, in both forms: for the tests, which compare the two.
    func snapshot(endNanos: UInt64) -> (encoded: [UInt8], reference: OTLPSpan) {
        let current = state.withLock { $0 }
        var copy = current
        return (ProtobufWriter.encode(capacity: 320) { encode(&copy, endNanos: endNanos, into: &$0) }, otlpSpan(current, endNanos: endNanos))
    }

    /// The `Span` message, written straight from the recorded state: the same bytes as encoding `otlpSpan`.
    /// `inout` only so that the state is not copied (it is not changed).
    private func encode(_ state: inout State, endNanos: UInt64, into writer: inout ProtobufWriter) {
        writer.traceID(1, identity.traceID)
        writer.spanID(2, identity.spanID)
        if let parentSpanID { writer.spanID(4, parentSpanID) }
        if !state.name.isEmpty { writer.string(5, state.name) }
        writer.int(6, Int64(Self.kind(kind).rawValue))
        if startNanos != 0 { writer.fixed64(7, startNanos) }
        let end = max(endNanos, startNanos)
        if end != 0 { writer.fixed64(8, end) }
        // Through pointers: `for pair in` and the subscripts copied every attribute out of the array.
        state.attributes.withUnsafeBufferPointer { attributes in
            guard let first = attributes.baseAddress else { return }
            for index in attributes.indices { RecordedAttribute.encode(first + index, 9, into: &writer) }
        }
        for event in state.events {
            writer.message(11) { writer in
                if event.nanosecondsSinceEpoch != 0 { writer.fixed64(1, event.nanosecondsSinceEpoch) }
                if !event.name.isEmpty { writer.string(2, event.name) }
                OTLPProtobufEncoder.attributes(3, event.attributes, into: &writer)
            }
        }
        state.forEachLink { link in
            writer.message(13) { writer in
                writer.traceID(1, link.identity.traceID)
                writer.spanID(2, link.identity.spanID)
                OTLPProtobufEncoder.attributes(4, link.attributes, into: &writer)
            }
        }
        if let status = state.status {
            writer.message(15) { writer in
                if let message = status.message, !message.isEmpty { writer.string(2, message) }
                writer.int(3, Int64((status.code == .ok ? OTLPStatus.StatusCode.ok : .error).rawValue))
            }
        }
    }

    /// The same span as a swift-protobuf message (the reference form of `encoded`).
    private func otlpSpan(_ state: State, endNanos: UInt64) -> OTLPSpan {
        var span = OTLPSpan()
        span.traceID = identity.traceID.data
        span.spanID = identity.spanID.data
        if let parentSpanID { span.parentSpanID = parentSpanID.data }
        span.name = state.name
        span.kind = Self.kind(kind)
        span.startTimeUnixNano = startNanos
        span.endTimeUnixNano = max(endNanos, startNanos)
        span.attributes = state.attributes.map { OTLPAttributes.keyValue($0.key, OTLPAttributes.value($0.value)) }
        span.events = state.events.map { event in
            var otlp = OTLPSpan.Event()
            otlp.name = event.name
            otlp.timeUnixNano = event.nanosecondsSinceEpoch
            otlp.attributes = OTLPAttributes.keyValues(event.attributes)
            return otlp
        }
        var links: [Link] = []
        state.forEachLink { links.append($0) }
        span.links = links.map { link in
            var otlp = OTLPSpan.Link()
            otlp.traceID = link.identity.traceID.data
            otlp.spanID = link.identity.spanID.data
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
