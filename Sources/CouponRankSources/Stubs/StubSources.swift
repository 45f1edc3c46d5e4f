public import CouponRankCore

/// In-process user features from a ``StubDataGenerator``, with optional injected latency.
public struct StubUserFeatureSource: UserFeatureSource {
    public let generator: StubDataGenerator
    public let latency: LatencyDistribution

    public init(generator: StubDataGenerator, latency: LatencyDistribution = .none) {
        self.generator = generator
        self.latency = latency
    }

    public func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures {
        try await injectLatency(latency)
        return generator.userFeatures(for: easyID)
    }
}

/// In-process candidates from a ``StubDataGenerator``, with optional injected latency.
public struct StubCandidateSource: CandidateSource {
    public let generator: StubDataGenerator
    public let latency: LatencyDistribution

    public init(generator: StubDataGenerator, latency: LatencyDistribution = .none) {
        self.generator = generator
        self.latency = latency
    }

    public func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] {
        try await injectLatency(latency)
        return generator.candidates(for: easyID)
    }
}

/// In-process CTR/CVR statistics from a ``StubDataGenerator``, with optional injected latency.
public struct StubStatsSource: CouponStatsSource {
    public let generator: StubDataGenerator
    public let latency: LatencyDistribution

    public init(generator: StubDataGenerator, latency: LatencyDistribution = .none) {
        self.generator = generator
        self.latency = latency
    }

    public func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable {
        try await injectLatency(latency)
        return generator.stats(for: easyID)
    }
}

private func injectLatency(_ latency: LatencyDistribution) async throws {
    guard !latency.isNone else { return }
    var rng = SystemRandomNumberGenerator()
    try await Task.sleep(for: latency.sample(using: &rng))
}
