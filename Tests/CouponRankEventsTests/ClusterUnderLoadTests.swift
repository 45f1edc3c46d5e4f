import CouponRankClient
import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import CouponRankServer
import CouponRankTestSupport
import CouponRankWire
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Issue 16: an engine that logs every decision to a Redis Cluster and reads its model from it,
/// under steady rank load, while the cluster loses a primary or moves slots.
@Suite(.enabled(if: RedisClusterFixture.isAvailable, "needs redis-server and redis-cli (make test installs them)"))
struct ClusterUnderLoadTests {
    static var quiet: Logger {
        var logger = Logger(label: "cluster-load-test")
        logger.logLevel = .critical
        return logger
    }

    static func document(_ version: String) throws -> Data {
        var definition = try BundledModel.load().definition
        definition.version = version
        return try ModelFile.encode(definition)
    }

    /// The figures of one run.
    struct Outcome: CustomStringConvertible {
        var ranks = 0
        var failedRanks = 0
        var decisionsSubmitted = 0
        var decisionsWritten = 0
        var decisionsDropped = 0
        var loggingResumed: Duration?
        /// When the disturbance was over: a replica served the stream's slot, or the reshard ended.
        var settled: Duration?
        var modelWritten: Duration?
        var modelServed: Duration?

        var description: String {
            "\(ranks) ranks, \(failedRanks) failed; decisions: \(decisionsWritten) written, \(decisionsDropped) dropped; "
                + "the disturbance was over \(settled.map { "\($0)" } ?? "never"), logging resumed \(loggingResumed.map { "\($0)" } ?? "never"), a model write taken \(modelWritten.map { "\($0)" } ?? "never"), "
                + "that model served \(modelServed.map { "\($0)" } ?? "never") after the disturbance began"
        }
    }

    /// Ranks on 4 workers against an engine on `cluster` while `disturb` runs, then publishes a
    /// model through the cluster and waits for the engine to serve it.
    static func underLoad(_ cluster: RedisClusterFixture, disturb: @Sendable () async throws -> Void) async throws -> Outcome {
        let url = cluster.url
        let store = ModelStore(redis: RedisClient(url: url, connectTimeout: .milliseconds(300), commandTimeout: .seconds(1)))
        try await store.publish(try document("before"))
        let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
        let refresher = ModelRefresher(store: ModelStore(redis: RedisClient(url: url, connectTimeout: .milliseconds(300), commandTimeout: .seconds(1))), slot: slot, interval: .seconds(3600), logger: quiet)
        _ = await refresher.reload(reason: "startup")
        let writer = EventStreamWriter<DecisionLog.Entry>(
            configuration: .init(url: url, stream: EventKeys().decisions, connectTimeout: .milliseconds(300), commandTimeout: .seconds(1)),
            name: "decisions",
            logger: quiet
        )
        let services = ServiceGroup(configuration: .init(services: [writer, refresher], logger: quiet))
        let running = Task { try await services.run() }
        defer { running.cancel() }
        var outcome = try await TestServer.with(models: slot, reloader: refresher, sink: DecisionLog(writer: writer)) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            var resumed: Duration?
            var written: Duration?
            var served: Duration?
            var settled: Duration?
            let load = try await SteadyRanks.during(client) { load in
                try await Task.sleep(for: .milliseconds(500))
                let began = ContinuousClock.now
                // For a kill, until a replica has taken the slots over; for a reshard, until done.
                try await disturb()
                settled = ContinuousClock.now - began
                // Logging has resumed once entries are written again, with no drop since.
                var last = writer.snapshot
                let end = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < end {
                    try await Task.sleep(for: .milliseconds(20))
                    let now = writer.snapshot
                    if now.droppedTotal > last.droppedTotal {
                        last = now
                        continue
                    }
                    if now.written > last.written {
                        resumed = ContinuousClock.now - began
                        break
                    }
                }
                // A fresh version per attempt: a publish cut off halfway has written its entry.
                var attempt = 0
                while ContinuousClock.now - began < .seconds(60) {
                    attempt += 1
                    if (try? await store.publish(try document("after-\(attempt)"))) != nil { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                written = ContinuousClock.now - began
                _ = try? await store.broadcastReload()
                if await eventually(timeout: .seconds(20), { slot.current.model.version == "after-\(attempt)" }) {
                    served = ContinuousClock.now - began
                }
                return load
            }
            var outcome = Outcome()
            outcome.ranks = load.answered
            outcome.failedRanks = load.failed
            outcome.loggingResumed = resumed
            outcome.settled = settled
            outcome.modelWritten = written
            outcome.modelServed = served
            return outcome
        }
        await services.triggerGracefulShutdown()
        _ = try? await running.value
        let statistics = writer.snapshot
        outcome.decisionsSubmitted = statistics.submitted
        outcome.decisionsWritten = statistics.written
        outcome.decisionsDropped = statistics.droppedTotal
        return outcome
    }

    @Test func aPrimaryKilledUnderLoadCostsNoRankAndLoggingAndModelsResume() async throws {
        try await RedisClusterFixture.with(replicas: 1) { cluster in
            let victim = try await cluster.node(serving: EventKeys().decisions)
            let outcome = try await Self.underLoad(cluster) {
                victim.stop()
                let end = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < end, try await cluster.node(serving: EventKeys().decisions).port == victim.port {
                    try await Task.sleep(for: .milliseconds(25))
                }
            }
            print("cluster failover under load: \(outcome)")
            #expect(outcome.failedRanks == 0, "\(outcome)")
            #expect(outcome.ranks > 0)
            #expect(outcome.decisionsWritten + outcome.decisionsDropped == outcome.decisionsSubmitted, "every decision written or counted as dropped")
            #expect(outcome.loggingResumed != nil && outcome.modelServed != nil, "\(outcome)")
            #expect(try await cluster.node(serving: EventKeys().decisions).port != victim.port, "a replica took the slots over: \(outcome)")
        }
    }

    @Test func slotsReshardedUnderLoadCostNoRankAndNoDecision() async throws {
        try await RedisClusterFixture.with { cluster in
            let source = try await cluster.node(serving: EventKeys().decisions)
            let target = cluster.nodes.first { $0.port != source.port }!
            let sourceID = try #require(try await RedisClient(url: source.url).command(["CLUSTER", "MYID"]).text)
            let targetID = try #require(try await RedisClient(url: target.url).command(["CLUSTER", "MYID"]).text)
            let outcome = try await Self.underLoad(cluster) {
                // Every slot of the stream's node moves to another, the stream's among them.
                let reshard = try await runChildProcess([
                    RedisClusterFixture.cli!, "--cluster", "reshard", "127.0.0.1:\(source.port)", "--cluster-from", sourceID,
                    "--cluster-to", targetID, "--cluster-slots", "16384", "--cluster-yes",
                ], timeout: .seconds(120))
                #expect(reshard.status == 0, "\(reshard.output.suffix(1500))")
            }
            print("cluster reshard under load: \(outcome)")
            #expect(outcome.failedRanks == 0, "\(outcome)")
            #expect(outcome.decisionsDropped == 0, "\(outcome)")
            #expect(outcome.modelServed != nil, "\(outcome)")
            #expect(try await cluster.node(serving: EventKeys().decisions).port == target.port)
            #expect(try await RedisClient(url: target.url).command(["XLEN", EventKeys().decisions]).integer == Int64(outcome.decisionsWritten))
        }
    }
}
