import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import CouponRankSources
import CouponRankTestSupport
import Foundation
import Logging
import Testing

/// Frequency caps (RULES.md §6) against a real redis-server: impressions recorded by one engine
/// demote coupons on every engine, and a Redis that is away costs no rank.
@Suite(.enabled(if: RedisServerFixture.isAvailable, "\(RedisServerFixture.unavailableReason)"))
struct FrequencyCapTests {
    static let generator = StubDataGenerator(configuration: .init(catalogSize: 400, candidatesPerUser: 40))
    static let logger = Logger(label: "frequency-cap-test")

    static func rules() throws -> RulesSlot {
        RulesSlot(try CompiledRules(RulesDocument(version: "capped", rules: [], frequencyCap: FrequencyCap(maximumImpressions: 2, windowHours: 24))), origin: "file")
    }

    static func engine(_ history: RedisImpressionHistory, rules: RulesSlot) throws -> RankEngine {
        RankEngine(
            sources: .stubs(generator),
            models: ModelSlot(try BundledModel.load(), origin: .embedded),
            rules: rules,
            impressions: history
        )
    }

    static func rank(_ engine: RankEngine, _ easyID: String, topK: Int = 3) async throws -> [String] {
        try await engine.rank(DecisionRequest(easyID: easyID, topK: topK, deadline: .now + .seconds(5), policy: .noExploration)).ranked.map(\.id)
    }

    /// Polls until `history` knows `easyID`'s counts as `expected` (each stale read refetches).
    static func waitForCounts(_ history: RedisImpressionHistory, _ easyID: String, _ expected: [String: Int]) async throws -> Bool {
        let end = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < end {
            if history.counts(easyID: easyID, windowHours: 24) == expected { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func aCouponShownUpToTheCapGoesAfterEveryOtherOnEveryEngine() async throws {
        try await RedisServerFixture.with { server in
            // One clock hour for the whole test, however long it takes.
            let hourClock = EventID.nowUnixMillis()
            let user = "freq-user"
            // The uncapped order, from an engine that records nothing.
            let full = try await Self.rank(RankEngine(sources: .stubs(Self.generator), models: ModelSlot(try BundledModel.load(), origin: .embedded)), user, topK: 40)

            let firstHistory = RedisImpressionHistory(redis: RedisClient(url: server.url), logger: Self.logger, unixMillis: { hourClock })
            let firstRunner = Task { try await firstHistory.run() }
            defer { firstRunner.cancel() }
            let first = try await Self.rank(try Self.engine(firstHistory, rules: try Self.rules()), user)
            #expect(first == Array(full.prefix(3)))
            let key = firstHistory.key(easyID: user, hour: hourClock / 3_600_000)
            #expect(try await Self.waitForFields(server, key, Set(first)), "the first rank's impressions reach Redis")

            // An engine whose counts, once fetched, stay fresh for the rest of the test: no
            // refetch races the increments of its own ranks.
            let history = RedisImpressionHistory(redis: RedisClient(url: server.url), configuration: .init(freshFor: .seconds(60)), logger: Self.logger, unixMillis: { hourClock })
            let runner = Task { try await history.run() }
            defer { runner.cancel() }
            let engine = try Self.engine(history, rules: try Self.rules())
            #expect(try await Self.waitForCounts(history, user, Dictionary(uniqueKeysWithValues: first.map { ($0, 1) })), "the first rank's impressions come back from Redis")
            let second = try await Self.rank(engine, user)
            #expect(second == first, "shown once, under the cap of 2")
            // Shown twice: at the cap, all three go after every other coupon.
            let third = try await Self.rank(engine, user)
            #expect(third == Array(full[3..<6]))

            // Redis holds what every engine reads: a second engine, which never ranked this user,
            // demotes the same coupons once it has fetched them.
            let other = RedisImpressionHistory(redis: RedisClient(url: server.url), configuration: .init(freshFor: .milliseconds(50)), logger: Self.logger, unixMillis: { hourClock })
            let otherRunner = Task { try await other.run() }
            defer { otherRunner.cancel() }
            #expect(try await Self.waitForCounts(other, user, Dictionary(uniqueKeysWithValues: (first.map { ($0, 2) } + third.map { ($0, 1) }))))
            let elsewhere = try await Self.rank(try Self.engine(other, rules: try Self.rules()), user, topK: 9)
            #expect(elsewhere == Array(full.filter { !first.contains($0) }.prefix(9)), "the capped coupons go after every other; the others keep their order")
            // The increments are written in the background: wait for the last rank's.
            #expect(try await Self.waitForFields(server, key, Set(first + third + elsewhere)), "one hash field per coupon shown by either engine")
        }
    }

    /// Polls until the hash at `key` has exactly `fields`.
    static func waitForFields(_ server: RedisServerFixture, _ key: String, _ fields: Set<String>) async throws -> Bool {
        let end = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < end {
            let stored = try await RedisClient(url: server.url).command(["HKEYS", key]).elements?.compactMap(\.text) ?? []
            if Set(stored) == fields { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func withoutRedisEveryRankIsAnsweredAndNothingIsDemoted() async throws {
        try await RedisServerFixture.with { server in
            let history = RedisImpressionHistory(redis: RedisClient(url: server.url), configuration: .init(freshFor: .milliseconds(20)), logger: Self.logger)
            let runner = Task { try await history.run() }
            defer { runner.cancel() }
            let engine = try Self.engine(history, rules: try Self.rules())
            server.stop()
            let user = "freq-no-redis"
            let expected = try await Self.rank(engine, user)
            for _ in 0..<20 {
                #expect(try await Self.rank(engine, user) == expected)
                try await Task.sleep(for: .milliseconds(25))
            }
            #expect(history.counts(easyID: user, windowHours: 24) == nil, "nothing could be fetched: the cap fails open")
        }
    }

    @Test func aCapThatDemotesEverythingStillFillsThePage() throws {
        let candidates = Self.generator.candidates(for: "x")
        let order = candidates.enumerated().map { RankedCoupon(id: $1.id, name: $1.name, score: -Double($0), probability: 0.1, candidateIndex: $0) }
        let constraint = DiversityConstraint(caps: .none, candidates: candidates, demoted: candidates.map { _ in true })
        #expect(Explorer.rank(order, topK: 5, policy: .greedy, seed: 1, diversity: constraint).ranked.map(\.id) == order.prefix(5).map(\.id))
        let some = DiversityConstraint(caps: .none, candidates: candidates, demoted: candidates.indices.map { $0 < 2 })
        #expect(Explorer.rank(order, topK: 3, policy: .greedy, seed: 1, diversity: some).ranked.map(\.id) == [order[2].id, order[3].id, order[4].id])
        for policy in [ExplorationPolicy.softmax(temperature: 0.3), .epsilonGreedy(epsilon: 0.2)] {
            for seed in UInt64(0)..<50 {
                let ranked = Explorer.rank(order, topK: 3, policy: policy, seed: seed, diversity: some).ranked
                #expect(!ranked.contains { $0.id == order[0].id || $0.id == order[1].id }, "a demoted coupon is drawn only when no other remains")
            }
        }
    }
}
