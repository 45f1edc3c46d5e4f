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

/// Per-coupon statistics for one user, in the order the source gave them.
///
/// Sources usually list statistics in the same order as the candidates; ``aligned(with:)`` then
/// pairs them by position with one string comparison per coupon and hashes nothing.
public struct CouponStatsTable: Sendable {
    public private(set) var couponIDs: [String]
    public private(set) var entries: [CouponStats]

    public init(couponIDs: [String], entries: [CouponStats]) {
        precondition(couponIDs.count == entries.count, "one statistics entry per coupon id")
        self.couponIDs = couponIDs
        self.entries = entries
    }

    public init(_ byCouponID: [String: CouponStats] = [:]) {
        let sorted = byCouponID.sorted { $0.key < $1.key }
        self.init(couponIDs: sorted.map(\.key), entries: sorted.map(\.value))
    }

    public static let empty = CouponStatsTable()

    public var isEmpty: Bool { couponIDs.isEmpty }

    /// The table as a dictionary; for the first of duplicate ids.
    public var byCouponID: [String: CouponStats] {
        Dictionary(zip(couponIDs, entries), uniquingKeysWith: { first, _ in first })
    }

    /// The statistics of `couponID`, or ``CouponStats/prior``.
    public subscript(couponID: String) -> CouponStats {
        couponIDs.firstIndex(of: couponID).map { entries[$0] } ?? .prior
    }

    /// The statistics of each coupon, by position; ``CouponStats/prior`` where there are none.
    public func aligned(with coupons: [Coupon]) -> [CouponStats] {
        var result: [CouponStats] = []
        result.reserveCapacity(coupons.count)
        var index: [String: CouponStats]?
        for position in coupons.indices {
            if position < couponIDs.count, couponIDs[position] == coupons[position].id {
                result.append(entries[position])
                continue
            }
            if index == nil { index = byCouponID }
            result.append(index![coupons[position].id] ?? .prior)
        }
        return result
    }
}
