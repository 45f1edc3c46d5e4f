import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import CouponRankSources
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// `couponrank-bench --event-log URL`: how many decisions per second the event log's writers put
/// into Redis — one node, or a cluster with the streams sharded (EVENTS.md §1.2). `writers`
/// writers stand for as many engines, each with its own thread and connection(s), each fed in a
/// closed loop (its queue kept half full, so nothing is dropped for want of room) with real
/// decision records: the engine's own decisions (top 20 of 200 candidates), their event ids
/// unique per run.
struct EventLogBenchmark {
    var url: RedisURL
    var shards: Int
    var writers: Int
    var seconds: Double

    struct Result: Codable {
        var url: String
        var topology: String
        var shards: Int
        var writers: Int
        var seconds: Double
        var written: Int
        var dropped: Int
        var decisionsPerSecond: Double
        var entryBytes: Int

        enum CodingKeys: String, CodingKey {
            case url, topology, shards, writers, seconds, written, dropped
            case decisionsPerSecond = "decisions_per_second"
            case entryBytes = "entry_bytes"
        }
    }

    func run() async throws -> Result {
        let engine = RankEngine(sources: .stubs(StubDataGenerator()), models: ModelSlot(try BundledModel.load(), origin: .embedded), defaultTopK: 20)
        var scratch = ContextBatch()
        let run = UUID().uuidString.prefix(8)
        let decisions: [DecisionLog.Entry] = try (0..<2000).map { index in
            let request = DecisionRequest(easyID: "user-\(index)", topK: 20, deadline: .now + .seconds(5), eventID: "bench-\(run)-\(index)", policy: .noExploration)
            return DecisionLog.Entry(try engine.rankFromMemory(request, scratch: &scratch)!)
        }
        let entryBytes = decisions[0].streamFields().reduce(0) { $0 + $1.count }
        var logger = Logger(label: "event-log-bench")
        logger.logLevel = .critical
        let keys = EventKeys(prefix: "bench-\(run):", shards: shards)
        let pool = (0..<writers).map { _ in
            EventStreamWriter<DecisionLog.Entry>(
                configuration: .init(url: url, streams: keys.allDecisions, queueCapacity: 8192, maximumLength: 200_000, commandTimeout: .seconds(5)),
                name: "decisions",
                logger: logger
            )
        }
        let group = ServiceGroup(configuration: .init(services: pool.map { .init(service: $0) }, logger: logger))
        let running = Task { try await group.run() }
        let stop = StopFlag()
        for (offset, writer) in pool.enumerated() {
            Thread {
                var index = offset
                while !stop.value.load(ordering: .relaxed) {
                    if writer.snapshot.queued > 4096 {
                        usleep(200)
                        continue
                    }
                    for _ in 0..<256 {
                        writer.submit(decisions[index % decisions.count])
                        index += writers
                    }
                }
            }.start()
        }
        try await Task.sleep(for: .seconds(1))  // warm-up: connections, slot maps, allocator
        let before = pool.reduce(0) { $0 + $1.snapshot.written }
        let start = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        let written = pool.reduce(0) { $0 + $1.snapshot.written } - before
        let elapsed = (ContinuousClock.now - start) / .seconds(1)
        stop.value.store(true, ordering: .relaxed)
        await group.triggerGracefulShutdown()
        try await running.value
        let dropped = pool.reduce(0) { $0 + $1.snapshot.droppedTotal }
        // Leaves the server as it was.
        let cleaner = RedisClient(url: url)
        for key in keys.allDecisions { _ = try? await cleaner.command(["DEL", key]) }
        let topology: String = switch url.topology {
        case .single: "single node"
        case .cluster: "cluster of \(url.nodes.count) primaries"
        case .sentinel: "sentinel"
        }
        return Result(
            url: url.description, topology: topology, shards: shards, writers: writers, seconds: elapsed, written: written,
            dropped: dropped, decisionsPerSecond: Double(written) / elapsed, entryBytes: entryBytes
        )
    }
}

private final class StopFlag: Sendable {
    let value = Atomic(false)
}
