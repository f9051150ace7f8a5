/// `processors: batch:` — upstream keys, defaults and validation (reference §3.1).
struct BatchConfig: Sendable, Equatable {
    /// `timeout`, default 200ms; `0` disables the timer (pure splitter).
    var timeout: Duration = .milliseconds(200)
    /// `send_batch_size`, default 8192; `0` disables the timer.
    var sendBatchSize = 8192
    /// `send_batch_max_size`, default 0 (no cap); when set it must be ≥ `send_batch_size`.
    var sendBatchMaxSize = 0

    static func decode(_ reader: inout ConfigReader) -> BatchConfig {
        var config = BatchConfig()
        if let timeout = reader.duration("timeout") {
            if timeout < .zero { reader.fail(nil, "timeout must be greater or equal to 0") } else { config.timeout = timeout }
        }
        if let size = reader.int("send_batch_size") {
            if size < 0 { reader.fail("send_batch_size", "must not be negative") } else { config.sendBatchSize = size }
        }
        if let size = reader.int("send_batch_max_size") {
            if size < 0 { reader.fail("send_batch_max_size", "must not be negative") } else { config.sendBatchMaxSize = size }
        }
        if config.sendBatchMaxSize > 0 && config.sendBatchMaxSize < config.sendBatchSize {
            reader.fail(nil, "send_batch_max_size must be greater or equal to send_batch_size")
        }
        for key in ["metadata_keys", "metadata_cardinality_limit"] where reader.keys.contains(key) {
            _ = reader.raw(key)
            reader.fail(key, "is not served by this collector yet (it needs include_metadata on the receiver)")
        }
        return config
    }
}
