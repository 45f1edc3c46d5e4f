@testable import CouponRankModelStore
import CouponRankTestSupport
import Foundation
import Testing

/// Key → slot, the cluster specification's own examples.
@Suite struct RedisClusterSlotTests {
    @Test func slotsMatchTheClusterSpecification() {
        #expect(RedisClusterSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(RedisClusterSlot.of("foo") == 12182)
        #expect(RedisClusterSlot.of("{user1000}.following") == RedisClusterSlot.of("{user1000}.followers"))
        #expect(RedisClusterSlot.of("{user1000}.following") == RedisClusterSlot.of("user1000"))
        #expect(RedisClusterSlot.of("foo{}{bar}") == Int(RedisClusterSlot.crc16(Array("foo{}{bar}".utf8)) % 16384), "an empty tag hashes the whole key")
        #expect(RedisClusterSlot.of("foo{{bar}}zap") == RedisClusterSlot.of("{bar"))
        #expect(RedisClusterSlot.of("foo{bar}{zap}") == RedisClusterSlot.of("bar"))
        #expect(RedisClusterSlot.of("couponrank:freq:{u-7}:493000") == RedisClusterSlot.of("u-7"))
    }

    @Test func aURLNamesOneNodeOrAClusterBySeeds() throws {
        let single = try RedisURL(parsing: "redis://127.0.0.1:7000")
        #expect(single.topology == .single && single.nodes.count == 1)
        let seeds = try RedisURL(parsing: "redis://:pw@127.0.0.1:7000,127.0.0.1:7001,[::1]:7002")
        #expect(seeds.topology == .cluster && seeds.nodes.map(\.port) == [7000, 7001, 7002] && seeds.password == "pw")
        #expect(seeds.description == "redis+cluster://:***@127.0.0.1:7000,127.0.0.1:7001,[::1]:7002")
        let one = try RedisURL(parsing: "redis+cluster://127.0.0.1:7000")
        #expect(one.topology == .cluster && one.nodes.count == 1)
        #expect(try RedisURL(parsing: one.description) == one)
        let error = #expect(throws: RedisError.self) { try RedisURL(parsing: "redis://127.0.0.1:7000,127.0.0.1:7001/2") }
        #expect(error?.message.contains("database 0 only") == true)
    }
}

/// The model store through a real 3-primary Redis Cluster on loopback.
@Suite(.enabled(if: RedisClusterFixture.isAvailable, "needs redis-server and redis-cli (make test installs them)"))
struct RedisClusterTests {
    @Test func publishListActivateAndLoadThroughACluster() async throws {
        try await RedisClusterFixture.with { cluster in
            let store = ModelStore(redis: RedisClient(url: cluster.url))
            for version in ["c-1", "c-2", "c-3"] { try await store.publish(try document(version: version)) }
            #expect(try await store.list().map(\.version) == ["c-3", "c-2", "c-1"])
            try await store.activate("c-1")
            #expect(try await store.currentVersion() == "c-1")
            #expect(try await store.loadCurrent().version == "c-1")
            // The layout spreads over the cluster: the keys live on more than one node.
            let keys = [store.keys.current, store.keys.history] + ["c-1", "c-2", "c-3"].map(store.keys.entry)
            var ports = Set<Int>()
            for key in keys { ports.insert(try await cluster.node(serving: key).port) }
            #expect(ports.count >= 2, "every key on one node: \(ports)")
        }
    }

    /// A slot migrated while the client holds the old map: `ASK` during the migration, `MOVED`
    /// after it, and the model store never notices.
    @Test func aSlotMigratedUnderTheClientIsFollowedThroughAskAndMoved() async throws {
        try await RedisClusterFixture.with { cluster in
            let client = RedisClient(url: cluster.url)
            let store = ModelStore(redis: client)
            try await store.publish(try document(version: "before"))
            let key = store.keys.current
            let slot = RedisClusterSlot.of(key)
            let source = try await cluster.node(serving: key)
            let target = cluster.nodes.first { $0.port != source.port }!
            let sourceID = try #require(try await RedisClient(url: source.url).command(["CLUSTER", "MYID"]).text)
            let targetID = try #require(try await RedisClient(url: target.url).command(["CLUSTER", "MYID"]).text)
            // Another key of the same slot, not yet written anywhere.
            let sibling = try #require((0..<200_000).lazy.map { "probe-\($0)" }.first { RedisClusterSlot.of($0) == slot })

            _ = try await RedisClient(url: target.url).command(["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceID])
            _ = try await RedisClient(url: source.url).command(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetID])
            // Migrating: a key the source no longer has is asked of the target.
            _ = try await client.command(["SET", sibling, "written-during-the-migration"])
            let onTarget = RedisClient(url: target.url)
            _ = try await onTarget.command(["ASKING"])
            #expect(try await onTarget.command(["GET", sibling]).text == "written-during-the-migration", "written on the importing node")
            #expect(try await client.command(["GET", key]).text == "before", "a key still on the source is served there")
            _ = try await RedisClient(url: source.url).command(["MIGRATE", "127.0.0.1", "\(target.port)", key, "0", "5000"])
            #expect(try await client.command(["GET", key]).text == "before", "a migrated key is asked of the target")
            #expect(try await client.command(["GET", sibling]).text == "written-during-the-migration")

            // Done: every node learns the slot's new owner; the client's map is stale and MOVED corrects it.
            for node in cluster.nodes {
                _ = try await RedisClient(url: node.url).command(["CLUSTER", "SETSLOT", "\(slot)", "NODE", targetID])
            }
            #expect(try await cluster.node(serving: key).port == target.port)
            #expect(try await store.currentVersion() == "before")
            try await store.publish(try document(version: "after"))
            #expect(try await store.loadCurrent().version == "after")
            #expect(try await RedisClient(url: target.url).command(["GET", key]).text == "after", "written on the slot's new owner")
        }
    }
}
