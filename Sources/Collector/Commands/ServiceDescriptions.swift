// ServiceLifecycle names every service of the group `"\(service)"` (for its log metadata), once, at start-up.
// Without a description that prints the whole value by reflection — configs, loggers, closures — which was a
// quarter of the collector's start-up CPU (measured with perf). These short names are what it prints instead.

extension OTLPHTTPReceiver: CustomStringConvertible {
    var description: String { "receiver \(id) (http)" }
}

#if GRPC
extension OTLPGRPCReceiver: CustomStringConvertible {
    var description: String { "receiver \(id) (grpc)" }
}
#endif

extension BatchProcessor: CustomStringConvertible {
    nonisolated var description: String { "processor \(id)" }
}

extension MemoryLimiter: CustomStringConvertible {
    var description: String { "processor \(id)" }
}

extension HealthCheckExtension: CustomStringConvertible {
    var description: String { "extension \(id)" }
}

extension BearerTokenAuthenticator: CustomStringConvertible {
    var description: String { "extension \(id)" }
}

extension MetricsServer: CustomStringConvertible {
    var description: String { "telemetry metrics server \(endpoint)" }
}

extension ShutdownAnnouncer: CustomStringConvertible {
    var description: String { "shutdown announcer" }
}
