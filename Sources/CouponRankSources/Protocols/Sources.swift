public import CouponRankCore

/// Where the user's features come from.
public protocol UserFeatureSource: Sendable {
    /// The features of `easyID`. Implementations should give up by `deadline`; the fan-out
    /// abandons the call then in any case.
    func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures
}

/// Where the user's candidate coupons, with their attributes, come from.
public protocol CandidateSource: Sendable {
    func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon]
}

/// Where per-coupon CTR/CVR statistics for the user come from.
public protocol CouponStatsSource: Sendable {
    func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable
}
