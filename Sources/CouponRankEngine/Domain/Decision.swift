public import CouponRankCore
public import CouponRankSources

/// What the engine decided for one request: every eligible candidate with its score, the ranked
/// top of them, the model version that scored them all, and how the inputs were obtained.
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

    public var easyID: String
    public var eventID: String?
    public var modelVersion: String
    public var degraded: DegradedSources
    /// Every eligible candidate, in source order.
    public var candidates: [Coupon]
    /// The score and expected click probability of each of ``candidates``, by position.
    public var scores: BatchScores
    /// The best `topK` of ``candidates``, best first: what the caller is shown.
    public var ranked: [RankedCoupon]
    public var timings: Timings

    public init(
        easyID: String,
        eventID: String? = nil,
        modelVersion: String,
        degraded: DegradedSources,
        candidates: [Coupon],
        scores: BatchScores,
        ranked: [RankedCoupon],
        timings: Timings
    ) {
        precondition(candidates.count == scores.scores.count, "one score per candidate")
        self.easyID = easyID
        self.eventID = eventID
        self.modelVersion = modelVersion
        self.degraded = degraded
        self.candidates = candidates
        self.scores = scores
        self.ranked = ranked
        self.timings = timings
    }

    /// Every candidate in ranking order (each coupon id once), not only the shown top.
    public func fullRanking() -> [RankedCoupon] {
        Ranker.top(candidates.count, of: candidates, scored: scores)
    }
}
