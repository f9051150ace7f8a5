import Shared

/// A whole collector configuration, decoded and validated (upstream schema, reference §9–10).
struct CollectorConfig: Sendable {
    var receivers: [ComponentID: ComponentConfig] = [:]
    var processors: [ComponentID: ComponentConfig] = [:]
    var exporters: [ComponentID: ComponentConfig] = [:]
    var extensions: [ComponentID: ComponentConfig] = [:]
    var service = ServiceConfig()

    func components(_ kind: ComponentKind) -> [ComponentID: ComponentConfig] {
        switch kind {
        case .receiver: receivers
        case .processor: processors
        case .exporter: exporters
        case .extension: extensions
        }
    }

    /// Decodes and validates `root`, collecting every problem.
    static func decode(_ root: ConfigValue) throws(ConfigErrors) -> CollectorConfig {
        if root == .null { throw ConfigErrors(errors: [ConfigError("empty configuration file")]) }
        var top = ConfigReader(root, path: [])
        var config = CollectorConfig()
        var errors: [ConfigError] = []
        for kind in ComponentKind.allCases {
            var section = top.child(kind.configKey)
            var decoded: [ComponentID: ComponentConfig] = [:]
            for key in section.keys {
                let id: ComponentID
                do { id = try ComponentID(parsing: key) } catch {
                    errors.append(ConfigError(error.message, path: [kind.configKey]))
                    _ = section.raw(key)
                    continue
                }
                guard let factory = ComponentFactory.lookup(kind, id.type) else {
                    _ = section.raw(key)
                    let valid = ComponentFactory.types(of: kind).joined(separator: " ")
                    errors.append(ConfigError(
                        "unknown type: \"\(id.type)\" for id: \"\(id)\" (valid values: [\(valid)])", path: [kind.configKey]))
                    continue
                }
                var reader = section.child(key)
                decoded[id] = factory.decode(&reader)
                errors += reader.finishErrors()
            }
            errors += section.finishErrors()
            switch kind {
            case .receiver: config.receivers = decoded
            case .processor: config.processors = decoded
            case .exporter: config.exporters = decoded
            case .extension: config.extensions = decoded
            }
        }
        var service = top.child("service")
        config.service = ServiceConfig.decode(&service)
        errors += service.finishErrors()
        errors += top.finishErrors()
        if errors.isEmpty { errors += config.validateReferences() }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return config
    }

    /// Cross-references between `service` and the component sections, with upstream's wording.
    private func validateReferences() -> [ConfigError] {
        var errors: [ConfigError] = []
        if receivers.isEmpty { errors.append(ConfigError("no receiver configuration specified in config")) }
        if exporters.isEmpty { errors.append(ConfigError("no exporter configuration specified in config")) }
        if service.pipelines.isEmpty { errors.append(ConfigError("service must have at least one pipeline")) }
        for id in service.extensions where extensions[id] == nil {
            errors.append(ConfigError("references extension \"\(id)\" which is not configured", path: ["service", "extensions"]))
        }
        for (id, receiver) in receivers.sorted(by: { $0.key < $1.key }) {
            guard case .otlpReceiver(let otlp) = receiver, let authenticator = otlp.http?.authenticator else { continue }
            let path = ["receivers", id.description, "protocols", "http", "auth", "authenticator"]
            guard case .bearerTokenAuth? = extensions[authenticator] else {
                errors.append(ConfigError("failed to resolve authenticator \"\(authenticator)\": authenticator not found", path: path))
                continue
            }
            if !service.extensions.contains(authenticator) {
                errors.append(ConfigError(
                    "failed to resolve authenticator \"\(authenticator)\": not enabled in service::extensions", path: path))
            }
        }
        for (pipelineID, pipeline) in service.pipelines.sorted(by: { $0.key < $1.key }) {
            let path = ["service", "pipelines", pipelineID.description]
            if pipeline.receivers.isEmpty { errors.append(ConfigError("must have at least one receiver", path: path)) }
            if pipeline.exporters.isEmpty { errors.append(ConfigError("must have at least one exporter", path: path)) }
            var seen: Set<ComponentID> = []
            for id in pipeline.processors where !seen.insert(id).inserted {
                errors.append(ConfigError("references processor \"\(id)\" multiple times", path: path))
            }
            let references: [(ComponentKind, [ComponentID])] = [
                (.receiver, pipeline.receivers), (.processor, pipeline.processors), (.exporter, pipeline.exporters),
            ]
            for (kind, ids) in references {
                for id in ids {
                    guard components(kind)[id] != nil else {
                        errors.append(ConfigError("references \(kind.rawValue) \"\(id)\" which is not configured", path: path))
                        continue
                    }
                    if let factory = ComponentFactory.lookup(kind, id.type), factory.stability[pipelineID.signal] == nil {
                        errors.append(ConfigError(
                            "\(kind.rawValue) \"\(id)\" does not support \(pipelineID.signal.rawValue)", path: path))
                    }
                }
            }
        }
        return errors
    }
}

/// `service:` — pipelines, extensions and the collector's own logging.
struct ServiceConfig: Sendable {
    struct Pipeline: Sendable, Equatable {
        var receivers: [ComponentID] = []
        var processors: [ComponentID] = []
        var exporters: [ComponentID] = []
    }

    enum LogLevel: String, Sendable, CaseIterable {
        case debug, info, warn, error
    }

    var pipelines: [PipelineID: Pipeline] = [:]
    var extensions: [ComponentID] = []
    /// `telemetry.logs.level`, default info (`dpanic`, `panic`, `fatal` read as error).
    var logLevel: LogLevel = .info
    /// `telemetry.metrics`: the collector's own metrics (default: level normal on `localhost:8888`).
    var metrics = TelemetryMetricsConfig()

    static func decode(_ reader: inout ConfigReader) -> ServiceConfig {
        var service = ServiceConfig()
        service.extensions = ids(reader.stringList("extensions") ?? [], path: reader.path + ["extensions"], into: &reader)
        var pipelines = reader.child("pipelines")
        for key in pipelines.keys {
            var pipelineReader = pipelines.child(key)
            do {
                let id = try PipelineID(parsing: key)
                var pipeline = Pipeline()
                let path = pipelineReader.path
                pipeline.receivers = ids(pipelineReader.stringList("receivers") ?? [], path: path + ["receivers"], into: &pipelineReader)
                pipeline.processors = ids(pipelineReader.stringList("processors") ?? [], path: path + ["processors"], into: &pipelineReader)
                pipeline.exporters = ids(pipelineReader.stringList("exporters") ?? [], path: path + ["exporters"], into: &pipelineReader)
                service.pipelines[id] = pipeline
            } catch {
                pipelineReader.fail(nil, error.message)
            }
            pipelines.absorb(pipelineReader)
        }
        reader.absorb(pipelines)
        var telemetry = reader.child("telemetry")
        var logs = telemetry.child("logs")
        if let level = logs.string("level") {
            switch level.lowercased() {
            case "debug": service.logLevel = .debug
            case "info": service.logLevel = .info
            case "warn": service.logLevel = .warn
            case "error", "dpanic", "panic", "fatal": service.logLevel = .error
            default: logs.fail("level", "unrecognized level: \"\(level)\"")
            }
        }
        if let encoding = logs.string("encoding"), encoding != "console" {
            logs.fail("encoding", "only the console encoding is served by this collector")
        }
        telemetry.absorb(logs)
        var metrics = telemetry.child("metrics")
        service.metrics = TelemetryMetricsConfig.decode(&metrics)
        telemetry.absorb(metrics)
        reader.absorb(telemetry)
        return service
    }

    private static func ids(_ texts: [String], path: [String], into reader: inout ConfigReader) -> [ComponentID] {
        texts.compactMap { text in
            do { return try ComponentID(parsing: text) } catch {
                reader.fail(nil, "\(path.last ?? ""): \((error as? ConfigError)?.message ?? "\(error)")")
                return nil
            }
        }
    }
}
