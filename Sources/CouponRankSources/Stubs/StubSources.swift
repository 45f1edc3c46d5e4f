public import CouponRankCore

/// In-process user features from a ``StubDataGenerator``, with optional injected latency.
public struct StubUserFeatureSource: UserFeatureSource {
    public let generator: StubDataGenerator
    public let latency: LatencyDistribution

    public init(generator: StubDataGenerator, latency: LatencyDistribution = .none) {
        self.generator = generator
        self.latency = latency
    }

    public var answersImmediately: Bool { latency.isNone }

    public func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures {
        try await injectLatency(latency, deadline: deadline)
        return generator.userFeatures(for: easyID)
    }

    public func userFeaturesFromMemory(for easyID: String) -> UserFeatures? {
        latency.isNone ? generator.userFeatures(for: easyID) : nil
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

    public var answersImmediately: Bool { latency.isNone }

    public func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] {
        try await injectLatency(latency, deadline: deadline)
        return generator.candidates(for: easyID)
    }

    public func candidatesFromMemory(for easyID: String) -> [Coupon]? {
        latency.isNone ? generator.candidates(for: easyID) : nil
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

    public var answersImmediately: Bool { latency.isNone }

    public func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable {
        try await injectLatency(latency, deadline: deadline)
        return generator.stats(for: easyID)
    }

    public func statsFromMemory(for easyID: String) -> CouponStatsTable? {
        latency.isNone ? generator.stats(for: easyID) : nil
    }
}

/// Sleeps for one sample of `latency`, but never past `deadline`: a delay that would overrun it
/// ends at the deadline with ``SourceTimeoutError``.
private func injectLatency(_ latency: LatencyDistribution, deadline: ContinuousClock.Instant) async throws {
    guard !latency.isNone else { return }
    var rng = SystemRandomNumberGenerator()
    let wake = ContinuousClock.now + latency.sample(using: &rng)
    if wake > deadline {
        try await Task.sleep(until: deadline, clock: .continuous)
        throw SourceTimeoutError()
    }
    try await Task.sleep(until: wake, clock: .continuous)
}
