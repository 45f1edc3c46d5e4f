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

    /// The eligible candidates in source order: filtered and exclusions removed. The same array,
    /// uncopied, when the query filters nothing. Duplicates are left to ``Ranker``, which returns
    /// each coupon id once.
    public func eligible(_ candidates: [Coupon]) -> [Coupon] {
        guard !onlyCandidates.isEmpty || !excluded.isEmpty else { return candidates }
        return candidates.filter { coupon in
            (onlyCandidates.isEmpty || onlyCandidates.contains(coupon.id)) && !excluded.contains(coupon.id)
        }
    }
}
