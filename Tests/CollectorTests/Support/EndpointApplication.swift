import Hummingbird

@testable import Collector

/// A collector endpoint behind Hummingbird's `Application`, for HummingbirdTesting's in-process client. The collector
/// serves its endpoints with HummingbirdCore's server directly (`HTTPServerService`); the end-to-end tests cover that.
struct EndpointResponder<Endpoint: HTTPEndpoint>: HTTPResponder {
    typealias Context = BasicRequestContext
    let endpoint: Endpoint

    func respond(to request: Request, context: Context) async throws -> Response {
        try await endpoint.respond(to: request)
    }
}

func application<Endpoint: HTTPEndpoint>(serving endpoint: Endpoint) -> some ApplicationProtocol {
    Application(responder: EndpointResponder(endpoint: endpoint))
}
