public import CouponRankEngine

/// One entry of `events:rewards` as a consumer reads it (proto-spec/EVENTS.md §3).
public struct RewardRecord: Sendable, Hashable {
    public var eventID: String
    public var couponID: String
    public var kind: Reward.Kind
    public var value: Double
    public var unixMillis: Int64
    public var receivedUnixMillis: Int64

    public init(eventID: String, couponID: String, kind: Reward.Kind, value: Double, unixMillis: Int64, receivedUnixMillis: Int64) {
        self.eventID = eventID
        self.couponID = couponID
        self.kind = kind
        self.value = value
        self.unixMillis = unixMillis
        self.receivedUnixMillis = receivedUnixMillis
    }

    /// Reads an entry's field–value pairs; unknown fields are ignored, a missing or malformed
    /// required one is an error naming it.
    public init(fields: [String: String]) throws(RewardRecordError) {
        func required(_ name: String) throws(RewardRecordError) -> String {
            guard let value = fields[name], !value.isEmpty else { throw RewardRecordError("reward entry has no \(name)") }
            return value
        }
        let kindText = try required("kind")
        guard let kind = Reward.Kind(rawValue: kindText) else { throw RewardRecordError("reward entry has unknown kind \(kindText)") }
        guard let value = Double(try required("value")), value.isFinite else { throw RewardRecordError("reward entry value is not a finite number") }
        guard let time = Int64(try required("time_ms")) else { throw RewardRecordError("reward entry time_ms is not an integer") }
        let received = fields["received_ms"].flatMap { Int64($0) } ?? time
        self.init(eventID: try required("event_id"), couponID: try required("coupon_id"), kind: kind, value: value, unixMillis: time, receivedUnixMillis: received)
    }
}

/// A reward entry that cannot be read.
public struct RewardRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
