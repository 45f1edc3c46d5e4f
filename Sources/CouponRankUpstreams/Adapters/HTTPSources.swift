public import CouponRankCore
public import CouponRankSources

/// `GET /v1/users/{easy_id}/features` (UPSTREAMS.md §2).
public struct HTTPUserFeatureSource: UserFeatureSource {
    public let upstream: UpstreamClient

    public init(upstream: UpstreamClient) {
        self.upstream = upstream
    }

    /// curl's own timeout is the time left to the deadline.
    public var enforcesOwnDeadline: Bool { true }

    public func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures {
        try await upstream.get("/v1/users/\(pathSegment(easyID))/features", deadline: deadline, decode: UpstreamJSON.userFeatures)
    }
}

/// `GET /v1/users/{easy_id}/coupons` (UPSTREAMS.md §3).
public struct HTTPCandidateSource: CandidateSource {
    public let upstream: UpstreamClient

    public init(upstream: UpstreamClient) {
        self.upstream = upstream
    }

    /// curl's own timeout is the time left to the deadline.
    public var enforcesOwnDeadline: Bool { true }

    public func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] {
        try await upstream.get("/v1/users/\(pathSegment(easyID))/coupons", deadline: deadline, decode: UpstreamJSON.coupons)
    }
}

/// `GET /v1/users/{easy_id}/coupon-stats` (UPSTREAMS.md §4).
public struct HTTPStatsSource: CouponStatsSource {
    public let upstream: UpstreamClient

    public init(upstream: UpstreamClient) {
        self.upstream = upstream
    }

    /// curl's own timeout is the time left to the deadline.
    public var enforcesOwnDeadline: Bool { true }

    public func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable {
        try await upstream.get("/v1/users/\(pathSegment(easyID))/coupon-stats", deadline: deadline, decode: UpstreamJSON.stats)
    }
}
