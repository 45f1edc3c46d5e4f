public import CouponRankModelStore
import CouponRankEngine
import NIOCore

/// Finds logged decisions in `events:decisions`, or in the shard of their event id
/// (proto-spec/EVENTS.md §4).
public struct DecisionLogReader: Sendable {
    public let redis: RedisClient
    public let keys: EventKeys

    public init(redis: RedisClient, keys: EventKeys) {
        self.redis = redis
        self.keys = keys
    }

    /// The decision logged under `eventID`, or `nil`. A UUIDv7 id is looked up in the minute of
    /// the stream around its time; any other id in the newest `scanLimit` entries.
    public func find(eventID: String, scanLimit: Int = 100_000) async throws -> LoggedDecision? {
        let key = keys.decisions(shard: keys.shard(ofEventID: eventID))
        if let millis = EventID.unixMillis(ofUUIDv7: eventID) {
            return try await scan(key, from: "\(max(millis - 30_000, 0))", to: "\(millis + 30_000)", forward: true, limit: scanLimit, eventID: eventID)
        }
        return try await scan(key, from: "+", to: "-", forward: false, limit: scanLimit, eventID: eventID)
    }

    /// Every decision of the log, oldest first (by stream id across the shards), up to `limit`
    /// per shard.
    public func all(limit: Int = 100_000) async throws -> [LoggedDecision] {
        var decisions: [(id: String, decision: LoggedDecision)] = []
        for key in keys.allDecisions {
            try await page(key, from: "-", to: "+", forward: true, limit: limit) { id, fields in
                if let decision = try Self.decode(fields: fields) { decisions.append((id, decision)) }
                return false
            }
        }
        guard keys.shards > 1 else { return decisions.map(\.decision) }
        return decisions.sorted { StreamOrder.precedes($0.id, $1.id) }.map(\.decision)
    }

    private func scan(_ key: String, from start: String, to end: String, forward: Bool, limit: Int, eventID: String) async throws -> LoggedDecision? {
        var found: LoggedDecision?
        try await page(key, from: start, to: end, forward: forward, limit: limit) { _, fields in
            guard let body = fields["body"], Self.eventID(ofBody: body) == eventID else { return false }
            found = try Self.decode(fields: fields)
            return true
        }
        return found
    }

    /// Walks the range a page at a time until `visit` returns `true` or `limit` entries were seen.
    private func page(
        _ key: String,
        from start: String,
        to end: String,
        forward: Bool,
        limit: Int,
        visit: (String, [String: [UInt8]]) throws -> Bool
    ) async throws {
        var cursor = start
        var seen = 0
        var exclusive = false
        while seen < limit {
            let count = min(1000, limit - seen)
            let from = exclusive ? "(" + cursor : cursor
            let reply = try await redis.command([forward ? "XRANGE" : "XREVRANGE", key, from, end, "COUNT", "\(count)"])
            let entries = RawStreamEntry.entries(of: reply)
            guard !entries.isEmpty else { return }
            for entry in entries {
                cursor = entry.id
                seen += 1
                if try visit(entry.id, entry.fields) { return }
            }
            exclusive = true
            if entries.count < count { return }
        }
    }

    /// The event id at the start of a record (after its format byte), without decoding the rest.
    public static func eventID(ofBody body: [UInt8]) -> String? {
        guard body.count >= 3 else { return nil }
        let length = Int(body[1]) << 8 | Int(body[2])
        guard body.count >= 3 + length else { return nil }
        return String(decoding: body[3..<(3 + length)], as: UTF8.self)
    }

    /// The decision of one `events:decisions` entry, from its field–value pairs (as `XRANGE` or
    /// `XREADGROUP` return them): the `body` record, with the `candidates` field when the entry
    /// has one; unknown fields are ignored. `nil` for an entry without a `body`. A malformed
    /// record or `candidates` field throws a `WireError` naming the field.
    public static func decode(fields: [String: [UInt8]]) throws -> LoggedDecision? {
        guard let body = fields["body"] else { return nil }
        var buffer = ByteBuffer(bytes: body)
        var decision = try LoggedDecision(body: &buffer)
        if let candidates = fields["candidates"] {
            var buffer = ByteBuffer(bytes: candidates)
            decision.candidates = try LoggedDecision.decodeCandidates(&buffer)
        }
        if let rules = fields["rules"] {
            var buffer = ByteBuffer(bytes: rules)
            decision.rules = try LoggedDecision.decodeRules(&buffer)
        }
        return decision
    }
}

/// The order of Redis stream ids, `<milliseconds>-<sequence>`.
enum StreamOrder {
    static func precedes(_ a: String, _ b: String) -> Bool {
        func parts(_ id: String) -> (UInt64, UInt64) {
            let halves = id.split(separator: "-")
            return (UInt64(halves.first ?? "") ?? 0, UInt64(halves.count > 1 ? halves[1] : "") ?? 0)
        }
        return parts(a) < parts(b)
    }
}
