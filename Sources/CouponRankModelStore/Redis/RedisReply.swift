/// A Redis reply, copied out of hiredis' memory.
public enum RedisReply: Sendable, Hashable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    /// The reply as UTF-8 text, for bulk strings and statuses.
    public var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let status): status
        default: nil
        }
    }

    public var bytes: [UInt8]? {
        if case .string(let bytes) = self { bytes } else { nil }
    }

    public var integer: Int64? {
        if case .integer(let value) = self { value } else { nil }
    }

    public var elements: [RedisReply]? {
        if case .array(let elements) = self { elements } else { nil }
    }
}
