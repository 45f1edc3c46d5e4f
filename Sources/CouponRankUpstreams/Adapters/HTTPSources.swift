public import CouponRankCore
public import CouponRankSources
import CouponRankUpstreamJSON

/// `GET /v1/users/{easy_id}/features` (UPSTREAMS.md §2).
public struct HTTPUserFeatureSource: UserFeatureSource {
    public let upstream: UpstreamClient

    public init(upstream: UpstreamClient) {
        self.upstream = upstream
    }

    /// curl's own timeout is the time left to the deadline.

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

    /// curl's own timeout is the time left to the deadline. A 404 (the service does not know the
    /// user) is an empty list: the rank then answers NO_CANDIDATES.
    public func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] {
        do {
            return try await upstream.get("/v1/users/\(pathSegment(easyID))/coupons", deadline: deadline, decode: UpstreamJSON.coupons)
        } catch {
            if error.code == .notFound { return [] }
            throw error
        }
    }
}

/// `GET /v1/users/{easy_id}/coupon-stats` (UPSTREAMS.md §4).
public struct HTTPStatsSource: CouponStatsSource {
    public let upstream: UpstreamClient

    public init(upstream: UpstreamClient) {
        self.upstream = upstream
    }

    /// curl's own timeout is the time left to the deadline.

    public func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable {
        try await upstream.get("/v1/users/\(pathSegment(easyID))/coupon-stats", deadline: deadline, decode: UpstreamJSON.stats)
    }
}
