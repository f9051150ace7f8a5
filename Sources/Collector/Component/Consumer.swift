import Shared

/// Takes payloads of one signal. Returning means the data was accepted; throwing a
/// `ConsumerError` tells the receiver what to answer.
protocol Consumer<Payload>: Sendable {
    associatedtype Payload: PipelinePayload
    func consume(_ payload: Payload) async throws
}

/// Why a consumer did not accept data: retryable refusals become 503 + `Retry-After`
/// (gRPC code 14), permanent failures 500 (code 13), as upstream's receiver maps them.
enum ConsumerError: Error, CustomStringConvertible, Sendable {
    case refused(String, retryAfter: Duration)
    case permanent(String)

    var description: String {
        switch self {
        case .refused(let message, _), .permanent(let message): message
        }
    }
}

/// Hands every payload to all consumers concurrently (value semantics make cloning unnecessary);
/// one failing consumer does not keep the others from receiving the data.
struct FanOutConsumer<Payload: PipelinePayload>: Consumer {
    let consumers: [any Consumer<Payload>]

    func consume(_ payload: Payload) async throws {
        if consumers.count == 1 {
            try await consumers[0].consume(payload)
            return
        }
        let errors = await withTaskGroup(of: (any Error)?.self) { group in
            for consumer in consumers {
                group.addTask {
                    do {
                        try await consumer.consume(payload)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            var errors: [any Error] = []
            for await case let error? in group { errors.append(error) }
            return errors
        }
        guard let first = errors.first else { return }
        // A retryable refusal wins over a permanent error: the sender may retry.
        throw errors.first(where: { if case .refused? = $0 as? ConsumerError { true } else { false } }) ?? first
    }
}
