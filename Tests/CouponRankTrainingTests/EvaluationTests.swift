import CouponRankCore
import CouponRankEvents
import CouponRankTraining
import Foundation
import Testing

/// The off-policy estimators on decisions small enough to compute by hand (proto-spec/MODEL.md §8).
@Suite struct EvaluationTests {
    typealias F = EvaluationFixtures

    static func close(_ a: Double, _ b: Double, tolerance: Double = 1e-12) -> Bool {
        abs(a - b) <= tolerance * max(1, abs(a), abs(b))
    }

    /// Two usable decisions — (1) eligible A 0.5, B 0.3, C 0.2, slot 1 showed B (p = 0.1,
    /// clicked), slot 2 A (p = 0.85, not clicked); (2) eligible D 0.6, E 0.1, slot 1 showed D
    /// (p = 0.7, clicked) — and three that must be skipped.
    static func handLog() -> [ClosedDecision] {
        let a = F.coupon("A", 0.5)
        let b = F.coupon("B", 0.3)
        let c = F.coupon("C", 0.2)
        let d = F.coupon("D", 0.6)
        let e = F.coupon("E", 0.1)
        return [
            F.decision("e1", shown: [(b, 0.1, 1), (a, 0.85, 0)], candidates: [c]),
            F.decision("e-no-candidates", shown: [(a, 0.9, 1)], candidates: nil),
            F.decision("e2", policy: .softmax(temperature: 1), shown: [(d, 0.7, 1)], candidates: [e]),
            F.decision("e-degraded", shown: [(a, 0.9, 1)], candidates: [b], degraded: 1),
            F.decision("e-incomplete", shown: [(a, 0.9, 1)], candidates: [b], eligible: 3),
        ]
    }

    @Test func greedyTargetMatchesTheHandComputedEstimates() throws {
        let evaluation = OffPolicyEvaluator(model: try F.discountModel(), policy: .greedy).evaluate(Self.handLog())
        // Rows: (e1 slot 1) π(B) = 0, w = 0; (e1 slot 2) π(A | {A, C}) = 1, w = 1/0.85;
        // (e2 slot 1) π(D) = 1, w = 1/0.7. q̂ = discount rate; the direct value is q̂(best).
        let ips = (0 + 0 + 1 / 0.7) / 3
        let snips = (1 / 0.7) / (0 + 1 / 0.85 + 1 / 0.7)
        let dr = (0.5 + (0.5 + (1 / 0.85) * (0 - 0.5)) + (0.6 + (1 / 0.7) * (1 - 0.6))) / 3
        #expect(evaluation.rowCount == 3)
        #expect(evaluation.decisionsSeen == 5 && evaluation.decisionsUsed == 2)
        #expect(evaluation.skipped == [.noCandidates: 1, .degraded: 1, .incompleteSet: 1])
        #expect(Self.close(evaluation.inverseProbability.value, ips))
        #expect(Self.close(evaluation.selfNormalized.value, snips))
        #expect(Self.close(evaluation.doublyRobust.value, dr))
        #expect(Self.close(evaluation.observed.value, 2.0 / 3))
        #expect(Self.close(evaluation.direct.value, (0.5 + 0.5 + 0.6) / 3))
        let w = [0, 1 / 0.85, 1 / 0.7]
        #expect(Self.close(evaluation.effectiveSampleSize, pow(w.reduce(0, +), 2) / w.map { $0 * $0 }.reduce(0, +)))
        #expect(Self.close(evaluation.maximumWeight, 1 / 0.7))
        #expect(evaluation.rows.map(\.remaining) == [3, 2, 2])
        #expect(evaluation.rows.map(\.decision) == [0, 0, 2])
        #expect(evaluation.unsupportedMass == 0)
    }

    @Test func epsilonGreedyTargetMatchesTheHandComputedEstimates() throws {
        let evaluation = OffPolicyEvaluator(model: try F.discountModel(), policy: .fixed(.epsilonGreedy(epsilon: 0.2))).evaluate(Self.handLog())
        // (e1 slot 1) π(B | {A,B,C}) = 0.2/3, w = (0.2/3)/0.1, direct = 0.8·0.5 + 0.2·(1.0/3);
        // (e1 slot 2) π(A | {A,C}) = 0.8 + 0.1, w = 0.9/0.85, direct = 0.8·0.5 + 0.2·0.35;
        // (e2 slot 1) π(D | {D,E}) = 0.9, w = 0.9/0.7, direct = 0.8·0.6 + 0.2·0.35.
        let w = [(0.2 / 3) / 0.1, 0.9 / 0.85, 0.9 / 0.7]
        let r = [1.0, 0, 1]
        let qc = [0.3, 0.5, 0.6]
        let direct = [0.8 * 0.5 + 0.2 * (1.0 / 3), 0.8 * 0.5 + 0.2 * 0.35, 0.8 * 0.6 + 0.2 * 0.35]
        let ipsTerms = zip(w, r).map { $0 * $1 }
        let drTerms = (0..<3).map { direct[$0] + w[$0] * (r[$0] - qc[$0]) }
        #expect(Self.close(evaluation.inverseProbability.value, ipsTerms.reduce(0, +) / 3))
        #expect(Self.close(evaluation.selfNormalized.value, ipsTerms.reduce(0, +) / w.reduce(0, +)))
        #expect(Self.close(evaluation.doublyRobust.value, drTerms.reduce(0, +) / 3))
        // The normal interval on the row terms: s/√n with the n − 1 sample deviation.
        let mean = drTerms.reduce(0, +) / 3
        let se = (drTerms.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2 / 3).squareRoot()
        #expect(Self.close(evaluation.doublyRobust.standardError, se))
        #expect(Self.close(evaluation.doublyRobust.upper, mean + 1.959963984540054 * se))
        // SNIPS by the delta method: n/(n−1) · Σ (w(r − V))² / (Σ w)².
        let v = evaluation.selfNormalized.value
        let snipsSE = (1.5 * zip(w, r).map { pow($0 * ($1 - v), 2) }.reduce(0, +)).squareRoot() / w.reduce(0, +)
        #expect(Self.close(evaluation.selfNormalized.standardError, snipsSE))
    }

    @Test func softmaxTargetUsesTheModelsOwnExplorationAndMasksTheSlotsAbove() throws {
        // T = 1/ln 2 makes the weights powers of two: scores 1 and 0 weigh 1 and 1/2.
        let model = try F.discountModel(exploration: .softmax(temperature: 1 / M_LN2))
        let f = F.coupon("F", 1)
        let g = F.coupon("G", 0)
        let log = [F.decision("s1", policy: .softmax(temperature: 1), shown: [(g, 0.25, 0), (f, 1, 1)], candidates: [])]
        let evaluation = OffPolicyEvaluator(model: model).evaluate(log)
        #expect(evaluation.policy == .softmax(temperature: 1 / M_LN2))
        // Slot 1: π(G | {F, G}) = 1/3, w = 4/3, r = 0, direct = 2/3·1 + 1/3·0.
        // Slot 2: π(F | {F}) = 1, w = 1, r = 1, direct = 1.
        #expect(evaluation.rows.map(\.targetProbability).enumerated().allSatisfy { Self.close($1, [1.0 / 3, 1][$0]) })
        #expect(Self.close(evaluation.inverseProbability.value, 0.5))
        #expect(Self.close(evaluation.selfNormalized.value, 1 / (4.0 / 3 + 1)))
        #expect(Self.close(evaluation.doublyRobust.value, (2.0 / 3 + 1) / 2))
    }

    @Test func softmaxWeightsThatUnderflowAfterTheTopIsShownAreRescaled() throws {
        // T = 0.001: once F (score 1) is shown, exp(−1000) underflows for G and H; the slot's own
        // maximum gives them 1/2 each.
        let model = try F.discountModel(exploration: .softmax(temperature: 0.001))
        let log = [
            F.decision("u1", shown: [(F.coupon("F", 1), 1, 0), (F.coupon("G", 0), 0.5, 1)], candidates: [F.coupon("H", 0)])
        ]
        let evaluation = OffPolicyEvaluator(model: model).evaluate(log)
        #expect(evaluation.rows.map(\.targetProbability) == [1, 0.5])
        #expect(evaluation.rows.map(\.weight) == [1, 1])
        let (_, json) = OffPolicyEvaluator(model: model).banditFeedback(for: log)
        #expect(json.contains("\"action_dist\": [0.5, 0.5]"))
    }

    @Test func targetEqualToTheLoggingPolicyWeighsEveryRowOne() throws {
        let model = try F.discountModel(exploration: .epsilonGreedy(epsilon: 0.3))
        let a = F.coupon("A", 0.5)
        let b = F.coupon("B", 0.3)
        let c = F.coupon("C", 0.2)
        // Propensities as the ε-greedy logger gives them: explored B from 3, then the best of 2.
        let log = [F.decision("e1", shown: [(b, 0.3 / 3, 1), (a, 0.7 + 0.3 / 2, 0)], candidates: [c])]
        let evaluation = OffPolicyEvaluator(model: model).evaluate(log)
        #expect(evaluation.rows.allSatisfy { Self.close($0.weight, 1) })
        #expect(Self.close(evaluation.inverseProbability.value, evaluation.observed.value))
        #expect(Self.close(evaluation.effectiveSampleSize, 2))
    }

    @Test func aGreedyLogReportsTheTargetsMassOutsideItsSupport() throws {
        let log = [F.decision("g1", policy: .greedy, shown: [(F.coupon("A", 0.5), 1, 1)], candidates: [F.coupon("B", 0.3)])]
        let evaluation = OffPolicyEvaluator(model: try F.discountModel(), policy: .fixed(.epsilonGreedy(epsilon: 0.4))).evaluate(log)
        // π(A) = 0.6 + 0.2: B's 0.2 could never have been logged.
        #expect(Self.close(evaluation.unsupportedMass, 0.2))
    }

    @Test func slotsLimitTheRowsToTheFirstSlots() throws {
        let evaluation = OffPolicyEvaluator(model: try F.discountModel(), policy: .greedy, slots: 1).evaluate(Self.handLog())
        #expect(evaluation.rows.map(\.slot) == [1, 1])
        #expect(Self.close(evaluation.inverseProbability.value, (0 + 1 / 0.7) / 2))
    }

    @Test func skipReasonsAreCountedInOrderOfPrecedence() throws {
        let a = F.coupon("A", 0.5)
        let b = F.coupon("B", 0.3)
        let log = [
            F.decision("nothing", shown: [], candidates: [a]),
            F.decision("duplicate", shown: [(a, 0.5, 1)], candidates: [a]),
            F.decision("zero", shown: [(a, 0, 1)], candidates: [b]),
            F.decision("above-one", shown: [(a, 1.5, 1)], candidates: [b]),
            F.decision("no-candidates-and-degraded", shown: [(a, 0.5, 1)], candidates: nil, degraded: 2),
            F.decision("degraded", shown: [(a, 0.5, 1)], candidates: [b], degraded: 2),
        ]
        let model = try F.discountModel()
        let excluded = OffPolicyEvaluator(model: model).evaluate(log)
        #expect(excluded.skipped == [.nothingShown: 1, .incompleteSet: 1, .zeroPropensity: 2, .noCandidates: 1, .degraded: 1])
        #expect(excluded.rowCount == 0 && excluded.inverseProbability.value.isNaN)
        let included = OffPolicyEvaluator(model: model, includeDegraded: true).evaluate(log)
        #expect(included.decisionsUsed == 1 && included.skipped[.degraded] == nil)
    }

    @Test func pairedComparisonOfOneSlotDecisionsIsThePairedMeanDifference() throws {
        // One row per decision: the interval is the paired t-interval of the DR terms.
        let coupons = (0..<6).map { F.coupon("K\($0)", Double($0) / 10) }
        var log: [ClosedDecision] = []
        for index in 0..<6 {
            let shown = coupons[index]
            let others = coupons.filter { $0.id != shown.id }
            log.append(F.decision("p\(index)", shown: [(shown, [0.1, 0.2, 0.4, 0.1, 0.3, 0.6][index], Double(index % 2))], candidates: others))
        }
        let model = try F.discountModel()
        let candidate = OffPolicyEvaluator(model: model, policy: .fixed(.epsilonGreedy(epsilon: 0.5))).evaluate(log)
        let serving = OffPolicyEvaluator(model: model, policy: .greedy).evaluate(log)
        let comparison = OffPolicyComparison(candidate: candidate, serving: serving)
        let differences = zip(candidate.rows, serving.rows).map { $0.doublyRobustTerm - $1.doublyRobustTerm }
        let mean = differences.reduce(0, +) / 6
        let se = (differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 5 / 6).squareRoot()
        #expect(comparison.decisions == 6 && comparison.rows == 6)
        #expect(Self.close(comparison.difference.value, candidate.doublyRobust.value - serving.doublyRobust.value))
        #expect(Self.close(comparison.difference.value, mean))
        #expect(Self.close(comparison.difference.standardError, se))
        #expect(comparison.isWorse(margin: 0) == (comparison.difference.upper < 0))
        let same = OffPolicyEvaluator.compare(candidate: model, serving: model, on: log, policy: .greedy)
        #expect(same.difference.value == 0 && same.difference.standardError == 0 && !same.isWorse(margin: 0))
    }

    @Test func pairedComparisonOfSeveralSlotsClustersByDecision() throws {
        // A candidate that adds a constant c to every DR term differs by exactly c, with zero
        // spread: here two evaluations whose rows are shifted by hand.
        let evaluation = OffPolicyEvaluator(model: try F.discountModel(), policy: .greedy).evaluate(Self.handLog())
        var shifted = evaluation
        shifted.rows = evaluation.rows.map { row in
            var row = row
            row.directValue += 0.25
            return row
        }
        let shiftedEvaluation = OffPolicyEvaluation(
            modelVersion: "shifted",
            policy: .greedy,
            decisionsSeen: shifted.decisionsSeen,
            decisionsUsed: shifted.decisionsUsed,
            skipped: shifted.skipped,
            rows: shifted.rows
        )
        let comparison = OffPolicyComparison(candidate: shiftedEvaluation, serving: evaluation)
        #expect(comparison.decisions == 2 && comparison.rows == 3)
        #expect(Self.close(comparison.difference.value, 0.25))
        #expect(comparison.difference.standardError < 1e-12)
        #expect(comparison.candidateVersion == "shifted" && comparison.servingVersion == "discount-1")
    }

    @Test func exportedRowsCarryTheTargetDistributionOverTheRemainingSet() throws {
        let evaluator = OffPolicyEvaluator(model: try F.discountModel(), policy: .fixed(.epsilonGreedy(epsilon: 0.2)))
        let (evaluation, json) = evaluator.banditFeedback(for: Self.handLog())
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(document["n_rounds"] as? Int == 3 && document["n_actions"] as? Int == 3 && document["len_list"] as? Int == 1)
        let rows = try #require(document["rows"] as? [[String: Any]])
        // e1 slot 1: R in greedy order A, B, C; B (index 1) was shown.
        #expect(rows[0]["action"] as? Int == 1)
        let first = try #require(rows[0]["action_dist"] as? [Double])
        #expect(zip(first, [0.8 + 0.2 / 3, 0.2 / 3, 0.2 / 3]).allSatisfy { Self.close($0, $1) })
        #expect(rows[0]["estimated_rewards_by_reg_model"] as? [Double] == [0.5, 0.3, 0.2])
        #expect(rows[1]["action"] as? Int == 0 && (rows[1]["action_dist"] as? [Double])?.count == 2)
        let summary = try #require(document["evaluation"] as? [String: Any])
        let ips = try #require(summary["ips"] as? [String: Any])
        #expect(ips["value"] as? Double == evaluation.inverseProbability.value)
    }
}
