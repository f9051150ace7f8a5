// Micro-benchmarks of the OTLP hot paths that live in Shared (issue 7): `bench/micro.sh`, or
// `swift package --disable-sandbox benchmark --target OTLPBenchmarks`. See bench/README.md.
//
// Every benchmark works on the same request as bench/payloads.py: one ExportTraceServiceRequest, one resource
// with 4 attributes, one scope, 100 spans × 8 attributes (int, double, string, bool). The values come from a
// fixed-seed generator, so every run measures the same bytes (the shape of payloads.py's request, not its bytes:
// Python's generator is not reproduced here).
import Benchmark
import NIOCore
import Shared
import SwiftProtobuf

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The collector's default `max_request_body_size` (20 MiB), the limit its receivers inflate gzip bodies with.
let inflateLimit = 20 * 1024 * 1024

let benchmarks: @Sendable () -> Void = {
    // Short runs: the whole suite (8 benchmarks) takes well under a minute on a shared 2-core machine.
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .cpuTotal, .mallocCountTotal],
        // Nanoseconds everywhere: the tables print integers, and the scanner's time is a few microseconds.
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 20_000
    )

    let inputs = Inputs.make()

    // 1. What the collector did before the wire scanner, and still does for JSON bodies and for the
    //    exporters that need the message: swift-protobuf decode plus the id length checks.
    Benchmark("Decode protobuf (OTLPCodec, 100 spans)") { benchmark in
        for _ in benchmark.scaledIterations {
            do {
                blackHole(try OTLPCodec.decode(OTLPTracesRequest.self, from: inputs.protobuf, encoding: .protobuf))
            } catch {
                benchmark.error("\(error)")
            }
        }
    }

    // 2. The collector's path for protobuf bodies (HTTP and gRPC): validate and count in place, no message.
    Benchmark("Scan protobuf (OTLPWireScanner, 100 spans)") { benchmark in
        for _ in benchmark.scaledIterations {
            do {
                let counts = try inputs.protobuf.withUnsafeReadableBytes { bytes throws(OTLPDecodingError) in
                    try OTLPWireScanner.scan(.traces, bytes: bytes)
                }
                blackHole(counts)
            } catch {
                benchmark.error("\(error)")
            }
        }
    }

    // 3. OTLP/JSON bodies (hex ids): always decoded into the message.
    Benchmark("Decode OTLP/JSON (OTLPCodec, 100 spans)") { benchmark in
        for _ in benchmark.scaledIterations {
            do {
                blackHole(try OTLPCodec.decode(OTLPTracesRequest.self, from: inputs.json, encoding: .json))
            } catch {
                benchmark.error("\(error)")
            }
        }
    }

    // 4. `Content-Encoding: gzip` bodies are inflated (with the body limit) before the scan or the decode.
    Benchmark("Inflate gzip (ContentEncoding.gzip.decode)") { benchmark in
        for _ in benchmark.scaledIterations {
            do {
                blackHole(try ContentEncoding.gzip.decode(inputs.gzip, limit: inflateLimit))
            } catch {
                benchmark.error("\(error)")
            }
        }
    }

    // 5. The runner's export of one batch: swift-protobuf encoding of the request...
    Benchmark("Encode protobuf (serializedBytes, 100 spans)") { benchmark in
        for _ in benchmark.scaledIterations {
            do {
                let bytes: [UInt8] = try inputs.request.serializedBytes()
                blackHole(bytes)
            } catch {
                benchmark.error("\(error)")
            }
        }
    }

    // ...and what its OTLP/HTTP exporter calls: the same, copied into the ByteBuffer it sends.
    Benchmark("Encode protobuf (OTLPCodec.encode, 100 spans)") { benchmark in
        for _ in benchmark.scaledIterations {
            do {
                blackHole(try OTLPCodec.encode(inputs.request, as: .protobuf))
            } catch {
                benchmark.error("\(error)")
            }
        }
    }

    // 6. Hex ids (OTLP/JSON, the runner's span ids, the debug exporter): one 16-byte trace id.
    //    1,000 encodings per measured iteration; the table shows the time of one (scaled, `*`).
    Benchmark(
        "Hex.encode (16-byte trace id)",
        configuration: .init(scalingFactor: .kilo)
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Hex.encode(inputs.traceID))
        }
    }
}

/// The request and its encodings, built once per process and checked before anything is measured.
struct Inputs: Sendable {
    var request: OTLPTracesRequest
    /// The request as protobuf, OTLP/JSON and gzip'd protobuf, as the receivers get them.
    var protobuf: ByteBuffer
    var json: ByteBuffer
    var gzip: ByteBuffer
    var traceID: [UInt8]

    static let spans = 100
    static let attributesPerSpan = 8

    static func make() -> Inputs {
        let request = makeRequest()
        do {
            let protobuf = try OTLPCodec.encode(request, as: .protobuf)
            let json = try OTLPCodec.encode(request, as: .json)
            let gzip = try ContentEncoding.gzip.encode(protobuf)
            let traceID = [UInt8](request.resourceSpans[0].scopeSpans[0].spans[1].traceID)
            let inputs = Inputs(request: request, protobuf: protobuf, json: json, gzip: gzip, traceID: traceID)
            try inputs.check()
            return inputs
        } catch {
            fatalError("OTLPBenchmarks: cannot build the inputs: \(error)")
        }
    }

    /// Every benchmarked path must give back the same request (or its counts), or the numbers compare different work.
    func check() throws {
        let spans = request.resourceSpans[0].scopeSpans[0].spans
        precondition(spans.count == Self.spans && spans.allSatisfy { $0.attributes.count == Self.attributesPerSpan })
        let fromProtobuf = try OTLPCodec.decode(OTLPTracesRequest.self, from: protobuf, encoding: .protobuf)
        let fromJSON = try OTLPCodec.decode(OTLPTracesRequest.self, from: json, encoding: .json)
        let inflated = try ContentEncoding.gzip.decode(gzip, limit: inflateLimit)
        precondition(fromProtobuf == request && fromJSON == request && inflated == protobuf)
        let counts = try protobuf.withUnsafeReadableBytes { bytes throws(OTLPDecodingError) in
            try OTLPWireScanner.scan(.traces, bytes: bytes)
        }
        precondition(counts == OTLPWireCounts(resources: 1, items: Self.spans))
        precondition(Hex.encode(traceID).count == 32)
    }

    /// bench/payloads.py's `build_request`, with a SplitMix64 generator (seed 7) instead of Python's.
    static func makeRequest() -> OTLPTracesRequest {
        var rng = SplitMix64(seed: 7)
        let baseNanos: UInt64 = 1_767_225_600_000_000_000  // 2026-01-01T00:00:00Z

        var scope = OTLPScopeSpans()
        scope.scope.name = "batch-inference"
        scope.scope.version = "1.0.0"
        let traceID = rng.bytes(16)
        let rootID = rng.bytes(8)
        for i in 0..<spans {
            var span = OTLPSpan()
            span.traceID = i % 10 == 0 ? rng.bytes(16) : traceID
            span.spanID = i == 0 ? rootID : rng.bytes(8)
            if i > 0 { span.parentSpanID = rootID }
            span.name = i > 0 ? "process_record" : "batch_job"
            span.kind = .internal
            let start = baseNanos + UInt64(i) * 1_000_000 + rng.next(below: 1000)
            span.startTimeUnixNano = start
            span.endTimeUnixNano = start + 45_000_000 + rng.next(below: 1_000_000)
            let latency = (rng.uniform(1, 50) * 1000).rounded() / 1000
            span.attributes = [
                keyValue("record.id", .intValue(Int64(i + 1))),
                keyValue("prediction", .doubleValue((rng.uniform(0, 40) * 10_000).rounded() / 10_000)),
                keyValue("latency_ms", .doubleValue(latency)),
                keyValue("cost_usd", .doubleValue(latency * 6.25e-9)),
                keyValue("cpu_cores", .doubleValue(0.5)),
                keyValue("memory_mb", .doubleValue(512.0)),
                keyValue("model.name", .stringValue("linear-sum")),
                keyValue("record.ok", .boolValue(true)),
            ]
            span.status.code = .ok
            scope.spans.append(span)
        }

        var resourceSpans = OTLPResourceSpans()
        resourceSpans.resource.attributes = [
            keyValue("service.name", .stringValue("batch-inference-service")),
            keyValue("k8s.namespace.name", .stringValue("ai-ml-lab-3-1-paid")),
            keyValue("k8s.pod.name", .stringValue("batch-inference-paid-once-x7k2p")),
            keyValue("host.name", .stringValue("kind-worker")),
        ]
        resourceSpans.scopeSpans = [scope]
        var request = OTLPTracesRequest()
        request.resourceSpans = [resourceSpans]
        return request
    }

    static func keyValue(_ key: String, _ value: OTLPAnyValue.OneOf_Value) -> OTLPKeyValue {
        var keyValue = OTLPKeyValue()
        keyValue.key = key
        keyValue.value.value = value
        return keyValue
    }
}

/// A small deterministic generator (SplitMix64): the same ids and values on every run and machine.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: UInt64) -> UInt64 { next() % bound }

    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(next() >> 11) / Double(1 << 53)
    }

    mutating func bytes(_ count: Int) -> Data {
        Data((0..<count).map { _ in UInt8(truncatingIfNeeded: next()) })
    }
}
