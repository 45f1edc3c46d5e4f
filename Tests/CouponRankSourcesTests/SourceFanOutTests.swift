import CouponRankCore
import CouponRankSources
import Testing

private struct Failing: UserFeatureSource, CouponStatsSource, CandidateSource {
    struct Failure: Error {}

    func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures { throw Failure() }
    func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable { throw Failure() }
    func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] { throw Failure() }
}

@Suite struct SourceFanOutTests {
    let generator = StubDataGenerator(configuration: .init(catalogSize: 300, candidatesPerUser: 50))

    @Test func healthySourcesGiveTheGeneratorsDataUndegraded() async throws {
        let inputs = try await SourceFanOut.stubs(generator).fetch(easyID: "7", deadline: .now + .seconds(1))
        #expect(inputs.degraded.isEmpty)
        #expect(inputs.user == generator.userFeatures(for: "7"))
        #expect(inputs.candidates == generator.candidates(for: "7"))
    }

    @Test func theThreeSourcesAreFetchedConcurrently() async throws {
        let latency = LatencyDistribution.fixed(.milliseconds(150))
        let fanOut = SourceFanOut.stubs(
            generator,
            latency: (latency, latency, latency),
            timeouts: .init(userFeatures: .seconds(2), candidates: .seconds(2), stats: .seconds(2))
        )
        let start = ContinuousClock.now
        let inputs = try await fanOut.fetch(easyID: "7", deadline: .now + .seconds(2))
        let elapsed = ContinuousClock.now - start
        #expect(inputs.degraded.isEmpty)
        #expect(elapsed < .milliseconds(400))  // sequential calls would take ≥ 450 ms
    }

    @Test func slowOptionalSourcesAreReplacedByDefaultsAtTheirTimeout() async throws {
        let slow = LatencyDistribution.fixed(.seconds(5))
        let fanOut = SourceFanOut.stubs(
            generator,
            latency: (slow, .none, slow),
            timeouts: .init(userFeatures: .milliseconds(30), candidates: .seconds(1), stats: .milliseconds(30))
        )
        let start = ContinuousClock.now
        let inputs = try await fanOut.fetch(easyID: "7", deadline: .now + .seconds(2))
        #expect(ContinuousClock.now - start < .milliseconds(500))
        #expect(inputs.degraded == [.userFeatures, .stats])
        #expect(inputs.user == .unknown)
        #expect(inputs.stats.byCouponID.isEmpty)
        #expect(inputs.candidates.count == 50)
    }

    @Test func failingOptionalSourcesDegradeAndFailingCandidatesAreAnError() async throws {
        let stubs = SourceFanOut.stubs(generator)
        let degraded = SourceFanOut(userFeatures: Failing(), candidates: stubs.candidates, stats: Failing())
        #expect(try await degraded.fetch(easyID: "1", deadline: .now + .seconds(1)).degraded == [.userFeatures, .stats])

        let broken = SourceFanOut(userFeatures: stubs.userFeatures, candidates: Failing(), stats: stubs.stats)
        let error = await #expect(throws: SourceError.self) { try await broken.fetch(easyID: "1", deadline: .now + .seconds(1)) }
        #expect(error?.code == .candidatesUnavailable)
    }

    @Test func theRequestDeadlineBoundsEverySource() async throws {
        let slow = LatencyDistribution.fixed(.seconds(5))
        let fanOut = SourceFanOut.stubs(
            generator,
            latency: (slow, slow, slow),
            timeouts: .init(userFeatures: .seconds(10), candidates: .seconds(10), stats: .seconds(10))
        )
        let start = ContinuousClock.now
        let error = await #expect(throws: SourceError.self) { try await fanOut.fetch(easyID: "1", deadline: .now + .milliseconds(60)) }
        #expect(error?.code == .deadlineExceeded)
        #expect(ContinuousClock.now - start < .milliseconds(500))
    }
}
