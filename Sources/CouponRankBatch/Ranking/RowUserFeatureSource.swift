public import CouponRankCore
public import CouponRankSources

/// The user-features source of an engine whose rows bring their own features: answers at once
/// with no features, which ``EngineBatchRanker`` replaces with the row's.
public struct RowUserFeatureSource: UserFeatureSource {
    public init() {}

    public var answersImmediately: Bool { true }

    public func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures { .unknown }

    public func userFeaturesFromMemory(for easyID: String) -> UserFeatures? { .unknown }
}

extension SourceFanOut {
    /// These sources with the user features taken from the rows instead of fetched: candidates
    /// and statistics still come from their sources.
    public func withUserFeaturesFromRows() -> SourceFanOut {
        SourceFanOut(userFeatures: RowUserFeatureSource(), candidates: candidates, stats: stats, timeouts: timeouts, metrics: metrics)
    }
}
