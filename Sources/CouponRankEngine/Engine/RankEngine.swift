public import CouponRankCore
public import CouponRankSources

/// Ranks the candidates of one user: fetch the inputs, then decide over them.
///
/// The two halves are separate so that a caller can run each where it is cheapest: the fetch is
/// asynchronous (it may wait on upstreams), the decision is synchronous batch math over the
/// candidate matrix. When every source answers from memory, ``rankFromMemory(_:scratch:)`` does
/// both without suspending, so a transport can answer on the thread the request arrived on.
public struct RankEngine: Sendable {
    /// The inputs of one request, the model that will score them (the one in use when the
    /// request started), and when the engine started and finished gathering them.
    public struct Inputs: Sendable {
        public var sources: RankInputs
        public var model: ScoringModel
        public var startedAt: ContinuousClock.Instant
        public var fetchedAt: ContinuousClock.Instant
    }

    public let sources: SourceFanOut
    public let models: ModelSlot
    /// Items returned for a `topK` of 0.
    public let defaultTopK: Int
    /// Receives every decision made.
    public let sink: (any DecisionSink)?
    /// While off, every decision is greedy.
    public let exploration: ExplorationSwitch
    /// The eligibility rules and diversity caps in use.
    public let rules: RulesSlot
    /// What a frequency cap reads and feeds; without it a cap demotes nothing.
    public let impressions: (any ImpressionHistory)?

    public init(
        sources: SourceFanOut,
        models: ModelSlot,
        defaultTopK: Int = 20,
        sink: (any DecisionSink)? = nil,
        exploration: ExplorationSwitch = ExplorationSwitch(),
        rules: RulesSlot = RulesSlot(),
        impressions: (any ImpressionHistory)? = nil
    ) {
        precondition(defaultTopK > 0, "the default top-k must be positive")
        self.sources = sources
        self.models = models
        self.defaultTopK = defaultTopK
        self.sink = sink
        self.exploration = exploration
        self.rules = rules
        self.impressions = impressions
    }

    /// Whether every source answers from memory, without waiting: then ``rankFromMemory(_:scratch:)``
    /// always decides.
    public var answersFromMemory: Bool { sources.answersImmediately }

    /// Fetches and decides; the decision, or why there is none.
    public func rank(_ request: DecisionRequest) async throws(RankError) -> Decision {
        var scratch = ContextBatch()
        return try await rank(request, scratch: &scratch)
    }

    /// Fetches and decides with `scratch` as the context batch's storage.
    public func rank(_ request: DecisionRequest, scratch: inout ContextBatch) async throws(RankError) -> Decision {
        let inputs = try await fetch(request)
        return try decide(request, inputs: inputs, scratch: &scratch)
    }

    /// Fetches and decides without suspending when every source answers from memory; `nil` when
    /// one of them would have to wait (call ``rank(_:scratch:)`` then).
    public func rankFromMemory(_ request: DecisionRequest, scratch: inout ContextBatch) throws(RankError) -> Decision? {
        guard let inputs = try fetchFromMemory(request) else { return nil }
        return try decide(request, inputs: inputs, scratch: &scratch)
    }

    /// Gathers the inputs of `request` by its deadline.
    public func fetch(_ request: DecisionRequest) async throws(RankError) -> Inputs {
        try request.validate()
        let start = ContinuousClock.now
        let model = models.current.model
        do {
            let fetched = try await sources.fetch(easyID: request.easyID, deadline: request.deadline)
            return Inputs(sources: fetched, model: model, startedAt: start, fetchedAt: .now)
        } catch {
            throw Self.rankError(error)
        }
    }

    /// The inputs of `request` from memory; `nil` when a source cannot answer without waiting.
    public func fetchFromMemory(_ request: DecisionRequest) throws(RankError) -> Inputs? {
        try request.validate()
        let start = ContinuousClock.now
        let model = models.current.model
        do {
            guard let fetched = try sources.fetchFromMemory(easyID: request.easyID) else { return nil }
            return Inputs(sources: fetched, model: model, startedAt: start, fetchedAt: .now)
        } catch {
            throw Self.rankError(error)
        }
    }

    /// Filters (the request's candidate lists, then the eligibility rules), builds the contexts, scores them in one batch and ranks by the model's exploration
    /// policy (greedy when the request or the kill switch turns exploration off): one model
    /// version, the inputs', for the whole decision. `scratch` holds the context batch and may be
    /// reused.
    public func decide(_ request: DecisionRequest, inputs: Inputs, scratch: inout ContextBatch) throws(RankError) -> Decision {
        let clock = ContinuousClock()
        let model = inputs.model
        let query = request.rankQuery(defaultTopK: defaultTopK)
        let rules = rules.current.rules
        let filtered = rules.apply(user: inputs.sources.user, to: query.eligible(inputs.sources.candidates), scratch: &scratch.rulesScratch)
        let eligible = filtered.eligible
        model.schema.makeContexts(user: inputs.sources.user, candidates: eligible, stats: inputs.sources.stats, into: &scratch)
        let built = clock.now
        let scores = model.score(scratch)
        let unixMillis = EventID.nowUnixMillis()
        let eventID = request.eventID ?? EventID.make(unixMillis: unixMillis)
        let policy = request.policy.contains(.noExploration) || !exploration.isEnabled ? .greedy : model.exploration
        let seed = PolicyRandom.seed(eventID: eventID, modelVersion: model.version)
        let caps = rules.diversity.tightened(by: request.diversity)
        let demoted = frequencyCapped(eligible, easyID: request.easyID, cap: rules.frequencyCap)
        let chosen: Exploration =
            if policy.explores || caps.isActive || !demoted.isEmpty {
                Explorer.rank(
                    Ranker.top(eligible.count, of: eligible, scored: scores),
                    topK: query.topK,
                    policy: policy,
                    seed: seed,
                    diversity: caps.isActive || !demoted.isEmpty ? DiversityConstraint(caps: caps, candidates: eligible, demoted: demoted) : nil
                )
            } else {
                Exploration(policy: .greedy, seed: seed, ranked: Ranker.top(query.topK, of: eligible, scored: scores), eligible: eligible.count)
            }
        let end = clock.now
        guard end <= request.deadline else {
            throw RankError(.deadlineExceeded, "the decision was ready after the request's deadline")
        }
        let decision = Decision(
            eventID: eventID,
            easyID: request.easyID,
            unixMillis: unixMillis,
            modelVersion: model.version,
            degraded: inputs.sources.degraded,
            user: inputs.sources.user,
            candidates: eligible,
            stats: inputs.sources.stats,
            scores: scores,
            exploration: chosen,
            rulesVersion: rules.version,
            ruleRemovals: filtered.removals,
            timings: Decision.Timings(
                fetch: inputs.fetchedAt - inputs.startedAt,
                context: built - inputs.fetchedAt,
                score: end - built,
                total: end - (request.receivedAt ?? inputs.startedAt)
            )
        )
        sink?.record(decision)
        if let cap = rules.frequencyCap, let impressions, !chosen.ranked.isEmpty {
            impressions.record(easyID: request.easyID, shown: chosen.ranked.map(\.id), windowHours: cap.windowHours)
        }
        return decision
    }

    /// By candidate: whether the user has been shown it up to the cap; empty when none has been
    /// (or nothing is known yet: the cap fails open).
    private func frequencyCapped(_ eligible: [Coupon], easyID: String, cap: FrequencyCap?) -> [Bool] {
        guard let cap, let impressions, let counts = impressions.counts(easyID: easyID, windowHours: cap.windowHours) else { return [] }
        guard counts.contains(where: { $0.value >= cap.maximumImpressions }) else { return [] }
        return eligible.map { (counts[$0.id] ?? 0) >= cap.maximumImpressions }
    }

    static func rankError(_ error: SourceError) -> RankError {
        switch error.code {
        case .deadlineExceeded: RankError(.deadlineExceeded, error.message, underlying: error)
        case .noCandidates: RankError(.noCandidates, error.message, underlying: error)
        default: RankError(.candidatesUnavailable, error.message, underlying: error)
        }
    }
}
