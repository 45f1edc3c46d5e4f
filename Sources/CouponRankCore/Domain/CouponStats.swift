/// Observed click-through and conversion rates of one coupon for one user.
public struct CouponStats: Sendable, Hashable {
    public var ctr: Double
    public var cvr: Double

    public init(ctr: Double, cvr: Double) {
        self.ctr = ctr
        self.cvr = cvr
    }

    /// The prior used for a coupon the stats source does not mention, and for every coupon when
    /// the stats source fails: a platform-wide average.
    public static let prior = CouponStats(ctr: 0.02, cvr: 0.002)
}

/// Per-coupon statistics for one user, keyed by coupon id.
public struct CouponStatsTable: Sendable {
    public var byCouponID: [String: CouponStats]

    public init(_ byCouponID: [String: CouponStats] = [:]) {
        self.byCouponID = byCouponID
    }

    @inlinable
    public subscript(couponID: String) -> CouponStats {
        byCouponID[couponID] ?? .prior
    }

    public static let empty = CouponStatsTable()
}
