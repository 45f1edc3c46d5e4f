public import CouponRankCore

/// What a caller asks the engine: rank the candidates of one user by a deadline.
///
/// Transport-free: the RPC server and the ops port each build one from their own message.
public struct DecisionRequest: Sendable {
    public var easyID: String
    /// Items returned; 0 asks for the engine's default.
    public var topK: Int
    /// When non-empty, only these of the user's candidates are ranked.
    public var onlyCandidates: Set<String>
    /// Never returned.
    public var excluded: Set<String>
    /// When the answer is due. Counted from when the request arrived, not from when work began.
    public var deadline: ContinuousClock.Instant
    /// When the request arrived, if the transport knows: the decision's total time counts from
    /// here, so time spent queued is part of it.
    public var receivedAt: ContinuousClock.Instant?
    /// The caller's id for this decision (``EventID/isValid(_:)``); the engine makes one when `nil`.
    public var eventID: String?
    /// How the policy may act on this request.
    public var policy: PolicyFlags
    /// Diversity caps for this request; the stricter of these and the rules document's apply
    /// (RULES.md §5).
    public var diversity: DiversityCaps

    public init(
        easyID: String,
        topK: Int = 0,
        onlyCandidates: Set<String> = [],
        excluded: Set<String> = [],
        deadline: ContinuousClock.Instant,
        receivedAt: ContinuousClock.Instant? = nil,
        eventID: String? = nil,
        policy: PolicyFlags = [],
        diversity: DiversityCaps = .none
    ) {
        self.easyID = easyID
        self.topK = topK
        self.onlyCandidates = onlyCandidates
        self.excluded = excluded
        self.deadline = deadline
        self.receivedAt = receivedAt
        self.eventID = eventID
        self.policy = policy
        self.diversity = diversity
    }

    /// Throws when a field is outside what the engine accepts.
    func validate() throws(RankError) {
        if let eventID, !EventID.isValid(eventID) {
            throw RankError(.invalidRequest, "event_id must be 1 to \(EventID.maximumBytes) bytes of A-Z a-z 0-9 . _ : -")
        }
    }

    /// The candidate filter of this request, with `defaultTopK` for a `topK` of 0.
    func rankQuery(defaultTopK: Int) -> RankQuery {
        RankQuery(topK: topK == 0 ? defaultTopK : topK, onlyCandidates: onlyCandidates, excluded: excluded)
    }
}

/// Per-request switches of the ranking policy.
public struct PolicyFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// Rank greedily by score, without exploration (QA pages, crawlers).
    public static let noExploration = PolicyFlags(rawValue: 1 << 0)
}
