import CouponRankCore
import CouponRankEvents
import CouponRankModelFile
import CouponRankSources
import CouponRankTraining
import Foundation

/// Decisions and models for the off-policy evaluation tests.
enum EvaluationFixtures {
    /// A LinUCB model with α = 0 whose score and expected CTR are the coupon's discount rate
    /// (clamped to 0…1 for the CTR): values a test can compute by hand.
    static func discountModel(version: String = "discount-1", exploration: ExplorationPolicy = .greedy) throws -> ScoringModel {
        try ScoringModel(
            ModelDefinition(
                version: version,
                createdAt: "2026-11-25T00:00:00Z",
                kind: .linucb,
                alpha: 0,
                features: FeatureSchema(features: [.bias, .numeric(field: "coupon.discount_rate", transform: .identity, mean: 0, std: 1)]),
                theta: [0, 1],
                aInverse: [1, 0, 0, 1],
                exploration: exploration
            )
        )
    }

    static func coupon(_ id: String, _ discountRate: Double) -> Coupon {
        Coupon(id: id, name: "", category: "books", shop: "shop-1", discountRate: discountRate, minimumSpend: 0, daysToExpiry: 10)
    }

    /// A closed decision: `shown` in slot order with their logged propensities and rewards, the
    /// unshown `candidates` (nil: not logged), `eligible` defaulting to shown + candidates.
    static func decision(
        _ eventID: String,
        policy: ExplorationPolicy = .epsilonGreedy(epsilon: 0.3),
        shown: [(Coupon, propensity: Double, reward: Double)],
        candidates: [Coupon]?,
        eligible: Int? = nil,
        degraded: UInt8 = 0
    ) -> ClosedDecision {
        let items = shown.map { coupon, propensity, _ in
            LoggedDecision.Item(coupon: coupon, score: 0, probability: 0, propensity: propensity, choice: [], stats: .prior)
        }
        let logged = LoggedDecision(
            eventID: eventID,
            unixMillis: 1_764_072_000_000,
            easyID: "42",
            modelVersion: "logger-1",
            policy: policy,
            degraded: degraded,
            eligible: eligible ?? shown.count + (candidates?.count ?? 0),
            scoreMax: 0,
            normalizer: 0,
            user: UserFeatures(),
            items: items,
            candidates: candidates?.map { LoggedDecision.Candidate(coupon: $0, stats: .prior) }
        )
        return ClosedDecision(
            decision: logged,
            streamID: StreamID(milliseconds: 1_764_072_000_000, sequence: 0),
            rewards: shown.map(\.reward),
            rewarded: shown.map { $0.reward != 0 }
        )
    }

    /// The bundled model with another version, exploration and (optionally) perturbed weights:
    /// θ' = θ·scale + shift on every column.
    static func bundled(version: String, exploration: ExplorationPolicy, thetaScale: Double = 1, thetaShift: Double = 0) throws -> ScoringModel {
        var definition = try BundledModel.load().definition
        definition.format = 2
        definition.version = version
        definition.exploration = exploration
        definition.theta = definition.theta.map { $0 * thetaScale + thetaShift }
        return try ScoringModel(definition)
    }

    /// One logged decision of a simulated log, with each shown coupon's true click probability.
    struct SimulatedDecision {
        var closed: ClosedDecision
        /// The stub generator's ground-truth click probability of every eligible coupon, shown
        /// items first (slot order), then the candidates (as logged).
        var clickProbabilities: [Double]
    }

    /// `count` decisions ranked by `logger` (its own exploration, the engine's `Ranker` and
    /// `Explorer`) over the stub data, `topK` slots each, every eligible coupon logged, and
    /// clicks drawn from the stub generator's ground-truth click probability. Deterministic.
    static func simulatedLog(logger: ScoringModel, count: Int, topK: Int = 5, seed: UInt64 = 20_261_125) -> [SimulatedDecision] {
        let generator = StubDataGenerator()
        var random = SplitMix64(seed: seed)
        var log: [SimulatedDecision] = []
        log.reserveCapacity(count)
        for index in 0..<count {
            let easyID = String(random.next() % 10_000_000)
            let user = generator.userFeatures(for: easyID)
            var seen = Set<String>()
            let eligible = generator.candidates(for: easyID).filter { seen.insert($0.id).inserted }
            let stats = generator.stats(for: easyID)
            let scored = logger.score(logger.schema.makeContexts(user: user, candidates: eligible, stats: stats))
            let eventID = "sim-\(seed)-\(index)"
            let exploration = Explorer.rank(
                Ranker.top(eligible.count, of: eligible, scored: scored),
                topK: topK,
                policy: logger.exploration,
                seed: PolicyRandom.seed(eventID: eventID, modelVersion: logger.version)
            )
            let statsByID = stats.byCouponID
            let shownIndices = exploration.ranked.map(\.candidateIndex)
            let items = exploration.ranked.map { ranked in
                LoggedDecision.Item(
                    coupon: eligible[ranked.candidateIndex],
                    score: ranked.score,
                    probability: ranked.probability,
                    propensity: ranked.propensity,
                    choice: ranked.choice,
                    stats: statsByID[ranked.id] ?? .prior
                )
            }
            let shown = Set(shownIndices)
            let unshown = eligible.indices.filter { !shown.contains($0) }
            let candidates = unshown.map { LoggedDecision.Candidate(coupon: eligible[$0], stats: statsByID[eligible[$0].id] ?? .prior) }
            let truth = (shownIndices + unshown).map { generator.clickProbability(user: user, coupon: eligible[$0]) }
            let rewards = items.indices.map { slot in random.unit() < truth[slot] ? 1.0 : 0.0 }
            let logged = LoggedDecision(
                eventID: eventID,
                unixMillis: 1_764_072_000_000 + Int64(index),
                easyID: easyID,
                modelVersion: logger.version,
                policy: exploration.policy,
                degraded: 0,
                eligible: exploration.eligible,
                scoreMax: exploration.scoreMax,
                normalizer: exploration.normalizer,
                user: user,
                items: items,
                candidates: candidates
            )
            let closed = ClosedDecision(
                decision: logged,
                streamID: StreamID(milliseconds: 1_764_072_000_000 + UInt64(index), sequence: 0),
                rewards: rewards,
                rewarded: rewards.map { $0 == 1 }
            )
            log.append(SimulatedDecision(closed: closed, clickProbabilities: truth))
        }
        return log
    }

    /// The target policy's probabilities over `k ..< n` of one decision, straight from MODEL.md
    /// §8's definitions (a sort and a sum per slot), independent of the evaluator's suffix sums.
    static func referenceTargetProbabilities(scores: [Double], ids: [String], slot k: Int, policy: ExplorationPolicy) -> [Double] {
        let remaining = Array(k..<scores.count)
        let best = remaining.min { a, b in scores[a] != scores[b] ? scores[a] > scores[b] : ids[a] < ids[b] }!
        switch policy {
        case .greedy:
            return remaining.map { $0 == best ? 1 : 0 }
        case .epsilonGreedy(let epsilon):
            return remaining.map { ($0 == best ? 1 - epsilon : 0) + epsilon / Double(remaining.count) }
        case .softmax(let temperature):
            let top = scores[best]
            let weights = remaining.map { Foundation.exp((scores[$0] - top) / temperature) }
            let total = weights.reduce(0, +)
            return weights.map { $0 / total }
        }
    }

    /// The target's true value on the log's rows: the mean over rows of
    /// `Σ_{a ∈ R} π_e(a | R) · P(click | a)` with the generator's ground truth.
    static func trueValue(of model: ScoringModel, policy: ExplorationPolicy, on log: [SimulatedDecision]) -> Double {
        var total = 0.0
        var rows = 0
        for entry in log {
            let logged = entry.closed.decision
            let coupons = logged.items.map(\.coupon) + (logged.candidates ?? []).map(\.coupon)
            let stats = logged.items.map(\.stats) + (logged.candidates ?? []).map(\.stats)
            let table = CouponStatsTable(couponIDs: coupons.map(\.id), entries: stats)
            let scores = model.score(model.schema.makeContexts(user: logged.user, candidates: coupons, stats: table)).scores
            for slot in logged.items.indices {
                let probabilities = referenceTargetProbabilities(scores: scores, ids: coupons.map(\.id), slot: slot, policy: policy)
                total += zip(probabilities, entry.clickProbabilities[slot...]).reduce(0) { $0 + $1.0 * $1.1 }
                rows += 1
            }
        }
        return total / Double(rows)
    }
}
