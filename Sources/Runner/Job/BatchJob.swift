import Logging
import Shared
import Tracing

#if canImport(Glibc)
import Glibc
#endif

/// How the job ended, for the exit code.
enum JobOutcome: Sendable, Equatable {
    case completed(failed: Int, processed: Int, withinRatio: Bool)
    case interrupted(signal: Int32)
    case invalid(String)

    /// 0 success; 1 too many failed records; 2 unreadable input or invalid settings; 128+N after signal N.
    var exitCode: Int32 {
        switch self {
        case .completed(_, _, let withinRatio): withinRatio ? 0 : 1
        case .interrupted(let signal): 128 + signal
        case .invalid: 2
        }
    }
}

/// The batch inference job: reads records, runs the model in a span per record, prices each record,
/// logs and counts it, writes predictions, and ends with `batch_complete` and the summary.
struct BatchJob: Sendable {
    let configuration: JobConfiguration
    let telemetry: TelemetryPipeline
    let model: any InferenceModel
    let allocation: ResourceAllocation
    let progress: JobProgress

    var logger: Logger { telemetry.logger }

    func run() async -> JobOutcome {
        let started = ContinuousClock.now
        let cpuAtStart = ProcessStats.cpuTimeSeconds()
        let costModel = CostModel(cpuPerHour: configuration.costs.cpuPerHour, memoryGBPerHour: configuration.costs.memoryGBPerHour)
        let tracer = telemetry.tracer
        let root = tracer.startSpan("batch_job", context: .topLevel, ofKind: .internal)
        root.setAttribute("job.trace_mode", .string(configuration.traceMode.rawValue))
        if let shard = configuration.shard {
            root.setAttribute("job.shard.index", .int64(Int64(shard.index)))
            root.setAttribute("job.shard.count", .int64(Int64(shard.count)))
        }

        // MARK: Input and output
        let opened: RecordInput.Opened
        let output: OutputWriter?
        do {
            let readSpan = tracer.startSpan("read_input_data", context: root.context)
            defer { readSpan.end() }
            do {
                opened = try RecordInput.open(configuration.input)
                readSpan.setAttribute("input.format", .string(opened.format))
                readSpan.setAttribute("input.total_records", .int64(Int64(opened.totalRecords)))
            } catch {
                let setting = ConfigurationError(setting: "INPUT_PATH", message: error.description)
                readSpan.setStatus(SpanStatus(code: .error, message: setting.description))
                return await abort(root: root, message: setting.description)
            }
            do {
                output = try configuration.shardOutputPath.map { path throws(ConfigurationError) in try OutputWriter(path: path) }
            } catch {
                return await abort(root: root, message: error.description)
            }
        }
        let shardTotal = RecordInput.count(opened.totalRecords, in: configuration.shard)
        progress.setTotal(shardTotal)
        var startMetadata: Logger.Metadata = ["total_records": .integer(shardTotal), "trace_id": .string(root.identity.traceID.hex)]
        if let shard = configuration.shard {
            startMetadata["shard_index"] = .integer(shard.index)
            startMetadata["shard_count"] = .integer(shard.count)
        }
        logger.info("Starting batch inference job", metadata: startMetadata)

        // MARK: Records
        var source = opened.source
        var totals = JobTotals()
        var expectedFeatures = model.featureCount
        let costs = configuration.costs.enabled
        let perRecord = configuration.traceMode == .perRecord
        let rootIdentity = root.identity
        // Once: a span's `context` is built on each access.
        let recordParent = perRecord ? InstrumentationContext.topLevel : root.context
        let modelReadsContext = model.readsContext
        let recordLog = telemetry.recordLog
        var interruptedBy: Int32 = 0
        var sinceFlush = 0
        while true {
            if progress.stopRequestedBy != 0 {
                interruptedBy = progress.stopRequestedBy
                break
            }
            let record: InputRecord
            do {
                guard let next = try source.next() else { break }
                record = next
            } catch {
                root.setStatus(SpanStatus(code: .error, message: error.description))
                logger.error("Cannot read input", metadata: ["reason": .string(error.description)])
                output?.discard()
                return await finish(root: root, totals: totals, started: started, cpuAtStart: cpuAtStart, costModel: costModel, outcome: .invalid(error.description))
            }
            if let shard = configuration.shard, !shard.contains(position: record.position) { continue }

            let span = tracer.startSpan("process_record", context: recordParent)
            if perRecord { span.addLink(to: rootIdentity) }
            span.appendNewAttributes { attributes in
                if let shard = configuration.shard { attributes.append("job.shard.index", .int64(Int64(shard.index))) }
                if let id = record.id { attributes.append("record.id", Self.attribute(id)) }
            }
            var problem = record.problem
            if problem == nil, let expected = expectedFeatures, record.features.count != expected {
                problem = "expected \(expected) features, found \(record.features.count)"
            }
            totals.processed += 1
            if problem == nil {
                let begin = ContinuousClock.now
                if configuration.simulatedLatency > .zero { try? await Task.sleep(for: configuration.simulatedLatency) }
                let prediction =
                    modelReadsContext ? InstrumentationContext.$current.withValue(span.context) { model.predict(record.features) } : model.predict(record.features)
                let latencyMs = Self.milliseconds(begin.duration(to: .now))
                if prediction.isFinite {
                    if expectedFeatures == nil { expectedFeatures = record.features.count }
                    let cost = costModel.cost(cores: allocation.cpuCores, memoryGB: allocation.memoryGB, seconds: latencyMs / 1000)
                    totals.successful += 1
                    totals.predictionSum += prediction
                    totals.latencySumMs += latencyMs
                    totals.costSumUSD += cost
                    span.appendNewAttributes { attributes in
                        attributes.append("prediction", prediction)
                        attributes.append("latency_ms", latencyMs)
                        if costs {
                            attributes.append("cost_usd", cost)
                            attributes.append("cpu_cores", allocation.cpuCores)
                            attributes.append("memory_mb", allocation.memoryMB)
                        }
                    }
                    span.end()
                    telemetry.metrics.record(success: true, latencyMs: latencyMs)
                    if configuration.logRecords == .all {
                        recordLog.processed(
                            .init(id: record.id!, prediction: prediction, latencyMs: latencyMs, costUSD: costs ? cost : nil, identity: span.identity))
                    }
                    output?.write(
                        id: record.id!, prediction: prediction, latencyMs: latencyMs, costUSD: costs ? cost : nil, traceID: span.identity.traceID.hex)
                } else {
                    problem = "the prediction is not a finite number"
                }
            }
            if let problem {
                totals.failed += 1
                span.setStatus(SpanStatus(code: .error, message: problem))
                span.setAttribute("error.reason", .string(problem))
                span.end()
                telemetry.metrics.record(success: false, latencyMs: nil)
                if configuration.logRecords != .none {
                    var metadata: Logger.Metadata = [
                        "reason": .string(problem), "position": .integer(record.position),
                        "trace_id": .string(span.identity.traceID.hex), "span_id": .string(span.identity.spanID.hex),
                    ]
                    if let id = record.id { metadata["id"] = Self.metadata(id) }
                    logger.error("Record failed", metadata: metadata)
                }
            }
            progress.recordProcessed()
            sinceFlush += 1
            if sinceFlush >= configuration.batchSize {
                sinceFlush = 0
                await Task.yield()
            }
            if telemetry.mustWait { await telemetry.waitForCapacity() }
        }

        let withinRatio = totals.failedRatio <= configuration.maxFailedRatio
        let outcome: JobOutcome =
            interruptedBy != 0 ? .interrupted(signal: interruptedBy) : .completed(failed: totals.failed, processed: totals.processed, withinRatio: withinRatio)
        if let output {
            if outcome.exitCode == 0 {
                do { try output.commit() } catch { logger.error("Cannot write output", metadata: ["reason": .string(error.description)]) }
            } else {
                output.discard()
            }
        }
        return await finish(root: root, totals: totals, started: started, cpuAtStart: cpuAtStart, costModel: costModel, outcome: outcome)
    }

    // MARK: - End of the job

    private func abort(root: RecordingSpan, message: String) async -> JobOutcome {
        root.setStatus(SpanStatus(code: .error, message: message))
        root.end()
        logger.error("Batch job failed", metadata: ["reason": .string(message)])
        return .invalid(message)
    }

    /// `batch_complete`, the gauges, the flush, then the summary line (with exact export counts).
    private func finish(
        root: RecordingSpan, totals: JobTotals, started: ContinuousClock.Instant, cpuAtStart: Double, costModel: CostModel, outcome: JobOutcome
    ) async -> JobOutcome {
        let wallSeconds = Self.milliseconds(started.duration(to: .now)) / 1000
        let cpuSeconds = ProcessStats.cpuTimeSeconds() - cpuAtStart
        let peakBytes = ProcessStats.peakResidentBytes()
        let cpuUtilization = wallSeconds > 0 && allocation.cpuCores > 0 ? cpuSeconds / (wallSeconds * allocation.cpuCores) : 0
        let jobCost = costModel.jobCost(
            allocation: allocation, cpuSecondsUsed: cpuSeconds, peakMemoryGB: peakBytes / 1_073_741_824, wallSeconds: wallSeconds)
        let costs = configuration.costs.enabled

        let complete = telemetry.tracer.startSpan("batch_complete", context: root.context)
        complete.setAttribute("total_records", .int64(Int64(totals.processed)))
        complete.setAttribute("successful", .int64(Int64(totals.successful)))
        complete.setAttribute("failed", .int64(Int64(totals.failed)))
        complete.setAttribute("avg_latency_ms", .double(totals.averageLatencyMs))
        if costs {
            complete.setAttribute("total_cost_usd", .double(totals.costSumUSD))
            complete.setAttribute("job_cost_usd", .double(jobCost.usd))
            if let target = configuration.costs.targetPerRecord, totals.costPerRecordUSD > target {
                complete.setAttribute("cost.over_target", .bool(true))
                complete.addEvent(SpanEvent(name: "cost_per_record_over_target", attributes: ["cost_per_record_usd": .double(totals.costPerRecordUSD), "target_usd": .double(target)]))
                logger.warning(
                    "Cost per record above target",
                    metadata: ["cost_per_record_usd": .number(totals.costPerRecordUSD), "target_usd": .number(target)])
            }
        }
        if totals.failed > 0 { complete.setStatus(SpanStatus(code: .error, message: "\(totals.failed) records failed")) }
        complete.end()
        if outcome.exitCode != 0 { root.setStatus(SpanStatus(code: .error, message: "exit code \(outcome.exitCode)")) }
        root.end()

        let metrics = telemetry.metrics
        metrics.set(.batchProcessingMs, wallSeconds * 1000)
        metrics.set(.cpuUtilization, cpuUtilization)
        metrics.set(.memoryUsedMB, peakBytes / 1_048_576)
        if costs {
            metrics.set(.batchCostUSD, totals.costSumUSD)
            metrics.set(.costPerRecordUSD, totals.costPerRecordUSD)
        }
        let exportTimeout = telemetry.configuration.spanBatch.exportTimeout
        await telemetry.finish(deadline: ContinuousClock.now.advanced(by: exportTimeout == .zero ? .seconds(30) : exportTimeout))

        let summary = JobSummary(
            totals: totals, costTracking: costs, wallSeconds: wallSeconds, cpuUtilization: cpuUtilization, memoryUsedMB: peakBytes / 1_048_576,
            jobCost: jobCost, spans: telemetry.spanQueue.counters.snapshot, metricPoints: telemetry.metricCounters.snapshot,
            logRecords: telemetry.logQueue.counters.snapshot, telemetryExported: telemetry.isExporting,
            interruptedBy: { if case .interrupted(let signal) = outcome { signal } else { 0 } }())
        var metadata: Logger.Metadata = ["summary": summary.metadata, "exit_code": .integer(Int(outcome.exitCode))]
        if case .completed(_, _, false) = outcome { metadata["reason"] = .string("failed ratio \(totals.failedRatio) exceeds MAX_FAILED_RATIO \(configuration.maxFailedRatio)") }
        logger.info("Batch job completed", metadata: metadata)
        await telemetry.exportLateLogs(deadline: ContinuousClock.now.advanced(by: .seconds(2)))
        return outcome
    }

    // MARK: - Helpers

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    static func attribute(_ id: RecordID) -> SpanAttribute {
        switch id {
        case .int(let value): .int64(value)
        case .string(let value): .string(value)
        }
    }

    static func metadata(_ id: RecordID) -> Logger.MetadataValue {
        switch id {
        case .int(let value): .integer(Int(value))
        case .string(let value): .string(value)
        }
    }
}
