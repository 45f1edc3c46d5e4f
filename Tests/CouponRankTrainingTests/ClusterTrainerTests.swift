import CouponRankEvents
import CouponRankModelStore
import CouponRankTestSupport
@testable import CouponRankTraining
import Testing

/// Issue 16: the learning loop on a Redis Cluster, whose decisions and rewards streams live on
/// different slots (a command over both is refused CROSSSLOT).
@Suite(.enabled(if: RedisClusterFixture.isAvailable, "needs redis-server and redis-cli (make test installs them)"))
struct ClusterTrainerTests {
    @Test func theTrainerLearnsEveryDecisionFromStreamsOnTwoSlotsAndPublishesThroughTheCluster() async throws {
        try await RedisClusterFixture.with { cluster in
            let keys = EventKeys()
            #expect(RedisClusterSlot.of(keys.decisions) != RedisClusterSlot.of(keys.rewards), "the case this test is about")
            let redis = RedisClient(url: cluster.url)
            let log = SyntheticLog(count: 200, degradedEvery: 10)
            try await log.write(to: redis)
            let base = try OnlineLearnerTests.base()
            let trainer = Trainer(
                configuration: .init(join: .init(windowMillis: 2000), blockMillis: 50, checkpointInterval: .milliseconds(50), publishEvery: 180),
                redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: TrainerTests.quietLogger
            )
            try await TrainerTests.run([trainer]) { trainer.status.publishes >= 1 && trainer.status.counters.closed == 200 }
            let checkpoint = try #require(try await TrainerTests.checkpoint(redis, base: base))
            #expect(checkpoint.learner.decisions == 180)
            #expect(checkpoint.counters.rewardsJoined == log.clicks.count)
            let learned = try #require(checkpoint.learner.linucbStatistics)
            let expected = try #require(try log.referenceLearner(base: base).linucbStatistics)
            #expect(maximumRelativeDifference(learned.a, expected.a) < 1e-12)
            #expect(try await ModelStore(redis: redis).currentVersion() == "trained-1")
        }
    }
}
