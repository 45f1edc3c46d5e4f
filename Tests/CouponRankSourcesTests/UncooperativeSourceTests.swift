import CouponRankCore
import CouponRankSources
import Dispatch
import Testing

/// A source that answers only after `delay`, ignoring cancellation and its deadline: what an
/// upstream that accepts TCP and never answers looks like to a client that trusts its own timeout.
private struct Uncooperative: UserFeatureSource, CouponStatsSource, CandidateSource {
    let delay: Double
    let generator = StubDataGenerator(configuration: .init(catalogSize: 100, candidatesPerUser: 20))

    private func hang() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { continuation.resume() }
        }
    }

    func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures {
        await hang()
        return generator.userFeatures(for: easyID)
    }

    func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable {
        await hang()
        return generator.stats(for: easyID)
    }

    func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] {
        await hang()
        return generator.candidates(for: easyID)
    }
}

/// The fan-out keeps every deadline itself, whatever the source does (issue 11).
@Suite struct UncooperativeSourceTests {
    static let generator = StubDataGenerator(configuration: .init(catalogSize: 100, candidatesPerUser: 20))

    @Test func aHangingOptionalSourceDegradesAtItsTimeoutInsteadOfHoldingTheRank() async throws {
        let hanging = Uncooperative(delay: 20)
        let stubs = SourceFanOut.stubs(Self.generator)
        let fanOut = SourceFanOut(
            userFeatures: hanging,
            candidates: stubs.candidates,
            stats: hanging,
            // The candidates, which must answer, get a bound a busy machine does not reach.
            timeouts: SourceTimeouts(userFeatures: .milliseconds(50), candidates: .seconds(4), stats: .milliseconds(50))
        )
        let start = ContinuousClock.now
        let inputs = try await fanOut.fetch(easyID: "7", deadline: start + .seconds(5))
        let took = ContinuousClock.now - start
        #expect(inputs.degraded == [.userFeatures, .stats])
        // The source answers after 20 s; the fan-out must not wait for it. The bound is far below
        // the hang and loose enough for a test machine whose thread pool other suites block.
        #expect(took < .seconds(8), "took \(took)")
    }

    @Test func aHangingCandidateSourceFailsAtTheRequestDeadline() async throws {
        let hanging = Uncooperative(delay: 20)
        let stubs = SourceFanOut.stubs(Self.generator)
        let fanOut = SourceFanOut(
            userFeatures: stubs.userFeatures,
            candidates: hanging,
            stats: stubs.stats,
            timeouts: SourceTimeouts(userFeatures: .milliseconds(50), candidates: .milliseconds(80), stats: .milliseconds(50))
        )
        let start = ContinuousClock.now
        await #expect(throws: SourceError.self) {
            _ = try await fanOut.fetch(easyID: "7", deadline: start + .milliseconds(100))
        }
        let took = ContinuousClock.now - start
        #expect(took < .seconds(8), "took \(took)")
    }
}
