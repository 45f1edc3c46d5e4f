/// Diversity caps and frequency-capped coupons over one request's candidates: whether a coupon
/// may take the next slot, and whether it waits until no other can (RULES.md §5–§6).
public struct DiversityConstraint: Sendable {
    public var caps: DiversityCaps
    /// The candidates the ranking's ``RankedCoupon/candidateIndex`` points into.
    public var candidates: [Coupon]
    /// By candidate index: shown to the user up to the frequency cap; empty when none is.
    public var demoted: [Bool]

    public init(caps: DiversityCaps, candidates: [Coupon], demoted: [Bool] = []) {
        precondition(demoted.isEmpty || demoted.count == candidates.count, "one demotion flag per candidate")
        self.caps = caps
        self.candidates = candidates
        self.demoted = demoted
    }

    /// Whether it changes anything.
    public var isActive: Bool { caps.isActive || demoted.contains(true) }

    @inline(__always)
    public func isDemoted(_ item: RankedCoupon) -> Bool {
        !demoted.isEmpty && demoted[item.candidateIndex]
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
