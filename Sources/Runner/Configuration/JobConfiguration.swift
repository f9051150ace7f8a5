import Shared

/// A job setting that cannot be used: the job stops before reading anything and exits 2 with this line.
struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The environment variable or flag at fault (`MAX_FAILED_RATIO`, `--input`).
    var setting: String
    var message: String

    var description: String { "invalid setting \(setting): \(message)" }
}

/// How record spans relate to the run's `batch_job` span.
enum TraceMode: String, Sendable, CaseIterable {
    /// Each record starts its own trace and links to `batch_job` (the lab's "unique trace id per record").
    case perRecord = "per-record"
    /// Record spans are children of `batch_job`: one trace for the run.
    case job
}

/// Which per-record `Record processed` lines are written (`LOG_RECORDS`).
enum LogRecordsMode: String, Sendable, CaseIterable {
    case all
    case failed
    case none
}

/// Where records come from.
enum InputSelection: Sendable, Equatable {
    /// The lab's two built-in records (no input given).
    case lab
    /// A JSON Lines, JSON array or CSV file (`INPUT_PATH`, `--input`).
    case file(String)
    /// N deterministic synthetic records (`GENERATE_RECORDS`, `--generate`).
    case generated(Int)
}

/// One shard of an Indexed Job: records whose position modulo `count` is `index`.
struct Shard: Sendable, Equatable {
    var index: Int
    var count: Int

    func contains(position: Int) -> Bool { position % count == index }
}

/// The cost model's rates (`COST_PER_*`, `ENABLE_COST_TRACKING`).
struct CostSettings: Sendable, Equatable {
    /// `ENABLE_COST_TRACKING`, default true; false removes cost fields from spans, logs and metrics.
    var enabled = true
    /// `COST_PER_CPU_HOUR`, USD per core-hour, default 0.04.
    var cpuPerHour = 0.04
    /// `COST_PER_MEMORY_GB_HOUR`, USD per GiB-hour, default 0.005.
    var memoryGBPerHour = 0.005
    /// `COST_PER_RECORD_TARGET`, USD; nil = no target.
    var targetPerRecord: Double? = nil
}

/// The container's resources as Kubernetes quantities (`CPU_LIMIT`, `CPU_REQUEST`, `MEMORY_LIMIT`, `MEMORY_REQUEST`);
/// nil falls back to the cgroup limits, then the host.
struct ResourceSettings: Sendable, Equatable {
    var cpuLimit: KubernetesQuantity? = nil
    var cpuRequest: KubernetesQuantity? = nil
    var memoryLimit: KubernetesQuantity? = nil
    var memoryRequest: KubernetesQuantity? = nil
}

/// Everything the job itself needs (not telemetry). Invalid values are `ConfigurationError`s.
struct JobConfiguration: Sendable, Equatable {
    var input: InputSelection = .lab
    /// `OUTPUT_PATH`: predictions as JSON Lines, written atomically; suffixed with the shard index.
    var outputPath: String? = nil
    /// `MODEL_PATH`: JSON `{weights, bias, activation}`; nil = the lab's sum of features.
    var modelPath: String? = nil
    /// `MAX_FAILED_RATIO` in 0...1, default 0: any failed record fails the job.
    var maxFailedRatio = 0.0
    var logRecords = LogRecordsMode.all
    /// `PROGRESS_INTERVAL` in seconds (default 10) between progress lines when stderr is not a terminal.
    var progressInterval = Duration.seconds(10)
    var traceMode = TraceMode.perRecord
    /// From `JOB_COMPLETION_INDEX` and `JOB_COMPLETIONS`; nil when not sharded.
    var shard: Shard? = nil
    var costs = CostSettings()
    var resources = ResourceSettings()
    /// `BATCH_SIZE` (the lab's, default 1000): records between yields of the job loop.
    var batchSize = 1000
    /// `SIMULATED_LATENCY_MS` (default 0): extra time each record's model call takes, to demo the lab's
    /// 45 ms records or to make a test job last.
    var simulatedLatency = Duration.zero

    /// The output path of this shard: `predictions.jsonl` → `predictions-2.jsonl` for shard 2.
    var shardOutputPath: String? {
        guard let outputPath else { return nil }
        guard let shard else { return outputPath }
        let slash = outputPath.lastIndex(of: "/").map { outputPath.index(after: $0) } ?? outputPath.startIndex
        if let dot = outputPath[slash...].lastIndex(of: "."), dot != slash {
            return "\(outputPath[..<dot])-\(shard.index)\(outputPath[dot...])"
        }
        return "\(outputPath)-\(shard.index)"
    }
}

// MARK: - Reading from the environment

extension JobConfiguration {
    /// Reads the job settings; the first invalid one throws, naming it.
    init(environment env: EnvironmentReader) throws(ConfigurationError) {
        self.init()
        if let path = env.string("INPUT_PATH") { input = .file(path) }
        if let text = env.string("GENERATE_RECORDS") {
            guard let count = Int(text), count >= 0 else {
                throw ConfigurationError(setting: "GENERATE_RECORDS", message: "\"\(text)\" is not a non-negative integer")
            }
            if case .file = input {
                throw ConfigurationError(setting: "GENERATE_RECORDS", message: "cannot be combined with INPUT_PATH")
            }
            input = .generated(count)
        }
        outputPath = env.string("OUTPUT_PATH")
        modelPath = env.string("MODEL_PATH")
        maxFailedRatio = try Self.number(env, "MAX_FAILED_RATIO", default: 0, in: 0...1)
        if let text = env.string("LOG_RECORDS") {
            guard let mode = LogRecordsMode(rawValue: text.lowercased()) else {
                throw ConfigurationError(setting: "LOG_RECORDS", message: "\"\(text)\" is not one of all, failed, none")
            }
            logRecords = mode
        }
        if let text = env.string("PROGRESS_INTERVAL") {
            if let seconds = Double(text), seconds > 0, seconds.isFinite {
                progressInterval = .milliseconds(Int64(seconds * 1000))
            } else if let duration = GoDuration.parse(text), duration > .zero {
                progressInterval = duration
            } else {
                throw ConfigurationError(setting: "PROGRESS_INTERVAL", message: "\"\(text)\" is not a positive number of seconds")
            }
        }
        if let text = env.string("TRACE_MODE") {
            guard let mode = TraceMode(rawValue: text.lowercased()) else {
                throw ConfigurationError(setting: "TRACE_MODE", message: "\"\(text)\" is not one of per-record, job")
            }
            traceMode = mode
        }
        shard = try Self.shard(env)
        costs.enabled = try Self.flag(env, "ENABLE_COST_TRACKING", default: true)
        costs.cpuPerHour = try Self.number(env, "COST_PER_CPU_HOUR", default: 0.04, in: 0...Double.greatestFiniteMagnitude)
        costs.memoryGBPerHour = try Self.number(env, "COST_PER_MEMORY_GB_HOUR", default: 0.005, in: 0...Double.greatestFiniteMagnitude)
        if env.string("COST_PER_RECORD_TARGET") != nil {
            costs.targetPerRecord = try Self.number(env, "COST_PER_RECORD_TARGET", default: 0, in: 0...Double.greatestFiniteMagnitude)
        }
        resources.cpuLimit = try Self.quantity(env, "CPU_LIMIT")
        resources.cpuRequest = try Self.quantity(env, "CPU_REQUEST")
        resources.memoryLimit = try Self.quantity(env, "MEMORY_LIMIT")
        resources.memoryRequest = try Self.quantity(env, "MEMORY_REQUEST")
        let latencyMs = try Self.number(env, "SIMULATED_LATENCY_MS", default: 0, in: 0...3_600_000)
        simulatedLatency = .microseconds(Int64(latencyMs * 1000))
        if let text = env.string("BATCH_SIZE") {
            guard let size = Int(text), size > 0 else {
                throw ConfigurationError(setting: "BATCH_SIZE", message: "\"\(text)\" is not a positive integer")
            }
            batchSize = size
        }
    }

    private static func number(_ env: EnvironmentReader, _ key: String, default value: Double, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = env.string(key) else { return value }
        guard let number = Double(text), number.isFinite, range.contains(number) else {
            let bounds = range.upperBound == .greatestFiniteMagnitude ? "a non-negative number" : "a number in \(range.lowerBound)...\(range.upperBound)"
            throw ConfigurationError(setting: key, message: "\"\(text)\" is not \(bounds)")
        }
        return number
    }

    private static func flag(_ env: EnvironmentReader, _ key: String, default value: Bool) throws(ConfigurationError) -> Bool {
        guard let text = env.string(key) else { return value }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw ConfigurationError(setting: key, message: "\"\(text)\" is not true or false")
        }
    }

    private static func quantity(_ env: EnvironmentReader, _ key: String) throws(ConfigurationError) -> KubernetesQuantity? {
        guard let text = env.string(key) else { return nil }
        guard let quantity = KubernetesQuantity(text), quantity.value > 0 else {
            throw ConfigurationError(setting: key, message: "\"\(text)\" is not a positive Kubernetes quantity (250m, 0.5, 512Mi, 1G)")
        }
        return quantity
    }

    private static func shard(_ env: EnvironmentReader) throws(ConfigurationError) -> Shard? {
        let indexText = env.string("JOB_COMPLETION_INDEX")
        let countText = env.string("JOB_COMPLETIONS")
        guard indexText != nil || countText != nil else { return nil }
        guard let countText else {
            throw ConfigurationError(setting: "JOB_COMPLETIONS", message: "must be set with JOB_COMPLETION_INDEX (the Job's completions)")
        }
        guard let count = Int(countText), count > 0 else {
            throw ConfigurationError(setting: "JOB_COMPLETIONS", message: "\"\(countText)\" is not a positive integer")
        }
        guard let indexText else {
            // A count of 1 without an index is a plain Job: nothing to shard.
            guard count == 1 else {
                throw ConfigurationError(setting: "JOB_COMPLETION_INDEX", message: "must be set when JOB_COMPLETIONS is \(count)")
            }
            return nil
        }
        guard let index = Int(indexText), (0..<count).contains(index) else {
            throw ConfigurationError(setting: "JOB_COMPLETION_INDEX", message: "\"\(indexText)\" is not an integer in 0..<\(count)")
        }
        return Shard(index: index, count: count)
    }
}
