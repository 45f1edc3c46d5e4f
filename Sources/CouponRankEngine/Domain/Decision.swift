public import CouponRankCore
public import CouponRankSources

/// What the engine decided for one request: every eligible candidate with its score, the ranked
/// top of them as the policy chose it (with propensities), the model version that scored them
/// all, and how the inputs were obtained.
public struct Decision: Sendable {
    /// Server-side duration of each stage. ``total`` runs from the request's arrival when the
    /// transport gave it (so it includes time queued before the fetch), else from the fetch.
    public struct Timings: Sendable, Hashable {
        public var fetch: Duration
        public var context: Duration
        public var score: Duration
        public var total: Duration

        public init(fetch: Duration = .zero, context: Duration = .zero, score: Duration = .zero, total: Duration = .zero) {
            self.fetch = fetch
            self.context = context
            self.score = score
            self.total = total
        }
    }

    /// The caller's event id, or the one the engine made (a UUIDv7).
    public var eventID: String
    public var easyID: String
    /// When the decision was made, in milliseconds since the Unix epoch.
    public var unixMillis: Int64
    public var modelVersion: String
    public var degraded: DegradedSources
    /// The user features the contexts were built from (``UserFeatures/unknown`` when degraded).
    public var user: UserFeatures
    /// Every eligible candidate, in source order.
    public var candidates: [Coupon]
    /// The statistics as the source gave them (``CouponStats/prior`` for a coupon it does not list).
    public var stats: CouponStatsTable
    /// The score and expected click probability of each of ``candidates``, by position.
    public var scores: BatchScores
    /// The policy, its seed, and the shown coupons with their propensities.
    public var exploration: Exploration
    /// The rules version that filtered the candidates; empty when no rules were loaded.
    public var rulesVersion: String
    /// The rules that removed candidates, with how many each removed.
    public var ruleRemovals: [RuleRemoval]
    public var timings: Timings

    public init(
        eventID: String,
        easyID: String,
        unixMillis: Int64 = 0,
        modelVersion: String,
        degraded: DegradedSources,
        user: UserFeatures = .unknown,
        candidates: [Coupon],
        stats: CouponStatsTable = .empty,
        scores: BatchScores,
        exploration: Exploration,
        rulesVersion: String = "",
        ruleRemovals: [RuleRemoval] = [],
        timings: Timings
    ) {
        precondition(candidates.count == scores.scores.count, "one score per candidate")
        self.eventID = eventID
        self.easyID = easyID
        self.unixMillis = unixMillis
        self.modelVersion = modelVersion
        self.degraded = degraded
        self.user = user
        self.candidates = candidates
        self.stats = stats
        self.scores = scores
        self.exploration = exploration
        self.rulesVersion = rulesVersion
        self.ruleRemovals = ruleRemovals
        self.timings = timings
    }

    /// The shown coupons, best slot first: what the caller is shown.
    public var ranked: [RankedCoupon] { exploration.ranked }

    /// Every candidate in greedy order (each coupon id once), not only the shown top.
    public func fullRanking() -> [RankedCoupon] {
        Ranker.top(candidates.count, of: candidates, scored: scores)
    }
}
