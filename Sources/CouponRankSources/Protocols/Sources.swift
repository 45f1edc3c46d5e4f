public import CouponRankCore

/// What the fan-out may know of a source beyond its answers. Every call is bounded by its
/// deadline by the fan-out itself, whatever the source does.
public protocol DeadlineAwareSource: Sendable {
    /// Whether the source answers from memory without ever suspending: the fan-out then calls
    /// such sources one after another instead of spawning a task for each.
    var answersImmediately: Bool { get }
}

extension DeadlineAwareSource {
    public var answersImmediately: Bool { false }
}

/// Where the user's features come from.
public protocol UserFeatureSource: DeadlineAwareSource {
    /// The features of `easyID`. Implementations should give up by `deadline`; the fan-out
    /// abandons the call then in any case.
    func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures
    /// The features without suspending, from a source that ``answersImmediately``; `nil` otherwise.
    func userFeaturesFromMemory(for easyID: String) -> UserFeatures?
}

/// Where the user's candidate coupons, with their attributes, come from.
public protocol CandidateSource: DeadlineAwareSource {
    func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon]
    /// The candidates without suspending, from a source that ``answersImmediately``; `nil` otherwise.
    func candidatesFromMemory(for easyID: String) -> [Coupon]?
}

/// Where per-coupon CTR/CVR statistics for the user come from.
public protocol CouponStatsSource: DeadlineAwareSource {
    func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable
    /// The statistics without suspending, from a source that ``answersImmediately``; `nil` otherwise.
    func statsFromMemory(for easyID: String) -> CouponStatsTable?
}

extension UserFeatureSource {
    public func userFeaturesFromMemory(for easyID: String) -> UserFeatures? { nil }
}

extension CandidateSource {
    public func candidatesFromMemory(for easyID: String) -> [Coupon]? { nil }
}

extension CouponStatsSource {
    public func statsFromMemory(for easyID: String) -> CouponStatsTable? { nil }
}
