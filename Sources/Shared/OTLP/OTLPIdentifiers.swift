package import Foundation

/// Which OTLP identifier a byte string is: trace ids are 16 bytes, span ids 8 (an empty one means "none").
package enum OTLPIdentifierKind: Sendable {
    case traceID
    case spanID

    package var byteCount: Int { self == .traceID ? 16 : 8 }
    package var name: String { self == .traceID ? "trace id" : "span id" }
}

/// An identifier of the wrong length, found while decoding a request.
package struct OTLPInvalidIdentifierError: Error, CustomStringConvertible, Sendable {
    package var kind: OTLPIdentifierKind
    package var field: String
    package var detail: String

    package var description: String { "invalid \(kind.name) in \(field): \(detail)" }
}

/// Lowercase hex, the way OTLP/JSON and the debug exporter print ids.
package enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex digits (either case); nil when the text is not an even run of hex digits.
    package static func decode(_ text: some Collection<UInt8>) -> Data? {
        guard text.count % 2 == 0 else { return nil }
        var out = Data(capacity: text.count / 2)
        var high: UInt8? = nil
        for char in text {
            let nibble: UInt8
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = char - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = char - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }
}

// MARK: - Visiting every identifier of a request

/// Requests whose trace and span ids can be visited (and rewritten) in place.
package protocol OTLPIdentifierCarrying {
    /// Calls `body` once for every trace/span id field in the message, with a field path for messages.
    mutating func forEachIdentifier(_ body: (inout Data, OTLPIdentifierKind, String) throws -> Void) throws
}

extension OTLPIdentifierCarrying {
    /// Throws when an id is neither empty nor of its exact length, as upstream's decoder does (→ 400).
    /// `mutating` only so the walk runs in place: on a uniquely held request nothing is copied.
    package mutating func validateIdentifiers() throws {
        try forEachIdentifier { id, kind, field in
            if !id.isEmpty && id.count != kind.byteCount {
                throw OTLPInvalidIdentifierError(
                    kind: kind, field: field, detail: "length \(id.count) bytes, want \(kind.byteCount)")
            }
        }
    }
}

extension OTLPTracesRequest: OTLPIdentifierCarrying {
    package mutating func forEachIdentifier(_ body: (inout Data, OTLPIdentifierKind, String) throws -> Void) throws {
        for r in resourceSpans.indices {
            for s in resourceSpans[r].scopeSpans.indices {
                for i in resourceSpans[r].scopeSpans[s].spans.indices {
                    try resourceSpans[r].scopeSpans[s].spans[i].forEachIdentifier(body)
                }
            }
        }
    }
}

extension OTLPSpan {
    mutating func forEachIdentifier(_ body: (inout Data, OTLPIdentifierKind, String) throws -> Void) throws {
        try body(&traceID, .traceID, "span.traceId")
        try body(&spanID, .spanID, "span.spanId")
        try body(&parentSpanID, .spanID, "span.parentSpanId")
        for l in links.indices {
            try body(&links[l].traceID, .traceID, "span.links.traceId")
            try body(&links[l].spanID, .spanID, "span.links.spanId")
        }
    }
}

extension OTLPLogsRequest: OTLPIdentifierCarrying {
    package mutating func forEachIdentifier(_ body: (inout Data, OTLPIdentifierKind, String) throws -> Void) throws {
        for r in resourceLogs.indices {
            for s in resourceLogs[r].scopeLogs.indices {
                for i in resourceLogs[r].scopeLogs[s].logRecords.indices {
                    try body(&resourceLogs[r].scopeLogs[s].logRecords[i].traceID, .traceID, "logRecord.traceId")
                    try body(&resourceLogs[r].scopeLogs[s].logRecords[i].spanID, .spanID, "logRecord.spanId")
                }
            }
        }
    }
}

extension OTLPMetricsRequest: OTLPIdentifierCarrying {
    package mutating func forEachIdentifier(_ body: (inout Data, OTLPIdentifierKind, String) throws -> Void) throws {
        for r in resourceMetrics.indices {
            for s in resourceMetrics[r].scopeMetrics.indices {
                for m in resourceMetrics[r].scopeMetrics[s].metrics.indices {
                    try resourceMetrics[r].scopeMetrics[s].metrics[m].forEachExemplarIdentifier(body)
                }
            }
        }
    }
}

extension OTLPMetric {
    mutating func forEachExemplarIdentifier(_ body: (inout Data, OTLPIdentifierKind, String) throws -> Void) throws {
        func visit(_ exemplars: inout [OTLPExemplar]) throws {
            for e in exemplars.indices {
                try body(&exemplars[e].traceID, .traceID, "exemplar.traceId")
                try body(&exemplars[e].spanID, .spanID, "exemplar.spanId")
            }
        }
        switch data {
        case .gauge(var g)?:
            for p in g.dataPoints.indices where !g.dataPoints[p].exemplars.isEmpty { try visit(&g.dataPoints[p].exemplars) }
            data = .gauge(g)
        case .sum(var s)?:
            for p in s.dataPoints.indices where !s.dataPoints[p].exemplars.isEmpty { try visit(&s.dataPoints[p].exemplars) }
            data = .sum(s)
        case .histogram(var h)?:
            for p in h.dataPoints.indices where !h.dataPoints[p].exemplars.isEmpty { try visit(&h.dataPoints[p].exemplars) }
            data = .histogram(h)
        case .exponentialHistogram(var h)?:
            for p in h.dataPoints.indices where !h.dataPoints[p].exemplars.isEmpty { try visit(&h.dataPoints[p].exemplars) }
            data = .exponentialHistogram(h)
        case .summary?, nil:
            break
        }
    }
}
