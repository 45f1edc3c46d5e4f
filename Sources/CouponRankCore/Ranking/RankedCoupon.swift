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
    /// The `topK` best candidates by descending score; equal scores are ordered by coupon id so
    /// the same input always gives the same ranking.
    public static func top(_ topK: Int, of candidates: [Coupon], scored: BatchScores) -> [RankedCoupon] {
        precondition(candidates.count == scored.scores.count)
        let order = candidates.indices.sorted { a, b in
            let sa = scored.scores[a]
            let sb = scored.scores[b]
            if sa != sb { return sa > sb }
            return candidates[a].id < candidates[b].id
        }
        return order.prefix(max(topK, 0)).map { index in
            RankedCoupon(
                id: candidates[index].id,
                name: candidates[index].name,
                score: scored.scores[index],
                probability: scored.probabilities[index]
            )
        }
    }
}
