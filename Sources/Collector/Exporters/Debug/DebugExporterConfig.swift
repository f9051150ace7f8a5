/// `exporters: debug:` and the removed `logging:` exporter it stands in for (reference §6.1, §7).
struct DebugExporterConfig: Sendable, Equatable {
    enum Verbosity: String, Sendable {
        case basic, normal, detailed
    }

    /// `verbosity`: basic | normal | detailed (case-insensitive), default basic.
    var verbosity: Verbosity = .basic
    /// `sampling_initial`, default 2: batches printed per second before sampling starts.
    var samplingInitial = 2
    /// `sampling_thereafter`, default 1 (no sampling): then every Nth batch per second.
    var samplingThereafter = 1
    /// `use_internal_logger`, default true: entries framed like the collector's log lines (time, level, fields).
    var useInternalLogger = true
    /// `output_paths` (only with `use_internal_logger: false`), default stdout.
    var outputPaths: [String] = ["stdout"]
    /// Set for the `logging` alias: announces a deprecation warning at start-up.
    var deprecatedAlias = false

    static func decode(_ reader: inout ConfigReader, isLoggingAlias: Bool) -> DebugExporterConfig {
        var config = DebugExporterConfig()
        config.deprecatedAlias = isLoggingAlias
        if let text = reader.string("verbosity") {
            switch text.lowercased() {
            case "basic": config.verbosity = .basic
            case "normal": config.verbosity = .normal
            case "detailed": config.verbosity = .detailed
            case "none": reader.fail("verbosity", "verbosity level \"None\" is not supported")
            default: reader.fail("verbosity", "unknown verbosity level \"\(text)\"")
            }
        }
        if isLoggingAlias {
            // Upstream's mapping: debug → detailed, info → normal, warn and above → basic.
            if let level = reader.string("loglevel") {
                if reader.keys.contains("verbosity") {
                    reader.fail(nil, "'loglevel' and 'verbosity' are incompatible. Use only 'verbosity' instead")
                }
                switch level.lowercased() {
                case "debug": config.verbosity = .detailed
                case "info": config.verbosity = .normal
                case "warn", "error", "dpanic", "panic", "fatal": config.verbosity = .basic
                default: reader.fail("loglevel", "unrecognized level: \"\(level)\"")
                }
            } else if !reader.keys.contains("verbosity") {
                config.verbosity = .normal
            }
        }
        if let n = reader.int("sampling_initial") {
            if n < 0 { reader.fail("sampling_initial", "must not be negative") } else { config.samplingInitial = n }
        }
        if let n = reader.int("sampling_thereafter") {
            if n < 0 { reader.fail("sampling_thereafter", "must not be negative") } else { config.samplingThereafter = n }
        }
        if let flag = reader.bool("use_internal_logger") { config.useInternalLogger = flag }
        if let paths = reader.stringList("output_paths") {
            if config.useInternalLogger {
                reader.fail(nil, "output_paths is not supported when use_internal_logger is true")
            } else if paths.isEmpty {
                reader.fail(nil, "output_paths must not be empty when use_internal_logger is false")
            } else {
                config.outputPaths = paths
            }
        }
        if reader.keys.contains("sending_queue") {
            _ = reader.raw("sending_queue")
            reader.fail("sending_queue", "is not served by this collector yet")
        }
        return config
    }
}
