import CouponRankClient
import CouponRankCore
import CouponRankModelStore
import CouponRankServer
import CouponRankSources
import CouponRankTestSupport
import CouponRankWire
import Foundation
import Synchronization
import Testing

/// The engine and its model store together: real redis-server, real RPC server, real client.
@Suite(.enabled(if: RedisServerFixture.isAvailable, "\(RedisServerFixture.unavailableReason)"))
struct EngineReloadTests {
    static let token = "test-admin-token"

    static var adminConfiguration: ServerConfiguration {
        var configuration = ServerConfiguration(port: 0)
        configuration.adminToken = token
        return configuration
    }

    /// The ranking `model` gives `easyID` on the test server's stub data.
    static func expectedRanking(_ model: ScoringModel, easyID: String, topK: Int) -> [String] {
        let generator = TestServer.generator
        let candidates = generator.candidates(for: easyID)
        let contexts = model.schema.makeContexts(
            user: generator.userFeatures(for: easyID),
            candidates: candidates,
            stats: generator.stats(for: easyID)
        )
        return Ranker.top(topK, of: candidates, scored: model.score(contexts)).map(\.id)
    }

    @Test func publishThenAdminReloadServesTheNewVersionAndItsRanking() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
            let refresher = ModelRefresher(store: store, slot: slot, subscribe: false, logger: quietLogger)
            try await TestServer.with(configuration: Self.adminConfiguration, models: slot, reloader: refresher) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                defer { Task { await client.close() } }
                let before = try await client.rank(RankRequest(easyID: "4242", topK: 10))
                #expect(before.modelVersion == (try TestServer.bundledModel()).version)

                try await store.publish(try document(version: "reversed", scale: -1))
                let answer = try await client.reloadModel(token: Self.token)
                #expect(answer.outcome == .swapped)
                #expect(answer.previousVersion == before.modelVersion)
                #expect(answer.currentVersion == "reversed")

                let after = try await client.rank(RankRequest(easyID: "4242", topK: 10))
                #expect(after.modelVersion == "reversed")
                let reversed = try await store.load(version: "reversed")
                #expect(after.items.map(\.couponID) == Self.expectedRanking(reversed, easyID: "4242", topK: 10))
                #expect(after.items.map(\.couponID) != before.items.map(\.couponID))

                let health = try await client.health()
                #expect(health.modelVersion == "reversed")
                #expect(health.modelOrigin == "redis")

                let again = try await client.reloadModel(token: Self.token)
                #expect(again.outcome == .unchanged)
            }
        }
    }

    @Test func aBrokenPublishedModelNeverReplacesAGoodOne() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
            let refresher = ModelRefresher(store: store, slot: slot, subscribe: false, logger: quietLogger)
            try await store.publish(try document(version: "good"))
            #expect(await refresher.reload(reason: "test").outcome == .swapped)

            // A trainer bypassing validation: wrong theta length, correct checksum.
            var broken = try JSONSerialization.jsonObject(with: try document(version: "broken")) as! [String: Any]
            broken["theta"] = [0.5]
            let body = try JSONSerialization.data(withJSONObject: broken)
            let entry = store.keys.entry("broken")
            _ = try await store.redis.command([Array("HSET".utf8), Array(entry.utf8), Array("document".utf8), Array(body)])
            _ = try await store.redis.command(["HSET", entry, "crc32", CRC32.hex(body)])
            _ = try await store.redis.command(["SET", store.keys.current, "broken"])

            let report = await refresher.reload(reason: "test")
            #expect(report.outcome == .keptPrevious)
            #expect(report.message.contains("theta"))
            #expect(slot.current.model.version == "good")

            // And a pointer to nothing.
            _ = try await store.redis.command(["SET", store.keys.current, "missing"])
            #expect(await refresher.reload(reason: "test").outcome == .keptPrevious)
            #expect(slot.current.model.version == "good")
        }
    }

    @Test func withoutRedisTheEngineServesTheBundledModelAndSaysSo() async throws {
        let store = ModelStore(redis: RedisClient(url: RedisURL(host: "127.0.0.1", port: 1), connectTimeout: .milliseconds(200)))
        let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
        let refresher = ModelRefresher(store: store, slot: slot, subscribe: false, logger: quietLogger)
        let report = await refresher.reload(reason: "startup")
        #expect(report.outcome == .keptPrevious)
        #expect(report.message.contains("redis"))
        try await TestServer.with(models: slot, reloader: refresher) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            let health = try await client.health()
            await client.close()
            #expect(health.status == .serving)
            #expect(health.modelOrigin == "embedded")
        }
    }

    @Test func killingRedisUnderLoadCostsNoRankAndANewerVersionIsPickedUpWhenItReturns() async throws {
        let redis = try await RedisServerFixture.start()
        defer { redis.stop() }
        let store = makeStore(redis)
        try await store.publish(try document(version: "before-outage"))
        let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
        let refresher = ModelRefresher(store: store, slot: slot, subscribe: false, logger: quietLogger)
        #expect(await refresher.reload(reason: "startup").outcome == .swapped)

        try await TestServer.with(models: slot, reloader: refresher) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            let failures = Counter()
            let successes = Counter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for index in 0..<60 {
                            do {
                                _ = try await client.rank(RankRequest(easyID: "u\(worker)-\(index)", topK: 5), timeout: .seconds(10))
                                successes.increment()
                            } catch {
                                failures.increment()
                            }
                            try await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(100))
                    redis.stop()
                    // Refreshes while Redis is away fail fast and keep the model.
                    let report = await refresher.reload(reason: "during outage")
                    #expect(report.outcome == .keptPrevious)
                }
                try await group.waitForAll()
            }
            #expect(failures.value == 0)
            #expect(successes.value == 480)
            #expect(slot.current.model.version == "before-outage")

            // Redis returns (empty: no persistence) and a newer model is published.
            try await redis.restart()
            try await store.publish(try document(version: "after-outage"))
            let picked = await eventually(timeout: .seconds(5)) {
                await refresher.reload(reason: "scheduled").outcome != .keptPrevious && slot.current.model.version == "after-outage"
            }
            #expect(picked)
            #expect(try await client.rank(RankRequest(easyID: "x", topK: 1)).modelVersion == "after-outage")
        }
    }

    /// Issue 11: a model published while the engine was cut off from Redis (its reload broadcast
    /// reaching no one) was missed until the next hourly refresh.
    @Test func aModelPublishedDuringAnOutageIsPickedUpWhenTheSubscriptionReturns() async throws {
        let redis = try await RedisServerFixture.start()
        defer { redis.stop() }
        let store = makeStore(redis)
        try await store.publish(try document(version: "before-outage"))
        let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
        let refresher = ModelRefresher(store: store, slot: slot, interval: .seconds(3600), logger: quietLogger)
        _ = await refresher.reload(reason: "startup")
        let running = Task { try await refresher.run() }
        defer { running.cancel() }
        #expect(await eventually { slot.current.model.version == "before-outage" })
        #expect(await eventually { (try? await store.redis.command(["PUBSUB", "NUMSUB", ModelKeys().reloadChannel]))?.elements?.last?.integer == 1 })

        redis.stop()
        // Long enough for the subscriber's reconnect backoff to grow past a second: Redis returns
        // and the model is published while the engine is still away.
        try await Task.sleep(for: .milliseconds(1500))
        try await redis.restart()
        // The store's own connection notices the restart, then waits out its reconnect backoff.
        #expect(await eventually { (try? await store.redis.command(["PING"])) == .status("PONG") })
        try await store.publish(try document(version: "published-while-away"))
        // Almost always reaches no one: the engine's subscriber is still waiting out its backoff.
        _ = try await store.broadcastReload()
        #expect(await eventually(timeout: .seconds(10)) { slot.current.model.version == "published-while-away" })
    }

    @Test func requestsInFlightDuringASwapEachUseOneVersion() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
            let refresher = ModelRefresher(store: store, slot: slot, subscribe: false, logger: quietLogger)
            try await store.publish(try document(version: "reversed", scale: -1), activate: false)
            let models = [
                slot.current.model.version: slot.current.model,
                "reversed": try await store.load(version: "reversed"),
            ]
            // The first wave waits in the candidate fetch until the swap is done.
            let entered = Counter()
            let swapped = Flag()
            let gatedCandidates = ScriptedSource { id in
                guard id.hasPrefix("first") else { return .answer }
                entered.increment()
                return .waitUntil { swapped.isSet }
            }
            try await TestServer.with(sources: .scripted(candidates: gatedCandidates), models: slot, reloader: refresher) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                defer { Task { await client.close() } }
                let responses = try await withThrowingTaskGroup(of: (String, RankResponse).self) { group in
                    for index in 0..<20 {
                        group.addTask {
                            let id = "first-\(index)"
                            return (id, try await client.rank(RankRequest(easyID: id, topK: 8), timeout: .seconds(10)))
                        }
                    }
                    #expect(await eventually(timeout: .seconds(10)) { entered.value == 20 })
                    try await store.activate("reversed")
                    #expect(await refresher.reload(reason: "test").outcome == .swapped)
                    swapped.set()
                    for index in 0..<20 {
                        group.addTask {
                            let id = "second-\(index)"
                            return (id, try await client.rank(RankRequest(easyID: id, topK: 8), timeout: .seconds(10)))
                        }
                    }
                    return try await group.reduce(into: [(String, RankResponse)]()) { $0.append($1) }
                }
                #expect(responses.count == 40)
                // Started before the swap: the old version throughout; after it: the new one.
                for (id, response) in responses {
                    #expect(response.modelVersion == (id.hasPrefix("first") ? models.keys.first { $0 != "reversed" }! : "reversed"))
                    let model = try #require(models[response.modelVersion])
                    #expect(response.items.map(\.couponID) == Self.expectedRanking(model, easyID: id, topK: 8))
                }
            }
        }
    }

    @Test func adminMessagesNeedTheRightToken() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
            let refresher = ModelRefresher(store: store, slot: slot, subscribe: false, logger: quietLogger)
            // No token configured: refused whatever is sent.
            try await TestServer.with(models: slot, reloader: refresher) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                defer { Task { await client.close() } }
                let error = await #expect(throws: ClientError.self) { try await client.reloadModel(token: "") }
                #expect(error?.serverError?.code == .unauthenticated)
            }
            try await TestServer.with(configuration: Self.adminConfiguration, models: slot, reloader: refresher) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                defer { Task { await client.close() } }
                for wrong in ["", "test-admin-toke", "test-admin-tokenX", "TEST-ADMIN-TOKEN"] {
                    let error = await #expect(throws: ClientError.self) { try await client.reloadModel(token: wrong) }
                    #expect(error?.serverError?.code == .unauthenticated)
                }
                #expect(try await client.reloadModel(token: Self.token).outcome == .unchanged)
            }
            // The right token, but no model store.
            try await TestServer.with(configuration: Self.adminConfiguration) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                defer { Task { await client.close() } }
                let error = await #expect(throws: ClientError.self) { try await client.reloadModel(token: Self.token) }
                #expect(error?.serverError?.code == .failedPrecondition)
            }
        }
    }

    @Test func aFleetReloadReachesEveryEngineThroughPubSub() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let slots = try (0..<3).map { _ in ModelSlot(try TestServer.bundledModel(), origin: .embedded) }
            let refreshers = slots.map {
                ModelRefresher(store: store, slot: $0, interval: .seconds(3600), subscribe: true, logger: quietLogger)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for refresher in refreshers {
                    group.addTask { try await refresher.run() }
                }
                // Wait until all three are subscribed.
                #expect(await eventually { (try? await store.redis.command(["PUBSUB", "NUMSUB", store.keys.reloadChannel]))?.elements?.last?.integer == 3 })
                try await store.publish(try document(version: "fleet-2"))
                try await TestServer.with(configuration: Self.adminConfiguration, models: slots[0], reloader: refreshers[0]) { server in
                    let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                    defer { Task { await client.close() } }
                    let answer = try await client.reloadModel(token: Self.token, scope: .fleet)
                    #expect(answer.receivers == 3)
                }
                #expect(await eventually { slots.allSatisfy { $0.current.model.version == "fleet-2" } })
                group.cancelAll()
            }
        }
    }
}

final class Counter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() {
        count.add(1, ordering: .relaxed)
    }

    var value: Int { count.load(ordering: .relaxed) }
}

final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() {
        value.store(true, ordering: .releasing)
    }

    var isSet: Bool { value.load(ordering: .acquiring) }
}
