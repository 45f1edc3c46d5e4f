import CouponRankModelFile
import CouponRankModelStore
import CouponRankOps
import CouponRankTestSupport
import CouponRankTraining
import CouponRankUpstreams
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Testing

/// The trainer's ops port over real HTTP, beside a trainer on a real redis-server.
@Suite(.enabled(if: RedisServerFixture.isAvailable, "redis-server is not installed: `make test` installs it"))
struct TrainerOpsTests {
    @Test func readinessFollowsTheTrainersLoopAndItsStatusIsServed() async throws {
        var logger = Logger(label: "trainer-ops-test")
        logger.logLevel = .critical
        let server = try await RedisServerFixture.start()
        defer { server.stop() }
        let redis = RedisClient(url: server.url, commandTimeout: .seconds(1), logger: logger)
        let trainer = Trainer(
            configuration: TrainerConfiguration(blockMillis: 50, publishes: false),
            redis: redis,
            store: ModelStore(redis: redis),
            base: try BundledModel.load().definition,
            publishGuard: nil,
            logger: logger
        )
        let training = ServiceGroup(services: [trainer], logger: logger)
        let running = Task { try await training.run() }
        defer { running.cancel() }
        let port = ListeningPort()
        let ops = TrainerOpsServer.makeApplication(host: "127.0.0.1", port: 0, trainer: trainer, registry: PrometheusCollectorRegistry(), logger: logger) { bound in
            port.report(try! SocketAddress(ipAddress: "127.0.0.1", port: bound))
        }
        let http = CurlHTTPClient()
        try await withListeningService(ops, port: port, logger: logger) { opsPort, _ in
            func get(_ path: String) async throws -> (status: Int, body: String) {
                let response = try await http.get("http://127.0.0.1:\(opsPort)\(path)", timeout: .seconds(5), maximumBodyBytes: 1 << 20)
                return (response.status, String(decoding: response.body, as: UTF8.self))
            }
            func waitFor(_ path: String, status: Int) async throws -> (status: Int, body: String) {
                let end = ContinuousClock.now + .seconds(20)
                var last = try await get(path)
                while last.status != status, ContinuousClock.now < end {
                    try await Task.sleep(for: .milliseconds(50))
                    last = try await get(path)
                }
                return last
            }
            #expect(try await get("/healthz").status == 200)
            #expect(try await waitFor("/readyz", status: 200).status == 200)
            let status = try await get("/v1/trainer")
            #expect(status.status == 200 && status.body.contains(#""partition":"0\/1""#), "\(status.body)")

            // Redis goes away: the loop fails, and readiness says so with the reason.
            server.stop()
            let failing = try await waitFor("/readyz", status: 503)
            #expect(failing.status == 503 && failing.body.contains("failing"), "\(failing.body)")
            #expect(try await get("/healthz").status == 200)
            #expect(try await get("/v1/trainer").body.contains("last_error"))
        }
        await training.triggerGracefulShutdown()
        _ = try? await running.value
    }
}
