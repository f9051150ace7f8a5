package import SwiftProtobuf

/// gRPC status codes used in `google.rpc.Status` bodies.
package enum RPCCode: Int32, Sendable {
    case ok = 0
    case invalidArgument = 3
    case resourceExhausted = 8
    case `internal` = 13
    case unavailable = 14
    case unauthenticated = 16
}

extension RPCStatus {
    /// A status with `code` and `message`, plus a `RetryInfo` detail when `retryAfterSeconds` is set.
    package init(code: RPCCode, message: String, retryAfterSeconds: Int64? = nil) {
        self.init()
        self.code = code.rawValue
        self.message = message
        if let retryAfterSeconds {
            var info = RPCRetryInfo()
            info.retryDelay = Google_Protobuf_Duration(seconds: retryAfterSeconds)
            if let any = try? Google_Protobuf_Any(message: info) {
                details.append(any)
            }
        }
    }
}
