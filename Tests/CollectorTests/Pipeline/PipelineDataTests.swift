import Foundation
import Logging
import NIOCore
import Shared
import SwiftProtobuf
import Testing

@testable import Collector

@Suite("Pipeline data: protobuf bodies travel undecoded")
struct PipelineDataTests {
    typealias Traces = PipelineData<OTLPTracesRequest>

    /// A request as the receiver hands it on: the protobuf bytes and the scanner's counts.
    static func wire(_ request: OTLPTracesRequest) throws -> Traces {
        let bytes = ByteBuffer(bytes: try request.serializedBytes() as [UInt8])
        return Traces(wire: bytes, counts: try OTLPHTTPIngest.scan(OTLPTracesRequest.self, bytes))
    }

    static func names(_ request: OTLPTracesRequest) -> [String] {
        request.resourceSpans.flatMap { $0.scopeSpans.flatMap { $0.spans.map(\.name) } }
    }

    static func isWire(_ part: Traces.Part) -> Bool {
        if case .wire = part { true } else { false }
    }

    @Test("appending keeps the parts as they are, sums the counts, and decodes to the merged request in order")
    func appendAndDecode() throws {
        var data = try Self.wire(makeTraces(3, resource: "a"))
        data.append(contentsOf: Traces(makeTraces(2, resource: "b")))
        data.append(contentsOf: try Self.wire(makeTraces(4, resource: "c")))
        #expect(data.parts.count == 3)
        #expect(Self.isWire(data.parts[0]) && !Self.isWire(data.parts[1]) && Self.isWire(data.parts[2]))
        #expect(data.itemCount == 9)
        #expect(data.resourceCount == 3)

        var expected = makeTraces(3, resource: "a")
        expected.append(contentsOf: makeTraces(2, resource: "b"))
        expected.append(contentsOf: makeTraces(4, resource: "c"))
        #expect(try data.request() == expected)
    }

    @Test("removeFirst moves whole parts undecoded and splits only the part that straddles the count")
    func removeFirst() throws {
        var data = Traces()
        for resource in ["a", "b", "c"] { data.append(contentsOf: try Self.wire(makeTraces(4, resource: resource))) }
        let all = try data.request()

        let first = data.removeFirst(items: 4)
        #expect(first.itemCount == 4 && first.parts.count == 1 && Self.isWire(first.parts[0]))
        #expect(data.itemCount == 8 && data.parts.allSatisfy(Self.isWire))

        let second = data.removeFirst(items: 6)
        #expect(second.itemCount == 6)
        #expect(second.parts.count == 2 && Self.isWire(second.parts[0]) && !Self.isWire(second.parts[1]))
        #expect(data.itemCount == 2 && data.resourceCount == 1)

        // Nothing lost, nothing reordered: the three pieces are the original request.
        var joined = try first.request()
        joined.append(contentsOf: try second.request())
        joined.append(contentsOf: try data.request())
        #expect(Self.names(joined) == Self.names(all))
        #expect(joined.resourceSpans.map(\.resource) == [all.resourceSpans[0].resource, all.resourceSpans[1].resource,
            all.resourceSpans[2].resource, all.resourceSpans[2].resource])
    }

    @Test("the debug exporter: summary from the counts, the dump from the decoded request")
    func debugExporter() throws {
        var data = try Self.wire(makeTraces(2, resource: "a"))
        data.append(contentsOf: try Self.wire(makeTraces(1, resource: "b")))
        var merged = makeTraces(2, resource: "a")
        merged.append(contentsOf: makeTraces(1, resource: "b"))
        var config = DebugExporterConfig()
        config.verbosity = .detailed
        let exporter = DebugExporter<Traces>(id: ComponentID(type: "debug"), config: config, output: .memory())
        let reference = DebugExporter<OTLPTracesRequest>(id: ComponentID(type: "debug"), config: config, output: .memory())
        let time = Date(timeIntervalSince1970: 1_700_000_000)
        let text = try exporter.render(data, time: time)
        #expect(text == (try reference.render(merged, time: time)))
        #expect(text.contains("\"resource spans\": 2, \"spans\": 3}"))
    }

    @Test("the batch processor splits wire data at send_batch_max_size, in order")
    func batchSplitsWireData() async throws {
        let sink = SinkConsumer<Traces>()
        let processor = BatchProcessor<Traces, ContinuousClock>(
            id: ComponentID(type: "batch"), config: BatchConfig(timeout: .seconds(60), sendBatchSize: 5, sendBatchMaxSize: 5),
            next: sink, clock: ContinuousClock(), logger: .init(label: "test"))
        for resource in ["a", "b", "c"] { try await processor.consume(try Self.wire(makeTraces(4, resource: resource))) }
        await processor.flushNow()
        #expect(sink.payloads.map(\.itemCount) == [5, 5, 2])
        let names = try sink.payloads.flatMap { Self.names(try $0.request()) }
        #expect(names == Array(repeating: (0..<4).map { "span\($0)" }, count: 3).flatMap { $0 })
    }
}
