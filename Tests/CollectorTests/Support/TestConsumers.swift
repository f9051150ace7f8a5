import Shared
import SwiftProtobuf
import Synchronization

@testable import Collector

/// Records every payload it is given, in order.
final class SinkConsumer<Payload: PipelinePayload>: Consumer, Sendable {
    private let received = Mutex<[Payload]>([])

    var payloads: [Payload] { received.withLock { $0 } }
    var itemCount: Int { payloads.reduce(0) { $0 + $1.itemCount } }

    func consume(_ payload: Payload) async throws {
        received.withLock { $0.append(payload) }
    }
}

/// Always fails with the given error.
struct FailingConsumer<Payload: PipelinePayload>: Consumer {
    let error: ConsumerError
    func consume(_ payload: Payload) async throws { throw error }
}

/// A span-only traces request: `count` spans under one resource and scope, named `span<i>`.
func makeTraces(_ count: Int, resource: String = "svc") -> OTLPTracesRequest {
    var scope = OTLPScopeSpans()
    scope.spans = (0..<count).map { i in
        var span = OTLPSpan()
        span.name = "span\(i)"
        return span
    }
    var resourceSpans = OTLPResourceSpans()
    var attribute = OTLPKeyValue()
    attribute.key = "service.name"
    attribute.value.stringValue = resource
    resourceSpans.resource.attributes = [attribute]
    resourceSpans.scopeSpans = [scope]
    var request = OTLPTracesRequest()
    request.resourceSpans = [resourceSpans]
    return request
}
