/// One entry of a ranking.
public struct RankedCoupon: Sendable, Hashable {
    public var id: String
    public var name: String
    public var score: Double
    /// Expected click-through probability.
    public var probability: Double
    /// The probability, under the policy that ranked it, of this coupon in this slot given the
    /// slots above it (proto-spec/MODEL.md §3.1); 1 for a greedy ranking.
    public var propensity: Double
    /// How the policy chose this slot.
    public var choice: SlotChoice
    /// Where the coupon is in the candidate list it was ranked from; -1 when unknown.
    public var candidateIndex: Int

    public init(
        id: String,
        name: String,
        score: Double,
        probability: Double,
        propensity: Double = 1,
        choice: SlotChoice = .best,
        candidateIndex: Int = -1
    ) {
        self.id = id
        self.name = name
        self.score = score
        self.probability = probability
        self.propensity = propensity
        self.choice = choice
        self.candidateIndex = candidateIndex
    }
}

/// How the policy chose one slot of a ranking.
public struct SlotChoice: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The slot's draw explored (ε-greedy) instead of taking the best remaining coupon.
    public static let explored = SlotChoice(rawValue: 1 << 0)
    /// The coupon was the best-scored of those remaining for the slot.
    public static let best = SlotChoice(rawValue: 1 << 1)
}

/// Orders scored candidates.
public enum Ranker {
    /// The `topK` best candidates by descending score, each coupon id once (the best-scored of
    /// duplicates); equal scores are ordered by coupon id so the same input always gives the same
    /// ranking.
    public static func top(_ topK: Int, of candidates: [Coupon], scored: BatchScores) -> [RankedCoupon] {
        precondition(candidates.count == scored.scores.count)
        guard topK > 0 else { return [] }
        let scores = scored.scores
        func better(_ a: Int, _ b: Int) -> Bool {
            let sa = scores[a]
            let sb = scores[b]
            if sa != sb { return sa > sb }
            return candidates[a].id < candidates[b].id
        }
        // The best `limit` indices, kept sorted by insertion: O(n·log k) comparisons and a few
        // moves for the usual k ≪ n, instead of sorting all n. A margin over `topK` leaves room
        // for duplicate ids, which are dropped below.
        let limit = min(candidates.count, topK + 8)
        var order: [Int] = []
        order.reserveCapacity(limit + 1)
        for index in candidates.indices {
            if order.count == limit, !better(index, order[limit - 1]) { continue }
            var low = 0
            var high = order.count
            while low < high {
                let mid = (low + high) / 2
                if better(order[mid], index) { low = mid + 1 } else { high = mid }
            }
            order.insert(index, at: low)
            if order.count > limit { order.removeLast() }
        }
        if order.count < candidates.count, distinctIDs(order.lazy.map { candidates[$0].id }) < topK {
            // More duplicates than the margin: fall back to the full order.
            order = candidates.indices.sorted(by: better)
        }
        var ranked: [RankedCoupon] = []
        ranked.reserveCapacity(min(topK, candidates.count))
        // A short list is searched, a long one hashed: comparing short ids costs less than
        // hashing them.
        let searchesLinearly = order.count <= Self.linearSearchLimit
        var seen = Set<String>(minimumCapacity: searchesLinearly ? 0 : min(topK, candidates.count))
        for index in order {
            let id = candidates[index].id
            let isNew = searchesLinearly ? !ranked.contains { $0.id == id } : seen.insert(id).inserted
            guard isNew else { continue }
            ranked.append(
                RankedCoupon(
                    id: candidates[index].id,
                    name: candidates[index].name,
                    score: scored.scores[index],
                    probability: scored.probabilities[index],
                    candidateIndex: index
                )
            )
            if ranked.count == topK { break }
        }
        return ranked
    }

    static let linearSearchLimit = 48

    /// How many distinct ids `ids` holds.
    static func distinctIDs(_ ids: some Collection<String>) -> Int {
        guard ids.count <= linearSearchLimit else { return Set(ids).count }
        var distinct = 0
        var position = ids.startIndex
        while position != ids.endIndex {
            let id = ids[position]
            if !ids[ids.startIndex..<position].contains(id) { distinct += 1 }
            position = ids.index(after: position)
        }
        return distinct
    }
}
