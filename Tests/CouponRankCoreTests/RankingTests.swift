import CouponRankCore
import Testing

@Suite struct RankingTests {
    let candidates = ["C5", "C3", "C1", "C4", "C2"].map { coupon($0) }
    let scores = BatchScores(scores: [0.5, 0.9, 0.5, 0.1, 0.7], probabilities: [0.05, 0.09, 0.05, 0.01, 0.07])

    @Test func ordersByDescendingScoreAndBreaksTiesByCouponID() {
        let ranked = Ranker.top(10, of: candidates, scored: scores)
        #expect(ranked.map(\.id) == ["C3", "C2", "C1", "C5", "C4"])
        #expect(ranked.first?.probability == 0.09)
    }

    @Test(arguments: [0, 1, 3, 5, 50])
    func returnsAtMostTopK(topK: Int) {
        let ranked = Ranker.top(topK, of: candidates, scored: scores)
        #expect(ranked.count == min(topK, candidates.count))
        #expect(ranked.map(\.id) == Array(["C3", "C2", "C1", "C5", "C4"].prefix(topK)))
    }

    @Test func eligibilityRemovesExclusionsAndHonoursTheCandidateFilter() {
        let list = candidates + [coupon("C3"), coupon("C1")]
        #expect(RankQuery(topK: 10).eligible(list).map(\.id) == list.map(\.id))
        #expect(RankQuery(topK: 10, excluded: ["C3", "C9"]).eligible(list).map(\.id) == ["C5", "C1", "C4", "C2", "C1"])
        #expect(RankQuery(topK: 10, onlyCandidates: ["C1", "C2", "C9"]).eligible(list).map(\.id) == ["C1", "C2", "C1"])
        #expect(RankQuery(topK: 10, onlyCandidates: ["C1", "C2"], excluded: ["C2"]).eligible(list).map(\.id) == ["C1", "C1"])
    }

    @Test func aDuplicatedCouponIsRankedOnceAtItsBestScore() {
        let list = [coupon("C1"), coupon("C2"), coupon("C1"), coupon("C3")]
        let scored = BatchScores(scores: [0.2, 0.5, 0.9, 0.1], probabilities: [0.02, 0.05, 0.09, 0.01])
        let ranked = Ranker.top(10, of: list, scored: scored)
        #expect(ranked.map(\.id) == ["C1", "C2", "C3"])
        #expect(ranked[0].score == 0.9)
        #expect(Ranker.top(2, of: list, scored: scored).map(\.id) == ["C1", "C2"])
    }
}

@Suite struct RankerSelectionTests {
    /// The top-k selection agrees with sorting everything, ties and duplicates included.
    @Test(arguments: [1, 5, 20, 60, 250])
    func agreesWithAFullSort(topK: Int) {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let count = Int.random(in: 1...200, using: &rng)
            let candidates = (0..<count).map { _ in coupon("C\(Int.random(in: 0..<150, using: &rng))") }
            let scores = (0..<count).map { _ in Double(Int.random(in: 0..<40, using: &rng)) / 40 }  // many ties
            let scored = BatchScores(scores: scores, probabilities: scores)
            let reference = candidates.indices.sorted { a, b in
                scores[a] != scores[b] ? scores[a] > scores[b] : candidates[a].id < candidates[b].id
            }
            var seen = Set<String>()
            let expected = reference.filter { seen.insert(candidates[$0].id).inserted }.prefix(topK)
            let ranked = Ranker.top(topK, of: candidates, scored: scored)
            #expect(ranked.map(\.id) == expected.map { candidates[$0].id })
            #expect(ranked.map(\.score) == expected.map { scores[$0] })
        }
    }
}
