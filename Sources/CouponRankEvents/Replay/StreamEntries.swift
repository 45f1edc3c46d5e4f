public import CouponRankModelStore

/// One entry of a Redis stream as `XRANGE` or `XREADGROUP` returns it.
public struct RawStreamEntry: Sendable {
    /// `<milliseconds>-<sequence>`.
    public var id: String
    /// Field names and values; empty for an entry trimmed from the stream while it was pending.
    public var fields: [String: [UInt8]]

    public init(id: String, fields: [String: [UInt8]]) {
        self.id = id
        self.fields = fields
    }

    /// The entries of an `XRANGE` / `XREVRANGE` reply: `[[id, [field, value, …]], …]`.
    public static func entries(of reply: RedisReply) -> [RawStreamEntry] {
        (reply.elements ?? []).compactMap { entry in
            guard let pair = entry.elements, pair.count == 2, let id = pair[0].text else { return nil }
            var fields: [String: [UInt8]] = [:]
            let values = pair[1].elements ?? []
            var index = 0
            while index + 1 < values.count {
                if let name = values[index].text { fields[name] = values[index + 1].bytes ?? [] }
                index += 2
            }
            return RawStreamEntry(id: id, fields: fields)
        }
    }

    /// The entries of an `XREAD` / `XREADGROUP` reply, by stream key: `[[key, entries], …]`.
    public static func entriesByStream(of reply: RedisReply) -> [String: [RawStreamEntry]] {
        var result: [String: [RawStreamEntry]] = [:]
        for stream in reply.elements ?? [] {
            guard let parts = stream.elements, parts.count == 2, let key = parts[0].text else { continue }
            result[key] = entries(of: parts[1])
        }
        return result
    }
}
