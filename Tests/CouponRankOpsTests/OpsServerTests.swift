import CouponRankClient
import CouponRankCore
import CouponRankEngine
import CouponRankOps
import CouponRankServer
import CouponRankSources
import CouponRankTestSupport
import CouponRankUpstreams
import CouponRankWire
import Foundation
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Testing

/// The ops port over real HTTP on port 0, beside a real RPC server, as `couponrank serve` runs them.
struct OpsHarness: Sendable {
    let rpcPort: Int
    let opsPort: Int
    let group: ServiceGroup
    let admission: AdmissionController
    let http = CurlHTTPClient()

    func get(_ path: String) async throws -> (status: Int, body: String) {
        let response = try await http.get("http://127.0.0.1:\(opsPort)\(path)", timeout: .seconds(5), maximumBodyBytes: 4 << 20)
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    /// The value of one Prometheus sample, e.g. `couponrank_ranks_total{outcome="ok"}`.
    func metric(_ sample: String) async throws -> Double? {
        prometheusSample(sample, in: try await get("/metrics").body)
    }

    static func with<T: Sendable>(
        sources: SourceFanOut = .stubs(TestServer.generator, timeouts: TestServer.relaxedTimeouts),
        admission: AdmissionConfiguration = TestServer.relaxedAdmission,
        rewardToken: String? = nil,
        rewardSink: (any RewardSink)? = nil,
        idleTimeout: Duration = .seconds(30),
        componentStates: @escaping @Sendable () -> [(name: String, state: String)] = { [] },
        _ body: @Sendable (OpsHarness) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "ops-test")
        logger.logLevel = .warning
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        let models = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
        let sources = SourceFanOut(
            userFeatures: sources.userFeatures,
            candidates: sources.candidates,
            stats: sources.stats,
            timeouts: sources.timeouts,
            metrics: SourceMetrics(factory: factory)
        )
        let engine = RankEngine(sources: sources, models: models)
        let admission = AdmissionController(configuration: admission, metrics: EngineMetrics(factory: factory))
        let rpcPort = ListeningPort()
        let opsPort = ListeningPort()
        let rpc = RPCServer(
            configuration: ServerConfiguration(port: 0),
            engine: engine,
            admission: admission,
            logger: logger,
            onListening: rpcPort.report
        )
        let ops = OpsServer.makeApplication(
            configuration: OpsConfiguration(host: "127.0.0.1", port: 0, rankBudget: .seconds(5), idleTimeout: idleTimeout),
            engine: engine,
            admission: admission,
            rewards: RewardIntake(token: rewardToken, sink: rewardSink, metricsFactory: factory),
            registry: registry,
            componentStates: componentStates,
            logger: logger
        ) { port in
            opsPort.report(try! SocketAddress(ipAddress: "127.0.0.1", port: port))
        }
        // Ops first: it is shut down last, after the RPC server has drained.
        let group = ServiceGroup(services: [ops, rpc], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var rpcIterator = rpcPort.stream.makeAsyncIterator()
            var opsIterator = opsPort.stream.makeAsyncIterator()
            guard let rpc = await rpcIterator.next(), let ops = await opsIterator.next() else {
                throw TestServerError("servers did not start")
            }
            let harness = OpsHarness(rpcPort: rpc, opsPort: ops, group: group, admission: admission)
            do {
                let result = try await body(harness)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

@Suite struct OpsServerTests {
    /// Issue 11: breaker labels stuttered (`upstream="upstream.candidates"`), and the health
    /// components that are not breakers must not become breaker series.
    @Test func breakerGaugesAreLabelledByTheUpstreamAlone() async throws {
        let states: @Sendable () -> [(name: String, state: String)] = {
            [("upstream.stats", "open"), ("upstream.candidates", "closed"), ("event_log.decisions", "ok"), ("exploration", "on")]
        }
        try await OpsHarness.with(componentStates: states) { ops in
            let body = try await ops.get("/metrics").body
            #expect(prometheusSample(#"couponrank_upstream_breaker_state{upstream="stats"}"#, in: body) == 2)
            #expect(prometheusSample(#"couponrank_upstream_breaker_state{upstream="candidates"}"#, in: body) == 0)
            #expect(!body.contains("upstream=\"upstream.") && !body.contains("upstream=\"event_log"), "\(body)")
        }
    }

    /// Issue 11: the ops port had no idle timeout; 1,200 slow connections exhausted the
    /// process's descriptors.
    @Test func anIdleOpsConnectionIsClosed() async throws {
        try await OpsHarness.with(idleTimeout: .seconds(1)) { ops in
            let idle = try await RawConnection.connect(port: ops.opsPort)
            #expect(try await idle.closesWithin(.seconds(8)))
            // The port still serves. (A busy test machine can delay a request past the short
            // idle timeout of this test, so one retry is allowed.)
            var status = try? await ops.get("/healthz").status
            if status == nil { status = try await ops.get("/healthz").status }
            #expect(status == 200)
        }
    }

    @Test func healthReadinessModelAndRankAnswerOverHTTP() async throws {
        try await OpsHarness.with { ops in
            #expect(try await ops.get("/healthz") == (200, #"{"status":"alive"}"#))
            let ready = try await ops.get("/readyz")
            #expect(ready.status == 200)
            #expect(ready.body.contains(#""ready":true"#))

            let model = try await ops.get("/v1/model")
            #expect(model.status == 200)
            let modelJSON = try #require(try JSONSerialization.jsonObject(with: Data(model.body.utf8)) as? [String: Any])
            #expect(modelJSON["dimension"] as? Int == 64)
            #expect(modelJSON["kind"] as? String == "linucb")
            #expect((modelJSON["features"] as? [Any])?.count == 19)

            let rank = try await ops.get("/v1/rank?easy_id=12345&top_k=3")
            #expect(rank.status == 200)
            let rankJSON = try #require(try JSONSerialization.jsonObject(with: Data(rank.body.utf8)) as? [String: Any])
            let items = try #require(rankJSON["items"] as? [[String: Any]])
            // The same ranking the binary protocol gives.
            let client = try await CouponRankClient.connectForTesting(host: "127.0.0.1", port: ops.rpcPort)
            let viaRPC = try await client.rank(RankRequest(easyID: "12345", topK: 3))
            await client.close()
            #expect(items.compactMap { $0["coupon_id"] as? String } == viaRPC.items.map(\.couponID))

            #expect(try await ops.get("/v1/rank").status == 400)
            #expect(try await ops.get("/v1/rank?easy_id=\(String(repeating: "x", count: 129))").status == 400)
            #expect(try await ops.get("/nowhere").status == 404)
        }
    }

    @Test func metricsMoveAsRanksSucceedAndFail() async throws {
        try await OpsHarness.with { ops in
            let client = try await CouponRankClient.connectForTesting(host: "127.0.0.1", port: ops.rpcPort)
            defer { Task { await client.close() } }
            for index in 0..<5 {
                _ = try await client.rank(RankRequest(easyID: "m\(index)", topK: 2))
            }
            // An invalid request: the server refuses an empty easy_id.
            _ = try? await client.call(RankRequest(easyID: "", topK: 1), timeout: .seconds(1), budget: nil)

            #expect(try await ops.metric(#"couponrank_ranks_total{outcome="ok"}"#) == 5)
            #expect(try await ops.metric(#"couponrank_ranks_total{outcome="INVALID_ARGUMENT"}"#) == 1)
            #expect(try await ops.metric(#"couponrank_rank_duration_seconds_count{outcome="ok"}"#) == 5)
            #expect(try await ops.metric(#"couponrank_source_duration_seconds_count{source="candidates"}"#) == 5)
            #expect(try await ops.metric("couponrank_open_connections") == 1)
            let info = try await ops.get("/metrics").body
            #expect(info.contains(#"couponrank_model_info{version="bundled-linucb-2026-11-24""#))
        }
    }

    @Test func readinessTurnsFalseWhileDrainingAndInFlightRequestsFinish() async throws {
        // The rank stays in flight until the test has seen /readyz, however busy the machine.
        let gate = Gate()
        let slow = SourceFanOut.scripted(candidates: ScriptedSource { _ in .waitUntil { gate.isOpen } })
        try await OpsHarness.with(sources: slow) { ops in
            let client = try await CouponRankClient.connectForTesting(host: "127.0.0.1", port: ops.rpcPort)
            async let inFlight = client.rank(RankRequest(easyID: "draining", topK: 2), timeout: .seconds(10))
            try #require(try await ops.admission.waitForInFlight(1))
            await ops.group.triggerGracefulShutdown()
            var sawDraining = false
            let giveUp = ContinuousClock.now + .seconds(5)
            while !sawDraining, ContinuousClock.now < giveUp {
                if let answer = try? await ops.get("/readyz"), answer.status == 503, answer.body.contains("draining") {
                    sawDraining = true
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(sawDraining)
            gate.open()
            let answer = try await inFlight
            #expect(answer.items.count == 2)
            await client.close()
        }
    }

    @Test func opsRanksAreAdmittedAndCountedLikeRPCRanks() async throws {
        try await OpsHarness.with { (ops: OpsHarness) async throws -> Void in
            for index in 0..<3 {
                #expect(try await ops.get("/v1/rank?easy_id=ops-\(index)&top_k=2").status == 200)
            }
            #expect(try await ops.metric(#"couponrank_ranks_total{outcome="ok"}"#) == 3)
            #expect(try await ops.metric(#"couponrank_rank_duration_seconds_count{outcome="ok"}"#) == 3)
            #expect(ops.admission.inFlight == 0)
        }
    }

    @Test func opsRanksOverTheInFlightBoundAreRefusedOverloaded() async throws {
        let gate = Gate()
        let gated = SourceFanOut.scripted(candidates: ScriptedSource { _ in .waitUntil { gate.isOpen } })
        var admission = TestServer.relaxedAdmission
        admission.maximumInFlight = 1
        try await OpsHarness.with(sources: gated, admission: admission) { (ops: OpsHarness) async throws -> Void in
            async let first = ops.get("/v1/rank?easy_id=first&top_k=2")
            try #require(try await ops.admission.waitForInFlight(1))
            // Another client, so that the call does not wait for the first one's connection.
            let other = CurlHTTPClient()
            let response = try await other.get("http://127.0.0.1:\(ops.opsPort)/v1/rank?easy_id=second&top_k=2", timeout: .seconds(5), maximumBodyBytes: 1 << 20)
            let second = (status: response.status, body: String(decoding: response.body, as: UTF8.self))
            #expect(second.status == 503)
            #expect(second.body.contains("OVERLOADED"))
            gate.open()
            #expect(try await first.status == 200)
            #expect(try await ops.metric(#"couponrank_ranks_total{outcome="OVERLOADED"}"#) == 1)
            #expect(try await ops.metric("couponrank_overload_rejections_total") == 1)
        }
    }

    @Test func opsRanksAreRefusedWhileDraining() async throws {
        try await OpsHarness.with { (ops: OpsHarness) async throws -> Void in
            ops.admission.beginDraining()
            let answer = try await ops.get("/v1/rank?easy_id=late&top_k=2")
            #expect(answer.status == 503)
            #expect(answer.body.contains("SHUTTING_DOWN"))
            #expect(try await ops.metric(#"couponrank_ranks_total{outcome="SHUTTING_DOWN"}"#) == 1)
        }
    }
}

/// The value of one sample in a Prometheus exposition, e.g. `couponrank_requests_in_flight`.
func prometheusSample(_ sample: String, in body: String) -> Double? {
    for line in body.split(separator: "\n") where line.hasPrefix(sample + " ") {
        return line.split(separator: " ").last.flatMap { Double($0) }
    }
    return nil
}
