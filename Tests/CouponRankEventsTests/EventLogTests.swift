import CouponRankClient
import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelStore
import CouponRankServer
import CouponRankTestSupport
import CouponRankWire
import Foundation
import Testing

/// The decision and reward logs against a real redis-server: what lands, in EVENTS.md's format,
/// read by an independent reader, replayed bit for bit; and what happens when Redis goes away.
@Suite(.enabled(if: RedisServerFixture.isAvailable, "\(RedisServerFixture.unavailableReason)"))
struct EventLogTests {
    @Test func decisionsAndRewardsLandInTheirStreamsAsEventsMDSaysAndReplayIdentically() async throws {
        let model = try exploringModel(.epsilonGreedy(epsilon: 0.3))
        try await RedisServerFixture.with { redis in
            let answers = try await withEventWriters(redis) { decisions, rewards in
                try await TestServer.with(
                    configuration: ServerConfiguration(rewardToken: "r3ward"),
                    model: model,
                    sink: DecisionLog(writer: decisions),
                    rewards: RewardLog(writer: rewards)
                ) { server in
                    let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                    var answers: [RankResponse] = []
                    for index in 0..<40 {
                        // Half choose their event id, half let the server make one.
                        let eventID = index.isMultiple(of: 2) ? "page-\(index)" : ""
                        answers.append(try await client.rank(RankRequest(easyID: "\(index % 7 + 1)", topK: 10, eventID: eventID)))
                    }
                    for answer in answers.prefix(10) {
                        try await client.reward(
                            RewardRequest(token: "r3ward", eventID: answer.eventID, couponID: answer.items[0].couponID, kind: .click)
                        )
                    }
                    await client.close()
                    return answers
                }
            }
            #expect(answers.filter { EventID.unixMillis(ofUUIDv7: $0.eventID) != nil }.count == 20, "the server made UUIDv7 ids")
            #expect(answers.contains { $0.items.contains { $0.propensity < 1 } }, "ε-greedy explored somewhere")

            // An independent reader, written from EVENTS.md alone.
            let (status, output) = try await runChildProcess(["python3", pythonReader, "--port", "\(redis.port)"])
            #expect(status == 0, "\(output.suffix(2000))")
            let lines = output.split(separator: "\n")
            let decisionLines = lines.filter { $0.contains(#""stream": "decisions""#) }
            let rewardLines = lines.filter { $0.contains(#""stream": "rewards""#) }
            #expect(decisionLines.count == 40)
            #expect(rewardLines.count == 10)
            for answer in answers {
                let line = try #require(decisionLines.first { $0.contains(#""event_id": "\#(answer.eventID)""#) }, "\(answer.eventID)")
                #expect(jsonNumbers("propensity", in: line) == answer.items.map(\.propensity))
                #expect(jsonNumbers("score", in: line) == answer.items.map { Double(Float($0.score)) })
                #expect(line.contains(#""model_version": "\#(model.version)""#))
            }
            for answer in answers.prefix(10) {
                #expect(rewardLines.contains { $0.contains(answer.eventID) && $0.contains(#""kind": "click""#) && $0.contains(answer.items[0].couponID) })
            }

            // Every logged decision replays bit for bit with its model and seed.
            let logged = try await DecisionLogReader(redis: RedisClient(url: redis.url), keys: EventKeys()).all()
            #expect(logged.count == 40)
            for decision in logged {
                let replay = DecisionReplay(decision, model: model)
                #expect(replay.isIdentical, "\(decision.eventID): \(replay.differences)")
            }
            let found = try await DecisionLogReader(redis: RedisClient(url: redis.url), keys: EventKeys()).find(eventID: answers[1].eventID)
            #expect(found?.items.map(\.coupon.id) == answers[1].items.map(\.couponID))
        }
    }

    /// Redis killed (SIGKILL) and later frozen (SIGSTOP) while ranks run: every rank is answered,
    /// none waits for the log, and the decisions missing from the stream are the counted drops.
    @Test func redisKilledOrFrozenUnderLoadCostsNoRankAndEveryLostRecordIsCounted() async throws {
        let redis = try await RedisServerFixture.start(persistent: true)
        defer { redis.stop() }
        // A writer timeout far beyond any rank's: a rank that waited on the log would hang.
        let (ranks, writer) = try await withEventWriters(redis, commandTimeout: .seconds(60)) { decisions, _ in
            try await TestServer.with(sink: DecisionLog(writer: decisions)) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                var ranks = 0
                var slowest = Duration.zero
                let clock = ContinuousClock()
                func batch() async throws {
                    let base = ranks
                    try await withThrowingTaskGroup(of: Duration.self) { group in
                        for index in 0..<8 {
                            group.addTask {
                                let start = clock.now
                                _ = try await client.rank(RankRequest(easyID: "\(base + index)", topK: 5), timeout: .seconds(10))
                                return clock.now - start
                            }
                        }
                        for try await took in group { slowest = max(slowest, took) }
                    }
                    ranks += 8
                }
                func rankFor(_ duration: Duration) async throws {
                    let end = clock.now + duration
                    while clock.now < end { try await batch() }
                }
                try await rankFor(.milliseconds(600))
                redis.stop()
                try await rankFor(.milliseconds(600))
                try await redis.restart()
                try await rankFor(.milliseconds(1200))
                // Frozen, Redis holds the writer's command for as long as it likes (60 s here):
                // 40 ranks are answered meanwhile, none waiting on it.
                redis.pause()
                slowest = .zero
                for _ in 0..<5 { try await batch() }
                let slowestWhileFrozen = slowest
                redis.resume()
                try await rankFor(.milliseconds(1200))
                await client.close()
                #expect(slowestWhileFrozen < .seconds(5), "the slowest rank while Redis was frozen took \(slowestWhileFrozen)")
                return (ranks, decisions)
            }
        }
        // Taken once the writer has stopped: its queue flushed, every count final.
        let statistics = writer.snapshot
        let distinct = try await Self.distinctEventIDs(redis)
        let lost = ranks - distinct
        #expect(statistics.submitted == ranks)
        #expect(statistics.droppedTotal > 0, "the outage dropped records")
        // Entries in a batch whose replies never came are counted as dropped, yet Redis may have
        // written them: the loss is the count of drops, less at most those unconfirmed ones.
        #expect(lost <= statistics.droppedTotal)
        #expect(statistics.droppedTotal - lost <= statistics.unconfirmed, "dropped \(statistics.droppedTotal), lost \(lost), unconfirmed \(statistics.unconfirmed)")
        #expect(statistics.written + statistics.droppedTotal == ranks)
    }

    /// A sharded log (`--event-shards 4`): every decision in its event's shard, and the reader
    /// finds each one and lists them all.
    @Test func aShardedLogKeepsEachDecisionInItsShardAndTheReaderFindsIt() async throws {
        try await RedisServerFixture.with { redis in
            let keys = EventKeys(shards: 4)
            let answers = try await withEventWriters(redis, keys: keys) { decisions, _ in
                try await TestServer.with(sink: DecisionLog(writer: decisions)) { server in
                    let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                    defer { Task { await client.close() } }
                    var answers: [RankResponse] = []
                    for index in 0..<40 { answers.append(try await client.rank(RankRequest(easyID: "s\(index)", topK: 3))) }
                    return answers
                }
            }
            let client = RedisClient(url: redis.url)
            for shard in 0..<4 {
                let expected = answers.filter { keys.shard(ofEventID: $0.eventID) == shard }.count
                #expect(try await client.command(["XLEN", keys.decisions(shard: shard)]).integer == Int64(expected))
            }
            let reader = DecisionLogReader(redis: client, keys: keys)
            for answer in answers.prefix(8) {
                #expect(try await reader.find(eventID: answer.eventID)?.items.map(\.coupon.id) == answer.items.map(\.couponID))
            }
            let all = try await reader.all()
            #expect(Set(all.map(\.eventID)) == Set(answers.map(\.eventID)))
        }
    }

    static func distinctEventIDs(_ redis: RedisServerFixture) async throws -> Int {
        let client = RedisClient(url: redis.url)
        var ids = Set<String>()
        var start = "-"
        while true {
            let page = try await client.command(["XRANGE", EventKeys().decisions, start, "+", "COUNT", "1000"]).elements ?? []
            for entry in page {
                guard let parts = entry.elements, let fields = parts.last?.elements, let id = parts.first?.text else { continue }
                start = "(" + id
                if let index = fields.firstIndex(where: { $0.text == "body" }), let body = fields[index + 1].bytes,
                    let eventID = DecisionLogReader.eventID(ofBody: body)
                {
                    ids.insert(eventID)
                }
            }
            if page.count < 1000 { return ids.count }
        }
    }

    @Test func rewardsNeedTheRewardTokenAndValidInput() async throws {
        try await RedisServerFixture.with { redis in
            try await withEventWriters(redis) { _, rewards in
                // No token configured: every reward refused.
                try await TestServer.with(rewards: RewardLog(writer: rewards)) { server in
                    let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                    await #expect(throws: ClientError.self) {
                        try await client.reward(RewardRequest(token: "", eventID: "e-1", couponID: "C000001", kind: .click))
                    }
                    await client.close()
                }
                try await TestServer.with(configuration: ServerConfiguration(rewardToken: "r3ward"), rewards: RewardLog(writer: rewards)) { server in
                    let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                    func code(_ request: RewardRequest) async -> ErrorCode? {
                        do {
                            try await client.reward(request)
                            return nil
                        } catch let error as ClientError {
                            return error.serverError?.code
                        } catch {
                            return .internal
                        }
                    }
                    #expect(await code(RewardRequest(token: "wrong", eventID: "e-1", couponID: "C000001", kind: .click)) == .unauthenticated)
                    #expect(await code(RewardRequest(token: "r3ward", eventID: "bad id!", couponID: "C000001", kind: .click)) == .invalidArgument)
                    #expect(await code(RewardRequest(token: "r3ward", eventID: "e-1", couponID: "C000001", kind: .click, value: .nan)) == .invalidArgument)
                    #expect(await code(RewardRequest(token: "r3ward", eventID: "e-1", couponID: "C000001", kind: .conversion, value: 2500)) == nil)
                    await client.close()
                }
            }
            let client = RedisClient(url: redis.url)
            #expect(try await client.command(["XLEN", EventKeys().rewards]).integer == 1)
        }
    }

    @Test func explorationIsOffForARequestThatAsksAndForTheFleetOnTheAdminSwitch() async throws {
        let model = try exploringModel(.softmax(temperature: 0.05))
        let exploration = ExplorationSwitch()
        try await RedisServerFixture.with { redis in
            let store = ModelStore(redis: RedisClient(url: redis.url), keys: ModelKeys())
            let otherEngine = ExplorationSwitch()
            let refresher = ModelRefresher(store: store, slot: ModelSlot(model, origin: .embedded), logger: .init(label: "t")) {
                otherEngine.set(enabled: $0)
            }
            try await TestServer.with(
                configuration: ServerConfiguration(adminToken: "s3cret"),
                model: model,
                reloader: refresher,
                exploration: exploration
            ) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                let explored = try await client.rank(RankRequest(easyID: "3", topK: 10, eventID: "q-1"))
                #expect(explored.policy == 2)
                #expect(explored.items.allSatisfy { $0.propensity < 1 })
                // The same event id and model give the same ranking.
                let again = try await client.rank(RankRequest(easyID: "3", topK: 10, eventID: "q-1"))
                #expect(again.items == explored.items)

                let greedy = try await client.rank(RankRequest(easyID: "3", topK: 10, eventID: "q-1", flags: .noExploration))
                #expect(greedy.policy == 0)
                #expect(greedy.items.allSatisfy { $0.propensity == 1 })
                #expect(zip(greedy.items, greedy.items.dropFirst()).allSatisfy { $0.score >= $1.score })

                await #expect(throws: ClientError.self) { _ = try await client.setExploration(token: "wrong", enabled: false) }
                let subscribed = Task { try await refresher.run() }
                #expect(try await eventually { try await store.redis.command(["PUBSUB", "NUMSUB", ModelKeys().reloadChannel]).elements?.last?.integer == 1 })
                let switched = try await client.setExploration(token: "s3cret", enabled: false, scope: .fleet)
                #expect(switched.previouslyEnabled && !switched.enabled && switched.receivers == 1)
                #expect(!exploration.isEnabled)
                #expect(try await eventually { !otherEngine.isEnabled }, "the subscribed engine followed the broadcast")
                #expect(try await store.fleetExploration() == false, "kept for engines that refresh later")
                let off = try await client.rank(RankRequest(easyID: "3", topK: 10, eventID: "q-1"))
                #expect(off.policy == 0 && off.items == greedy.items)
                subscribed.cancel()
                await client.close()
            }
        }
    }
}

func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
