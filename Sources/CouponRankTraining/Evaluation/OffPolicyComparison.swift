public import CouponRankCore

/// A paired comparison of two models (a candidate against the serving one) on the same closed
/// decisions: the difference of their estimated values with a 95 % confidence interval from the
/// decision-level differences (proto-spec/MODEL.md §8.4).
public struct OffPolicyComparison: Sendable, Hashable, Codable {
    public enum Estimator: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        case inverseProbability = "ips"
        case selfNormalized = "snips"
        case doublyRobust = "dr"

        public var description: String {
            switch self {
            case .inverseProbability: "IPS"
            case .selfNormalized: "SNIPS"
            case .doublyRobust: "DR"
            }
        }
    }

    public var estimator: Estimator
    public var candidateVersion: String
    public var servingVersion: String
    /// The candidate's value on the paired decisions.
    public var candidate: Double
    /// The serving model's value on the paired decisions.
    public var serving: Double
    /// `candidate − serving`, with its standard error and interval.
    public var difference: OffPolicyEstimate
    /// Decisions used by both evaluations.
    public var decisions: Int
    public var rows: Int

    /// Whether the candidate is worse by more than `margin` with 95 % confidence: the interval's
    /// upper bound is below `−margin`. A trainer refuses to publish then.
    public func isWorse(margin: Double) -> Bool {
        difference.upper < -margin
    }

    enum CodingKeys: String, CodingKey {
        case estimator
        case candidateVersion = "candidate_version"
        case servingVersion = "serving_version"
        case candidate, serving, difference, decisions, rows
    }

    /// Compares two evaluations of the same sequence of decisions, pairing them by
    /// ``OffPolicyRow/decision``; decisions only one of them used are left out.
    ///
    /// Each estimator is a ratio `V = Σᵢ Aᵢ / Σᵢ Bᵢ` of decision sums (IPS: `A = Σ w·r`, `B` = rows;
    /// DR: `A = Σ` DR terms, `B` = rows; SNIPS: `A = Σ w·r`, `B = Σ w`). Linearised, decision `i`
    /// contributes `ψᵢ = (Aᵢ − V·Bᵢ) / B̄`, and the difference `D = V_c − V_s` has
    /// `se² = Σᵢ (ψᵢᶜ − ψᵢˢ)² / (M (M − 1))` over the `M` paired decisions: rows of one decision
    /// are not assumed independent, and the pairing cancels what both models share.
    public init(candidate: OffPolicyEvaluation, serving: OffPolicyEvaluation, estimator: Estimator = .doublyRobust) {
        let candidateTerms = candidate.decisionTerms
        let servingTerms = serving.decisionTerms
        var pairs: [(OffPolicyDecisionTerms, OffPolicyDecisionTerms)] = []
        pairs.reserveCapacity(min(candidateTerms.count, servingTerms.count))
        var c = 0
        var s = 0
        while c < candidateTerms.count, s < servingTerms.count {
            let a = candidateTerms[c]
            let b = servingTerms[s]
            if a.decision == b.decision {
                pairs.append((a, b))
                c += 1
                s += 1
            } else if a.decision < b.decision {
                c += 1
            } else {
                s += 1
            }
        }
        func parts(_ terms: OffPolicyDecisionTerms) -> (Double, Double) {
            switch estimator {
            case .inverseProbability: (terms.inverseProbabilitySum, Double(terms.rows))
            case .selfNormalized: (terms.inverseProbabilitySum, terms.weightSum)
            case .doublyRobust: (terms.doublyRobustSum, Double(terms.rows))
            }
        }
        var sums = (candidateA: 0.0, candidateB: 0.0, servingA: 0.0, servingB: 0.0)
        for (a, b) in pairs {
            let (ca, cb) = parts(a)
            let (sa, sb) = parts(b)
            sums.candidateA += ca
            sums.candidateB += cb
            sums.servingA += sa
            sums.servingB += sb
        }
        let m = Double(pairs.count)
        let candidateValue = sums.candidateA / sums.candidateB
        let servingValue = sums.servingA / sums.servingB
        var squares = 0.0
        for (a, b) in pairs {
            let (ca, cb) = parts(a)
            let (sa, sb) = parts(b)
            let delta = (ca - candidateValue * cb) / (sums.candidateB / m) - (sa - servingValue * sb) / (sums.servingB / m)
            squares += delta * delta
        }
        let standardError = pairs.count > 1 ? (squares / (m * (m - 1))).squareRoot() : .nan
        self.estimator = estimator
        self.candidateVersion = candidate.modelVersion
        self.servingVersion = serving.modelVersion
        self.candidate = candidateValue
        self.serving = servingValue
        self.difference = OffPolicyEstimate(value: candidateValue - servingValue, standardError: standardError)
        self.decisions = pairs.count
        self.rows = pairs.reduce(0) { $0 + $1.0.rows }
    }
}

extension OffPolicyEvaluator {
    /// Evaluates `candidate` and `serving` on the same decisions, each with the target policy
    /// `policy` resolved for it, and compares them with `estimator`.
    public static func compare(
        candidate: ScoringModel,
        serving: ScoringModel,
        on decisions: [ClosedDecision],
        policy: TargetPolicy = .own,
        includeDegraded: Bool = false,
        estimator: OffPolicyComparison.Estimator = .doublyRobust
    ) -> OffPolicyComparison {
        let candidateEvaluation = OffPolicyEvaluator(model: candidate, policy: policy, includeDegraded: includeDegraded).evaluate(decisions)
        let servingEvaluation = OffPolicyEvaluator(model: serving, policy: policy, includeDegraded: includeDegraded).evaluate(decisions)
        return OffPolicyComparison(candidate: candidateEvaluation, serving: servingEvaluation, estimator: estimator)
    }
}
