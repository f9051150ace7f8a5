#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Shared

/// The debug exporter's `verbosity: detailed` text: every field of every item, one per line, byte for byte as
/// upstream's `otlptext` marshalers (`exporter/debugexporter/internal/otlptext/`) print it.
///
/// Indexes (`#N`) count from 0 within their parent. An empty request gives an empty string.
enum DetailedTextFormatter {
    /// The text for a traces request.
    static func format(_ resourceSpans: [OTLPResourceSpans]) -> String {
        var spanCount = 0
        for resource in resourceSpans {
            for scope in resource.scopeSpans { spanCount += scope.spans.count }
        }
        var out = DebugTextBuffer(capacity: resourceSpans.count * 512 + spanCount * 640)
        for (resourceIndex, resource) in resourceSpans.enumerated() {
            out.line("ResourceSpans #", resourceIndex)
            out.line("Resource SchemaURL: ", resource.schemaURL)
            writeResource(resource.resource, to: &out)
            for (scopeIndex, scope) in resource.scopeSpans.enumerated() {
                out.line("ScopeSpans #", scopeIndex)
                out.line("ScopeSpans SchemaURL: ", scope.schemaURL)
                writeScope(scope.scope, to: &out)
                for (spanIndex, span) in scope.spans.enumerated() {
                    writeSpan(span, index: spanIndex, to: &out)
                }
            }
        }
        return out.text
    }

    /// The text for a logs request (upstream says `ResourceLog`, singular).
    static func format(_ resourceLogs: [OTLPResourceLogs]) -> String {
        var recordCount = 0
        for resource in resourceLogs {
            for scope in resource.scopeLogs { recordCount += scope.logRecords.count }
        }
        var out = DebugTextBuffer(capacity: resourceLogs.count * 512 + recordCount * 400)
        for (resourceIndex, resource) in resourceLogs.enumerated() {
            out.line("ResourceLog #", resourceIndex)
            out.line("Resource SchemaURL: ", resource.schemaURL)
            writeResource(resource.resource, to: &out)
            for (scopeIndex, scope) in resource.scopeLogs.enumerated() {
                out.line("ScopeLogs #", scopeIndex)
                out.line("ScopeLogs SchemaURL: ", scope.schemaURL)
                writeScope(scope.scope, to: &out)
                for (recordIndex, record) in scope.logRecords.enumerated() {
                    writeLogRecord(record, index: recordIndex, to: &out)
                }
            }
        }
        return out.text
    }

    // MARK: - Resource, scope, attributes

    /// Resource attributes, then the resource's entity refs.
    static func writeResource(_ resource: OTLPResource, to out: inout DebugTextBuffer) {
        writeAttributes(resource.attributes, header: "Resource attributes", to: &out)
        guard !resource.entityRefs.isEmpty else { return }
        out.line("Resource entity refs:")
        for (index, entityRef) in resource.entityRefs.enumerated() {
            out.write("     -> Entity ref #")
            out.write(index)
            out.line(":")
            out.line("          -> Type: ", entityRef.type)
            if !entityRef.schemaURL.isEmpty {
                out.line("          -> Schema URL: ", entityRef.schemaURL)
            }
            writeKeyList(entityRef.idKeys, header: "          -> ID keys:", to: &out)
            writeKeyList(entityRef.descriptionKeys, header: "          -> Description keys:", to: &out)
        }
    }

    private static func writeKeyList(_ keys: [String], header: String, to out: inout DebugTextBuffer) {
        guard !keys.isEmpty else { return }
        out.line(header)
        for key in keys { out.line("               -> ", key) }
    }

    /// `InstrumentationScope <name> <version>` (always, so empty parts leave trailing spaces), then its attributes.
    static func writeScope(_ scope: OTLPInstrumentationScope, to out: inout DebugTextBuffer) {
        out.write("InstrumentationScope ")
        out.write(scope.name)
        out.line(" ", scope.version)
        writeAttributes(scope.attributes, header: "InstrumentationScope attributes", to: &out)
    }

    /// Upstream's `logAttributes`: nothing for an empty list, else `<header>:` and one `     -> key: Type(value)` per
    /// attribute in received order. A header that itself starts with `     ->` nests its entries five spaces deeper;
    /// since the colon is appended regardless, `"     -> Attributes:"` prints as `     -> Attributes::` (kept).
    static func writeAttributes(_ attributes: [OTLPKeyValue], header: String, to out: inout DebugTextBuffer) {
        guard !attributes.isEmpty else { return }
        out.line(header, ":")
        let prefix = header.hasPrefix("     ->") ? "          -> " : "     -> "
        for attribute in attributes {
            out.write(prefix)
            out.write(attribute.key)
            out.write(": ")
            out.writeTypedValue(attribute.value)
            out.newline()
        }
    }

    // MARK: - Spans

    /// Span fields are `    ` plus the label left-aligned in 15 columns (`%-15s`), then `: ` and the value.
    private static func writeSpan(_ span: OTLPSpan, index: Int, to out: inout DebugTextBuffer) {
        out.line("Span #", index)
        out.line("    Trace ID       : ", id: span.traceID)
        out.line("    Parent ID      : ", id: span.parentSpanID)
        out.line("    ID             : ", id: span.spanID)
        out.line("    Name           : ", span.name)
        out.line("    Kind           : ", DebugTextNames.spanKind(span.kind))
        if !span.traceState.isEmpty {
            out.line("    TraceState     : ", span.traceState)
        }
        out.line("    Start time     : ", timestamp: span.startTimeUnixNano)
        out.line("    End time       : ", timestamp: span.endTimeUnixNano)
        out.line("    Status code    : ", DebugTextNames.statusCode(span.status.code))
        out.line("    Status message : ", span.status.message)
        out.line("    DroppedAttributesCount: ", span.droppedAttributesCount)
        out.line("    DroppedEventsCount: ", span.droppedEventsCount)
        out.line("    DroppedLinksCount: ", span.droppedLinksCount)
        writeAttributes(span.attributes, header: "Attributes", to: &out)
        if !span.events.isEmpty {
            out.line("Events:")
            for (eventIndex, event) in span.events.enumerated() {
                out.line("SpanEvent #", eventIndex)
                out.line("     -> Name: ", event.name)
                out.line("     -> Timestamp: ", timestamp: event.timeUnixNano)
                out.line("     -> DroppedAttributesCount: ", event.droppedAttributesCount)
                writeAttributes(event.attributes, header: "     -> Attributes:", to: &out)
            }
        }
        if !span.links.isEmpty {
            out.line("Links:")
            for (linkIndex, link) in span.links.enumerated() {
                out.line("SpanLink #", linkIndex)
                out.line("     -> Trace ID: ", id: link.traceID)
                out.line("     -> ID: ", id: link.spanID)
                out.line("     -> TraceState: ", link.traceState)
                out.line("     -> DroppedAttributesCount: ", link.droppedAttributesCount)
                writeAttributes(link.attributes, header: "     -> Attributes:", to: &out)
            }
        }
    }

    // MARK: - Log records

    private static func writeLogRecord(_ record: OTLPLogRecord, index: Int, to out: inout DebugTextBuffer) {
        out.line("LogRecord #", index)
        out.line("ObservedTimestamp: ", timestamp: record.observedTimeUnixNano)
        out.line("Timestamp: ", timestamp: record.timeUnixNano)
        out.line("SeverityText: ", record.severityText)
        out.write("SeverityNumber: ")
        out.write(DebugTextNames.severity(record.severityNumber))
        out.write("(")
        out.write(record.severityNumber.rawValue)
        out.line(")")
        if !record.eventName.isEmpty {
            out.line("EventName: ", record.eventName)
        }
        out.write("Body: ")
        out.writeTypedValue(record.body)
        out.newline()
        writeAttributes(record.attributes, header: "Attributes", to: &out)
        out.line("Trace ID: ", id: record.traceID)
        out.line("Span ID: ", id: record.spanID)
        out.line("Flags: ", record.flags)
    }
}
