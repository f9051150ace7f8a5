import NIOCore
import Shared
import SwiftProtobuf

/// What pipeline components pass on: one signal's data, counted, appendable and splittable at item
/// granularity. `PipelineData` is what the collector runs with; a request message is one too (tests feed
/// components plain requests).
protocol PipelinePayload: Sendable {
    associatedtype Request: SignalPayload
    init()
    init(_ request: Request)
    /// Spans, metric data points or log records.
    var itemCount: Int { get }
    /// `ResourceSpans` / `ResourceMetrics` / `ResourceLogs` entries.
    var resourceCount: Int { get }
    /// `Metric` messages (0 for traces and logs).
    var metricCount: Int { get }
    mutating func append(contentsOf other: Self)
    /// Removes and returns the first `count` items, in order.
    mutating func removeFirst(items count: Int) -> Self
    /// The data as one request message (decoding what is still in wire form).
    func request() throws(OTLPDecodingError) -> Request
}

extension PipelinePayload {
    static var signal: Signal { Request.signal }
}

extension OTLPTracesRequest: PipelinePayload {
    init(_ request: Self) { self = request }
    func request() -> Self { self }
}

extension OTLPMetricsRequest: PipelinePayload {
    init(_ request: Self) { self = request }
    func request() -> Self { self }
}

extension OTLPLogsRequest: PipelinePayload {
    init(_ request: Self) { self = request }
    func request() -> Self { self }
}

/// One signal's data as it travels a pipeline: protobuf request bodies stay the bytes they arrived in
/// (validated and counted by `OTLPWireScanner`) until a component needs messages — the attributes
/// processor, the debug exporter's `normal`/`detailed` dumps, a batch split inside a request. With
/// `memory_limiter` → `batch` → `debug` (basic) nothing is ever decoded: a batch is a list of request
/// buffers (appending moves references, copies no bytes), and memory held is about the bytes received.
///
/// Concatenated protobuf requests are one valid request (their resource lists appended), which is what
/// makes a batch of wire parts equal to upstream's merged batch.
struct PipelineData<Request: SignalPayload>: PipelinePayload {
    enum Part: Sendable {
        /// A protobuf-encoded `Request`, already validated, with what it holds.
        case wire(ByteBuffer, OTLPWireCounts)
        case decoded(Request)

        var counts: OTLPWireCounts {
            switch self {
            case .wire(_, let counts): counts
            case .decoded(let request):
                OTLPWireCounts(resources: request.resourceCount, items: request.itemCount, metrics: request.metricCount)
            }
        }
    }

    private(set) var parts: [Part] = []
    private(set) var counts = OTLPWireCounts()

    init() {}

    init(_ request: Request) {
        append(.decoded(request))
    }

    /// A protobuf body that `OTLPWireScanner` accepted, with the counts it returned.
    init(wire bytes: ByteBuffer, counts: OTLPWireCounts) {
        append(.wire(bytes, counts))
    }

    var itemCount: Int { counts.items }
    var resourceCount: Int { counts.resources }
    var metricCount: Int { counts.metrics }

    mutating func append(contentsOf other: Self) {
        parts.append(contentsOf: other.parts)
        counts.resources += other.counts.resources
        counts.items += other.counts.items
        counts.metrics += other.counts.metrics
    }

    private mutating func append(_ part: Part) {
        let added = part.counts
        parts.append(part)
        counts.resources += added.resources
        counts.items += added.items
        counts.metrics += added.metrics
    }

    /// Whole parts move while they fit; the part that straddles `count` is decoded and split as a message.
    mutating func removeFirst(items count: Int) -> Self {
        var taken = Self()
        var remaining = count
        var kept = parts[...]
        while remaining > 0, let first = kept.first {
            let items = first.counts.items
            if items <= remaining {
                taken.append(first)
                kept = kept.dropFirst()
                remaining -= items
                continue
            }
            // Cannot fail: the bytes were validated when they arrived. Were it ever to, the part would move
            // whole (a batch over `send_batch_max_size`) rather than lose data.
            guard var request = try? Self.decode(first) else {
                taken.append(first)
                kept = kept.dropFirst()
                break
            }
            taken.append(.decoded(request.removeFirst(items: remaining)))
            kept[kept.startIndex] = .decoded(request)
            remaining = 0
        }
        self = Self()
        for part in kept { append(part) }
        return taken
    }

    func request() throws(OTLPDecodingError) -> Request {
        if parts.count == 1 { return try Self.decode(parts[0]) }
        var merged = Request()
        for part in parts { merged.append(contentsOf: try Self.decode(part)) }
        return merged
    }

    private static func decode(_ part: Part) throws(OTLPDecodingError) -> Request {
        switch part {
        case .decoded(let request): request
        case .wire(let bytes, _): try OTLPCodec.decode(Request.self, from: bytes, encoding: .protobuf)
        }
    }
}
