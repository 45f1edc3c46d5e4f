import CouponRankClient
import CouponRankCore
import CouponRankModelFile
import CouponRankModelStore
import CouponRankSources
import CouponRankTestSupport
import CouponRankWire
import Foundation
import Testing

/// Rules published to a real redis-server reach a running engine by an admin reload, without a
/// restart, and change what it answers over the wire.
@Suite(.enabled(if: RedisServerFixture.isAvailable, "\(RedisServerFixture.unavailableReason)"))
struct RulesReloadTests {
    static let caseStudy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("proto-spec/examples/rules-case-study.json")

    /// Six offers, C000001…C000006, every user's candidates: the case study's world.
    static let sources = SourceFanOut.stubs(
        StubDataGenerator(configuration: .init(catalogSize: 6, candidatesPerUser: 6)),
        timeouts: TestServer.relaxedTimeouts
    )

    /// The first easy_id, counting up, whose stub user is over 65.
    static func seniorEasyID() -> String {
        let generator = StubDataGenerator(configuration: .init(catalogSize: 6, candidatesPerUser: 6))
        return (1...10_000).lazy.map(String.init).first { (generator.userFeatures(for: $0).numeric["age"] ?? 0) > 65 }!
    }

    @Test func theCaseStudyRulesPublishedToRedisChangeOnlineRanksAtTheNextReload() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let rulesStore = RulesStore(redis: store.redis, keys: store.keys)
            let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
            let rules = RulesSlot()
            let refresher = ModelRefresher(store: store, slot: slot, subscribe: false, rules: (rulesStore, rules), logger: quietLogger)
            let senior = Self.seniorEasyID()
            try await TestServer.with(configuration: EngineReloadTests.adminConfiguration, sources: Self.sources, models: slot, reloader: refresher, rules: rules) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                defer { Task { await client.close() } }
                let before = try await client.rank(RankRequest(easyID: senior, topK: 6, flags: .noExploration))
                #expect(Set(before.items.map(\.couponID)) == Set((1...6).map { "C00000\($0)" }))
                #expect(before.rulesVersion == "" && before.ruleRemovals.isEmpty)

                let info = try await rulesStore.publish(try Data(contentsOf: Self.caseStudy))
                #expect(info.version == "case-study-1" && info.rules == 2 && info.isCurrent)
                let reload = try await client.reloadModel(token: EngineReloadTests.token)
                #expect(reload.message.contains("rules: now applying case-study-1 (2 rules)"), "\(reload.message)")

                let after = try await client.rank(RankRequest(easyID: senior, topK: 6, flags: .noExploration))
                #expect(after.rulesVersion == "case-study-1")
                #expect(after.items.map(\.couponID) == before.items.map(\.couponID).filter { !["C000001", "C000003", "C000004"].contains($0) })
                #expect(after.ruleRemovals == [.init(rule: "over-65-no-offers-1-3-4", removed: 3)])

                // Rollback: withdrawing the rules restores the unfiltered answer.
                try await rulesStore.deactivate()
                _ = try await client.reloadModel(token: EngineReloadTests.token)
                let withdrawn = try await client.rank(RankRequest(easyID: senior, topK: 6, flags: .noExploration))
                #expect(withdrawn.items.map(\.couponID) == before.items.map(\.couponID))
                #expect(withdrawn.rulesVersion == "")
            }
        }
    }

    @Test func publishListActivateAndABrokenEntryThatNeverReplacesGoodRules() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let rulesStore = RulesStore(redis: store.redis, keys: store.keys)
            let first = RulesDocument(version: "r1", rules: [.init(name: "no-travel", exclude: "coupon.category == 'travel'")])
            let second = RulesDocument(version: "r2", rules: [.init(name: "no-grocery", exclude: "coupon.category == 'grocery'")], diversity: .init(maximumPerShop: 1))
            try await rulesStore.publish(try RulesFile.encode(first))
            try await rulesStore.publish(try RulesFile.encode(second))
            #expect(try await rulesStore.list().map(\.version) == ["r2", "r1"])
            #expect(try await rulesStore.list().first?.isCurrent == true)
            #expect(try await rulesStore.currentVersion() == "r2")

            // A document that does not compile is refused before anything is written.
            let typo = RulesDocument(version: "r3", rules: [.init(name: "typo", exclude: "coupon.categroy == 'x'")])
            await #expect {
                try await rulesStore.publish(try RulesFile.encode(typo))
            } throws: { error in
                (error as? ModelStoreError)?.code == .invalid && "\(error)".contains("rule 'typo': unknown field 'coupon.categroy'")
            }
            await #expect(throws: ModelStoreError.self) { try await rulesStore.publish(try RulesFile.encode(first)) }

            let slot = RulesSlot()
            let refresher = ModelRefresher(
                store: store,
                slot: ModelSlot(try TestServer.bundledModel(), origin: .embedded),
                subscribe: false,
                rules: (rulesStore, slot),
                logger: quietLogger
            )
            _ = await refresher.reload(reason: "test")
            #expect(slot.current.rules.version == "r2" && slot.current.rules.diversity.maximumPerShop == 1)
            try await rulesStore.activate("r1")
            _ = await refresher.reload(reason: "test")
            #expect(slot.current.rules.version == "r1")

            // An entry corrupted in Redis (a trainer or an operator bypassing the CLI) is refused
            // at load; the engine keeps the rules it applies.
            _ = try await store.redis.command(["HSET", store.keys.rulesEntry("r9"), "crc32", "00000000", "document", "{}"])
            _ = try await store.redis.command(["SET", store.keys.rulesCurrent, "r9"])
            let report = await refresher.reload(reason: "test")
            #expect(report.message.contains("rules: kept r1: corrupt"), "\(report.message)")
            #expect(slot.current.rules.version == "r1")
            await #expect(throws: ModelStoreError.self) { try await rulesStore.activate("r9") }
        }
    }

    @Test func rulesFromAFileStayUntilRedisNamesOthers() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let rulesStore = RulesStore(redis: store.redis, keys: store.keys)
            let slot = RulesSlot(try RulesFile.load(path: Self.caseStudy.path).rules, origin: "file")
            let refresher = ModelRefresher(
                store: store,
                slot: ModelSlot(try TestServer.bundledModel(), origin: .embedded),
                subscribe: false,
                rules: (rulesStore, slot),
                logger: quietLogger
            )
            let report = await refresher.reload(reason: "test")
            #expect(report.message.contains("rules: none published; applying case-study-1 (file)"), "\(report.message)")
            #expect(slot.current.origin == "file")
            try await rulesStore.publish(try RulesFile.encode(RulesDocument(version: "r1", rules: [])))
            _ = await refresher.reload(reason: "test")
            #expect(slot.current.rules.version == "r1" && slot.current.origin == "redis")
        }
    }
}
