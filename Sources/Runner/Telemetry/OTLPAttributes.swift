import Logging
import Shared
import Tracing

/// Conversions into OTLP `KeyValue`s.
enum OTLPAttributes {
    static func keyValue(_ key: String, _ value: OTLPAnyValue) -> OTLPKeyValue {
        var keyValue = OTLPKeyValue()
        keyValue.key = key
        keyValue.value = value
        return keyValue
    }

    static func string(_ key: String, _ value: String) -> OTLPKeyValue {
        var any = OTLPAnyValue()
        any.stringValue = value
        return keyValue(key, any)
    }

    static func double(_ key: String, _ value: Double) -> OTLPKeyValue {
        var any = OTLPAnyValue()
        any.doubleValue = value
        return keyValue(key, any)
    }

    static func int(_ key: String, _ value: Int64) -> OTLPKeyValue {
        var any = OTLPAnyValue()
        any.intValue = value
        return keyValue(key, any)
    }

    static func bool(_ key: String, _ value: Bool) -> OTLPKeyValue {
        var any = OTLPAnyValue()
        any.boolValue = value
        return keyValue(key, any)
    }

    /// A swift-distributed-tracing attribute as an OTLP value.
    static func value(_ attribute: SpanAttribute) -> OTLPAnyValue {
        var any = OTLPAnyValue()
        switch attribute {
        case .int32(let value): any.intValue = Int64(value)
        case .int64(let value): any.intValue = value
        case .double(let value): any.doubleValue = value
        case .bool(let value): any.boolValue = value
        case .string(let value): any.stringValue = value
        case .int32Array(let values): any.arrayValue = array(values.map { v in var a = OTLPAnyValue(); a.intValue = Int64(v); return a })
        case .int64Array(let values): any.arrayValue = array(values.map { v in var a = OTLPAnyValue(); a.intValue = v; return a })
        case .doubleArray(let values): any.arrayValue = array(values.map { v in var a = OTLPAnyValue(); a.doubleValue = v; return a })
        case .boolArray(let values): any.arrayValue = array(values.map { v in var a = OTLPAnyValue(); a.boolValue = v; return a })
        case .stringArray(let values): any.arrayValue = array(values.map { v in var a = OTLPAnyValue(); a.stringValue = v; return a })
        case .stringConvertible(let value): any.stringValue = value.description
        case .stringConvertibleArray(let values):
            any.arrayValue = array(values.map { v in var a = OTLPAnyValue(); a.stringValue = v.description; return a })
        default: any.stringValue = "\(attribute)"
        }
        return any
    }

    static func keyValues(_ attributes: SpanAttributes) -> [OTLPKeyValue] {
        var result: [OTLPKeyValue] = []
        result.reserveCapacity(attributes.count)
        attributes.forEach { key, value in result.append(keyValue(key, Self.value(value))) }
        return result
    }

    /// A swift-log metadata value as an OTLP value: numbers stay numbers, dictionaries become kvlists.
    static func value(_ metadata: Logger.MetadataValue) -> OTLPAnyValue {
        var any = OTLPAnyValue()
        switch metadata {
        case .string(let text): any.stringValue = text
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: any.intValue = Int64(number)
            case let number as Int64: any.intValue = number
            case let number as Double: any.doubleValue = number
            case let flag as Bool: any.boolValue = flag
            default: any.stringValue = convertible.description
            }
        case .dictionary(let dictionary):
            var list = OTLPKeyValueList()
            list.values = dictionary.sorted { $0.key < $1.key }.map { keyValue($0.key, value($0.value)) }
            any.kvlistValue = list
        case .array(let values):
            any.arrayValue = array(values.map(value))
        }
        return any
    }

    private static func array(_ values: [OTLPAnyValue]) -> OTLPArrayValue {
        var array = OTLPArrayValue()
        array.values = values
        return array
    }
}
