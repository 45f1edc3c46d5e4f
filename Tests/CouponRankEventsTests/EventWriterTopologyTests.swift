import CouponRankEngine
import CouponRankEvents
import CouponRankModelStore
import CouponRankTestSupport
import Logging
import ServiceLifecycle
import Testing

/// Issue 16: the event log's writer against a Redis Cluster and a Sentinel-managed primary. It
/// wrote over a connection to the URL's first node: on a cluster every entry whose stream lives
/// elsewhere was refused `MOVED`, and behind Sentinel every entry went to a sentinel.
@Suite(.enabled(if: RedisClusterFixture.isAvailable, "needs redis-server and redis-cli (make test installs them)"))
struct EventWriterTopologyTests {
    static func rewards(_ count: Int) throws -> [Reward] {
        try (0..<count).map { try Reward(eventID: "e-\($0)", couponID: "C000001", kind: .click, value: 1, unixMillis: 1_764_072_000_000, receivedUnixMillis: 1_764_072_000_000) }
    }

    /// Writes `count` rewards through a writer on `url`, stopped gracefully; its statistics.
    static func write(_ count: Int, url: RedisURL, stream: String) async throws -> EventStreamWriter<Reward>.Statistics {
        var logger = Logger(label: "writer-topology-test")
        logger.logLevel = .critical
        let writer = EventStreamWriter<Reward>(configuration: .init(url: url, stream: stream, commandTimeout: .seconds(5)), name: "rewards", logger: logger)
        let group = ServiceGroup(configuration: .init(services: [writer], logger: logger))
        let running = Task { try await group.run() }
        for reward in try rewards(count) { writer.submit(reward) }
        let end = ContinuousClock.now + .seconds(20)
        while writer.snapshot.written + writer.snapshot.droppedTotal < count, ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(20))
        }
        await group.triggerGracefulShutdown()
        try await running.value
        return writer.snapshot
    }

    @Test func onAClusterEveryEntryReachesTheNodeOfItsStream() async throws {
        try await RedisClusterFixture.with { cluster in
            let stream = EventKeys().rewards
            let owner = try await cluster.node(serving: stream)
            // The first seed is a node that does not serve the stream.
            let others = cluster.nodes.filter { $0.port != owner.port } + [owner]
            let url = RedisURL(host: "127.0.0.1", port: others[0].port, topology: .cluster, otherNodes: others.dropFirst().map { .init(host: "127.0.0.1", port: $0.port) })
            let statistics = try await Self.write(300, url: url, stream: stream)
            #expect(statistics.written == 300 && statistics.droppedTotal == 0, "\(statistics)")
            #expect(try await RedisClient(url: owner.url).command(["XLEN", stream]).integer == 300)
        }
    }

    @Test func behindSentinelEveryEntryReachesThePrimary() async throws {
        try await RedisSentinelFixture.with { fixture in
            let stream = EventKeys().rewards
            let statistics = try await Self.write(300, url: try RedisURL(parsing: fixture.urlString), stream: stream)
            #expect(statistics.written == 300 && statistics.droppedTotal == 0, "\(statistics)")
            #expect(try await RedisClient(url: fixture.primary.url).command(["XLEN", stream]).integer == 300)
        }
    }
}

@Suite struct EventKeysTests {
    @Test func oneShardKeepsTheStreamsNamesAndSShardsPairThemBySlot() {
        let one = EventKeys()
        #expect(one.decisions == "couponrank:events:decisions" && one.rewards == "couponrank:events:rewards")
        #expect(one.allDecisions == [one.decisions] && one.shard(ofEventID: "anything") == 0)
        let four = EventKeys(prefix: "p:", shards: 4)
        #expect(four.allDecisions == (0..<4).map { "p:events:{\($0)}:decisions" })
        for shard in 0..<4 {
            #expect(RedisClusterSlot.of(four.decisions(shard: shard)) == RedisClusterSlot.of(four.rewards(shard: shard)))
        }
        let ids = (0..<4000).map { "evt-\($0)" }
        let counts = Dictionary(grouping: ids, by: four.shard(ofEventID:)).mapValues(\.count)
        #expect(counts.count == 4 && counts.values.allSatisfy { $0 > 800 }, "\(counts)")
    }
}

/// Issue 16: a sharded log's writer puts each entry in its event's shard, the shards spread over
/// the cluster's primaries.
@Suite(.enabled(if: RedisClusterFixture.isAvailable, "needs redis-server and redis-cli (make test installs them)"))
struct ShardedEventWriterTests {
    @Test func eachEntryGoesToTheShardOfItsEventOnTheNodeOfThatShard() async throws {
        try await RedisClusterFixture.with { cluster in
            let keys = EventKeys(shards: 6)
            var logger = Logger(label: "sharded-writer-test")
            logger.logLevel = .critical
            let writer = EventStreamWriter<Reward>(configuration: .init(url: cluster.url, streams: keys.allRewards, commandTimeout: .seconds(5)), name: "rewards", logger: logger)
            let group = ServiceGroup(configuration: .init(services: [writer], logger: logger))
            let running = Task { try await group.run() }
            let rewards = try EventWriterTopologyTests.rewards(600)
            for reward in rewards { writer.submit(reward) }
            let end = ContinuousClock.now + .seconds(20)
            while writer.snapshot.written < 600, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(20)) }
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(writer.snapshot.written == 600 && writer.snapshot.droppedTotal == 0)
            let redis = RedisClient(url: cluster.url)
            var nodes = Set<Int>()
            for shard in 0..<6 {
                let expected = rewards.filter { keys.shard(ofEventID: $0.eventID) == shard }.count
                #expect(try await redis.command(["XLEN", keys.rewards(shard: shard)]).integer == Int64(expected), "shard \(shard)")
                nodes.insert(try await cluster.node(serving: keys.rewards(shard: shard)).port)
            }
            #expect(nodes.count >= 2, "\(nodes)")
        }
    }
}
