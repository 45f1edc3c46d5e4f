public import CouponRankCore
import Foundation

/// The publish guard of proto-spec/MODEL.md §8.4: a paired off-policy comparison of the candidate
/// with the serving model on the window's closed decisions, refusing a candidate that is worse by
/// more than `margin` with 95 % confidence.
public struct OffPolicyPublishGuard: PublishGuard {
    /// How much worse (in estimated CTR per shown slot) a candidate may be before it is refused.
    public var margin: Double
    /// Below this many evaluable decisions the guard has no verdict and lets the candidate through.
    public var minimumDecisions: Int
    public var policy: OffPolicyEvaluator.TargetPolicy
    public var estimator: OffPolicyComparison.Estimator
    public var includeDegraded: Bool

    public init(
        margin: Double = 0.005,
        minimumDecisions: Int = 500,
        policy: OffPolicyEvaluator.TargetPolicy = .own,
        estimator: OffPolicyComparison.Estimator = .doublyRobust,
        includeDegraded: Bool = false
    ) {
        self.margin = margin
        self.minimumDecisions = minimumDecisions
        self.policy = policy
        self.estimator = estimator
        self.includeDegraded = includeDegraded
    }

    public func verdict(candidate: ScoringModel, serving: ScoringModel, window: [ClosedDecision]) -> GuardVerdict {
        verdictAndComparison(candidate: candidate, serving: serving, window: window).verdict
    }

    /// The verdict with the comparison it rests on.
    public func verdictAndComparison(candidate: ScoringModel, serving: ScoringModel, window: [ClosedDecision]) -> (verdict: GuardVerdict, comparison: OffPolicyComparison) {
        let comparison = OffPolicyEvaluator.compare(
            candidate: candidate,
            serving: serving,
            on: window,
            policy: policy,
            includeDegraded: includeDegraded,
            estimator: estimator
        )
        let d = comparison.difference
        let evidence = "\(estimator) \(candidate.version) − \(serving.version) = \(Self.format(d.value)) "
            + "[\(Self.format(d.lower)), \(Self.format(d.upper))] over \(comparison.decisions) decisions"
        if comparison.decisions < minimumDecisions || !d.upper.isFinite {
            return (GuardVerdict(allowsPublish: true, reason: "no verdict: \(comparison.decisions) evaluable decisions, fewer than \(minimumDecisions) (\(evidence))"), comparison)
        }
        if comparison.isWorse(margin: margin) {
            return (GuardVerdict(allowsPublish: false, reason: "refused: worse by more than \(margin) with 95 % confidence: \(evidence)"), comparison)
        }
        return (GuardVerdict(allowsPublish: true, reason: "allowed: \(evidence), upper bound not below −\(margin)"), comparison)
    }

    private static func format(_ value: Double) -> String {
        value.isFinite ? String(format: "%+.5f", value) : "n/a"
    }
}
