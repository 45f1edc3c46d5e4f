public import CouponRankCore
public import CouponRankEvents

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Estimates from closed decisions what a model with a target policy would have earned, slot by
/// slot, had it chosen instead of the logging policy (proto-spec/MODEL.md §8): IPS, SNIPS and
/// doubly robust, each with a 95 % confidence interval, beside the logging policy's own value.
///
/// Pure: no I/O. Each decision's whole eligible set (its shown items and its logged unshown
/// ``LoggedDecision/candidates``) is scored once; the slots then only mask it.
public struct OffPolicyEvaluator: Sendable {
    /// The policy whose value is estimated, over the target model's scores.
    public enum TargetPolicy: Sendable, Hashable, CustomStringConvertible {
        /// The model's own ``ScoringModel/exploration``.
        case own
        /// The best remaining coupon, every slot.
        case greedy
        /// Any policy over the model's scores.
        case fixed(ExplorationPolicy)

        public var description: String {
            switch self {
            case .own: "own"
            case .greedy: "greedy"
            case .fixed(let policy): policy.description
            }
        }
    }

    /// Why a decision contributes no rows.
    public enum SkipReason: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
        /// It shows no coupon.
        case nothingShown = "nothing_shown"
        /// Its log entry carries no unshown candidates, so the eligible set is unknown.
        case noCandidates = "no_candidates"
        /// Shown items and candidates are not the `eligible` coupons it chose from: another count,
        /// or a coupon id twice.
        case incompleteSet = "incomplete_set"
        /// A shown item's logged propensity is not a positive finite number (at most 1).
        case zeroPropensity = "zero_propensity"
        /// A source was answered from defaults, and degraded decisions are excluded.
        case degraded

        public var description: String {
            switch self {
            case .nothingShown: "nothing shown"
            case .noCandidates: "no candidates logged"
            case .incompleteSet: "incomplete eligible set"
            case .zeroPropensity: "zero propensity"
            case .degraded: "degraded (excluded)"
            }
        }
    }

    public let model: ScoringModel
    /// The target policy, resolved.
    public let policy: ExplorationPolicy
    /// Whether decisions with degraded sources are used.
    public let includeDegraded: Bool
    /// Only slots `1 … slots` are rows; `nil` for every shown slot.
    public let slots: Int?

    /// - Parameters:
    ///   - slots: evaluate only the first `slots` slots of each decision (1: the value of the
    ///     target's top choice from the whole eligible set); `nil` for all shown slots.
    public init(model: ScoringModel, policy: TargetPolicy = .own, includeDegraded: Bool = false, slots: Int? = nil) {
        precondition(slots.map { $0 > 0 } ?? true, "slots must be positive")
        self.model = model
        switch policy {
        case .own: self.policy = model.exploration
        case .greedy: self.policy = .greedy
        case .fixed(let fixed): self.policy = fixed
        }
        self.includeDegraded = includeDegraded
        self.slots = slots
    }

    /// Evaluates `decisions`.
    public func evaluate(_ decisions: some Sequence<ClosedDecision>) -> OffPolicyEvaluation {
        var accumulator = makeAccumulator()
        for decision in decisions {
            accumulator.add(decision)
        }
        return accumulator.finish()
    }

    /// An accumulator for decisions that arrive in batches (as a streaming join closes them).
    public func makeAccumulator() -> OffPolicyAccumulator {
        OffPolicyAccumulator(evaluator: self)
    }

    /// Why `decision` would contribute no rows, or `nil` when it is usable.
    public func skipReason(for decision: LoggedDecision) -> SkipReason? {
        guard !decision.items.isEmpty else { return .nothingShown }
        guard let candidates = decision.candidates else { return .noCandidates }
        guard decision.items.count + candidates.count == decision.eligible else { return .incompleteSet }
        var ids = Set<String>(minimumCapacity: decision.eligible)
        for item in decision.items where !ids.insert(item.coupon.id).inserted { return .incompleteSet }
        for candidate in candidates where !ids.insert(candidate.coupon.id).inserted { return .incompleteSet }
        for item in decision.items.prefix(slots ?? .max) {
            guard item.propensity > 0, item.propensity <= 1, item.propensity.isFinite else { return .zeroPropensity }
        }
        if !includeDegraded, decision.degraded != 0 { return .degraded }
        return nil
    }
}

/// Evaluates decisions one at a time and keeps their rows; ``finish()`` computes the estimates.
public struct OffPolicyAccumulator: Sendable {
    public let evaluator: OffPolicyEvaluator
    private var workspace = Workspace()
    private var rows: [OffPolicyRow] = []
    private var skipped: [OffPolicyEvaluator.SkipReason: Int] = [:]
    private var seen = 0
    private var used = 0

    init(evaluator: OffPolicyEvaluator) {
        self.evaluator = evaluator
    }

    /// Decisions added so far, skipped ones included.
    public var decisionsSeen: Int { seen }

    /// Adds one decision's rows (or counts why it has none).
    public mutating func add(_ decision: ClosedDecision) {
        add(decision, distributions: false) { _, _ in }
    }

    /// Adds one decision's rows and hands each, with its whole target distribution over `R`, to
    /// `visit` (for an export; it costs a sort of `R` per slot).
    public mutating func add<E: Error>(
        _ decision: ClosedDecision,
        visit: (OffPolicyRow, OffPolicyRowDistribution) throws(E) -> Void
    ) throws(E) {
        try add(decision, distributions: true) { row, distribution throws(E) in try visit(row, distribution!) }
    }

    /// The estimates over every row added.
    public func finish() -> OffPolicyEvaluation {
        OffPolicyEvaluation(
            modelVersion: evaluator.model.version,
            policy: evaluator.policy,
            decisionsSeen: seen,
            decisionsUsed: used,
            skipped: skipped,
            rows: rows
        )
    }

    private mutating func add<E: Error>(
        _ closed: ClosedDecision,
        distributions: Bool,
        visit: (OffPolicyRow, OffPolicyRowDistribution?) throws(E) -> Void
    ) throws(E) {
        let index = seen
        seen += 1
        if let reason = evaluator.skipReason(for: closed.decision) {
            skipped[reason, default: 0] += 1
            return
        }
        used += 1
        let policy = evaluator.policy
        workspace.score(closed.decision, model: evaluator.model)
        workspace.prepare(policy: policy)
        let shown = min(closed.decision.items.count, evaluator.slots ?? .max)
        for slot in 0..<shown {
            let row = workspace.row(slot, of: closed, decision: index, policy: policy)
            rows.append(row)
            if distributions {
                try visit(row, workspace.distribution(slot: slot, policy: policy))
            }
        }
    }
}

/// Per-decision scratch storage, reused from one decision to the next.
private struct Workspace: Sendable {
    var coupons: [Coupon] = []
    var couponIDs: [String] = []
    var stats: [CouponStats] = []
    var batch = ContextBatch()
    var scored = BatchScores()
    /// `best[k]`: the best-scored index among `k ..< n` (shown items come first, in slot order, so
    /// `k ..< n` is slot `k + 1`'s remaining set `R`).
    var best: [Int] = []
    /// Suffix sums over `k ..< n`: `q̂`; softmax weights `w` and `w·q̂` (shifted by the global maximum).
    var rewardSums: [Double] = []
    var weights: [Double] = []
    var weightSums: [Double] = []
    var weightedRewardSums: [Double] = []

    var count: Int { coupons.count }

    /// Scores the decision's eligible set: its shown items in slot order, then its candidates.
    mutating func score(_ decision: LoggedDecision, model: ScoringModel) {
        coupons.removeAll(keepingCapacity: true)
        couponIDs.removeAll(keepingCapacity: true)
        stats.removeAll(keepingCapacity: true)
        for item in decision.items {
            coupons.append(item.coupon)
            couponIDs.append(item.coupon.id)
            stats.append(item.stats)
        }
        for candidate in decision.candidates ?? [] {
            coupons.append(candidate.coupon)
            couponIDs.append(candidate.coupon.id)
            stats.append(candidate.stats)
        }
        // The table lists the coupons in their own order, so contexts pair them by position.
        let table = CouponStatsTable(couponIDs: couponIDs, entries: stats)
        model.schema.makeContexts(user: decision.user, candidates: coupons, stats: table, into: &batch)
        model.score(batch, into: &scored)
    }

    /// Greedy order: descending score, ties by ascending coupon id (MODEL.md §3).
    @inline(__always)
    func outranks(_ a: Int, _ b: Int) -> Bool {
        let sa = scored.scores[a]
        let sb = scored.scores[b]
        return sa != sb ? sa > sb : couponIDs[a] < couponIDs[b]
    }

    /// Prepares the slots of the decision scored last: the best of every suffix, and the suffix
    /// sums `policy` needs.
    mutating func prepare(policy: ExplorationPolicy) {
        let n = count
        let q = scored.probabilities
        Self.resize(&best, n)
        best[n - 1] = n - 1
        for j in stride(from: n - 2, through: 0, by: -1) {
            best[j] = outranks(j, best[j + 1]) ? j : best[j + 1]
        }
        switch policy {
        case .greedy:
            break
        case .epsilonGreedy:
            Self.resize(&rewardSums, n + 1)
            rewardSums[n] = 0
            for j in stride(from: n - 1, through: 0, by: -1) {
                rewardSums[j] = rewardSums[j + 1] + q[j]
            }
        case .softmax(let temperature):
            fillSoftmax(from: 0, shift: scored.scores[best[0]], temperature: temperature)
        }
    }

    /// The row of slot `k + 1` (0-based `k`): `R` is `k ..< n`, `c` is `k`. Slots are taken in
    /// order after ``prepare(policy:)``.
    mutating func row(_ k: Int, of closed: ClosedDecision, decision: Int, policy: ExplorationPolicy) -> OffPolicyRow {
        let q = scored.probabilities
        let remaining = count - k
        let top = best[k]
        let target: Double
        let direct: Double
        switch policy {
        case .greedy:
            target = top == k ? 1 : 0
            direct = q[top]
        case .epsilonGreedy(let epsilon):
            target = (top == k ? 1 - epsilon : 0) + epsilon / Double(remaining)
            direct = (1 - epsilon) * q[top] + epsilon * (rewardSums[k] / Double(remaining))
        case .softmax(let temperature):
            if weightSums[k] < Self.smallestMass {
                // Every remaining weight underflowed against the maximum of a larger set: shift
                // by this set's own maximum instead (the ratios are the same).
                fillSoftmax(from: k, shift: scored.scores[top], temperature: temperature)
            }
            target = weights[k] / weightSums[k]
            direct = weightedRewardSums[k] / weightSums[k]
        }
        let logged = closed.decision.policy
        return OffPolicyRow(
            decision: decision,
            slot: k + 1,
            remaining: remaining,
            reward: closed.rewards[k],
            propensity: closed.decision.items[k].propensity,
            targetProbability: target,
            estimatedReward: q[k],
            directValue: direct,
            loggedDeterministically: logged == .greedy || logged == .epsilonGreedy(epsilon: 0)
        )
    }

    /// Below this, a suffix of softmax weights is recomputed with its own maximum.
    static let smallestMass = 0x1.0p-900

    /// Softmax weights `exp((s − shift) / T)` of `from ..< n` and their suffix sums.
    private mutating func fillSoftmax(from start: Int, shift: Double, temperature: Double) {
        let n = count
        let q = scored.probabilities
        Self.resize(&weights, n)
        Self.resize(&weightSums, n + 1)
        Self.resize(&weightedRewardSums, n + 1)
        weightSums[n] = 0
        weightedRewardSums[n] = 0
        for j in stride(from: n - 1, through: start, by: -1) {
            let w = exp((scored.scores[j] - shift) / temperature)
            weights[j] = w
            weightSums[j] = weightSums[j + 1] + w
            weightedRewardSums[j] = weightedRewardSums[j + 1] + w * q[j]
        }
    }

    /// The target's distribution over the remaining set of 0-based slot `k`, best first. Valid
    /// right after ``row(_:of:decision:policy:)`` for the same slot.
    func distribution(slot k: Int, policy: ExplorationPolicy) -> OffPolicyRowDistribution {
        let order = (k..<count).sorted(by: outranks)
        let top = best[k]
        let remaining = Double(order.count)
        let probabilities: [Double] = order.map { j in
            switch policy {
            case .greedy: j == top ? 1 : 0
            case .epsilonGreedy(let epsilon): (j == top ? 1 - epsilon : 0) + epsilon / remaining
            case .softmax: weights[j] / weightSums[k]
            }
        }
        return OffPolicyRowDistribution(
            action: order.firstIndex(of: k)!,
            targetProbabilities: probabilities,
            estimatedRewards: order.map { scored.probabilities[$0] }
        )
    }

    private static func resize(_ array: inout [Double], _ count: Int) {
        if array.count < count { array.append(contentsOf: repeatElement(0, count: count - array.count)) }
    }

    private static func resize(_ array: inout [Int], _ count: Int) {
        if array.count < count { array.append(contentsOf: repeatElement(0, count: count - array.count)) }
    }
}
