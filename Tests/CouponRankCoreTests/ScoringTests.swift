import CouponRankCore
import CouponRankModelFile
import CouponRankSources
import Testing

@Suite struct ScoringTests {
    let user = UserFeatures(numeric: ["x": 5])

    @Test func logisticScoreIsSigmoidOfThetaDotX() throws {
        let model = try tinyModel(.logistic)
        let batch = model.schema.makeContexts(user: user, candidates: [coupon("C1", discount: 0.5)], stats: .empty)
        let scored = model.score(batch)
        // x = [1, 2, 0.5], θ·x = 0.5 - 2 + 1 = -0.5, σ(-0.5) = 0.377540668798145
        #expect(abs(scored.scores[0] - 0.37754066879814546) < 1e-15)
        #expect(scored.probabilities[0] == scored.scores[0])
    }

    @Test func linUCBScoreIsThetaDotXPlusAlphaTimesTheConfidenceWidth() throws {
        let model = try tinyModel(.linucb)
        let batch = model.schema.makeContexts(user: user, candidates: [coupon("C1", discount: 0.5)], stats: .empty)
        let scored = model.score(batch)
        // A⁻¹x = [3, 2.5, 0.125], xᵀA⁻¹x = 3 + 5 + 0.0625 = 8.0625
        // score = -0.5 + 0.5·√8.0625 = 0.9197270864500685; p = clamp(-0.5, 0, 1) = 0
        #expect(abs(scored.scores[0] - 0.9197270864500685) < 1e-14)
        #expect(scored.probabilities[0] == 0)
    }

    @Test(arguments: ModelKind.allCases)
    func structuredScoringMatchesTheDenseFormulas(kind: ModelKind) throws {
        let generator = StubDataGenerator(configuration: .init(catalogSize: 500, candidatesPerUser: 120))
        let bundled = try BundledModel.load()
        var definition = bundled.definition
        definition.kind = kind
        if kind == .logistic {
            definition.aInverse = []
            definition.theta = definition.theta.map { $0 * 20 }
        }
        let model = try ScoringModel(definition)
        for easyID in ["1", "12345", "987654321"] {
            let batch = model.schema.makeContexts(
                user: generator.userFeatures(for: easyID),
                candidates: generator.candidates(for: easyID),
                stats: generator.stats(for: easyID)
            )
            let fast = model.score(batch)
            let reference = model.scoreDense(batch.denseMatrix(), count: batch.count)
            #expect(fast.scores.count == 120)
            for row in 0..<batch.count {
                #expect(abs(fast.scores[row] - reference.scores[row]) < 1e-12)
                #expect(abs(fast.probabilities[row] - reference.probabilities[row]) < 1e-12)
            }
        }
    }

    @Test func linUCBExplorationBonusIsPositiveForTheBundledModel() throws {
        let model = try BundledModel.load()
        let generator = StubDataGenerator()
        let batch = model.schema.makeContexts(
            user: generator.userFeatures(for: "12345"),
            candidates: generator.candidates(for: "12345"),
            stats: generator.stats(for: "12345")
        )
        let scored = model.score(batch)
        for row in 0..<batch.count {
            #expect(scored.scores[row] > scored.probabilities[row])
        }
    }

    @Test func theReferenceTrainerInvertsA() throws {
        var accumulator = LinUCBAccumulator(dimension: 3, ridge: 1)
        accumulator.observe([1, 2, 0], reward: 1)
        accumulator.observe([1, 0, 3], reward: 0)
        let a = accumulator.a
        let (_, inverse) = try accumulator.solve()
        for i in 0..<3 {
            for j in 0..<3 {
                var product = 0.0
                for k in 0..<3 { product += a[i * 3 + k] * inverse[k * 3 + j] }
                #expect(abs(product - (i == j ? 1 : 0)) < 1e-12)
            }
        }
    }
}
