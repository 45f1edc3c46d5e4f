public import CouponRankEvents

/// A logged decision whose reward window has closed: every shown item has its training target,
/// the rewards that arrived in time or the default reward.
public struct ClosedDecision: Sendable {
    public var decision: LoggedDecision
    /// The decision's stream entry id (`<ms>-<seq>` of the Redis clock).
    public var streamID: StreamID
    /// The training target of each shown item, in slot order (``LoggedDecision/items``).
    public var rewards: [Double]
    /// Whether a reward of the target kind arrived for each shown item (rather than the default).
    public var rewarded: [Bool]

    public init(decision: LoggedDecision, streamID: StreamID, rewards: [Double], rewarded: [Bool]) {
        precondition(rewards.count == decision.items.count && rewarded.count == decision.items.count)
        self.decision = decision
        self.streamID = streamID
        self.rewards = rewards
        self.rewarded = rewarded
    }
}

/// A Redis stream entry id, `<milliseconds>-<sequence>`, ordered as Redis orders them.
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public static let zero = StreamID(milliseconds: 0, sequence: 0)

    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let ms = UInt64(parts[0]), let seq = UInt64(parts[1]) else { return nil }
        self.init(milliseconds: ms, sequence: seq)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}
