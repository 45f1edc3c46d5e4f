import CouponRankCore
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Exploration policies: exact propensities, determinism, and frequencies that match the logged
/// propensities (proto-spec/MODEL.md §3.1).
@Suite struct ExplorationTests {
    /// Five coupons in greedy order: A best, E worst.
    static let order: [RankedCoupon] = [("A", 2.0), ("B", 1.5), ("C", 1.0), ("D", 0.5), ("E", 0.0)].map {
        RankedCoupon(id: $0.0, name: $0.0, score: $0.1, probability: 0)
    }

    @Test func greedyShowsTheBestInOrderWithPropensityOne() {
        let result = Explorer.rank(Self.order, topK: 3, policy: .greedy, seed: 42)
        #expect(result.ranked.map(\.id) == ["A", "B", "C"])
        #expect(result.ranked.map(\.propensity) == [1, 1, 1])
    }

    @Test func epsilonGreedyPropensitiesAreTheHandComputedOnes() {
        let epsilon = 0.2
        // Find a seed whose first slot explores to a coupon other than the best, and check every
        // slot against (1 − ε)·[best] + ε / remaining.
        for seed in UInt64(0)..<500 {
            let result = Explorer.rank(Self.order, topK: 3, policy: .epsilonGreedy(epsilon: epsilon), seed: seed)
            var remaining = Self.order.map(\.id)
            for (index, item) in result.ranked.enumerated() {
                let best = remaining[0] == item.id
                let expected = (best ? 0.8 : 0) + 0.2 / Double(5 - index)
                #expect(item.propensity == expected, "seed \(seed) slot \(index + 1)")
                #expect(item.choice.contains(.best) == best)
                #expect(item.choice.contains(.explored) == (PolicyRandom.exploreDraw(seed: seed, slot: index + 1) < epsilon))
                remaining.removeAll { $0 == item.id }
            }
        }
        // Slot 1 exploiting: 0.8 + 0.2/5 = 0.84; exploring to another coupon: 0.2/5 = 0.04.
        let exploited = (UInt64(0)..<500).lazy.map { Explorer.rank(Self.order, topK: 1, policy: .epsilonGreedy(epsilon: epsilon), seed: $0) }
        #expect(exploited.contains { $0.ranked[0].id == "A" && abs($0.ranked[0].propensity - 0.84) < 1e-15 })
        #expect(exploited.contains { $0.ranked[0].id != "A" && abs($0.ranked[0].propensity - 0.04) < 1e-15 })
    }

    @Test func softmaxPropensitiesAreThePlackettLuceConditionals() {
        let temperature = 0.5
        let result = Explorer.rank(Self.order, topK: 3, policy: .softmax(temperature: temperature), seed: 7)
        // By hand: wᵢ = exp((sᵢ − 2) / 0.5) = e⁰, e⁻¹, e⁻², e⁻³, e⁻⁴.
        let weights: [String: Double] = ["A": 1, "B": exp(-1), "C": exp(-2), "D": exp(-3), "E": exp(-4)]
        var mass = weights.values.reduce(0, +)
        #expect(abs(result.normalizer - mass) < 1e-15)
        #expect(result.scoreMax == 2)
        for item in result.ranked {
            let expected = weights[item.id]! / mass
            #expect(abs(item.propensity - expected) < 1e-12, "\(item.id)")
            mass -= weights[item.id]!
        }
    }

    @Test(arguments: [ExplorationPolicy.epsilonGreedy(epsilon: 0.3), .softmax(temperature: 0.7)])
    func theSameSeedGivesTheSameRankingAndAnotherSeedMayNot(policy: ExplorationPolicy) {
        let first = Explorer.rank(Self.order, topK: 5, policy: policy, seed: 123)
        let again = Explorer.rank(Self.order, topK: 5, policy: policy, seed: 123)
        #expect(first == again)
        let rankings = Set((UInt64(0)..<200).map { Explorer.rank(Self.order, topK: 5, policy: policy, seed: $0).ranked.map(\.id) })
        #expect(rankings.count > 5)
        #expect(PolicyRandom.seed(eventID: "e1", modelVersion: "v1") == PolicyRandom.seed(eventID: "e1", modelVersion: "v1"))
        #expect(PolicyRandom.seed(eventID: "e1", modelVersion: "v1") != PolicyRandom.seed(eventID: "e1", modelVersion: "v2"))
    }

    /// Over many event ids, how often each coupon lands in slot 1, and in slot 2 after each slot-1
    /// coupon, matches the propensities the policy logged: within 4.5 standard errors each.
    @Test(arguments: [ExplorationPolicy.epsilonGreedy(epsilon: 0.25), .softmax(temperature: 0.8)])
    func observedFrequenciesMatchTheLoggedPropensities(policy: ExplorationPolicy) {
        let draws = 40_000
        var firstCounts: [String: Int] = [:]
        var firstPropensity: [String: Double] = [:]
        var secondCounts: [String: [String: Int]] = [:]
        var secondPropensity: [String: [String: Double]] = [:]
        for index in 0..<draws {
            let seed = PolicyRandom.seed(eventID: "event-\(index)", modelVersion: "v1")
            let ranked = Explorer.rank(Self.order, topK: 2, policy: policy, seed: seed).ranked
            let (first, second) = (ranked[0], ranked[1])
            firstCounts[first.id, default: 0] += 1
            if let logged = firstPropensity[first.id] { #expect(logged == first.propensity) }
            firstPropensity[first.id] = first.propensity
            secondCounts[first.id, default: [:]][second.id, default: 0] += 1
            secondPropensity[first.id, default: [:]][second.id] = second.propensity
        }
        #expect(abs(firstPropensity.values.reduce(0, +) - 1) < 1e-9, "slot-1 propensities of every coupon sum to 1")
        for (id, count) in firstCounts {
            Self.expectFrequency(count, of: draws, matches: firstPropensity[id]!, "\(policy) slot 1 \(id)")
        }
        for (first, counts) in secondCounts {
            let total = counts.values.reduce(0, +)
            guard total >= 400 else { continue }
            for (id, count) in counts {
                Self.expectFrequency(count, of: total, matches: secondPropensity[first]![id]!, "\(policy) slot 2 \(id) after \(first)")
            }
        }
    }

    static func expectFrequency(_ count: Int, of total: Int, matches p: Double, _ label: String) {
        let observed = Double(count) / Double(total)
        let standardError = (p * (1 - p) / Double(total)).squareRoot()
        #expect(abs(observed - p) <= 4.5 * standardError + 1e-9, "\(label): observed \(observed), propensity \(p)")
    }

    @Test func aFormatOneDocumentLoadsAsGreedyAndFormatTwoDeclaresItsPolicy() throws {
        let base = tinyDefinition(.linucb)
        var formatOne = base
        formatOne.format = 1
        formatOne.exploration = .softmax(temperature: 1)
        let encoded = try JSONEncoder().encode(formatOne)
        #expect(try JSONDecoder().decode(ModelDefinition.self, from: encoded).exploration == .greedy)

        var formatTwo = base
        formatTwo.exploration = .epsilonGreedy(epsilon: 0.1)
        let decoded = try JSONDecoder().decode(ModelDefinition.self, from: try JSONEncoder().encode(formatTwo))
        #expect(decoded.exploration == .epsilonGreedy(epsilon: 0.1))
        #expect(try ScoringModel(decoded).exploration == .epsilonGreedy(epsilon: 0.1))

        formatTwo.exploration = .epsilonGreedy(epsilon: 1.5)
        #expect(throws: ModelError.self) { try ScoringModel(formatTwo) }
        formatTwo.exploration = .softmax(temperature: 0)
        #expect(throws: ModelError.self) { try ScoringModel(formatTwo) }
        formatTwo.format = 3
        formatTwo.exploration = .greedy
        #expect(throws: ModelError.self) { try ScoringModel(formatTwo) }
    }
}
