public import CouponRankCore
public import CouponRankSources
public import CouponRankWire

/// Answers one Rank request: fetch the inputs, build contexts, score, rank.
public struct RankPipeline: Sendable {
    public let sources: SourceFanOut
    public let models: ModelSlot
    /// Items returned when the request asks for `top_k = 0`.
    public let defaultTopK: Int

    public init(sources: SourceFanOut, models: ModelSlot, defaultTopK: Int = 20) {
        self.sources = sources
        self.models = models
        self.defaultTopK = defaultTopK
    }

    /// Ranks `request` by `deadline`, with one model version from start to end.
    public func rank(_ request: RankRequest, deadline: ContinuousClock.Instant) async throws(WireError) -> RankResponse {
        let clock = ContinuousClock()
        let start = clock.now
        let model = models.current.model

        let inputs: RankInputs
        do {
            inputs = try await sources.fetch(easyID: request.easyID, deadline: deadline)
        } catch {
            switch error.code {
            case .deadlineExceeded: throw WireError(.deadlineExceeded, error.message)
            case .noCandidates: throw WireError(.noCandidates, error.message)
            default: throw WireError(.upstreamUnavailable, error.message)
            }
        }
        let fetched = clock.now

        let query = RankQuery(
            topK: request.topK == 0 ? defaultTopK : Int(request.topK),
            onlyCandidates: Set(request.candidateIDs),
            excluded: Set(request.excludedIDs)
        )
        let eligible = query.eligible(inputs.candidates)
        let contexts = model.schema.makeContexts(user: inputs.user, candidates: eligible, stats: inputs.stats)
        let built = clock.now
        let scores = model.score(contexts)
        let ranked = Ranker.top(query.topK, of: eligible, scored: scores)
        let end = clock.now
        guard end <= deadline else {
            throw WireError(.deadlineExceeded, "ranking finished after the request's deadline")
        }
        return RankResponse(
            modelVersion: model.version,
            degraded: RankResponse.Degraded(rawValue: inputs.degraded.rawValue),
            timings: RankResponse.Timings(
                fetchMicros: (fetched - start).microseconds,
                contextMicros: (built - fetched).microseconds,
                scoreMicros: (end - built).microseconds,
                totalMicros: (end - start).microseconds
            ),
            items: ranked.map {
                RankResponse.Item(couponID: $0.id, score: $0.score, probability: $0.probability, name: $0.name)
            }
        )
    }
}
