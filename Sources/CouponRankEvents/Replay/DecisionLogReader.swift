public import CouponRankModelStore
import CouponRankEngine
import NIOCore

/// Finds logged decisions in `events:decisions` (proto-spec/EVENTS.md §4).
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
        if let millis = EventID.unixMillis(ofUUIDv7: eventID) {
            return try await scan(from: "\(max(millis - 30_000, 0))", to: "\(millis + 30_000)", forward: true, limit: scanLimit, eventID: eventID)
        }
        return try await scan(from: "+", to: "-", forward: false, limit: scanLimit, eventID: eventID)
    }

    /// Every decision of the stream, oldest first, up to `limit`.
    public func all(limit: Int = 100_000) async throws -> [LoggedDecision] {
        var decisions: [LoggedDecision] = []
        try await page(from: "-", to: "+", forward: true, limit: limit) { fields in
            if let decision = try Self.decode(fields: fields) { decisions.append(decision) }
            return false
        }
        return decisions
    }

    private func scan(from start: String, to end: String, forward: Bool, limit: Int, eventID: String) async throws -> LoggedDecision? {
        var found: LoggedDecision?
        try await page(from: start, to: end, forward: forward, limit: limit) { fields in
            guard let body = fields["body"], Self.eventID(ofBody: body) == eventID else { return false }
            found = try Self.decode(fields: fields)
            return true
        }
        return found
    }

    /// Walks the range a page at a time until `visit` returns `true` or `limit` entries were seen.
    private func page(
        from start: String,
        to end: String,
        forward: Bool,
        limit: Int,
        visit: ([String: [UInt8]]) throws -> Bool
    ) async throws {
        var cursor = start
        var seen = 0
        var exclusive = false
        while seen < limit {
            let count = min(1000, limit - seen)
            let from = exclusive ? "(" + cursor : cursor
            let reply = try await redis.command([forward ? "XRANGE" : "XREVRANGE", keys.decisions, from, end, "COUNT", "\(count)"])
            let entries = RawStreamEntry.entries(of: reply)
            guard !entries.isEmpty else { return }
            for entry in entries {
                cursor = entry.id
                seen += 1
                if try visit(entry.fields) { return }
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
