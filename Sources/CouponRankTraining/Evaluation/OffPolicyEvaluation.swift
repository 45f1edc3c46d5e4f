public import CouponRankCore

/// What ``OffPolicyEvaluator`` estimated for one model and target policy over a set of closed
/// decisions (proto-spec/MODEL.md §8).
public struct OffPolicyEvaluation: Sendable {
    public var modelVersion: String
    /// The target policy.
    public var policy: ExplorationPolicy
    public var decisionsSeen: Int
    /// Decisions with at least one row.
    public var decisionsUsed: Int
    /// Decisions without rows, by reason.
    public var skipped: [OffPolicyEvaluator.SkipReason: Int]
    /// Every row, decision by decision, slot by slot.
    public var rows: [OffPolicyRow]

    /// IPS: `mean(w·r)`.
    public var inverseProbability: OffPolicyEstimate
    /// SNIPS: `Σ w·r / Σ w`, its standard error by the delta method.
    public var selfNormalized: OffPolicyEstimate
    /// DR: `mean(Σ_a π_e(a|R) q̂(a) + w·(r − q̂(c)))`.
    public var doublyRobust: OffPolicyEstimate
    /// The direct method alone, `mean(Σ_a π_e(a|R) q̂(a))`: the model's own belief, biased when
    /// `q̂` is; shown for reference.
    public var direct: OffPolicyEstimate
    /// The logging policy's value on the same rows, `mean(r)`.
    public var observed: OffPolicyEstimate
    /// `(Σ w)² / Σ w²`: how many rows the weighted estimate is worth; `N` when every `w` is 1.
    public var effectiveSampleSize: Double
    public var maximumWeight: Double
    /// The mean target mass, over the rows, on coupons a deterministic logging policy could not
    /// have shown (``OffPolicyRow/unsupportedMass``). IPS and SNIPS miss the reward of that
    /// mass, DR fills it with `q̂`: values are trustworthy only when it is near 0.
    public var unsupportedMass: Double

    public var rowCount: Int { rows.count }

    public init(
        modelVersion: String,
        policy: ExplorationPolicy,
        decisionsSeen: Int,
        decisionsUsed: Int,
        skipped: [OffPolicyEvaluator.SkipReason: Int],
        rows: [OffPolicyRow]
    ) {
        self.modelVersion = modelVersion
        self.policy = policy
        self.decisionsSeen = decisionsSeen
        self.decisionsUsed = decisionsUsed
        self.skipped = skipped
        self.rows = rows
        self.inverseProbability = .mean(of: rows.lazy.map(\.inverseProbabilityTerm))
        self.doublyRobust = .mean(of: rows.lazy.map(\.doublyRobustTerm))
        self.direct = .mean(of: rows.lazy.map(\.directValue))
        self.observed = .mean(of: rows.lazy.map(\.reward))
        self.selfNormalized = Self.selfNormalized(rows)
        var weightSum = 0.0
        var squaredWeightSum = 0.0
        var maximumWeight = 0.0
        var unsupported = 0.0
        for row in rows {
            let w = row.weight
            weightSum += w
            squaredWeightSum += w * w
            maximumWeight = max(maximumWeight, w)
            unsupported += row.unsupportedMass
        }
        self.effectiveSampleSize = squaredWeightSum > 0 ? weightSum * weightSum / squaredWeightSum : 0
        self.maximumWeight = maximumWeight
        self.unsupportedMass = rows.isEmpty ? .nan : unsupported / Double(rows.count)
    }

    /// `V = Σ w·r / Σ w`. With `u = w·(r − V)`, the delta method gives
    /// `se² = n / (n − 1) · Σ u² / (Σ w)²` (MODEL.md §8). NaN when `Σ w = 0`.
    static func selfNormalized(_ rows: [OffPolicyRow]) -> OffPolicyEstimate {
        var weightSum = 0.0
        var weightedRewardSum = 0.0
        for row in rows {
            weightSum += row.weight
            weightedRewardSum += row.inverseProbabilityTerm
        }
        guard weightSum > 0 else { return OffPolicyEstimate(value: .nan, standardError: .nan) }
        let value = weightedRewardSum / weightSum
        let n = Double(rows.count)
        guard rows.count > 1 else { return OffPolicyEstimate(value: value, standardError: .nan) }
        var squares = 0.0
        for row in rows {
            let u = row.weight * (row.reward - value)
            squares += u * u
        }
        return OffPolicyEstimate(value: value, standardError: (n / (n - 1) * squares).squareRoot() / weightSum)
    }

    /// The decisions' row sums, in decision order.
    public var decisionTerms: [OffPolicyDecisionTerms] {
        var terms: [OffPolicyDecisionTerms] = []
        terms.reserveCapacity(decisionsUsed)
        for row in rows {
            if terms.last?.decision != row.decision {
                terms.append(OffPolicyDecisionTerms(decision: row.decision, rows: 0, weightSum: 0, inverseProbabilitySum: 0, doublyRobustSum: 0, rewardSum: 0))
            }
            terms[terms.count - 1].rows += 1
            terms[terms.count - 1].weightSum += row.weight
            terms[terms.count - 1].inverseProbabilitySum += row.inverseProbabilityTerm
            terms[terms.count - 1].doublyRobustSum += row.doublyRobustTerm
            terms[terms.count - 1].rewardSum += row.reward
        }
        return terms
    }

    /// The value of `estimator`.
    public subscript(estimator: OffPolicyComparison.Estimator) -> OffPolicyEstimate {
        switch estimator {
        case .inverseProbability: inverseProbability
        case .selfNormalized: selfNormalized
        case .doublyRobust: doublyRobust
        }
    }
}

extension OffPolicyEvaluation {
    /// The evaluation without its rows, as `couponrank evaluate --json` prints it.
    public struct Summary: Sendable, Hashable, Codable {
        public var modelVersion: String
        public var policy: ExplorationPolicy
        public var ips: OffPolicyEstimate
        public var snips: OffPolicyEstimate
        public var dr: OffPolicyEstimate
        public var direct: OffPolicyEstimate
        /// The logging policy's value on the same rows.
        public var observed: OffPolicyEstimate
        public var effectiveSampleSize: Double
        public var maximumWeight: Double
        public var unsupportedMass: Double
        public var rows: Int
        public var decisionsSeen: Int
        public var decisionsUsed: Int
        /// Every ``OffPolicyEvaluator/SkipReason`` by its raw value, 0 included.
        public var skipped: [String: Int]

        enum CodingKeys: String, CodingKey {
            case modelVersion = "model_version"
            case policy, ips, snips, dr, direct, observed
            case effectiveSampleSize = "effective_sample_size"
            case maximumWeight = "maximum_weight"
            case unsupportedMass = "unsupported_mass"
            case rows
            case decisionsSeen = "decisions_seen"
            case decisionsUsed = "decisions_used"
            case skipped
        }
    }

    public var summary: Summary {
        Summary(
            modelVersion: modelVersion,
            policy: policy,
            ips: inverseProbability,
            snips: selfNormalized,
            dr: doublyRobust,
            direct: direct,
            observed: observed,
            effectiveSampleSize: effectiveSampleSize,
            maximumWeight: maximumWeight,
            unsupportedMass: unsupportedMass,
            rows: rowCount,
            decisionsSeen: decisionsSeen,
            decisionsUsed: decisionsUsed,
            skipped: Dictionary(uniqueKeysWithValues: OffPolicyEvaluator.SkipReason.allCases.map { ($0.rawValue, skipped[$0] ?? 0) })
        )
    }
}
