import CouponRankCore
import CouponRankEvents
import CouponRankModelFile
import CouponRankTestSupport
import CouponRankTraining
import NIOCore
import Testing

@Suite struct OnlineLearnerTests {
    static func base(_ kind: ModelKind = .linucb) throws -> ModelDefinition {
        var definition = try BundledModel.load().definition
        definition.kind = kind
        if kind == .logistic {
            definition.aInverse = []
            definition.alpha = 0
        }
        return definition
    }

    @Test func linUCBStatisticsAreTheSumsOverEveryShownItemsDenseContext() throws {
        let log = SyntheticLog(count: 60)
        let base = try Self.base()
        let learner = try log.referenceLearner(base: base)
        // Straight from the formulas: A = I + Σ xxᵀ, b = Σ r·x over dense rows.
        let schema = try CompiledSchema(base.features)
        var dense = LinUCBAccumulator(dimension: schema.dimension)
        let clicked = Set(log.clicks.map { "\($0.0)|\($0.1)" })
        for decision in log.decisions {
            let coupons = decision.items.map(\.coupon)
            let batch = schema.makeContexts(user: decision.user, candidates: coupons, stats: CouponStatsTable(couponIDs: coupons.map(\.id), entries: decision.items.map(\.stats)))
            for row in 0..<batch.count {
                dense.observe(batch.denseRow(row), reward: clicked.contains("\(decision.eventID)|\(coupons[row].id)") ? 1 : 0)
            }
        }
        let statistics = try #require(learner.linucbStatistics)
        #expect(maximumRelativeDifference(statistics.a, dense.a) < 1e-12)
        #expect(maximumRelativeDifference(statistics.b, dense.b) < 1e-12)
        #expect(learner.itemUpdates == 300)
        #expect(learner.rewards == log.clicks.count)
    }

    @Test func twoSharesMergeIntoTheStatisticsOfTheWhole() throws {
        let log = SyntheticLog(count: 200)
        let base = try Self.base()
        let whole = try log.referenceLearner(base: base)
        var first = try log.referenceLearner(base: base, partition: .init(index: 0, count: 2))
        let second = try log.referenceLearner(base: base, partition: .init(index: 1, count: 2))
        #expect(first.decisions > 50 && second.decisions > 50)
        try first.merge(second)
        #expect(first.decisions == whole.decisions)
        let merged = try first.makeDefinition(version: "m", createdAt: "2026-11-25T00:00:00Z", lineage: nil)
        let reference = try whole.makeDefinition(version: "m", createdAt: "2026-11-25T00:00:00Z", lineage: nil)
        #expect(maximumRelativeDifference(merged.theta, reference.theta) < 1e-9)
        #expect(maximumRelativeDifference(merged.aInverse, reference.aInverse) < 1e-9)
    }

    @Test func logisticStatisticsDoNotMergeAndSaySo() throws {
        var learner = try OnlineLearner(base: Self.base(.logistic))
        let other = try OnlineLearner(base: Self.base(.logistic))
        #expect(throws: ModelError.self) { try learner.merge(other) }
    }

    @Test func aColdStartModelScoresEveryCouponAlikeAndIsServable() throws {
        let learner = try OnlineLearner(base: Self.base())
        let definition = try learner.makeDefinition(version: "cold", createdAt: "2026-11-25T00:00:00Z", lineage: nil)
        #expect(definition.theta.allSatisfy { $0 == 0 })
        let d = learner.schema.dimension
        for i in 0..<d { #expect(definition.aInverse[i * d + i] == 1) }
        _ = try ScoringModel(definition)
    }

    @Test func theCheckpointRestoresTheStatisticsBitForBit() throws {
        for kind in [ModelKind.linucb, .logistic] {
            let base = try Self.base(kind)
            let learner = try SyntheticLog(count: 40).referenceLearner(base: base)
            var buffer = ByteBufferAllocator().buffer(capacity: 0)
            learner.encode(into: &buffer)
            let restored = try OnlineLearner(base: base, checkpoint: &buffer)
            #expect(restored.statistics == learner.statistics)
            #expect(restored.decisions == learner.decisions && restored.itemUpdates == learner.itemUpdates && restored.rewards == learner.rewards)
        }
    }

    @Test func aCheckpointOfAnotherSchemaIsRefusedWithTheReason() throws {
        let learner = try SyntheticLog(count: 3).referenceLearner(base: Self.base())
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        learner.encode(into: &buffer)
        var other = try Self.base()
        let removed = other.features.features.removeLast()
        other.theta.removeLast(removed.width)
        #expect { _ = try OnlineLearner(base: other, checkpoint: &buffer) } throws: { "\($0)".contains("dimension") }
    }

    @Test func ftrlLearnsTheSignOfAFeatureThatPredictsClicks() throws {
        // One coupon feature: discount 0.5 always clicked, 0.05 never.
        let definition = ModelDefinition(
            version: "f", createdAt: "2026-11-25T00:00:00Z", kind: .logistic,
            features: FeatureSchema(features: [.bias, .numeric(field: "coupon.discount_rate", transform: .identity, mean: 0.275, std: 0.225)]),
            theta: [0, 0]
        )
        var learner = try OnlineLearner(base: definition)
        for index in 0..<400 {
            let high = index % 2 == 0
            let coupon = Coupon(id: "C\(index)", name: "", category: "x", shop: "s", discountRate: high ? 0.5 : 0.05, minimumSpend: 0, daysToExpiry: 1)
            let decision = LoggedDecision(
                eventID: "e\(index)", unixMillis: 0, easyID: "1", modelVersion: "f", policy: .greedy, degraded: 0, eligible: 1,
                scoreMax: 0, normalizer: 0, user: .unknown,
                items: [.init(coupon: coupon, score: 0, probability: 0, propensity: 1, choice: .best, stats: .prior)]
            )
            learner.learn(ClosedDecision(decision: decision, streamID: .zero, rewards: [high ? 1 : 0], rewarded: [high]))
        }
        let theta = try learner.makeDefinition(version: "f2", createdAt: "2026-11-25T00:00:00Z", lineage: nil).theta
        #expect(theta[1] > 1)
        let model = try ScoringModel(try learner.makeDefinition(version: "f2", createdAt: "2026-11-25T00:00:00Z", lineage: nil))
        #expect(model.kind == .logistic)
    }
}
