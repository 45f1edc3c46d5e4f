/// One entry of a ranking.
public struct RankedCoupon: Sendable, Hashable {
    public var id: String
    public var name: String
    public var score: Double
    /// Expected click-through probability.
    public var probability: Double

    public init(id: String, name: String, score: Double, probability: Double) {
        self.id = id
        self.name = name
        self.score = score
        self.probability = probability
    }
}

/// Orders scored candidates.
public enum Ranker {
    /// The `topK` best candidates by descending score, each coupon id once (the best-scored of
    /// duplicates); equal scores are ordered by coupon id so the same input always gives the same
    /// ranking.
    public static func top(_ topK: Int, of candidates: [Coupon], scored: BatchScores) -> [RankedCoupon] {
        precondition(candidates.count == scored.scores.count)
        guard topK > 0 else { return [] }
        let order = candidates.indices.sorted { a, b in
            let sa = scored.scores[a]
            let sb = scored.scores[b]
            if sa != sb { return sa > sb }
            return candidates[a].id < candidates[b].id
        }
        var ranked: [RankedCoupon] = []
        ranked.reserveCapacity(min(topK, candidates.count))
        var seen = Set<String>(minimumCapacity: min(topK, candidates.count))
        for index in order {
            guard seen.insert(candidates[index].id).inserted else { continue }
            ranked.append(
                RankedCoupon(
                    id: candidates[index].id,
                    name: candidates[index].name,
                    score: scored.scores[index],
                    probability: scored.probabilities[index]
                )
            )
            if ranked.count == topK { break }
        }
        return ranked
    }
}
