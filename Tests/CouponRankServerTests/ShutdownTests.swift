import CouponRankClient
import CouponRankServer
import CouponRankSources
import CouponRankTestSupport
import CouponRankWire
import Testing

@Suite struct ShutdownTests {
    @Test func gracefulShutdownFinishesRequestsInFlight() async throws {
        let sources = SourceFanOut.scripted(candidates: ScriptedSource { _ in .delay(.milliseconds(300)) })
        try await TestServer.with(sources: sources) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            async let inFlight = (0..<5).asyncMap { i in
                try await client.rank(RankRequest(easyID: "drain-\(i)", topK: 2), timeout: .seconds(3))
            }
            // All five admitted before the drain begins, however busy the machine.
            #expect(try await server.admission.waitForInFlight(5))
            await server.beginShutdown()
            let answers = try await inFlight
            #expect(answers.count == 5)
            #expect(answers.allSatisfy { $0.items.count == 2 })
            await client.close()
        }
    }

    @Test func newConnectionsAreRefusedAfterShutdownBegins() async throws {
        try await TestServer.with { server in
            await server.beginShutdown()
            // The listener closes a few hops after the drain begins: until then a health check
            // may still be answered. It must stop being answered soon after.
            let end = ContinuousClock.now + .seconds(5)
            var refused = false
            while !refused, ContinuousClock.now < end {
                do {
                    let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                    _ = try await client.health(timeout: .milliseconds(500))
                    await client.close()
                    try await Task.sleep(for: .milliseconds(20))
                } catch {
                    refused = true
                }
            }
            #expect(refused, "a new connection was still answered 5 s after the shutdown began")
        }
    }
}

extension Range where Bound == Int {
    /// Runs `transform` for every element concurrently; results in order.
    func asyncMap<T: Sendable>(_ transform: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for index in self {
                group.addTask { (index, try await transform(index)) }
            }
            var results: [(Int, T)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
