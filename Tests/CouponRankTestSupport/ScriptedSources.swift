public import CouponRankCore
public import CouponRankSources

/// Sources whose behaviour a test scripts per easy_id: a delay, a failure, or the stub data.
public struct ScriptedSource: UserFeatureSource, CandidateSource, CouponStatsSource {
    public enum Behaviour: Sendable {
        case answer
        case delay(Duration)
        case fail
        /// Polls `condition` every few milliseconds until it holds (at most 30 s).
        case waitUntil(@Sendable () -> Bool)
    }

    public let generator: StubDataGenerator
    public let behaviour: @Sendable (String) -> Behaviour

    public init(generator: StubDataGenerator = TestServer.generator, behaviour: @escaping @Sendable (String) -> Behaviour) {
        self.generator = generator
        self.behaviour = behaviour
    }

    private func perform(_ easyID: String) async throws {
        switch behaviour(easyID) {
        case .answer: return
        case .delay(let duration): try await Task.sleep(for: duration)
        case .fail: throw TestServerError("scripted failure for \(easyID)")
        case .waitUntil(let condition):
            let deadline = ContinuousClock.now + .seconds(30)
            while !condition(), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    public func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures {
        try await perform(easyID)
        return generator.userFeatures(for: easyID)
    }

    public func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] {
        try await perform(easyID)
        return generator.candidates(for: easyID)
    }

    public func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable {
        try await perform(easyID)
        return generator.stats(for: easyID)
    }
}

extension SourceFanOut {
    /// Stub sources, with one of them replaced by a scripted one.
    public static func scripted(
        user: ScriptedSource? = nil,
        candidates: ScriptedSource? = nil,
        stats: ScriptedSource? = nil,
        timeouts: SourceTimeouts = .init(userFeatures: .seconds(30), candidates: .seconds(30), stats: .seconds(30))
    ) -> SourceFanOut {
        let generator = TestServer.generator
        return SourceFanOut(
            userFeatures: user ?? ScriptedSource(generator: generator) { _ in .answer },
            candidates: candidates ?? ScriptedSource(generator: generator) { _ in .answer },
            stats: stats ?? ScriptedSource(generator: generator) { _ in .answer },
            timeouts: timeouts
        )
    }
}
