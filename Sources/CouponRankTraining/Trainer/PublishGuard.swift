public import CouponRankCore

/// Decides whether a trained candidate may replace the serving model, from the closed decisions
/// of the most recent window.
public protocol PublishGuard: Sendable {
    func verdict(candidate: ScoringModel, serving: ScoringModel, window: [ClosedDecision]) -> GuardVerdict
}

/// A guard's answer, with its evidence.
public struct GuardVerdict: Sendable, Hashable, CustomStringConvertible {
    public var allowsPublish: Bool
    /// Why, in one line for the log and the trainer's status.
    public var reason: String

    public init(allowsPublish: Bool, reason: String) {
        self.allowsPublish = allowsPublish
        self.reason = reason
    }

    public var description: String { reason }
}
