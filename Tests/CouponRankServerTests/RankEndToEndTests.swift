import CouponRankClient
import CouponRankCore
import CouponRankServer
import CouponRankSources
import CouponRankTestSupport
import CouponRankWire
import Testing

@Suite struct RankEndToEndTests {
    @Test func rankReturnsTheCandidatesRankedAsTheModelScoresThem() async throws {
        try await TestServer.with { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            let response = try await client.rank(RankRequest(easyID: "12345", topK: 10))
            await client.close()

            // The same computation, in process, straight from the core.
            let model = try TestServer.bundledModel()
            let generator = TestServer.generator
            let candidates = generator.candidates(for: "12345")
            let contexts = model.schema.makeContexts(
                user: generator.userFeatures(for: "12345"),
                candidates: candidates,
                stats: generator.stats(for: "12345")
            )
            let expected = Ranker.top(10, of: candidates, scored: model.score(contexts))

            #expect(response.modelVersion == model.version)
            #expect(response.degraded.isEmpty)
            #expect(response.items.map(\.couponID) == expected.map(\.id))
            #expect(response.items.map(\.score) == expected.map(\.score))
            #expect(response.items.map(\.name) == expected.map(\.name))
            #expect(response.timings.totalMicros >= response.timings.scoreMicros)
        }
    }

    @Test func topKZeroReturnsTheServerDefaultAndExclusionsAreHonoured() async throws {
        try await TestServer.with { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            let full = try await client.rank(RankRequest(easyID: "777"))
            #expect(full.items.count == 20)
            let best = full.items[0].couponID
            let without = try await client.rank(RankRequest(easyID: "777", excludedIDs: [best]))
            #expect(!without.items.contains { $0.couponID == best })
            #expect(without.items.first?.couponID == full.items[1].couponID)

            let onlyTwo = try await client.rank(
                RankRequest(easyID: "777", topK: 5, candidateIDs: [full.items[3].couponID, full.items[7].couponID, "C999999"])
            )
            #expect(onlyTwo.items.map(\.couponID) == [full.items[3].couponID, full.items[7].couponID])
        }
    }

    @Test func healthReportsServingAndTheModelVersion() async throws {
        try await TestServer.with { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            let health = try await client.health()
            await client.close()
            #expect(health.status == .serving)
            #expect(health.modelVersion == (try TestServer.bundledModel()).version)
        }
    }

    @Test func manyConcurrentCallsOnOneConnectionAreMatchedByRequestID() async throws {
        try await TestServer.with { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            let ids = (0..<200).map { "user-\($0)" }
            let answers = try await withThrowingTaskGroup(of: (String, RankResponse).self) { group in
                for id in ids {
                    // Matching is under test, not speed: a busy debug build may take seconds for 200.
                    group.addTask { (id, try await client.rank(RankRequest(easyID: id, topK: 3), timeout: .seconds(20))) }
                }
                return try await group.reduce(into: [String: RankResponse]()) { $0[$1.0] = $1.1 }
            }
            await client.close()
            #expect(answers.count == ids.count)
            let generator = TestServer.generator
            for (id, response) in answers {
                let candidateIDs = Set(generator.candidates(for: id).map(\.id))
                #expect(response.items.count == 3)
                #expect(response.items.allSatisfy { candidateIDs.contains($0.couponID) })
            }
        }
    }

    @Test func aUserWithoutCandidatesIsAClearError() async throws {
        let empty = StubDataGenerator(configuration: .init(catalogSize: 10, candidatesPerUser: 0))
        try await TestServer.with(sources: .stubs(empty, timeouts: TestServer.relaxedTimeouts)) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            let error = await #expect(throws: ClientError.self) { try await client.rank(RankRequest(easyID: "1")) }
            #expect(error?.serverError?.code == .noCandidates)
        }
    }

    @Test func aFailingCandidateSourceIsUpstreamUnavailable() async throws {
        let sources = SourceFanOut.scripted(candidates: ScriptedSource { _ in .fail })
        try await TestServer.with(sources: sources) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            let error = await #expect(throws: ClientError.self) { try await client.rank(RankRequest(easyID: "1")) }
            #expect(error?.serverError?.code == .upstreamUnavailable)
            #expect(error?.serverError?.retryClass == .retryable)
        }
    }
}
