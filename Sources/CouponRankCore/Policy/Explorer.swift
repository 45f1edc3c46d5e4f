#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// A ranking chosen by an exploration policy, with what the decision log needs to reproduce its
/// propensities from the shown coupons alone.
public struct Exploration: Sendable, Hashable {
    public var policy: ExplorationPolicy
    public var seed: UInt64
    /// The shown coupons, in slot order, each with its propensity.
    public var ranked: [RankedCoupon]
    /// Distinct eligible coupons the policy chose from.
    public var eligible: Int
    /// Softmax: the highest score among the eligible coupons; 0 otherwise.
    public var scoreMax: Double
    /// Softmax: `Σ exp((sᵢ − scoreMax) / T)` over the eligible coupons; 0 otherwise.
    public var normalizer: Double

    public init(policy: ExplorationPolicy, seed: UInt64, ranked: [RankedCoupon], eligible: Int, scoreMax: Double = 0, normalizer: Double = 0) {
        self.policy = policy
        self.seed = seed
        self.ranked = ranked
        self.eligible = eligible
        self.scoreMax = scoreMax
        self.normalizer = normalizer
    }
}

/// Draws a ranking from an exploration policy (proto-spec/MODEL.md §3.1).
public enum Explorer {
    /// The first `topK` slots drawn by `policy` from `order`, the eligible coupons in greedy order
    /// (descending score, ties by ascending id, each id once), with the draws of `seed`.
    ///
    /// With `diversity`, each slot is drawn from the remaining coupons the caps still allow
    /// (RULES.md §5), demoted ones only when no other is allowed (§6), and its propensity is
    /// over those: a greedy ranking keeps score order and skips what the caps refuse.
    public static func rank(
        _ order: [RankedCoupon],
        topK: Int,
        policy: ExplorationPolicy,
        seed: UInt64,
        diversity: DiversityConstraint? = nil
    ) -> Exploration {
        if let diversity, diversity.isActive {
            return rank(order, topK: topK, policy: policy, seed: seed, capped: diversity)
        }
        let slots = min(topK, order.count)
        switch policy {
        case .greedy:
            var ranked = Array(order.prefix(slots))
            for index in ranked.indices {
                ranked[index].propensity = 1
                ranked[index].choice = .best
            }
            return Exploration(policy: policy, seed: seed, ranked: ranked, eligible: order.count)
        case .epsilonGreedy(let epsilon):
            return epsilonGreedy(order, slots: slots, epsilon: epsilon, seed: seed)
        case .softmax(let temperature):
            return softmax(order, slots: slots, temperature: temperature, seed: seed)
        }
    }

    private static func epsilonGreedy(_ order: [RankedCoupon], slots: Int, epsilon: Double, seed: UInt64) -> Exploration {
        var remaining = Array(order.indices)
        var ranked: [RankedCoupon] = []
        ranked.reserveCapacity(slots)
        for slot in stride(from: 1, through: slots, by: 1) {
            let explores = PolicyRandom.exploreDraw(seed: seed, slot: slot) < epsilon
            var position = 0
            if explores {
                position = min(Int(PolicyRandom.pickDraw(seed: seed, slot: slot) * Double(remaining.count)), remaining.count - 1)
            }
            var item = order[remaining.remove(at: position)]
            let uniform = epsilon / Double(remaining.count + 1)
            item.propensity = position == 0 ? (1 - epsilon) + uniform : uniform
            item.choice = []
            if explores { item.choice.insert(.explored) }
            if position == 0 { item.choice.insert(.best) }
            ranked.append(item)
        }
        return Exploration(policy: .epsilonGreedy(epsilon: epsilon), seed: seed, ranked: ranked, eligible: order.count)
    }

    private static func softmax(_ order: [RankedCoupon], slots: Int, temperature: Double, seed: UInt64) -> Exploration {
        guard let scoreMax = order.first?.score else {
            return Exploration(policy: .softmax(temperature: temperature), seed: seed, ranked: [], eligible: 0)
        }
        // Gumbel-top-k: sorting by score/T plus independent Gumbel noise draws a Plackett–Luce
        // ranking, and each coupon's key depends on its own score and id only.
        let (keys, normalizer) = gumbelKeys(order, scoreMax: scoreMax, temperature: temperature, seed: seed)
        let chosen = order.indices.sorted { a, b in
            keys[a] != keys[b] ? keys[a] > keys[b] : order[a].id < order[b].id
        }.prefix(slots)
        var ranked: [RankedCoupon] = []
        ranked.reserveCapacity(slots)
        var remainingMass = normalizer
        var bestRemaining = 0
        var taken = Set<Int>()
        for index in chosen {
            var item = order[index]
            let weight = softmaxWeight(score: item.score, scoreMax: scoreMax, temperature: temperature)
            item.propensity = softmaxPropensity(weight: weight, remainingMass: remainingMass)
            while taken.contains(bestRemaining) { bestRemaining += 1 }
            item.choice = index == bestRemaining ? .best : []
            taken.insert(index)
            remainingMass -= weight
            ranked.append(item)
        }
        return Exploration(
            policy: .softmax(temperature: temperature),
            seed: seed,
            ranked: ranked,
            eligible: order.count,
            scoreMax: scoreMax,
            normalizer: normalizer
        )
    }

    private static func rank(_ order: [RankedCoupon], topK: Int, policy: ExplorationPolicy, seed: UInt64, capped diversity: DiversityConstraint) -> Exploration {
        var ranked: [RankedCoupon] = []
        ranked.reserveCapacity(min(topK, order.count))
        var remaining = Array(order.indices)
        var taken = diversity.nothingTaken()
        /// Positions in `remaining` that may take the next slot: those the caps allow and that are
        /// not demoted, or, when there are none, those the caps allow.
        func allowed() -> [Int] {
            var preferred: [Int] = []
            var fallback: [Int] = []
            for position in remaining.indices where diversity.allows(order[remaining[position]], after: taken) {
                if diversity.isDemoted(order[remaining[position]]) { fallback.append(position) } else { preferred.append(position) }
            }
            return preferred.isEmpty ? fallback : preferred
        }
        func append(_ item: RankedCoupon) {
            diversity.take(item, into: &taken)
            ranked.append(item)
        }
        switch policy {
        case .greedy:
            while ranked.count < topK, let first = allowed().first {
                var item = order[remaining.remove(at: first)]
                item.propensity = 1
                item.choice = .best
                append(item)
            }
            return Exploration(policy: policy, seed: seed, ranked: ranked, eligible: order.count)
        case .epsilonGreedy(let epsilon):
            for slot in stride(from: 1, through: topK, by: 1) {
                let candidates = allowed()
                guard !candidates.isEmpty else { break }
                let explores = PolicyRandom.exploreDraw(seed: seed, slot: slot) < epsilon
                var pick = 0
                if explores {
                    pick = min(Int(PolicyRandom.pickDraw(seed: seed, slot: slot) * Double(candidates.count)), candidates.count - 1)
                }
                var item = order[remaining.remove(at: candidates[pick])]
                let uniform = epsilon / Double(candidates.count)
                item.propensity = pick == 0 ? (1 - epsilon) + uniform : uniform
                item.choice = []
                if explores { item.choice.insert(.explored) }
                if pick == 0 { item.choice.insert(.best) }
                append(item)
            }
            return Exploration(policy: policy, seed: seed, ranked: ranked, eligible: order.count)
        case .softmax(let temperature):
            guard let scoreMax = order.first?.score else {
                return Exploration(policy: policy, seed: seed, ranked: [], eligible: 0)
            }
            // The Gumbel order restricted to what may take each slot is a Plackett–Luce draw over
            // those coupons: the first of them in that order is the draw.
            let (keys, normalizer) = gumbelKeys(order, scoreMax: scoreMax, temperature: temperature, seed: seed)
            remaining.sort { a, b in keys[a] != keys[b] ? keys[a] > keys[b] : order[a].id < order[b].id }
            while ranked.count < topK {
                let candidates = allowed()
                guard let chosen = candidates.first else { break }
                var mass = 0.0
                var best = Int.max
                for position in candidates {
                    let index = remaining[position]
                    mass += softmaxWeight(score: order[index].score, scoreMax: scoreMax, temperature: temperature)
                    best = min(best, index)
                }
                let index = remaining.remove(at: chosen)
                var item = order[index]
                let weight = softmaxWeight(score: item.score, scoreMax: scoreMax, temperature: temperature)
                item.propensity = softmaxPropensity(weight: weight, remainingMass: mass)
                item.choice = index == best ? .best : []
                append(item)
            }
            return Exploration(policy: policy, seed: seed, ranked: ranked, eligible: order.count, scoreMax: scoreMax, normalizer: normalizer)
        }
    }

    /// Each coupon's Gumbel-top-k key, `(sᵢ − scoreMax) / T` plus its Gumbel draw, and the
    /// softmax normalizer `Σ exp((sᵢ − scoreMax) / T)`.
    private static func gumbelKeys(_ order: [RankedCoupon], scoreMax: Double, temperature: Double, seed: UInt64) -> (keys: [Double], normalizer: Double) {
        var normalizer = 0.0
        var keys: [Double] = []
        keys.reserveCapacity(order.count)
        for item in order {
            let scaled = (item.score - scoreMax) / temperature
            normalizer += exp(scaled)
            keys.append(scaled + PolicyRandom.gumbel(seed: seed, couponID: item.id))
        }
        return (keys, normalizer)
    }

    /// `exp((score − scoreMax) / T)`.
    @inline(__always)
    public static func softmaxWeight(score: Double, scoreMax: Double, temperature: Double) -> Double {
        exp((score - scoreMax) / temperature)
    }

    /// A slot's softmax propensity: its weight over the mass left after the slots above, at most 1.
    @inline(__always)
    public static func softmaxPropensity(weight: Double, remainingMass: Double) -> Double {
        min(1, weight / max(remainingMass, weight))
    }
}
