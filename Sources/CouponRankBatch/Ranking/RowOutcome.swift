/// One coupon offered to a customer.
public struct Offer: Sendable, Hashable {
    public var couponID: String
    public var name: String
    public var score: Double

    public init(couponID: String, name: String, score: Double) {
        self.couponID = couponID
        self.name = name
        self.score = score
    }
}

/// What became of one row: its offers, best first, or why there are none.
public enum RowOutcome: Sendable, Hashable {
    /// Ranked: at most top-k offers, by the model `modelVersion`; `degraded` when a source was
    /// answered from its documented defaults.
    case ranked(offers: [Offer], modelVersion: String, degraded: Bool)
    /// The engine found no coupon to offer: no candidates, or none eligible.
    case noEligibleCoupon
    /// The engine or the server failed for this row; `reason` is the error's name
    /// (`UPSTREAM_UNAVAILABLE`, `DEADLINE_EXCEEDED`, `timeout`, …).
    case failed(reason: String)

    /// The `status` column: `ok`, `no_eligible_coupon` or `error:<reason>`.
    public var status: String {
        switch self {
        case .ranked: "ok"
        case .noEligibleCoupon: "no_eligible_coupon"
        case .failed(let reason): "error:\(reason)"
        }
    }

    /// The offers; none unless ranked.
    public var offers: [Offer] {
        if case .ranked(let offers, _, _) = self { offers } else { [] }
    }
}
