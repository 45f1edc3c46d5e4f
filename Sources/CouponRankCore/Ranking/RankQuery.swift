/// What the caller asked for, beyond the easy_id.
public struct RankQuery: Sendable, Hashable {
    /// How many coupons to return.
    public var topK: Int
    /// When non-empty, only these candidates are ranked.
    public var onlyCandidates: Set<String>
    /// Never returned.
    public var excluded: Set<String>

    public init(topK: Int, onlyCandidates: Set<String> = [], excluded: Set<String> = []) {
        self.topK = topK
        self.onlyCandidates = onlyCandidates
        self.excluded = excluded
    }

    /// The eligible candidates in source order: filtered, exclusions removed, first of duplicates kept.
    public func eligible(_ candidates: [Coupon]) -> [Coupon] {
        var seen = Set<String>(minimumCapacity: candidates.count)
        var eligible: [Coupon] = []
        eligible.reserveCapacity(candidates.count)
        for coupon in candidates {
            guard onlyCandidates.isEmpty || onlyCandidates.contains(coupon.id),
                !excluded.contains(coupon.id),
                seen.insert(coupon.id).inserted
            else { continue }
            eligible.append(coupon)
        }
        return eligible
    }
}
