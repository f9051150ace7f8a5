import Shared
import Testing

@testable import Runner

struct ConfigurationTests {
    private func load(_ environment: [String: String], dotEnv: String? = nil) throws(ConfigurationError) -> RunnerConfiguration {
        try RunnerConfiguration.load(environment: environment, workingDirectory: "/work") { path in
            path == "/work/.env" ? dotEnv : nil
        }
    }

    @Test func defaultsAreTheLabs() throws {
        let configuration = try load([:])
        #expect(configuration.job.input == .lab)
        #expect(configuration.job.costs == CostSettings(enabled: true, cpuPerHour: 0.04, memoryGBPerHour: 0.005, targetPerRecord: nil))
        #expect(configuration.job.maxFailedRatio == 0)
        #expect(configuration.job.traceMode == .perRecord)
        #expect(configuration.telemetry.serviceName == "batch-inference-service")
        #expect(configuration.telemetry.traces?.url == "http://localhost:4318/v1/traces")
        #expect(configuration.telemetry.traces?.encoding == .protobuf)
        #expect(configuration.telemetry.traces?.compression == .identity)
        #expect(configuration.telemetry.traces?.timeout == .seconds(10))
        #expect(configuration.telemetry.spanBatch == .spans)
        #expect(configuration.warnings.isEmpty)
    }

    @Test func realEnvironmentOverridesDotEnvAndEmptyMeansUnset() throws {
        let configuration = try load(
            ["COST_PER_CPU_HOUR": "0.08", "COST_PER_MEMORY_GB_HOUR": "", "OTEL_SERVICE_NAME": "svc"],
            dotEnv: DotEnvTests.labText)
        #expect(configuration.job.costs.cpuPerHour == 0.08)
        #expect(configuration.job.costs.memoryGBPerHour == 0.005)  // from .env: the empty real value is unset
        #expect(configuration.job.resources.memoryLimit?.bytes == 536_870_912)
        #expect(configuration.telemetry.serviceName == "svc")
        #expect(configuration.telemetry.metrics?.url == "http://otel-collector-paid:4318/v1/metrics")
        #expect(configuration.envFile == "/work/.env")
        #expect(configuration.telemetry.resourceAttributes.contains { $0 == ("deployment.environment.name", "local") })
    }

    @Test func explicitEnvFileMustExist() {
        #expect(throws: ConfigurationError(setting: "ENV_FILE", message: "cannot read \"/missing.env\"")) {
            try load(["ENV_FILE": "/missing.env"])
        }
    }

    @Test func endpointPathRules() throws {
        let base = try load(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/mycollector/"]).telemetry
        #expect(base.traces?.url == "http://c:4318/mycollector/v1/traces")
        let specific = try load([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:9000",
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://l:9000/custom/path",
        ]).telemetry
        #expect(specific.traces?.url == "http://t:9000/")
        #expect(specific.logs?.url == "http://l:9000/custom/path")
        #expect(specific.metrics?.url == "http://c:4318/v1/metrics")
    }

    @Test func signalSpecificSettingsWin() throws {
        let telemetry = try load([
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_COMPRESSION": "GZIP", "OTEL_EXPORTER_OTLP_TIMEOUT": "2500",
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=a%20b,tenant=t1", "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "tenant=t2",
        ]).telemetry
        #expect(telemetry.traces?.encoding == .json)
        #expect(telemetry.metrics?.encoding == .protobuf)
        #expect(telemetry.traces?.compression == .gzip)
        #expect(telemetry.traces?.timeout == .milliseconds(2500))
        #expect(telemetry.traces?.headers == [.init(name: "api-key", value: "a b"), .init(name: "tenant", value: "t1")])
        #expect(telemetry.logs?.headers == [.init(name: "api-key", value: "a b"), .init(name: "tenant", value: "t2")])
    }

    /// Malformed OTEL_* values warn and fall back to their defaults (OTel spec, env var typing rules).
    @Test func malformedOTelValuesWarnAndUseDefaults() throws {
        let configuration = try load([
            "OTEL_EXPORTER_OTLP_TIMEOUT": "10s", "OTEL_BSP_SCHEDULE_DELAY": "-5", "OTEL_BSP_MAX_QUEUE_SIZE": "lots",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon", "OTEL_SDK_DISABLED": "yes",
        ])
        #expect(configuration.telemetry.traces?.timeout == .seconds(10))
        #expect(configuration.telemetry.spanBatch.scheduleDelay == .seconds(5))
        #expect(configuration.telemetry.spanBatch.maxQueueSize == 2048)
        #expect(configuration.telemetry.traces?.encoding == .protobuf)
        #expect(configuration.telemetry.isEnabled)  // "yes" is not true
        #expect(configuration.warnings.count == 5)
        #expect(configuration.warnings.contains { $0.contains("OTEL_EXPORTER_OTLP_TIMEOUT") })
    }

    @Test func batchSizeIsCappedByQueueSize() throws {
        let telemetry = try load(["OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "512"]).telemetry
        #expect(telemetry.spanBatch.maxExportBatchSize == 100)
    }

    @Test(arguments: [["OTEL_SDK_DISABLED": "TRUE"], ["ENABLE_TELEMETRY": "false"]])
    func telemetryCanBeSwitchedOff(environment: [String: String]) throws {
        #expect(try load(environment).telemetry.isEnabled == false)
    }

    @Test func exporterNoneSwitchesOneSignalOff() throws {
        let telemetry = try load(["OTEL_LOGS_EXPORTER": "none"]).telemetry
        #expect(telemetry.logs == nil)
        #expect(telemetry.traces != nil)
    }

    @Test func resourceAttributes() throws {
        let attributes = try load([
            "OTEL_RESOURCE_ATTRIBUTES": "service.name=ignored,k8s.pod.name=from-attrs,team=ml%2Cops",
            "OTEL_SERVICE_NAME": "svc", "K8S_POD_NAME": "pod-1", "K8S_NAMESPACE_NAME": "ns", "K8S_JOB_NAME": "job",
        ]).telemetry.resourceAttributes
        let map = Dictionary(attributes, uniquingKeysWith: { $1 })
        #expect(map["service.name"] == "svc")
        #expect(map["k8s.pod.name"] == "from-attrs")
        #expect(map["k8s.namespace.name"] == "ns")
        #expect(map["k8s.job.name"] == "job")
        #expect(map["team"] == "ml,ops")
        #expect(attributes.first?.0 == "service.name")
    }

    @Test func port4317WithHTTPGetsAHint() throws {
        let telemetry = try load([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector-paid:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        ]).telemetry
        #expect(telemetry.endpointHint?.contains("4317") == true)
        #expect(telemetry.traces?.grpc == false)
        #expect(try load([:]).telemetry.endpointHint == nil)
    }

    #if GRPC
    /// The lab's `.env` as written (`http://otel-collector-paid:4317`, no protocol): gRPC, to the endpoint as is.
    @Test func labEndpointOn4317IsGRPC() throws {
        let telemetry = try load(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector-paid:4317"]).telemetry
        for config in [telemetry.traces, telemetry.metrics, telemetry.logs] {
            #expect(config?.grpc == true)
            #expect(config?.url == "http://otel-collector-paid:4317")
        }
        #expect(telemetry.endpointHint == nil)
        #expect(telemetry.endpointDescription == "http://otel-collector-paid:4317")
    }

    @Test func grpcProtocolPerSignalAndDefaults() throws {
        let telemetry = try load([
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "collector:9999", "OTEL_EXPORTER_OTLP_METRICS_INSECURE": "true",
        ]).telemetry
        #expect(telemetry.traces == OTLPExporterConfiguration(url: "http://localhost:4317", grpc: true))
        #expect(telemetry.metrics == OTLPExporterConfiguration(url: "collector:9999", grpc: true, insecure: true))
        #expect(telemetry.logs == OTLPExporterConfiguration(url: "http://localhost:4318/v1/logs", encoding: .json))
        #expect(telemetry.endpointDescription == "http://localhost:4317")
    }

    @Test func grpcEndpoints() throws {
        #expect(try OTLPGRPCClient.parse("http://otel-collector-paid:4317", insecure: false) == ("otel-collector-paid", 4317, false))
        #expect(try OTLPGRPCClient.parse("https://c.example:443/ignored", insecure: false) == ("c.example", 443, true))
        #expect(try OTLPGRPCClient.parse("c:4317", insecure: false) == ("c", 4317, true))
        #expect(try OTLPGRPCClient.parse("c:4317", insecure: true) == ("c", 4317, false))
        #expect(try OTLPGRPCClient.parse("http://c", insecure: false) == ("c", 4317, false))
        #expect(try OTLPGRPCClient.parse("http://[::1]:4317", insecure: false) == ("::1", 4317, false))
        #expect(throws: OTLPGRPCClient.EndpointError.self) { try OTLPGRPCClient.parse("ftp://c:1", insecure: false) }
        #expect(throws: OTLPGRPCClient.EndpointError.self) { try OTLPGRPCClient.parse("http://c:notaport", insecure: false) }
    }

    @Test func unknownProtocolWarnsAndUsesHTTPProtobuf() throws {
        let loaded = try load(["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc/web"])
        #expect(loaded.telemetry.traces == OTLPExporterConfiguration(url: "http://localhost:4318/v1/traces"))
    }
    #endif

    /// A bad job setting stops the job with one line naming it.
    @Test(arguments: [
        ("MAX_FAILED_RATIO", "1.5"), ("MAX_FAILED_RATIO", "x"), ("COST_PER_CPU_HOUR", "-1"), ("CPU_LIMIT", "lots"), ("MEMORY_LIMIT", "0"),
        ("GENERATE_RECORDS", "-3"), ("LOG_RECORDS", "some"), ("TRACE_MODE", "trace"), ("PROGRESS_INTERVAL", "0"), ("BATCH_SIZE", "0"),
        ("ENABLE_COST_TRACKING", "yes"), ("JOB_COMPLETIONS", "0"),
    ])
    func invalidJobSettingNamesTheSetting(key: String, value: String) {
        do {
            _ = try load([key: value])
            Issue.record("\(key)=\(value) was accepted")
        } catch {
            #expect(error.setting == key)
            #expect(error.description.hasPrefix("invalid setting \(key): "))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func sharding() throws {
        #expect(try load(["JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "4"]).job.shard == Shard(index: 2, count: 4))
        #expect(try load(["JOB_COMPLETIONS": "1"]).job.shard == nil)
        #expect(throws: ConfigurationError.self) { try load(["JOB_COMPLETION_INDEX": "4", "JOB_COMPLETIONS": "4"]) }
        #expect(throws: ConfigurationError.self) { try load(["JOB_COMPLETION_INDEX": "1"]) }
        #expect(throws: ConfigurationError.self) { try load(["JOB_COMPLETIONS": "3"]) }
        var job = JobConfiguration()
        job.outputPath = "/out/predictions.jsonl"
        job.shard = Shard(index: 2, count: 4)
        #expect(job.shardOutputPath == "/out/predictions-2.jsonl")
        job.outputPath = "/out.d/predictions"
        #expect(job.shardOutputPath == "/out.d/predictions-2")
    }

    @Test func resourcesResolveFromEnvThenCgroupThenHost() throws {
        let directory = try temporaryDirectory()
        try write("", to: directory + "/cgroup.controllers")
        try write("50000 100000\n", to: directory + "/cpu.max")
        try write("268435456\n", to: directory + "/memory.max")
        let cgroup = CgroupReader(root: directory)
        #expect(cgroup.version == .v2)
        let fromCgroup = ResourceAllocation.resolve(ResourceSettings(), cgroup: cgroup, hostCores: 8, hostMemoryBytes: 1e10)
        #expect(fromCgroup.cpuCores == 0.5)
        #expect(fromCgroup.memoryBytes == 268_435_456)
        #expect(fromCgroup.cpuSource == "cgroup")
        let fromEnv = ResourceAllocation.resolve(
            ResourceSettings(cpuLimit: KubernetesQuantity("250m"), cpuRequest: KubernetesQuantity("100m"), memoryLimit: KubernetesQuantity("1Gi")),
            cgroup: cgroup, hostCores: 8, hostMemoryBytes: 1e10)
        #expect(fromEnv.cpuCores == 0.25)
        #expect(fromEnv.cpuRequestCores == 0.1)
        #expect(fromEnv.memoryGB == 1)
        #expect(fromEnv.memoryRequestBytes == 1_073_741_824)
        try write("max 100000\n", to: directory + "/cpu.max")
        try write("max\n", to: directory + "/memory.max")
        let fromHost = ResourceAllocation.resolve(ResourceSettings(), cgroup: cgroup, hostCores: 8, hostMemoryBytes: 1e10)
        #expect(fromHost.cpuCores == 8)
        #expect(fromHost.memorySource == "host")
    }

    @Test func cgroupV1() throws {
        let directory = try temporaryDirectory()
        try FileManagerHelper.makeDirectories(directory + "/cpu", directory + "/memory")
        try write("25000\n", to: directory + "/cpu/cpu.cfs_quota_us")
        try write("100000\n", to: directory + "/cpu/cpu.cfs_period_us")
        try write("9223372036854771712\n", to: directory + "/memory/memory.limit_in_bytes")
        let cgroup = CgroupReader(root: directory)
        #expect(cgroup.version == .v1)
        #expect(cgroup.cpuLimitCores() == 0.25)
        #expect(cgroup.memoryLimitBytes() == nil)  // v1's "unlimited" sentinel
        #expect(CgroupReader(root: directory + "/nothing").version == nil)
    }
}
