public import CouponRankCore

/// A logged decision recomputed from its logged inputs (proto-spec/EVENTS.md §5): the shown
/// coupons' contexts rebuilt, scored with a model, and the policy's draws and propensities
/// recomputed from the logged seed and aggregates.
public struct DecisionReplay: Sendable {
    public struct Item: Sendable, Hashable {
        public var couponID: String
        public var loggedScore: Double
        public var score: Double
        public var loggedProbability: Double
        public var probability: Double
        public var loggedPropensity: Double
        /// `nil` when scored with another model version: its propensities would need every
        /// eligible candidate, and the log holds the shown ones only.
        public var propensity: Double?
    }

    public var logged: LoggedDecision
    public var modelVersion: String
    public var items: [Item]
    /// What differs between the log and the recomputation; empty when the replay is identical.
    public var differences: [String]

    public var isIdentical: Bool { differences.isEmpty }

    /// Recomputes `logged` with `model`. With the logged model version every propensity must come
    /// out bit for bit, and every score and probability bit for bit at the log's binary32, and the shown order must be the one the policy's
    /// draws give; with another version, the scores and its order of the shown coupons are shown.
    public init(_ logged: LoggedDecision, model: ScoringModel) {
        self.logged = logged
        self.modelVersion = model.version
        let coupons = logged.items.map(\.coupon)
        let stats = CouponStatsTable(couponIDs: coupons.map(\.id), entries: logged.items.map(\.stats))
        let scores = model.score(model.schema.makeContexts(user: logged.user, candidates: coupons, stats: stats))
        let sameModel = model.version == logged.modelVersion
        var differences: [String] = []
        let propensities = sameModel ? Self.propensities(logged, scores: scores.scores, differences: &differences) : nil
        var items: [Item] = []
        for (index, item) in logged.items.enumerated() {
            let replayed = Item(
                couponID: item.coupon.id,
                loggedScore: item.score,
                score: scores.scores[index],
                loggedProbability: item.probability,
                probability: scores.probabilities[index],
                loggedPropensity: item.propensity,
                propensity: propensities?[index]
            )
            if sameModel {
                // The log keeps scores and probabilities as binary32 (EVENTS.md §2.2).
                if Float(replayed.score).bitPattern != Float(item.score).bitPattern {
                    differences.append("slot \(index + 1) \(item.coupon.id): score \(replayed.score) ≠ logged \(item.score)")
                }
                if Float(replayed.probability).bitPattern != Float(item.probability).bitPattern {
                    differences.append("slot \(index + 1) \(item.coupon.id): probability \(replayed.probability) ≠ logged \(item.probability)")
                }
                if let propensity = replayed.propensity, propensity.bitPattern != item.propensity.bitPattern {
                    differences.append("slot \(index + 1) \(item.coupon.id): propensity \(propensity) ≠ logged \(item.propensity)")
                }
            }
            items.append(replayed)
        }
        self.items = items
        self.differences = differences
    }

    /// The shown coupons in the order `model` alone would rank them (greedy), best first.
    public var greedyOrder: [String] {
        items.indices.sorted { a, b in
            items[a].score != items[b].score ? items[a].score > items[b].score : items[a].couponID < items[b].couponID
        }.map { items[$0].couponID }
    }

    /// The propensities the policy gives the shown slots, checking on the way that its draws
    /// reproduce the logged choices.
    private static func propensities(_ logged: LoggedDecision, scores: [Double], differences: inout [String]) -> [Double] {
        let items = logged.items
        func outranks(_ a: Int, _ b: Int) -> Bool {
            scores[a] != scores[b] ? scores[a] > scores[b] : items[a].coupon.id < items[b].coupon.id
        }
        var result: [Double] = []
        switch logged.policy {
        case .greedy:
            for index in items.indices {
                result.append(1)
                if index > 0, !outranks(index - 1, index) {
                    differences.append("greedy slot \(index + 1) \(items[index].coupon.id) outranks the slot above it")
                }
            }
        case .epsilonGreedy(let epsilon):
            for (index, item) in items.enumerated() {
                let slot = index + 1
                let explores = PolicyRandom.exploreDraw(seed: logged.seed, slot: slot) < epsilon
                if explores != item.choice.contains(.explored) {
                    differences.append("slot \(slot): the seed's draw \(explores ? "explores" : "exploits"), the log says otherwise")
                }
                if !explores, !item.choice.contains(.best) {
                    differences.append("slot \(slot) exploited but its coupon is not logged as the best remaining")
                }
                if item.choice.contains(.best), let later = items.indices.dropFirst(slot).first(where: { outranks($0, index) }) {
                    differences.append("slot \(slot) is logged as the best remaining but slot \(later + 1) outranks it")
                }
                let uniform = epsilon / Double(logged.eligible - index)
                result.append(item.choice.contains(.best) ? (1 - epsilon) + uniform : uniform)
            }
        case .softmax(let temperature):
            var remainingMass = logged.normalizer
            var previousKey = Double.infinity
            for (index, item) in items.enumerated() {
                let weight = Explorer.softmaxWeight(score: scores[index], scoreMax: logged.scoreMax, temperature: temperature)
                result.append(Explorer.softmaxPropensity(weight: weight, remainingMass: remainingMass))
                remainingMass -= weight
                let key = (scores[index] - logged.scoreMax) / temperature + PolicyRandom.gumbel(seed: logged.seed, couponID: item.coupon.id)
                if key > previousKey {
                    differences.append("slot \(index + 1): its Gumbel key \(key) is above the slot before it")
                }
                previousKey = key
            }
        }
        return result
    }
}
