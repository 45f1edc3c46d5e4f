import CouponRankCore
import CouponRankSources
import Synchronization
import Testing

private struct Failing: UserFeatureSource, CouponStatsSource, CandidateSource {
    struct Failure: Error {}

    func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures { throw Failure() }
    func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable { throw Failure() }
    func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] { throw Failure() }
}

/// Sources that count how many of their calls run at the same time.
private final class OverlapProbe: UserFeatureSource, CandidateSource, CouponStatsSource {
    let generator: StubDataGenerator
    private let active = Atomic<Int>(0)
    private let maximum = Atomic<Int>(0)

    init(generator: StubDataGenerator) {
        self.generator = generator
    }

    var maximumConcurrent: Int { maximum.load(ordering: .relaxed) }

    private func enter() async throws {
        let now = active.add(1, ordering: .relaxed).newValue
        maximum.max(now, ordering: .relaxed)
        defer { active.subtract(1, ordering: .relaxed) }
        let deadline = ContinuousClock.now + .seconds(10)
        while maximum.load(ordering: .relaxed) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures {
        try await enter()
        return generator.userFeatures(for: easyID)
    }

    func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] {
        try await enter()
        return generator.candidates(for: easyID)
    }

    func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable {
        try await enter()
        return generator.stats(for: easyID)
    }
}

@Suite struct SourceFanOutTests {
    let generator = StubDataGenerator(configuration: .init(catalogSize: 300, candidatesPerUser: 50))
    /// Generous, so a loaded test machine does not turn answers into timeouts.
    let relaxed = SourceTimeouts(userFeatures: .seconds(10), candidates: .seconds(10), stats: .seconds(10))

    @Test func healthySourcesGiveTheGeneratorsDataUndegraded() async throws {
        let inputs = try await SourceFanOut.stubs(generator, timeouts: relaxed).fetch(easyID: "7", deadline: .now + .seconds(10))
        #expect(inputs.degraded.isEmpty)
        #expect(inputs.user == generator.userFeatures(for: "7"))
        #expect(inputs.candidates == generator.candidates(for: "7"))
    }

    @Test func theThreeSourcesAreFetchedConcurrently() async throws {
        let probe = OverlapProbe(generator: generator)
        let fanOut = SourceFanOut(userFeatures: probe, candidates: probe, stats: probe, timeouts: relaxed)
        let inputs = try await fanOut.fetch(easyID: "7", deadline: .now + .seconds(10))
        #expect(inputs.degraded.isEmpty)
        // Each call waits until all three have started: only concurrent calls can finish.
        #expect(probe.maximumConcurrent == 3)
    }

    @Test func slowOptionalSourcesAreReplacedByDefaultsAtTheirTimeout() async throws {
        let slow = LatencyDistribution.fixed(.seconds(60))
        let fanOut = SourceFanOut.stubs(
            generator,
            latency: (slow, .none, slow),
            timeouts: .init(userFeatures: .milliseconds(30), candidates: .seconds(4), stats: .milliseconds(30))
        )
        let start = ContinuousClock.now
        let inputs = try await fanOut.fetch(easyID: "7", deadline: .now + .seconds(4))
        #expect(ContinuousClock.now - start < .seconds(10))  // the slow sources take 60 s
        #expect(inputs.degraded == [.userFeatures, .stats])
        #expect(inputs.user == .unknown)
        #expect(inputs.stats.byCouponID.isEmpty)
        #expect(inputs.candidates.count == 50)
    }

    @Test func failingOptionalSourcesDegradeAndFailingCandidatesAreAnError() async throws {
        let stubs = SourceFanOut.stubs(generator)
        let degraded = SourceFanOut(userFeatures: Failing(), candidates: stubs.candidates, stats: Failing(), timeouts: relaxed)
        #expect(try await degraded.fetch(easyID: "1", deadline: .now + .seconds(10)).degraded == [.userFeatures, .stats])

        let broken = SourceFanOut(userFeatures: stubs.userFeatures, candidates: Failing(), stats: stubs.stats, timeouts: relaxed)
        let error = await #expect(throws: SourceError.self) { try await broken.fetch(easyID: "1", deadline: .now + .seconds(10)) }
        #expect(error?.code == .candidatesUnavailable)
    }

    @Test func theRequestDeadlineBoundsEverySource() async throws {
        let slow = LatencyDistribution.fixed(.seconds(60))
        let fanOut = SourceFanOut.stubs(
            generator,
            latency: (slow, slow, slow),
            timeouts: .init(userFeatures: .seconds(100), candidates: .seconds(100), stats: .seconds(100))
        )
        let start = ContinuousClock.now
        let error = await #expect(throws: SourceError.self) { try await fanOut.fetch(easyID: "1", deadline: .now + .milliseconds(60)) }
        #expect(error?.code == .deadlineExceeded)
        #expect(ContinuousClock.now - start < .seconds(10))  // the sources take 60 s
    }
}
