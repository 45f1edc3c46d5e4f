/// One shown slot of a used decision — a "row" — the unit every estimator of
/// ``OffPolicyEvaluator`` averages over (proto-spec/MODEL.md §8).
///
/// For slot `k` of a decision, `R` is the eligible set less the coupons logged in slots
/// `1 … k − 1`, and `c` the coupon logged in slot `k`.
public struct OffPolicyRow: Sendable, Hashable {
    /// The decision's position in the sequence given to the evaluator, skipped decisions counted:
    /// two evaluations of the same sequence pair their rows by it.
    public var decision: Int
    /// 1-based.
    public var slot: Int
    /// `|R|`.
    public var remaining: Int
    /// `r`: the slot's training target (``ClosedDecision/rewards``).
    public var reward: Double
    /// `p`: the logged propensity of `c` (MODEL.md §3.1).
    public var propensity: Double
    /// `π_e(c | R)`: the target policy's probability of `c` for this slot.
    public var targetProbability: Double
    /// `q̂(c)`: the target model's expected click-through rate of `c`.
    public var estimatedReward: Double
    /// `Σ_{a ∈ R} π_e(a | R) · q̂(a)`: the direct-method value of the slot.
    public var directValue: Double
    /// Whether the logging policy was deterministic (greedy, or ε-greedy with ε = 0): it could
    /// show no coupon of `R` but `c`, so the target's mass on the others is outside its support.
    public var loggedDeterministically: Bool

    public init(
        decision: Int,
        slot: Int,
        remaining: Int,
        reward: Double,
        propensity: Double,
        targetProbability: Double,
        estimatedReward: Double,
        directValue: Double,
        loggedDeterministically: Bool = false
    ) {
        self.decision = decision
        self.slot = slot
        self.remaining = remaining
        self.reward = reward
        self.propensity = propensity
        self.targetProbability = targetProbability
        self.estimatedReward = estimatedReward
        self.directValue = directValue
        self.loggedDeterministically = loggedDeterministically
    }

    /// `w = π_e(c | R) / p`.
    public var weight: Double { targetProbability / propensity }
    /// IPS's term, `w · r`.
    public var inverseProbabilityTerm: Double { weight * reward }
    /// DR's term, `Σ_a π_e(a | R) q̂(a) + w · (r − q̂(c))`.
    public var doublyRobustTerm: Double { directValue + weight * (reward - estimatedReward) }
    /// The target's probability on coupons the logging policy could not have shown here.
    public var unsupportedMass: Double { loggedDeterministically ? 1 - targetProbability : 0 }
}

/// The whole target distribution of one row, over `R` in the target model's greedy order (best
/// first): what obp's `action_dist` and `estimated_rewards_by_reg_model` hold for the row.
public struct OffPolicyRowDistribution: Sendable, Hashable {
    /// The index of `c` in ``targetProbabilities``.
    public var action: Int
    /// `π_e(a | R)` for every `a ∈ R`, best first; they sum to 1.
    public var targetProbabilities: [Double]
    /// `q̂(a)` in the same order.
    public var estimatedRewards: [Double]
}

/// The sums of one decision's rows: what a paired comparison of two models works on.
public struct OffPolicyDecisionTerms: Sendable, Hashable {
    /// As ``OffPolicyRow/decision``.
    public var decision: Int
    public var rows: Int
    /// `Σ w`.
    public var weightSum: Double
    /// `Σ w · r`.
    public var inverseProbabilitySum: Double
    /// `Σ` of DR's terms.
    public var doublyRobustSum: Double
    /// `Σ r`.
    public var rewardSum: Double
}
