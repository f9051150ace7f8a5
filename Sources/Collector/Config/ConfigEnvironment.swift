#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `${env:NAME}` references find their values: the process environment, read with `getenv` when a name is
/// referenced, or a fixed map (tests). Copying the whole environment through Foundation's
/// `ProcessInfo.environment` cost about 2 M instructions of start-up (bench/profiles/collector-protobuf-startup.txt).
struct ConfigEnvironment: Sendable {
    let value: @Sendable (String) -> String?

    static let process = ConfigEnvironment { name in getenv(name).map { String(cString: $0) } }

    static func fixed(_ values: [String: String]) -> ConfigEnvironment {
        ConfigEnvironment { values[$0] }
    }
}
