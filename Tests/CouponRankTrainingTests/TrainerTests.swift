import CouponRankCore
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import CouponRankTestSupport
@testable import CouponRankTraining
import Foundation
import Logging
import ServiceLifecycle
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite(.enabled(if: RedisServerFixture.isAvailable, "redis-server is not installed: `make test` installs it"))
struct TrainerTests {
    static var quietLogger: Logger {
        var logger = Logger(label: "trainer-test")
        logger.logLevel = .warning
        return logger
    }

    static func checkpoint(_ redis: RedisClient, base: ModelDefinition, partition: TrainerConfiguration.Partition = .whole) async throws -> TrainerCheckpoint? {
        let key = TrainerConfiguration(partition: partition).checkpointKey(for: partition)
        guard let bytes = try await redis.command(["GET", key]).bytes else { return nil }
        return try TrainerCheckpoint(decoding: bytes, base: base)
    }

    /// Runs trainers as services until `done` holds (or 60 s pass), then stops them gracefully.
    static func run(_ trainers: [Trainer], until done: @Sendable () async throws -> Bool) async throws {
        let group = ServiceGroup(configuration: .init(services: trainers.map { .init(service: $0) }, logger: quietLogger))
        let running = Task { try await group.run() }
        let end = ContinuousClock.now + .seconds(60)
        while try await !done(), ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(50))
        }
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func theTrainerLearnsEachDecisionOnceAcknowledgesAndPublishesWithLineage() async throws {
        try await RedisServerFixture.with { server in
            let redis = RedisClient(url: server.url)
            let log = SyntheticLog(count: 300, degradedEvery: 10)
            try await log.write(to: redis)
            let base = try OnlineLearnerTests.base()
            let trainer = Trainer(
                configuration: .init(join: .init(windowMillis: 2000), blockMillis: 50, checkpointInterval: .milliseconds(50), publishEvery: 270),
                redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: Self.quietLogger
            )
            try await Self.run([trainer]) { trainer.status.publishes >= 1 && trainer.status.counters.closed == 300 }
            let checkpoint = try #require(try await Self.checkpoint(redis, base: base))
            let reference = try log.referenceLearner(base: base)
            #expect(checkpoint.learner.decisions == 270)
            #expect(checkpoint.excludedDegraded == 30)
            #expect(checkpoint.counters.rewardsJoined == log.clicks.count)
            #expect(checkpoint.counters.rewardsLate == 0)
            let learned = try #require(checkpoint.learner.linucbStatistics)
            let expected = try #require(reference.linucbStatistics)
            #expect(maximumRelativeDifference(learned.a, expected.a) < 1e-12)
            #expect(maximumRelativeDifference(learned.b, expected.b) < 1e-12)
            // Everything closed is acknowledged once checkpointed, rewards with their decisions.
            for key in [EventKeys().decisions, EventKeys().rewards] {
                let pending = try await redis.command(["XPENDING", key, "trainer"]).elements?.first?.integer
                #expect(pending == 0, "\(key)")
            }
            // The published model: current, servable, with its lineage.
            let store = ModelStore(redis: redis)
            #expect(try await store.currentVersion() == "trained-1")
            let published = try await store.load(version: "trained-1")
            let lineage = try #require(published.definition.lineage)
            #expect(lineage.decisions == 270)
            #expect(lineage.rewards == reference.rewards)
            #expect(lineage.parent == nil)
            #expect(lineage.streamPositions["couponrank:events:decisions@0of1"] == checkpoint.decisionsPosition.description)
            let solved = try reference.makeDefinition(version: "x", createdAt: "2026-11-25T00:00:00Z", lineage: nil)
            #expect(maximumRelativeDifference(published.definition.theta, solved.theta) < 1e-9)
        }
    }

    @Test func aTrainerStoppedBetweenItsCheckpointAndItsAcknowledgementCountsNothingTwice() async throws {
        try await RedisServerFixture.with { server in
            let redis = RedisClient(url: server.url)
            let log = SyntheticLog(count: 400, seed: 3)
            // Spread over about two seconds of stream time, so decisions close batch by batch, with a
            // window of 1 s, so that a stalled machine does not make a reward late.
            try await log.write(to: redis, pause: .milliseconds(5))
            let base = try OnlineLearnerTests.base()
            var configuration = TrainerConfiguration(
                join: .init(windowMillis: 1000), readCount: 20, blockMillis: 50, checkpointInterval: .milliseconds(10), publishes: false, lease: .seconds(1)
            )
            configuration.crashAfterClosing = 150
            let crashing = Trainer(configuration: configuration, redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: Self.quietLogger)
            await #expect(throws: Trainer.SimulatedCrash.self) { try await crashing.run() }
            // The crash left entries delivered, held by the checkpoint, and not acknowledged.
            let unacknowledged = try await redis.command(["XPENDING", EventKeys().decisions, "trainer"]).elements?.first?.integer ?? 0
            #expect(unacknowledged > 0)
            let held = try #require(try await Self.checkpoint(redis, base: base)).counters.decisions
            #expect(held > 0 && held < 400)

            configuration.crashAfterClosing = nil
            let resumed = Trainer(configuration: configuration, redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: Self.quietLogger)
            try await Self.run([resumed]) { resumed.status.counters.closed >= 400 }
            let checkpoint = try #require(try await Self.checkpoint(redis, base: base))
            #expect(checkpoint.counters.decisions == 400 && checkpoint.counters.duplicateDecisions == 0)
            #expect(checkpoint.learner.decisions == 400)
            #expect(checkpoint.counters.rewardsJoined == log.clicks.count)
            #expect(checkpoint.counters.rewardsLate == 0, "a reward written more than the window after its decision: the machine stalled")
            let expected = try #require(try log.referenceLearner(base: base).linucbStatistics)
            let learned = try #require(checkpoint.learner.linucbStatistics)
            #expect(maximumRelativeDifference(learned.a, expected.a) < 1e-12)
            #expect(maximumRelativeDifference(learned.b, expected.b) < 1e-12)
        }
    }

    /// A read whose reply is lost (Redis frozen past the client's timeout, then thawed) still
    /// delivers its entries to this consumer's pending list, which `>` never reads again: they
    /// were stranded until a restart. Now the next step reads them.
    @Test func entriesDeliveredByAReadWhoseReplyWasLostAreStillLearned() async throws {
        try await RedisServerFixture.with { server in
            let writer = RedisClient(url: server.url)
            let log = SyntheticLog(count: 300, seed: 5)
            let redis = RedisClient(url: server.url, connectTimeout: .milliseconds(200), commandTimeout: .milliseconds(150))
            let base = try OnlineLearnerTests.base()
            let trainer = Trainer(
                configuration: .init(join: .init(windowMillis: 2000), readCount: 10, blockMillis: 100, checkpointInterval: .milliseconds(50), publishes: false),
                redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: Self.quietLogger
            )
            let freezes = Task {
                // While the log is written and read: the trainer's blocking reads outlast 150 ms.
                for _ in 0..<6 {
                    try await Task.sleep(for: .milliseconds(300))
                    server.pause()
                    try await Task.sleep(for: .milliseconds(400))
                    server.resume()
                }
            }
            let writing = Task { try await log.write(to: writer, pause: .milliseconds(10)) }
            try await Self.run([trainer]) { trainer.status.counters.closed == 300 }
            _ = try? await writing.value
            _ = try? await freezes.value
            server.resume()
            #expect(trainer.status.counters.closed == 300, "decisions stranded in the pending list: \(300 - trainer.status.counters.closed)")
            let checkpoint = try #require(try await Self.checkpoint(RedisClient(url: server.url), base: base))
            #expect(checkpoint.counters.duplicateDecisions == 0)
            #expect(checkpoint.counters.rewardsJoined == log.clicks.count)
        }
    }

    @Test func aSecondTrainerOnTheSamePartitionIsRefusedWithTheHoldersName() async throws {
        try await RedisServerFixture.with { server in
            let redis = RedisClient(url: server.url)
            let base = try OnlineLearnerTests.base()
            let configuration = TrainerConfiguration(consumer: "first", blockMillis: 50, publishes: false, lease: .seconds(2))
            let first = Trainer(configuration: configuration, redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: Self.quietLogger)
            let group = ServiceGroup(configuration: .init(services: [.init(service: first)], logger: Self.quietLogger))
            let running = Task { try await group.run() }
            let key = configuration.leaseKey(for: .whole)
            let end = ContinuousClock.now + .seconds(10)
            while try await redis.command(["GET", key]).text == nil, ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(20))
            }
            var secondConfiguration = configuration
            secondConfiguration.consumer = "second"
            let second = Trainer(configuration: secondConfiguration, redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: Self.quietLogger)
            await #expect { try await second.run() } throws: { "\($0)".contains("held by another trainer (first pid") }
            // Stopped, the first hands the partition over at once.
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(try await redis.command(["GET", key]).text == nil)
        }
    }

    @Test func twoPartitionsMergeIntoWhatOneTrainerLearns() async throws {
        try await RedisServerFixture.with { server in
            let redis = RedisClient(url: server.url)
            let log = SyntheticLog(count: 200)
            try await log.write(to: redis)
            let base = try OnlineLearnerTests.base()
            let first = TrainerConfiguration.Partition(index: 0, count: 2)
            let second = TrainerConfiguration.Partition(index: 1, count: 2)
            let trainers = [first, second].map { partition in
                Trainer(
                    configuration: .init(consumer: "t\(partition.index)", partition: partition, join: .init(windowMillis: 2000), blockMillis: 50, checkpointInterval: .milliseconds(50), publishes: false),
                    redis: redis, store: ModelStore(redis: redis), base: base, publishGuard: nil, logger: Self.quietLogger
                )
            }
            try await Self.run(trainers) { trainers.reduce(0) { $0 + $1.status.counters.closed } == 200 }
            var merged = try #require(try await Self.checkpoint(redis, base: base, partition: first)).learner
            let other = try #require(try await Self.checkpoint(redis, base: base, partition: second)).learner
            #expect(merged.decisions > 60 && other.decisions > 60)
            try merged.merge(other)
            let whole = try log.referenceLearner(base: base)
            #expect(merged.decisions == 200 && merged.itemUpdates == whole.itemUpdates && merged.rewards == whole.rewards)
            let mergedModel = try merged.makeDefinition(version: "m", createdAt: "2026-11-25T00:00:00Z", lineage: nil)
            let wholeModel = try whole.makeDefinition(version: "m", createdAt: "2026-11-25T00:00:00Z", lineage: nil)
            #expect(maximumRelativeDifference(mergedModel.theta, wholeModel.theta) < 1e-9)
        }
    }
}

/// `couponrank train` as a child process, killed with SIGKILL at random moments.
let couponrankBinary = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".build/debug/couponrank").path

@Suite(.enabled(if: RedisServerFixture.isAvailable && FileManager.default.isExecutableFile(atPath: couponrankBinary), "needs redis-server and the built couponrank executable (make test builds both)"))
struct KilledTrainerTests {
    static let binary = couponrankBinary

    static func launch(_ server: RedisServerFixture) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "train", "--redis-url", "redis://127.0.0.1:\(server.port)", "--ops-port", "0", "--no-publish",
            "--reward-window-s", "2", "--lease-ms", "1000", "--checkpoint-interval-ms", "20", "--read-count", "20", "--log-level", "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func aTrainerKilledAtRandomMomentsResumesWithoutLosingOrDoubleCountingAnEvent() async throws {
        try await RedisServerFixture.with { server in
            let redis = RedisClient(url: server.url)
            let log = SyntheticLog(count: 1500, seed: 11)
            let base = try BundledModel.load().definition
            // The engines keep logging, over at least 6 s, while the trainer is killed and
            // restarted (each successor waits up to the 1 s lease of the killed one). Kills stop
            // once the writing has, so the last one comes at most 1.7 s after the last write:
            // inside the 2 s reward window, whatever the machine's speed.
            let written = Gate()
            let writing = Task {
                defer { written.open() }
                try await log.write(to: RedisClient(url: server.url), pause: .milliseconds(4))
            }
            var kills: [Int] = []
            var generator = SystemRandomNumberGenerator()
            while !written.isOpen {
                let process = try Self.launch(server)
                let delay = Int.random(in: 1100...1700, using: &generator)
                kills.append(delay)
                try await Task.sleep(for: .milliseconds(delay))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try await writing.value
            let closedBeforeTheLastRun = try await TrainerTests.checkpoint(redis, base: base)?.counters.closed ?? 0
            let last = try Self.launch(server)
            defer {
                kill(last.processIdentifier, SIGKILL)
                last.waitUntilExit()
            }
            let end = ContinuousClock.now + .seconds(90)
            var checkpoint: TrainerCheckpoint?
            while ContinuousClock.now < end {
                checkpoint = try await TrainerTests.checkpoint(redis, base: base)
                if let checkpoint, checkpoint.counters.closed >= 1500 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let resumed = try #require(checkpoint, "no checkpoint after kills at \(kills) ms")
            #expect(kills.count >= 4, "only \(kills.count) kills while the log was written")
            #expect(closedBeforeTheLastRun < 1500, "the kills at \(kills) ms came after the work was done: the test proved nothing")
            #expect(resumed.counters.closed == 1500, "kills at \(kills) ms")
            #expect(resumed.learner.decisions == 1500, "kills at \(kills) ms")
            #expect(resumed.counters.rewardsJoined == log.clicks.count, "kills at \(kills) ms")
            #expect(resumed.counters.rewardsLate == 0 && resumed.counters.rewardsUnmatched == 0)
            let expected = try #require(try log.referenceLearner(base: base).linucbStatistics)
            let learned = try #require(resumed.learner.linucbStatistics)
            #expect(maximumRelativeDifference(learned.a, expected.a) < 1e-12, "kills at \(kills) ms")
            #expect(maximumRelativeDifference(learned.b, expected.b) < 1e-12, "kills at \(kills) ms")
        }
    }
}
