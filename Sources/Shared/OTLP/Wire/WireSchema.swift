// The part of the OTLP protobuf schema the wire scanner needs: which fields of which messages are nested
// messages, strings, ids or packed numbers. Everything else is only skipped (and so only checked for form).

/// The messages of the three OTLP requests that matter to validation or counting.
enum WireMessage: UInt8, CaseIterable {
    case tracesRequest, resourceSpans, scopeSpans, span, spanEvent, spanLink, status
    case metricsRequest, resourceMetrics, scopeMetrics, metric, gauge, sum, histogram, exponentialHistogram, summary
    case numberDataPoint, histogramDataPoint, exponentialHistogramDataPoint, buckets, summaryDataPoint, exemplar
    case logsRequest, resourceLogs, scopeLogs, logRecord
    case resource, entityRef, keyValue, anyValue, arrayValue, keyValueList, scope, valueAtQuantile
}

/// What a known field needs beyond skipping; every other field (numbers, enums, unknown fields) only
/// has to be well formed.
enum WireField {
    case message(WireMessage)
    case string
    /// A trace id (16 bytes) or span id (8 bytes) in one of the message's id slots.
    case identifier(slot: Int)
    /// `repeated fixed64`, packed or not.
    case packedFixed64
    /// `repeated double`, packed or not: swift-protobuf checks its length differently (no 2 GiB limit; a length
    /// that is not whole values or runs past the end is `truncated`).
    case packedDouble
    /// A `bytes` field that is not an id: only its length is checked (as for every known length-delimited field,
    /// 2 GiB or more is malformed; unknown fields are skipped without that check).
    case bytes
    /// `repeated uint64`, packed or not.
    case packedVarint
    case other

    /// The field's kind as one byte, for `WireFieldTable`: 0 other, 1 string, 2–4 id slots, 5 packed fixed64,
    /// 6 packed varint, 7 packed double, 8 bytes, 0x80 | the message's raw value for a nested message.
    var code: UInt8 {
        switch self {
        case .other: 0
        case .string: 1
        case .identifier(let slot): 2 + UInt8(slot)
        case .packedFixed64: 5
        case .packedVarint: 6
        case .packedDouble: 7
        case .bytes: 8
        case .message(let child): 0x80 | child.rawValue
        }
    }

    /// One switch per message (jump tables): this runs for every field of every message.
    @inline(__always)
    // swiftlint:disable:next cyclomatic_complexity function_body_length
    init(_ number: Int, in message: WireMessage) {
        switch message {
        case .tracesRequest: self = number == 1 ? .message(.resourceSpans) : .other
        case .metricsRequest: self = number == 1 ? .message(.resourceMetrics) : .other
        case .logsRequest: self = number == 1 ? .message(.resourceLogs) : .other
        case .resourceSpans, .resourceMetrics, .resourceLogs:
            switch number {
            case 1: self = .message(.resource)
            case 2: self = .message(message == .resourceSpans ? .scopeSpans : message == .resourceMetrics ? .scopeMetrics : .scopeLogs)
            case 3: self = .string
            default: self = .other
            }
        case .scopeSpans, .scopeMetrics, .scopeLogs:
            switch number {
            case 1: self = .message(.scope)
            case 2: self = .message(message == .scopeSpans ? .span : message == .scopeMetrics ? .metric : .logRecord)
            case 3: self = .string
            default: self = .other
            }
        case .span:
            switch number {
            case 1: self = .identifier(slot: 0)
            case 2: self = .identifier(slot: 1)
            case 3, 5: self = .string
            case 4: self = .identifier(slot: 2)
            case 9: self = .message(.keyValue)
            case 11: self = .message(.spanEvent)
            case 13: self = .message(.spanLink)
            case 15: self = .message(.status)
            default: self = .other
            }
        case .spanEvent:
            switch number {
            case 2: self = .string
            case 3: self = .message(.keyValue)
            default: self = .other
            }
        case .spanLink:
            switch number {
            case 1: self = .identifier(slot: 0)
            case 2: self = .identifier(slot: 1)
            case 3: self = .string
            case 4: self = .message(.keyValue)
            default: self = .other
            }
        case .status: self = number == 2 ? .string : .other
        case .metric:
            switch number {
            case 1, 2, 3: self = .string
            case 5: self = .message(.gauge)
            case 7: self = .message(.sum)
            case 9: self = .message(.histogram)
            case 10: self = .message(.exponentialHistogram)
            case 11: self = .message(.summary)
            case 12: self = .message(.keyValue)
            default: self = .other
            }
        case .gauge, .sum: self = number == 1 ? .message(.numberDataPoint) : .other
        case .histogram: self = number == 1 ? .message(.histogramDataPoint) : .other
        case .exponentialHistogram: self = number == 1 ? .message(.exponentialHistogramDataPoint) : .other
        case .summary: self = number == 1 ? .message(.summaryDataPoint) : .other
        case .numberDataPoint:
            switch number {
            case 5: self = .message(.exemplar)
            case 7: self = .message(.keyValue)
            default: self = .other
            }
        case .histogramDataPoint:
            switch number {
            case 6: self = .packedFixed64
            case 7: self = .packedDouble
            case 8: self = .message(.exemplar)
            case 9: self = .message(.keyValue)
            default: self = .other
            }
        case .exponentialHistogramDataPoint:
            switch number {
            case 1: self = .message(.keyValue)
            case 8, 9: self = .message(.buckets)
            case 11: self = .message(.exemplar)
            default: self = .other
            }
        case .buckets: self = number == 2 ? .packedVarint : .other
        case .summaryDataPoint:
            switch number {
            case 6: self = .message(.valueAtQuantile)
            case 7: self = .message(.keyValue)
            default: self = .other
            }
        case .valueAtQuantile: self = .other
        case .exemplar:
            switch number {
            case 4: self = .identifier(slot: 1)
            case 5: self = .identifier(slot: 0)
            case 7: self = .message(.keyValue)
            default: self = .other
            }
        case .logRecord:
            switch number {
            case 3, 12: self = .string
            case 5: self = .message(.anyValue)
            case 6: self = .message(.keyValue)
            case 9: self = .identifier(slot: 0)
            case 10: self = .identifier(slot: 1)
            default: self = .other
            }
        case .resource:
            switch number {
            case 1: self = .message(.keyValue)
            case 3: self = .message(.entityRef)
            default: self = .other
            }
        case .entityRef: self = (1...4).contains(number) ? .string : .other
        case .keyValue:
            switch number {
            case 1: self = .string
            case 2: self = .message(.anyValue)
            default: self = .other
            }
        case .anyValue:
            switch number {
            case 1: self = .string
            case 5: self = .message(.arrayValue)
            case 6: self = .message(.keyValueList)
            case 7: self = .bytes
            default: self = .other
            }
        case .arrayValue: self = number == 1 ? .message(.anyValue) : .other
        case .keyValueList: self = number == 1 ? .message(.keyValue) : .other
        case .scope:
            switch number {
            case 1, 2: self = .string
            case 3: self = .message(.keyValue)
            default: self = .other
            }
        }
    }
}

/// `WireField(number, in: message).code` for every message and field numbers 0–15 (every field the walk
/// does more than skip is below 16), computed once from that switch: the walk's per-field lookup is one load.
enum WireFieldTable {
    static let width = 16
    nonisolated(unsafe) static let codes: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: WireMessage.allCases.count * width)
        for message in WireMessage.allCases {
            for number in 0..<width {
                table[Int(message.rawValue) * width + number] = WireField(number, in: message).code
            }
        }
        return UnsafePointer(table)
    }()
}
