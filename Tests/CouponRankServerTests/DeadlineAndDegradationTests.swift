import CouponRankClient
import CouponRankServer
import CouponRankSources
import CouponRankTestSupport
import CouponRankWire
import Testing

@Suite struct DeadlineAndDegradationTests {
    @Test func aSlowStatsSourceDegradesTheAnswerWithinItsTimeout() async throws {
        let sources = SourceFanOut.scripted(
            stats: ScriptedSource { _ in .delay(.seconds(20)) },
            timeouts: SourceTimeouts(userFeatures: .seconds(1), candidates: .seconds(1), stats: .milliseconds(40))
        )
        try await TestServer.with(sources: sources) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            let start = ContinuousClock.now
            let response = try await client.rank(RankRequest(easyID: "42", topK: 5), timeout: .seconds(8))
            let elapsed = ContinuousClock.now - start
            #expect(response.degraded == .stats)
            #expect(response.items.count == 5)
            #expect(elapsed < .seconds(8))  // the stats source takes 20 s
        }
    }

    @Test func aFailingUserSourceDegradesTheAnswer() async throws {
        let sources = SourceFanOut.scripted(user: ScriptedSource { _ in .fail })
        try await TestServer.with(sources: sources) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            let response = try await client.rank(RankRequest(easyID: "42", topK: 5))
            #expect(response.degraded == .userFeatures)
            #expect(response.items.count == 5)
        }
    }

    @Test func aRequestWhoseBudgetRunsOutGetsDeadlineExceeded() async throws {
        let sources = SourceFanOut.scripted(candidates: ScriptedSource { _ in .delay(.seconds(20)) })
        try await TestServer.with(sources: sources) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            let start = ContinuousClock.now
            let error = await #expect(throws: ClientError.self) {
                // A budget a busy test machine does not spend queueing before the fetch starts.
                try await client.rank(RankRequest(easyID: "1"), timeout: .seconds(10), budget: .seconds(2))
            }
            #expect(error?.serverError?.code == .deadlineExceeded)
            #expect(ContinuousClock.now - start < .seconds(8))  // the candidate source takes 20 s
        }
    }

    @Test func theClientTimesOutACallThatGetsNoAnswer() async throws {
        let sources = SourceFanOut.scripted(candidates: ScriptedSource { _ in .delay(.seconds(1)) })
        try await TestServer.with(sources: sources) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            let error = await #expect(throws: ClientError.self) {
                try await client.rank(RankRequest(easyID: "1"), timeout: .milliseconds(50), budget: .seconds(5))
            }
            #expect(error?.code == .timeout)
        }
    }
}
