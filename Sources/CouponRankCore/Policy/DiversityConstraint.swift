/// Diversity caps over one request's candidates: whether a coupon may take the next slot.
public struct DiversityConstraint: Sendable {
    public var caps: DiversityCaps
    /// The candidates the ranking's ``RankedCoupon/candidateIndex`` points into.
    public var candidates: [Coupon]

    public init(caps: DiversityCaps, candidates: [Coupon]) {
        self.caps = caps
        self.candidates = candidates
    }

    /// Whether `item` may follow `ranked` without exceeding a cap. A linear scan of the slots
    /// taken: cheaper than hashing for the few slots a page shows.
    @inline(__always)
    public func allows(_ item: RankedCoupon, after ranked: [RankedCoupon]) -> Bool {
        let coupon = candidates[item.candidateIndex]
        if let cap = caps.maximumPerShop, cap > 0 {
            var same = 0
            for taken in ranked where candidates[taken.candidateIndex].shop == coupon.shop { same += 1 }
            if same >= cap { return false }
        }
        if let cap = caps.maximumPerCategory, cap > 0 {
            var same = 0
            for taken in ranked where candidates[taken.candidateIndex].category == coupon.category { same += 1 }
            if same >= cap { return false }
        }
        return true
    }
}
