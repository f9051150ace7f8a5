/// What a protobuf export request holds, counted without decoding it: the numbers the pipeline needs
/// (batch sizes, the debug exporter's summary line, the collector's own metrics).
package struct OTLPWireCounts: Sendable, Equatable, CustomStringConvertible {
    /// `ResourceSpans` / `ResourceMetrics` / `ResourceLogs` entries.
    package var resources = 0
    /// Spans, metric data points or log records.
    package var items = 0
    /// `Metric` messages (metrics only; the debug exporter's `"metrics"` field).
    package var metrics = 0

    package init(resources: Int = 0, items: Int = 0, metrics: Int = 0) {
        self.resources = resources
        self.items = items
        self.metrics = metrics
    }

    package var description: String { "resources: \(resources), items: \(items), metrics: \(metrics)" }
}

/// Validates an OTLP protobuf export request in one pass over its bytes and counts what it holds, without
/// building a message: no allocation, no string copies.
///
/// It accepts exactly what swift-protobuf's decoder followed by `validateIdentifiers()` accepts, and fails
/// with the same description (`failed to unmarshal proto request: truncated`, `invalid trace id in
/// span.traceId: …`): wire types and varints, lengths, groups in unknown fields, UTF-8 of every `string`
/// field, packed numeric fields, the nesting limit (100, swift-protobuf's default), and the length of every
/// trace/span id (the last occurrence of a field wins, as when decoding). Fields a message does not know,
/// or known fields with another wire type, are skipped as swift-protobuf keeps them: as unknown fields.
/// `Tests/SharedTests/OTLPWireScannerTests.swift` holds the two to the same answers on the fixtures and
/// on thousands of mutated requests; the fuzz target does the same.
package enum OTLPWireScanner {
    /// swift-protobuf's default `messageDepthLimit`: the top-level message counts as one.
    static let depthLimit = 100

    /// Scans a request of `signal`; throws what decoding it would throw.
    package static func scan(_ signal: Signal, bytes: UnsafeRawBufferPointer) throws(OTLPDecodingError) -> OTLPWireCounts {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return OTLPWireCounts() }
        var scanner = Scanner(base: base)
        let root: WireMessage =
            switch signal {
            case .traces: .tracesRequest
            case .metrics: .metricsRequest
            case .logs: .logsRequest
            }
        do {
            var state = MessageState()
            try scanner.scanMessage(root, from: 0, to: bytes.count, depth: 1, state: &state)
        } catch {
            throw OTLPDecodingError(description: "failed to unmarshal proto request: \(error.rawValue)")
        }
        if let invalid = scanner.firstInvalidIdentifier { throw OTLPDecodingError(description: invalid.description) }
        return scanner.counts
    }
}

/// swift-protobuf's `BinaryDecodingError` cases the scanner can meet (their names are the error text).
enum WireError: String, Error {
    case truncated
    case malformedProtobuf
    case invalidUTF8
    case messageDepthLimit
}

/// The messages of the three OTLP requests that matter to validation or counting.
enum WireMessage {
    case tracesRequest, resourceSpans, scopeSpans, span, spanEvent, spanLink, status
    case metricsRequest, resourceMetrics, scopeMetrics, metric, gauge, sum, histogram, exponentialHistogram, summary
    case numberDataPoint, histogramDataPoint, exponentialHistogramDataPoint, buckets, summaryDataPoint, exemplar
    case logsRequest, resourceLogs, scopeLogs, logRecord
    case resource, entityRef, keyValue, anyValue, arrayValue, keyValueList, scope
}

/// What a known field needs beyond skipping; every other field (numbers, enums, unknown fields) only
/// has to be well formed.
enum WireField {
    case message(WireMessage)
    case string
    /// A trace id (16 bytes) or span id (8 bytes) in one of the message's id slots.
    case identifier(slot: Int)
    /// `repeated fixed64` / `repeated double`, packed or not.
    case packedFixed64
    /// `repeated uint64`, packed or not.
    case packedVarint
    case other

    // swiftlint:disable:next cyclomatic_complexity
    init(_ number: Int, in message: WireMessage) {
        self =
            switch (message, number) {
            case (.tracesRequest, 1): .message(.resourceSpans)
            case (.resourceSpans, 1), (.resourceMetrics, 1), (.resourceLogs, 1): .message(.resource)
            case (.resourceSpans, 2): .message(.scopeSpans)
            case (.resourceSpans, 3), (.resourceMetrics, 3), (.resourceLogs, 3): .string
            case (.scopeSpans, 1), (.scopeMetrics, 1), (.scopeLogs, 1): .message(.scope)
            case (.scopeSpans, 2): .message(.span)
            case (.scopeSpans, 3), (.scopeMetrics, 3), (.scopeLogs, 3): .string
            case (.span, 1): .identifier(slot: 0)
            case (.span, 2): .identifier(slot: 1)
            case (.span, 4): .identifier(slot: 2)
            case (.span, 3), (.span, 5): .string
            case (.span, 9), (.spanEvent, 3), (.spanLink, 4): .message(.keyValue)
            case (.span, 11): .message(.spanEvent)
            case (.span, 13): .message(.spanLink)
            case (.span, 15): .message(.status)
            case (.spanEvent, 2), (.spanLink, 3), (.status, 2): .string
            case (.spanLink, 1): .identifier(slot: 0)
            case (.spanLink, 2): .identifier(slot: 1)

            case (.metricsRequest, 1): .message(.resourceMetrics)
            case (.resourceMetrics, 2): .message(.scopeMetrics)
            case (.scopeMetrics, 2): .message(.metric)
            case (.metric, 1), (.metric, 2), (.metric, 3): .string
            case (.metric, 5): .message(.gauge)
            case (.metric, 7): .message(.sum)
            case (.metric, 9): .message(.histogram)
            case (.metric, 10): .message(.exponentialHistogram)
            case (.metric, 11): .message(.summary)
            case (.metric, 12): .message(.keyValue)
            case (.gauge, 1), (.sum, 1): .message(.numberDataPoint)
            case (.histogram, 1): .message(.histogramDataPoint)
            case (.exponentialHistogram, 1): .message(.exponentialHistogramDataPoint)
            case (.summary, 1): .message(.summaryDataPoint)
            case (.numberDataPoint, 7), (.histogramDataPoint, 9), (.exponentialHistogramDataPoint, 1),
                (.summaryDataPoint, 7), (.exemplar, 7):
                .message(.keyValue)
            case (.numberDataPoint, 5), (.histogramDataPoint, 8), (.exponentialHistogramDataPoint, 11): .message(.exemplar)
            case (.histogramDataPoint, 6), (.histogramDataPoint, 7): .packedFixed64
            case (.exponentialHistogramDataPoint, 8), (.exponentialHistogramDataPoint, 9): .message(.buckets)
            case (.buckets, 2): .packedVarint
            case (.exemplar, 5): .identifier(slot: 0)
            case (.exemplar, 4): .identifier(slot: 1)

            case (.logsRequest, 1): .message(.resourceLogs)
            case (.resourceLogs, 2): .message(.scopeLogs)
            case (.scopeLogs, 2): .message(.logRecord)
            case (.logRecord, 3), (.logRecord, 12): .string
            case (.logRecord, 5): .message(.anyValue)
            case (.logRecord, 6): .message(.keyValue)
            case (.logRecord, 9): .identifier(slot: 0)
            case (.logRecord, 10): .identifier(slot: 1)

            case (.resource, 1), (.scope, 3), (.keyValueList, 1): .message(.keyValue)
            case (.resource, 3): .message(.entityRef)
            case (.entityRef, 1), (.entityRef, 2), (.entityRef, 3), (.entityRef, 4): .string
            case (.keyValue, 1), (.anyValue, 1), (.scope, 1), (.scope, 2): .string
            case (.keyValue, 2), (.arrayValue, 1): .message(.anyValue)
            case (.anyValue, 5): .message(.arrayValue)
            case (.anyValue, 6): .message(.keyValueList)
            default: .other
            }
    }
}

/// Per-message bookkeeping: the last length of each id field, and for a metric the kind and data points of
/// its `data` oneof (a second value of the same kind merges into it, another kind replaces it).
struct MessageState {
    var identifierLengths: (Int, Int, Int) = (0, 0, 0)
    var dataKind: WireMessage? = nil
    var dataPoints = 0
    /// The first bad id below this message (links of a span, exemplars of a metric's data), in
    /// `validateIdentifiers()`' order; a metric's replaced `data` takes its problems with it.
    var problem: OTLPInvalidIdentifierError? = nil
}

struct Scanner {
    let base: UnsafeRawPointer
    var counts = OTLPWireCounts()
    /// The first bad id in `validateIdentifiers()`' order; reported only when the bytes decode.
    var firstInvalidIdentifier: OTLPInvalidIdentifierError? = nil

    init(base: UnsafeRawPointer) { self.base = base }

    @inline(__always)
    private func byte(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }

    /// swift-protobuf's `decodeVarint`: `truncated` when nothing is left, `malformedProtobuf` when the
    /// bytes end inside it or it runs past 10 bytes.
    @inline(__always)
    private func varint(at offset: inout Int, end: Int) throws(WireError) -> UInt64 {
        guard offset < end else { throw .truncated }
        var c = byte(offset)
        offset += 1
        if c & 0x80 == 0 { return UInt64(c) }
        var value = UInt64(c & 0x7f)
        var shift: UInt64 = 7
        while true {
            guard offset < end, shift <= 63 else { throw .malformedProtobuf }
            c = byte(offset)
            offset += 1
            value |= UInt64(c & 0x7f) &<< shift
            if c & 0x80 == 0 { return value }
            shift &+= 7
        }
    }

    /// swift-protobuf's `nextFieldNumber`: a tag of at most 5 bytes, a valid wire type, field number > 0;
    /// an end-group tag outside a group is malformed.
    @inline(__always)
    private func tag(at offset: inout Int, end: Int) throws(WireError) -> (number: Int, wireType: UInt8) {
        let c0 = byte(offset)
        let wireType = c0 & 7
        guard wireType < 6 else { throw .malformedProtobuf }
        var number: Int
        if c0 & 0x80 == 0 {
            offset += 1
            number = Int(c0) >> 3
        } else {
            number = Int(c0 & 0x7f) >> 3
            var shift = 4
            var i = 1
            while true {
                guard offset + i < end else { throw .malformedProtobuf }
                let c = byte(offset + i)
                if i == 4 {
                    guard c <= 15 else { throw .malformedProtobuf }
                    number |= Int(c) << shift
                    offset += 5
                    break
                }
                number |= Int(c & 0x7f) << shift
                if c & 0x80 == 0 {
                    offset += i + 1
                    break
                }
                shift += 7
                i += 1
            }
        }
        guard number != 0, wireType != 4 else { throw .malformedProtobuf }
        return (number, wireType)
    }

    /// The body of a length-delimited field: `malformedProtobuf` at 2 GiB or more, `truncated` past `end`.
    @inline(__always)
    private func lengthDelimited(at offset: inout Int, end: Int) throws(WireError) -> Range<Int> {
        let length = try varint(at: &offset, end: end)
        guard length < 0x7fff_ffff else { throw .malformedProtobuf }
        guard Int(length) <= end - offset else { throw .truncated }
        let body = offset..<(offset + Int(length))
        offset = body.upperBound
        return body
    }

    /// Skips a field's value as swift-protobuf's `skipOver(tag:)` does (groups nest and count toward the depth).
    private func skip(wireType: UInt8, number: Int, at offset: inout Int, end: Int, depth: Int) throws(WireError) {
        switch wireType {
        case 0:
            _ = try varint(at: &offset, end: end)
        case 1:
            guard end - offset >= 8 else { throw .truncated }
            offset += 8
        case 2:
            let length = try varint(at: &offset, end: end)
            guard length <= UInt64(end - offset) else { throw .truncated }
            offset += Int(length)
        case 3:
            guard depth + 1 <= OTLPWireScanner.depthLimit else { throw .messageDepthLimit }
            while true {
                guard offset < end else { throw .truncated }
                let raw = try varint(at: &offset, end: end)
                guard raw < UInt64(UInt32.max), raw & ~7 != 0, raw & 7 < 6 else { throw .malformedProtobuf }
                let innerType = UInt8(raw & 7)
                let innerNumber = Int(raw >> 3)
                if innerType == 4 {
                    guard innerNumber == number else { throw .malformedProtobuf }
                    return
                }
                try skip(wireType: innerType, number: innerNumber, at: &offset, end: end, depth: depth + 1)
            }
        case 5:
            guard end - offset >= 4 else { throw .truncated }
            offset += 4
        default:
            throw .truncated  // an end-group tag is rejected when read; nothing else reaches here
        }
    }

    /// Walks one message between `start` and `end`, at nesting `depth` (the top level is 1).
    mutating func scanMessage(_ message: WireMessage, from start: Int, to end: Int, depth: Int, state: inout MessageState) throws(WireError) {
        guard depth <= OTLPWireScanner.depthLimit else { throw .messageDepthLimit }
        var offset = start
        while offset < end {
            let (number, wireType) = try tag(at: &offset, end: end)
            let field = WireField(number, in: message)
            switch field {
            case .message(let child) where wireType == 2:
                let body = try lengthDelimited(at: &offset, end: end)
                try enter(child, body: body, parent: message, depth: depth + 1, parentState: &state)
            case .string where wireType == 2:
                let body = try lengthDelimited(at: &offset, end: end)
                try validateUTF8(body)
            case .identifier(let slot) where wireType == 2:
                let body = try lengthDelimited(at: &offset, end: end)
                switch slot {
                case 0: state.identifierLengths.0 = body.count
                case 1: state.identifierLengths.1 = body.count
                default: state.identifierLengths.2 = body.count
                }
            case .packedFixed64 where wireType == 2:
                let body = try lengthDelimited(at: &offset, end: end)
                guard body.count % 8 == 0 else { throw .truncated }
            case .packedVarint where wireType == 2:
                let body = try lengthDelimited(at: &offset, end: end)
                var inner = body.lowerBound
                while inner < body.upperBound { _ = try varint(at: &inner, end: body.upperBound) }
            default:
                try skip(wireType: wireType, number: number, at: &offset, end: end, depth: depth)
            }
        }
    }

    /// Scans a nested message, then does its counting and id checks.
    private mutating func enter(
        _ message: WireMessage, body: Range<Int>, parent: WireMessage, depth: Int, parentState: inout MessageState
    ) throws(WireError) {
        var state = MessageState()
        try scanMessage(message, from: body.lowerBound, to: body.upperBound, depth: depth, state: &state)
        switch message {
        case .resourceSpans, .resourceMetrics, .resourceLogs:
            counts.resources += 1
        case .span:
            counts.items += 1
            let lengths = state.identifierLengths
            recordInvalid(
                check(lengths.0, .traceID, "span.traceId") ?? check(lengths.1, .spanID, "span.spanId")
                    ?? check(lengths.2, .spanID, "span.parentSpanId") ?? state.problem)
        case .spanLink:
            let lengths = state.identifierLengths
            parentState.problem = parentState.problem
                ?? check(lengths.0, .traceID, "span.links.traceId") ?? check(lengths.1, .spanID, "span.links.spanId")
        case .logRecord:
            counts.items += 1
            let lengths = state.identifierLengths
            recordInvalid(check(lengths.0, .traceID, "logRecord.traceId") ?? check(lengths.1, .spanID, "logRecord.spanId"))
        case .exemplar:
            let lengths = state.identifierLengths
            parentState.problem = parentState.problem
                ?? check(lengths.0, .traceID, "exemplar.traceId") ?? check(lengths.1, .spanID, "exemplar.spanId")
        case .metric:
            counts.metrics += 1
            counts.items += state.dataPoints
            recordInvalid(state.problem)
        case .gauge, .sum, .histogram, .exponentialHistogram, .summary:
            // The metric's `data` oneof: the same kind again merges into it, another kind replaces it.
            if parentState.dataKind == message {
                parentState.dataPoints += state.dataPoints
                parentState.problem = parentState.problem ?? state.problem
            } else {
                parentState.dataKind = message
                parentState.dataPoints = state.dataPoints
                parentState.problem = state.problem
            }
        case .numberDataPoint, .histogramDataPoint, .exponentialHistogramDataPoint, .summaryDataPoint:
            parentState.dataPoints += 1
            parentState.problem = parentState.problem ?? state.problem
        default:
            break
        }
    }

    private mutating func recordInvalid(_ problem: OTLPInvalidIdentifierError?) {
        if firstInvalidIdentifier == nil, let problem { firstInvalidIdentifier = problem }
    }

    @inline(__always)
    private func check(_ length: Int, _ kind: OTLPIdentifierKind, _ field: String) -> OTLPInvalidIdentifierError? {
        guard length != 0, length != kind.byteCount else { return nil }
        return OTLPInvalidIdentifierError(kind: kind, field: field, detail: "length \(length) bytes, want \(kind.byteCount)")
    }

    /// ASCII eight bytes at a time; anything else through the standard library's validator.
    @inline(__always)
    private func validateUTF8(_ range: Range<Int>) throws(WireError) {
        var i = range.lowerBound
        let end = range.upperBound
        while end - i >= 8 {
            guard base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 else {
                return try validateUTF8Slow(i..<end)
            }
            i += 8
        }
        while i < end {
            guard byte(i) & 0x80 == 0 else { return try validateUTF8Slow(i..<end) }
            i += 1
        }
    }

    private func validateUTF8Slow(_ range: Range<Int>) throws(WireError) {
        let bytes = UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return
            case .error: throw .invalidUTF8
            }
        }
    }
}
