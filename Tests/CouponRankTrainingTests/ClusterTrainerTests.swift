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

    /// Issue 16: a log sharded over the cluster (`--event-shards 3`), each shard read by its own
    /// trainer partition; merged, they learn what one trainer learns from the whole log.
    @Test func partitionsOfAShardedLogMergeIntoWhatOneTrainerLearns() async throws {
        try await RedisClusterFixture.with { cluster in
            let keys = EventKeys(shards: 3)
            let redis = RedisClient(url: cluster.url)
            let log = SyntheticLog(count: 240)
            try await log.write(to: redis, keys: keys)
            var nodes = Set<Int>()
            for shard in 0..<3 {
                #expect(RedisClusterSlot.of(keys.decisions(shard: shard)) == RedisClusterSlot.of(keys.rewards(shard: shard)), "a shard's pair shares a slot")
                nodes.insert(try await cluster.node(serving: keys.decisions(shard: shard)).port)
                let written = try await redis.command(["XLEN", keys.decisions(shard: shard)]).integer ?? 0
                #expect(written == Int64(log.decisions.filter { keys.shard(ofEventID: $0.eventID) == shard }.count))
            }
            #expect(nodes.count >= 2, "the shards spread over the cluster: \(nodes)")
            let base = try OnlineLearnerTests.base()
            let partitions = (0..<3).map { TrainerConfiguration.Partition(index: $0, count: 3) }
            let trainers = partitions.map { partition in
                Trainer(
                    configuration: .init(
                        keys: keys, consumer: "t\(partition.index)", partition: partition, join: .init(windowMillis: 2000), blockMillis: 50,
                        checkpointInterval: .milliseconds(50), publishes: false
                    ),
                    redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: TrainerTests.quietLogger
                )
            }
            try await TrainerTests.run(trainers) { trainers.reduce(0) { $0 + $1.status.counters.closed } == 240 }
            var merged = try #require(try await TrainerTests.checkpoint(redis, base: base, partition: partitions[0])).learner
            for partition in partitions.dropFirst() {
                try merged.merge(try #require(try await TrainerTests.checkpoint(redis, base: base, partition: partition)).learner)
            }
            let whole = try log.referenceLearner(base: base)
            #expect(merged.decisions == 240 && merged.itemUpdates == whole.itemUpdates && merged.rewards == whole.rewards)
            let mergedModel = try merged.makeDefinition(version: "m", createdAt: "2026-11-25T00:00:00Z", lineage: nil)
            let wholeModel = try whole.makeDefinition(version: "m", createdAt: "2026-11-25T00:00:00Z", lineage: nil)
            #expect(maximumRelativeDifference(mergedModel.theta, wholeModel.theta) < 1e-9)
        }
    }

    @Test func aShardedLogNeedsOnePartitionPerShard() async throws {
        let configuration = TrainerConfiguration(keys: EventKeys(shards: 4), partition: .init(index: 0, count: 2))
        #expect(configuration.problem?.contains("run 4 trainer partitions") == true)
        #expect(TrainerConfiguration(keys: EventKeys(shards: 4), partition: .init(index: 3, count: 4)).decisionsStream == "couponrank:events:{3}:decisions")
        #expect(TrainerConfiguration().decisionsStream == "couponrank:events:decisions")
    }
}

/// Issue 16: the trainer behind Sentinel, through the same URL form as the engines.
@Suite(.enabled(if: RedisSentinelFixture.isAvailable, "needs redis-server (make test installs it)"))
struct SentinelTrainerTests {
    @Test func theTrainerLearnsAndPublishesThroughASentinelManagedPrimary() async throws {
        try await RedisSentinelFixture.with { fixture in
            let redis = RedisClient(url: try RedisURL(parsing: fixture.urlString))
            let log = SyntheticLog(count: 120)
            try await log.write(to: redis)
            let base = try OnlineLearnerTests.base()
            let trainer = Trainer(
                configuration: .init(join: .init(windowMillis: 2000), blockMillis: 50, checkpointInterval: .milliseconds(50), publishEvery: 120),
                redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: TrainerTests.quietLogger
            )
            try await TrainerTests.run([trainer]) { trainer.status.publishes >= 1 }
            let checkpoint = try #require(try await TrainerTests.checkpoint(redis, base: base))
            #expect(checkpoint.learner.decisions == 120)
            #expect(try await ModelStore(redis: RedisClient(url: fixture.primary.url)).currentVersion() == "trained-1", "published on the primary")
        }
    }
}
