/// Diversity caps and frequency-capped coupons over one request's candidates: whether a coupon
/// may take the next slot, and whether it waits until no other can (RULES.md §5–§6).
public struct DiversityConstraint: Sendable {
    public let caps: DiversityCaps
    /// The candidates the ranking's ``RankedCoupon/candidateIndex`` points into.
    public let candidates: [Coupon]
    /// By candidate index: shown to the user up to the frequency cap; empty when none is.
    public let demoted: [Bool]
    /// By candidate index, the number of its shop (of its category) among this request's, when
    /// that cap is set: a slot is then checked with two array reads, whatever the page size.
    private let shopOf: [Int32]
    private let categoryOf: [Int32]
    private let shops: Int
    private let categories: Int

    public init(caps: DiversityCaps, candidates: [Coupon], demoted: [Bool] = []) {
        precondition(demoted.isEmpty || demoted.count == candidates.count, "one demotion flag per candidate")
        self.caps = caps
        self.candidates = candidates
        self.demoted = demoted
        (shopOf, shops) = (caps.maximumPerShop ?? 0) > 0 ? Self.number(candidates.map(\.shop)) : ([], 0)
        (categoryOf, categories) = (caps.maximumPerCategory ?? 0) > 0 ? Self.number(candidates.map(\.category)) : ([], 0)
    }

    private static func number(_ values: [String]) -> ([Int32], Int) {
        var numbers: [String: Int32] = [:]
        let numbered = values.map { value in
            if let number = numbers[value] { return number }
            let number = Int32(numbers.count)
            numbers[value] = number
            return number
        }
        return (numbered, numbers.count)
    }

    /// Whether it changes anything.
    public var isActive: Bool { caps.isActive || demoted.contains(true) }

    @inline(__always)
    public func isDemoted(_ item: RankedCoupon) -> Bool {
        !demoted.isEmpty && demoted[item.candidateIndex]
    }

    /// The slots taken so far, by shop and category.
    public struct Taken: Sendable {
        var shops: [Int]
        var categories: [Int]
    }

    public func nothingTaken() -> Taken {
        Taken(shops: Array(repeating: 0, count: shops), categories: Array(repeating: 0, count: categories))
    }

    /// Whether `item` may take the next slot after those `taken` without exceeding a cap.
    @inline(__always)
    public func allows(_ item: RankedCoupon, after taken: Taken) -> Bool {
        if let cap = caps.maximumPerShop, cap > 0, taken.shops[Int(shopOf[item.candidateIndex])] >= cap { return false }
        if let cap = caps.maximumPerCategory, cap > 0, taken.categories[Int(categoryOf[item.candidateIndex])] >= cap { return false }
        return true
    }

    /// Counts `item` as shown.
    @inline(__always)
    public func take(_ item: RankedCoupon, into taken: inout Taken) {
        if !shopOf.isEmpty { taken.shops[Int(shopOf[item.candidateIndex])] += 1 }
        if !categoryOf.isEmpty { taken.categories[Int(categoryOf[item.candidateIndex])] += 1 }
    }
}
