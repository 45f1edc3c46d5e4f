public import CouponRankCore
public import CouponRankEngine
public import CouponRankWire

extension RankResponse {
    /// The wire form of a decision: its shown top, model version, degraded sources and timings.
    public init(_ decision: Decision) {
        self.init(
            modelVersion: decision.modelVersion,
            degraded: Degraded(rawValue: decision.degraded.rawValue),
            timings: Timings(
                fetchMicros: decision.timings.fetch.microseconds,
                contextMicros: decision.timings.context.microseconds,
                scoreMicros: decision.timings.score.microseconds,
                totalMicros: decision.timings.total.microseconds
            ),
            items: decision.ranked.map {
                Item(couponID: $0.id, score: $0.score, probability: $0.probability, name: $0.name, propensity: $0.propensity)
            },
            eventID: decision.eventID,
            policy: decision.exploration.policy.code,
            rulesVersion: decision.rulesVersion,
            ruleRemovals: decision.ruleRemovals.map { RuleRemoval(rule: $0.rule, removed: UInt16(clamping: $0.removed)) }
        )
    }
}

extension WireError {
    /// The wire's code for an engine error (PROTOCOL.md §7), with the same message.
    public init(_ error: RankError) {
        let code: ErrorCode =
            switch error.code {
            case .overloaded: .overloaded
            case .shuttingDown: .shuttingDown
            case .deadlineExceeded: .deadlineExceeded
            case .noCandidates: .noCandidates
            case .candidatesUnavailable: .upstreamUnavailable
            case .invalidRequest: .invalidArgument
            default: .internal
            }
        self.init(code, error.message)
    }
}

extension WireError {
    /// The wire's code for a refused reward (PROTOCOL.md §5.8).
    public init(_ refusal: RewardIntake.Refusal) {
        let code: ErrorCode =
            switch refusal.code {
            case .disabled, .unauthenticated: .unauthenticated
            case .noLog: .failedPrecondition
            case .invalid: .invalidArgument
            case .dropped: .overloaded
            }
        self.init(code, refusal.message)
    }
}

extension Reward.Kind {
    /// The engine's kind of a wire reward kind; `nil` for a kind it does not know.
    public init?(_ kind: RewardRequest.Kind) {
        switch kind {
        case .click: self = .click
        case .conversion: self = .conversion
        default: return nil
        }
    }
}

extension DecisionRequest {
    /// The engine's request for a wire Rank request.
    public init(_ request: RankRequest, deadline: ContinuousClock.Instant, receivedAt: ContinuousClock.Instant) {
        self.init(
            easyID: request.easyID,
            topK: Int(request.topK),
            onlyCandidates: Set(request.candidateIDs),
            excluded: Set(request.excludedIDs),
            deadline: deadline,
            receivedAt: receivedAt,
            eventID: request.eventID.isEmpty ? nil : request.eventID,
            policy: request.flags.contains(.noExploration) ? .noExploration : [],
            diversity: DiversityCaps(
                maximumPerShop: request.maximumPerShop == 0 ? nil : Int(request.maximumPerShop),
                maximumPerCategory: request.maximumPerCategory == 0 ? nil : Int(request.maximumPerCategory)
            )
        )
    }
}
