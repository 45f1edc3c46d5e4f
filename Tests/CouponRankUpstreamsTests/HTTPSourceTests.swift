import CouponRankClient
import CouponRankCore
import CouponRankServer
import CouponRankSources
import CouponRankTestSupport
import CouponRankUpstreams
import CouponRankWire
import Foundation
import Testing

/// The HTTP path: curl multi client, adapters, breakers, against the stub services and an
/// independent misbehaving server.
@Suite struct HTTPSourceTests {
    static func httpSources(_ baseURL: String, upstreams: UpstreamSet = UpstreamSet(), timeouts: SourceTimeouts = TestServer.relaxedTimeouts) -> SourceFanOut {
        SourceFanOut(
            userFeatures: HTTPUserFeatureSource(upstream: upstreams.client("user_features", baseURL, .userFeatures)),
            candidates: HTTPCandidateSource(upstream: upstreams.client("candidates", baseURL, .coupons)),
            stats: HTTPStatsSource(upstream: upstreams.client("stats", baseURL, .stats)),
            timeouts: timeouts
        )
    }

    @Test func theSameEasyIDRanksIdenticallyOverHTTPAndInProcess() async throws {
        try await StubUpstreams.with { baseURL, _ in
            let inProcess = try await TestServer.with { server in
                try await Self.rank(["12345", "ä-user", "42"], port: server.port)
            }
            let overHTTP = try await TestServer.with(sources: Self.httpSources(baseURL)) { server in
                try await Self.rank(["12345", "ä-user", "42"], port: server.port)
            }
            #expect(overHTTP.map(\.items) == inProcess.map(\.items))
            #expect(overHTTP.allSatisfy { $0.degraded.isEmpty })
        }
    }

    @Test func upstreamConnectionsAreReusedAcrossRequests() async throws {
        try await StubUpstreams.with { baseURL, stub in
            try await TestServer.with(sources: Self.httpSources(baseURL)) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                defer { Task { await client.close() } }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<4 {
                        group.addTask {
                            for index in 0..<50 {
                                let answer = try await client.rank(RankRequest(easyID: "w\(worker)-\(index)", topK: 3), timeout: .seconds(5))
                                #expect(answer.degraded.isEmpty)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            print("stub upstream: \(stub.connectionsAccepted) connections for \(stub.requestsServed) requests")
            #expect(stub.requestsServed == 600)
            // At most a few connections per concurrent worker and service, not one per request.
            #expect(stub.connectionsAccepted <= 30, "\(stub.connectionsAccepted) connections for 600 requests")
        }
    }

    /// Each way an optional upstream can fail gives a degraded answer within the deadline.
    @Test(arguments: ["slow", "status500", "malformed", "huge", "drop", "refused"])
    func aFailingStatsUpstreamDegradesTheAnswerWithinTheDeadline(kind: String) async throws {
        let faulty = try await FaultyUpstream.start()
        defer { faulty.stop() }
        let statsURL = kind == "refused" ? "http://127.0.0.1:1" : "\(faulty.baseURL)/\(kind)"
        try await StubUpstreams.with { baseURL, _ in
            let upstreams = UpstreamSet()
            let sources = SourceFanOut(
                userFeatures: HTTPUserFeatureSource(upstream: upstreams.client("user_features", baseURL, .userFeatures)),
                candidates: HTTPCandidateSource(upstream: upstreams.client("candidates", baseURL, .coupons)),
                stats: HTTPStatsSource(upstream: upstreams.client("stats", statsURL, .stats)),
                timeouts: SourceTimeouts(userFeatures: .seconds(4), candidates: .seconds(4), stats: .milliseconds(300))
            )
            try await TestServer.with(sources: sources) { server in
                let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
                defer { Task { await client.close() } }
                let start = ContinuousClock.now
                let answer = try await client.rank(RankRequest(easyID: "fault-\(kind)", topK: 5), timeout: .seconds(8), budget: .seconds(5))
                #expect(answer.degraded == .stats)
                #expect(answer.items.count == 5)
                // The stats timeout is 300 ms; a slow upstream would take 10 s.
                #expect(ContinuousClock.now - start < .seconds(5))
                // The server is still healthy afterwards.
                #expect(try await client.health().status == .serving)
            }
        }
    }

    @Test(arguments: ["slow", "status500", "malformed", "huge", "drop", "refused"])
    func aFailingCandidateUpstreamIsAnErrorWithinTheDeadline(kind: String) async throws {
        let faulty = try await FaultyUpstream.start()
        defer { faulty.stop() }
        let url = kind == "refused" ? "http://127.0.0.1:1" : "\(faulty.baseURL)/\(kind)"
        let upstreams = UpstreamSet()
        let candidates = upstreams.client("candidates", url, .coupons)
        let sources = SourceFanOut(
            userFeatures: StubUserFeatureSource(generator: TestServer.generator),
            candidates: HTTPCandidateSource(upstream: candidates),
            stats: StubStatsSource(generator: TestServer.generator),
            timeouts: SourceTimeouts(userFeatures: .seconds(1), candidates: .milliseconds(300), stats: .seconds(1))
        )
        try await TestServer.with(sources: sources) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            let start = ContinuousClock.now
            let error = await #expect(throws: ClientError.self) {
                try await client.rank(RankRequest(easyID: "fault", topK: 5), timeout: .seconds(8), budget: .seconds(2))
            }
            #expect([ErrorCode.upstreamUnavailable, .deadlineExceeded].contains(error?.serverError?.code))
            #expect(ContinuousClock.now - start < .seconds(5))  // a slow upstream would take 10 s
        }
        // An abandoned transfer gives its slot back once curl has seen the cancellation.
        let end = ContinuousClock.now + .seconds(5)
        while candidates.callsInFlight > 0, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(10)) }
        #expect(candidates.callsInFlight == 0)
    }

    @Test func theBreakerOpensOnRepeatedFailuresAndClosesWhenTheUpstreamRecovers() async throws {
        let faulty = try await FaultyUpstream.start()
        defer { faulty.stop() }
        let http = CurlHTTPClient()
        let upstream = UpstreamClient(
            name: "flaky",
            configuration: .init(baseURL: "\(faulty.baseURL)/flaky", maximumBodyBytes: 1 << 20),
            http: http,
            // Open long enough that the call below comes while it is, however slow this machine.
            breaker: CircuitBreaker(window: 10, minimumCalls: 3, openDuration: .seconds(2))
        )
        let source = HTTPUserFeatureSource(upstream: upstream)
        for _ in 0..<3 {
            await #expect(throws: HTTPError.self) { try await source.userFeatures(for: "u", deadline: .now + .seconds(1)) }
        }
        #expect(upstream.breaker.state == .open)
        // Open: fails at once, without a call.
        let error = await #expect(throws: HTTPError.self) { try await source.userFeatures(for: "u", deadline: .now + .seconds(1)) }
        #expect(error?.code == .circuitOpen)

        _ = try await http.get("\(faulty.baseURL)/control/ok", timeout: .seconds(1), maximumBodyBytes: 1024)
        // After its open duration the breaker lets a probe through, which succeeds and closes it.
        let end = ContinuousClock.now + .seconds(10)
        var features: UserFeatures?
        while features == nil, ContinuousClock.now < end {
            features = try? await source.userFeatures(for: "u", deadline: .now + .seconds(1))
            if features == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(features?.categorical["segment"] == "vip")
        #expect(upstream.breaker.state == .closed)
    }

    @Test func aCallBeyondTheInFlightBoundFailsAtOnce() async throws {
        let faulty = try await FaultyUpstream.start()
        defer { faulty.stop() }
        let upstream = UpstreamClient(
            name: "slow",
            configuration: .init(baseURL: "\(faulty.baseURL)/slow", maximumConcurrentCalls: 2, maximumBodyBytes: 1 << 20),
            http: CurlHTTPClient()
        )
        let source = HTTPUserFeatureSource(upstream: upstream)
        @Sendable func call(deadline: Duration) async -> HTTPError.Code? {
            do {
                _ = try await source.userFeatures(for: "u", deadline: .now + deadline)
                return nil
            } catch let error as HTTPError {
                return error.code
            } catch {
                return .transport
            }
        }
        let outcomes = await withTaskGroup(of: HTTPError.Code?.self) { group in
            // Two calls fill the bound and wait on the slow upstream until their deadline...
            for _ in 0..<2 { group.addTask { await call(deadline: .seconds(3)) } }
            let end = ContinuousClock.now + .seconds(3)
            while upstream.callsInFlight < 2, ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
            // ...while two more are refused at once.
            for _ in 0..<2 { group.addTask { await call(deadline: .seconds(3)) } }
            return await group.reduce(into: [HTTPError.Code?]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == .overloaded }.count == 2, "\(outcomes)")
        #expect(outcomes.filter { $0 == .timeout }.count == 2, "\(outcomes)")
        #expect(upstream.callsInFlight == 0)
    }

    @Test func cancellingTheCallerAbandonsTheTransfer() async throws {
        let faulty = try await FaultyUpstream.start()
        defer { faulty.stop() }
        let http = CurlHTTPClient()
        let task = Task {
            try await http.get("\(faulty.baseURL)/slow/v1/users/u/features", timeout: .seconds(10), maximumBodyBytes: 1 << 20)
        }
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - start < .seconds(5))  // the slow upstream answers after 10 s
        guard case .failure(let error as HTTPError) = result else {
            Issue.record("expected a cancellation, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
    }

    /// A cancellation that came before the transfer was handed to curl was lost: the call ran to
    /// its own timeout.
    @Test func aCallFromACancelledTaskFailsAtOnce() async throws {
        let faulty = try await FaultyUpstream.start()
        defer { faulty.stop() }
        let http = CurlHTTPClient()
        let start = ContinuousClock.now
        let result = await Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await http.get("\(faulty.baseURL)/slow/v1/users/u/features", timeout: .seconds(10), maximumBodyBytes: 1 << 20)
        }.result
        #expect(ContinuousClock.now - start < .seconds(5))
        guard case .failure(let error as HTTPError) = result else {
            Issue.record("expected a cancellation, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
    }

    static func rank(_ easyIDs: [String], port: Int) async throws -> [RankResponse] {
        let client = try await CouponRankClient.connectForTesting(host: "127.0.0.1", port: port)
        defer { Task { await client.close() } }
        var answers: [RankResponse] = []
        for id in easyIDs {
            var answer = try await client.rank(RankRequest(easyID: id, topK: 10), timeout: .seconds(5))
            answer.timings = .init()
            answers.append(answer)
        }
        return answers
    }
}
