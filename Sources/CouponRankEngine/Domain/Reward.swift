/// What a user did with a shown coupon, joined to its decision downstream by event id
/// (proto-spec/EVENTS.md §3).
public struct Reward: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case click
        /// The coupon was redeemed.
        case conversion
    }

    public var eventID: String
    public var couponID: String
    public var kind: Kind
    public var value: Double
    /// When it happened (the caller's time, or when it was received), ms since the Unix epoch.
    public var unixMillis: Int64
    /// When the engine received it, ms since the Unix epoch.
    public var receivedUnixMillis: Int64

    public static let maximumCouponIDBytes = 64

    /// A validated reward.
    public init(eventID: String, couponID: String, kind: Kind, value: Double, unixMillis: Int64?, receivedUnixMillis: Int64) throws(RewardError) {
        guard EventID.isValid(eventID) else {
            throw RewardError("event_id must be 1 to \(EventID.maximumBytes) bytes of A-Z a-z 0-9 . _ : -")
        }
        guard !couponID.isEmpty, couponID.utf8.count <= Self.maximumCouponIDBytes else {
            throw RewardError("coupon_id must be 1 to \(Self.maximumCouponIDBytes) bytes")
        }
        guard value.isFinite else { throw RewardError("value must be a finite number") }
        if let unixMillis, unixMillis < 0 { throw RewardError("time must not be before 1970") }
        self.eventID = eventID
        self.couponID = couponID
        self.kind = kind
        self.value = value
        self.unixMillis = unixMillis ?? receivedUnixMillis
        self.receivedUnixMillis = receivedUnixMillis
    }

    /// The reward log's field–value pairs, in order (EVENTS.md §3).
    public var fields: [(String, String)] {
        [
            ("event_id", eventID),
            ("coupon_id", couponID),
            ("kind", kind.rawValue),
            ("value", "\(value)"),
            ("time_ms", "\(unixMillis)"),
            ("received_ms", "\(receivedUnixMillis)"),
        ]
    }
}

/// A reward that cannot be accepted, and why.
public struct RewardError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Where accepted rewards go: the reward log attaches here.
public protocol RewardSink: Sendable {
    /// Queues `reward` without waiting; `false` when it had to be dropped (the log is full).
    func record(_ reward: Reward) -> Bool
}
