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
        if let invalid = scanner.firstInvalidIdentifier { throw OTLPDecodingError(description: invalid.error.description) }
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

/// Per-message bookkeeping: the last length of each id field, and for a metric the kind and data points of
/// its `data` oneof (a second value of the same kind merges into it, another kind replaces it). Plain values
/// only, so that the walk neither retains nor releases anything.
struct MessageState {
    var identifierLengths: (Int, Int, Int) = (0, 0, 0)
    var dataKind: WireMessage? = nil
    var dataPoints = 0
    /// The first bad id below this message (links of a span, exemplars of a metric's data), in
    /// `validateIdentifiers()`' order; a metric's replaced `data` takes its problems with it.
    var problem: IdentifierProblem? = nil
}

/// An id of the wrong length: which field, and how long it was.
struct IdentifierProblem {
    enum Field: UInt8 {
        case spanTraceID, spanSpanID, spanParentSpanID, linkTraceID, linkSpanID, logTraceID, logSpanID
        case exemplarTraceID, exemplarSpanID

        var kind: OTLPIdentifierKind {
            switch self {
            case .spanTraceID, .linkTraceID, .logTraceID, .exemplarTraceID: .traceID
            default: .spanID
            }
        }

        /// The field path `validateIdentifiers()` reports.
        var path: String {
            switch self {
            case .spanTraceID: "span.traceId"
            case .spanSpanID: "span.spanId"
            case .spanParentSpanID: "span.parentSpanId"
            case .linkTraceID: "span.links.traceId"
            case .linkSpanID: "span.links.spanId"
            case .logTraceID: "logRecord.traceId"
            case .logSpanID: "logRecord.spanId"
            case .exemplarTraceID: "exemplar.traceId"
            case .exemplarSpanID: "exemplar.spanId"
            }
        }
    }

    var field: Field
    var length: Int

    var error: OTLPInvalidIdentifierError {
        let kind = field.kind
        return OTLPInvalidIdentifierError(kind: kind, field: field.path, detail: "length \(length) bytes, want \(kind.byteCount)")
    }
}

struct Scanner {
    let base: UnsafeRawPointer
    var counts = OTLPWireCounts()
    /// The first bad id in `validateIdentifiers()`' order; reported only when the bytes decode.
    var firstInvalidIdentifier: IdentifierProblem? = nil

    private let fieldCodes = WireFieldTable.codes

    init(base: UnsafeRawPointer) { self.base = base }

    @inline(__always)
    private func fieldCode(_ number: Int, in message: WireMessage) -> UInt8 {
        number < WireFieldTable.width
            ? fieldCodes[Int(message.rawValue) &* WireFieldTable.width &+ number] : WireField(number, in: message).code
    }

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
            let code = wireType == 2 ? fieldCode(number, in: message) : 0  // every special field is length-delimited
            switch code {
            case 0:
                try skip(wireType: wireType, number: number, at: &offset, end: end, depth: depth)
            case 1:
                let body = try lengthDelimited(at: &offset, end: end)
                try validateUTF8(body)
            case 2:
                state.identifierLengths.0 = try lengthDelimited(at: &offset, end: end).count
            case 3:
                state.identifierLengths.1 = try lengthDelimited(at: &offset, end: end).count
            case 4:
                state.identifierLengths.2 = try lengthDelimited(at: &offset, end: end).count
            case 5:
                let body = try lengthDelimited(at: &offset, end: end)
                guard body.count % 8 == 0 else { throw .truncated }
            case 6:
                let body = try lengthDelimited(at: &offset, end: end)
                var inner = body.lowerBound
                while inner < body.upperBound { _ = try varint(at: &inner, end: body.upperBound) }
            case 7:
                let length = try varint(at: &offset, end: end)
                guard length % 8 == 0, length <= UInt64(end - offset) else { throw .truncated }
                offset += Int(length)
            case 8:
                _ = try lengthDelimited(at: &offset, end: end)
            default:
                let body = try lengthDelimited(at: &offset, end: end)
                try enter(WireMessage(rawValue: code & 0x7f)!, body: body, parent: message, depth: depth + 1, parentState: &state)
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
                check(lengths.0, .spanTraceID) ?? check(lengths.1, .spanSpanID)
                    ?? check(lengths.2, .spanParentSpanID) ?? state.problem)
        case .spanLink:
            let lengths = state.identifierLengths
            parentState.problem = parentState.problem
                ?? check(lengths.0, .linkTraceID) ?? check(lengths.1, .linkSpanID)
        case .logRecord:
            counts.items += 1
            let lengths = state.identifierLengths
            recordInvalid(check(lengths.0, .logTraceID) ?? check(lengths.1, .logSpanID))
        case .exemplar:
            let lengths = state.identifierLengths
            parentState.problem = parentState.problem
                ?? check(lengths.0, .exemplarTraceID) ?? check(lengths.1, .exemplarSpanID)
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

    @inline(__always)
    private mutating func recordInvalid(_ problem: IdentifierProblem?) {
        if firstInvalidIdentifier == nil, let problem { firstInvalidIdentifier = problem }
    }

    @inline(__always)
    private func check(_ length: Int, _ field: IdentifierProblem.Field) -> IdentifierProblem? {
        guard length != 0, length != field.kind.byteCount else { return nil }
        return IdentifierProblem(field: field, length: length)
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
