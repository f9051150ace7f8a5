import Foundation
import NIOCore
import Shared
import SwiftProtobuf
import Tracing

/// A one-pass protobuf encoder for the requests the runner sends most (traces and logs).
///
/// swift-protobuf sizes every nested message again at each level before writing it (its size pass was most of
/// the runner's export cost); this writes each message once into one buffer (`ProtobufWriter`). Fields go out in
/// field-number order and defaults are skipped exactly as swift-protobuf does, so the bytes are the same as
/// `serializedBytes()` (asserted by the tests). Unknown fields are not written: the runner builds these
/// messages itself and never sets any. Rare parts (a resource's entity refs) go through swift-protobuf.
enum OTLPProtobufEncoder {
    static func encode(_ request: OTLPTracesRequest) -> [UInt8] {
        var writer = ProtobufWriter(capacity: 256 * request.itemCount + 256)
        for resourceSpans in request.resourceSpans {
            writer.message(1) { writer in
                if resourceSpans.hasResource { writer.message(1) { resource(resourceSpans.resource, into: &$0) } }
                for scopeSpans in resourceSpans.scopeSpans {
                    writer.message(2) { writer in
                        if scopeSpans.hasScope { writer.message(1) { scope(scopeSpans.scope, into: &$0) } }
                        for item in scopeSpans.spans { writer.message(2) { span(item, into: &$0) } }
                        if !scopeSpans.schemaURL.isEmpty { writer.string(3, scopeSpans.schemaURL) }
                    }
                }
                if !resourceSpans.schemaURL.isEmpty { writer.string(3, resourceSpans.schemaURL) }
            }
        }
        return writer.bytes
    }

    static func encode(_ request: OTLPLogsRequest) -> [UInt8] {
        var writer = ProtobufWriter(capacity: 256 * request.itemCount + 256)
        for resourceLogs in request.resourceLogs {
            writer.message(1) { writer in
                if resourceLogs.hasResource { writer.message(1) { resource(resourceLogs.resource, into: &$0) } }
                for scopeLogs in resourceLogs.scopeLogs {
                    writer.message(2) { writer in
                        if scopeLogs.hasScope { writer.message(1) { scope(scopeLogs.scope, into: &$0) } }
                        for item in scopeLogs.logRecords { writer.message(2) { logRecord(item, into: &$0) } }
                        if !scopeLogs.schemaURL.isEmpty { writer.string(3, scopeLogs.schemaURL) }
                    }
                }
                if !resourceLogs.schemaURL.isEmpty { writer.string(3, resourceLogs.schemaURL) }
            }
        }
        return writer.bytes
    }

    // MARK: - Requests from encoded items

    /// An `ExportTraceServiceRequest` or `ExportLogsServiceRequest` of one resource and scope around spans or log
    /// records encoded when they ended or were logged: `resource_*` (1) { resource (1), `scope_*` (2) { scope (1),
    /// items (2)… } }, the same shape for both signals. The items are already framed as field 2 (`EncodedItems`), so
    /// every length is known first and written once in its final width; the request is written in the HTTP body's
    /// buffer.
    static func request(resource: TelemetryResource, items: EncodedBatch) -> ByteBuffer {
        let resourceBytes = ProtobufWriter.encode(capacity: 512) { Self.resource(resource.resource, into: &$0) }
        let scopeBytes = ProtobufWriter.encode(capacity: 128) { scope(resource.scope, into: &$0) }
        return items.withBytes { framedItems in
            let scopeLength = ProtobufWriter.fieldSize(1, length: scopeBytes.count) + framedItems.count
            let resourceLength = ProtobufWriter.fieldSize(1, length: resourceBytes.count) + ProtobufWriter.fieldSize(2, length: scopeLength)
            // Slack: the writer reserves a little more than a field needs before writing it.
            return ProtobufWriter.encodeBuffer(capacity: ProtobufWriter.fieldSize(1, length: resourceLength) + 32) { writer in
                writer.lengthPrefix(1, resourceLength)
                writer.raw(1, resourceBytes)
                writer.lengthPrefix(2, scopeLength)
                writer.raw(1, scopeBytes)
                writer.append(framedItems)
            }
        }
    }

    // MARK: - Items

    static func span(_ span: OTLPSpan, into writer: inout ProtobufWriter) {
        if !span.traceID.isEmpty { writer.data(1, span.traceID) }
        if !span.spanID.isEmpty { writer.data(2, span.spanID) }
        if !span.traceState.isEmpty { writer.string(3, span.traceState) }
        if !span.parentSpanID.isEmpty { writer.data(4, span.parentSpanID) }
        if !span.name.isEmpty { writer.string(5, span.name) }
        if span.kind.rawValue != 0 { writer.int(6, Int64(span.kind.rawValue)) }
        if span.startTimeUnixNano != 0 { writer.fixed64(7, span.startTimeUnixNano) }
        if span.endTimeUnixNano != 0 { writer.fixed64(8, span.endTimeUnixNano) }
        keyValues(9, span.attributes, into: &writer)
        if span.droppedAttributesCount != 0 { writer.varint(10, UInt64(span.droppedAttributesCount)) }
        for event in span.events {
            writer.message(11) { writer in
                if event.timeUnixNano != 0 { writer.fixed64(1, event.timeUnixNano) }
                if !event.name.isEmpty { writer.string(2, event.name) }
                keyValues(3, event.attributes, into: &writer)
                if event.droppedAttributesCount != 0 { writer.varint(4, UInt64(event.droppedAttributesCount)) }
            }
        }
        if span.droppedEventsCount != 0 { writer.varint(12, UInt64(span.droppedEventsCount)) }
        for link in span.links {
            writer.message(13) { writer in
                if !link.traceID.isEmpty { writer.data(1, link.traceID) }
                if !link.spanID.isEmpty { writer.data(2, link.spanID) }
                if !link.traceState.isEmpty { writer.string(3, link.traceState) }
                keyValues(4, link.attributes, into: &writer)
                if link.droppedAttributesCount != 0 { writer.varint(5, UInt64(link.droppedAttributesCount)) }
                if link.flags != 0 { writer.fixed32(6, link.flags) }
            }
        }
        if span.droppedLinksCount != 0 { writer.varint(14, UInt64(span.droppedLinksCount)) }
        if span.hasStatus {
            let status = span.status
            writer.message(15) { writer in
                if !status.message.isEmpty { writer.string(2, status.message) }
                if status.code.rawValue != 0 { writer.int(3, Int64(status.code.rawValue)) }
            }
        }
        if span.flags != 0 { writer.fixed32(16, span.flags) }
    }

    static func logRecord(_ record: OTLPLogRecord, into writer: inout ProtobufWriter) {
        if record.timeUnixNano != 0 { writer.fixed64(1, record.timeUnixNano) }
        if record.severityNumber.rawValue != 0 { writer.int(2, Int64(record.severityNumber.rawValue)) }
        if !record.severityText.isEmpty { writer.string(3, record.severityText) }
        if record.hasBody { writer.message(5) { anyValue(record.body, into: &$0) } }
        keyValues(6, record.attributes, into: &writer)
        if record.droppedAttributesCount != 0 { writer.varint(7, UInt64(record.droppedAttributesCount)) }
        if record.flags != 0 { writer.fixed32(8, record.flags) }
        if !record.traceID.isEmpty { writer.data(9, record.traceID) }
        if !record.spanID.isEmpty { writer.data(10, record.spanID) }
        if record.observedTimeUnixNano != 0 { writer.fixed64(11, record.observedTimeUnixNano) }
        if !record.eventName.isEmpty { writer.string(12, record.eventName) }
    }

    // MARK: - Common

    static func resource(_ resource: OTLPResource, into writer: inout ProtobufWriter) {
        keyValues(1, resource.attributes, into: &writer)
        if resource.droppedAttributesCount != 0 { writer.varint(2, UInt64(resource.droppedAttributesCount)) }
        for entity in resource.entityRefs {
            writer.raw(3, (try? entity.serializedBytes()) ?? [])
        }
    }

    static func scope(_ scope: OTLPInstrumentationScope, into writer: inout ProtobufWriter) {
        if !scope.name.isEmpty { writer.string(1, scope.name) }
        if !scope.version.isEmpty { writer.string(2, scope.version) }
        keyValues(3, scope.attributes, into: &writer)
        if scope.droppedAttributesCount != 0 { writer.varint(4, UInt64(scope.droppedAttributesCount)) }
    }

    static func keyValues(_ field: Int, _ keyValues: [OTLPKeyValue], into writer: inout ProtobufWriter) {
        for keyValue in keyValues {
            writer.message(field) { writer in
                if !keyValue.key.isEmpty { writer.string(1, keyValue.key) }
                if keyValue.hasValue { writer.message(2) { anyValue(keyValue.value, into: &$0) } }
                if keyValue.keyStrindex != 0 { writer.int(3, Int64(keyValue.keyStrindex)) }
            }
        }
    }

    /// A swift-distributed-tracing attribute as a `KeyValue`, as `OTLPAttributes.value` converts it (scalars
    /// directly, the rest through that conversion).
    static func attribute(_ field: Int, _ key: String, _ value: SpanAttribute, into writer: inout ProtobufWriter) {
        writer.message(field) { writer in
            if !key.isEmpty { writer.string(1, key) }
            writer.message(2) { writer in
                switch value {
                case .int64(let number): writer.int(3, number)
                case .int32(let number): writer.int(3, Int64(number))
                case .double(let number): writer.double(4, number)
                case .bool(let flag): writer.varint(2, flag ? 1 : 0)
                case .string(let text): writer.string(1, text)
                default: anyValue(OTLPAttributes.value(value), into: &writer)
                }
            }
        }
    }

    /// `SpanAttributes` in their iteration order, as `OTLPAttributes.keyValues`.
    static func attributes(_ field: Int, _ attributes: SpanAttributes, into writer: inout ProtobufWriter) {
        attributes.forEach { key, value in attribute(field, key, value, into: &writer) }
    }

    static func anyValue(_ value: OTLPAnyValue, into writer: inout ProtobufWriter) {
        switch value.value {
        case .stringValue(let text)?: writer.string(1, text)
        case .boolValue(let flag)?: writer.varint(2, flag ? 1 : 0)
        case .intValue(let number)?: writer.int(3, number)
        case .doubleValue(let number)?: writer.double(4, number)
        case .arrayValue(let array)?:
            writer.message(5) { writer in
                for element in array.values { writer.message(1) { anyValue(element, into: &$0) } }
            }
        case .kvlistValue(let list)?:
            writer.message(6) { keyValues(1, list.values, into: &$0) }
        case .bytesValue(let bytes)?: writer.data(7, bytes)
        case .stringValueStrindex(let index)?: writer.int(8, Int64(index))
        case nil: break
        }
    }
}
