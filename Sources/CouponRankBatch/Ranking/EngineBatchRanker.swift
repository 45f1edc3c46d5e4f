import CouponRankCore
public import CouponRankEngine
import CouponRankSources

/// Ranks rows in process with the engine `couponrank serve` runs: the same sources, model and
/// decision (``RankEngine/decide(_:inputs:scratch:)``), greedy, with a deterministic event id per
/// row, so a row's offers are what the engine would show that user online without exploration.
///
/// A row that carries its user features is decided with them in place of the source's: give such
/// rows an engine whose sources come from ``SourceFanOut/withUserFeaturesFromRows()``, so that the
/// user-features source is not called for an answer that would be thrown away.
public struct EngineBatchRanker: BatchRanker {
    public let engine: RankEngine
    public let topK: Int
    public let eventIDs: BatchEventIDs
    /// Each row's deadline, from when its ranking starts.
    public let budget: Duration

    public init(engine: RankEngine, topK: Int, eventIDs: BatchEventIDs, budget: Duration = .seconds(1)) {
        precondition(topK > 0, "top-k must be positive")
        self.engine = engine
        self.topK = topK
        self.eventIDs = eventIDs
        self.budget = budget
    }

    /// Rows one after another without suspending when every source answers from memory (the work
    /// is CPU only); otherwise all rows of the chunk at once, each waiting on its sources.
    public func rank(_ rows: [CustomerRow]) async -> [RowOutcome] {
        if engine.answersFromMemory {
            var scratch = ContextBatch()
            return rows.map { rankFromMemory($0, scratch: &scratch) }
        }
        return await withTaskGroup(of: (Int, RowOutcome).self) { group in
            for (index, row) in rows.enumerated() {
                group.addTask { (index, await rankWaiting(row)) }
            }
            var outcomes = [RowOutcome](repeating: .noEligibleCoupon, count: rows.count)
            for await (index, outcome) in group {
                outcomes[index] = outcome
            }
            return outcomes
        }
    }

    /// The engine's greedy decision for `row`, or why there is none.
    public func rankWaiting(_ row: CustomerRow) async -> RowOutcome {
        let request = request(for: row)
        var scratch = ContextBatch()
        do {
            var inputs = try await engine.fetch(request)
            if let features = row.features { inputs.sources.user = features }
            return Self.outcome(try engine.decide(request, inputs: inputs, scratch: &scratch))
        } catch {
            return Self.outcome(error)
        }
    }

    /// As ``rankWaiting(_:)`` without suspending, for an engine that ``RankEngine/answersFromMemory``
    /// (a source that then cannot answer from memory fails the row).
    func rankFromMemory(_ row: CustomerRow, scratch: inout ContextBatch) -> RowOutcome {
        let request = request(for: row)
        do {
            guard var inputs = try engine.fetchFromMemory(request) else {
                return .failed(reason: "SOURCE_NOT_IN_MEMORY")
            }
            if let features = row.features { inputs.sources.user = features }
            return Self.outcome(try engine.decide(request, inputs: inputs, scratch: &scratch))
        } catch {
            return Self.outcome(error)
        }
    }

    func request(for row: CustomerRow) -> DecisionRequest {
        DecisionRequest(
            easyID: row.easyID,
            topK: topK,
            deadline: .now + budget,
            eventID: eventIDs.id(line: row.line),
            policy: .noExploration
        )
    }

    static func outcome(_ decision: Decision) -> RowOutcome {
        guard !decision.ranked.isEmpty else { return .noEligibleCoupon }
        return .ranked(
            offers: decision.ranked.map { Offer(couponID: $0.id, name: $0.name, score: $0.score) },
            modelVersion: decision.modelVersion,
            degraded: !decision.degraded.isEmpty
        )
    }

    static func outcome(_ error: RankError) -> RowOutcome {
        error.code == .noCandidates ? .noEligibleCoupon : .failed(reason: error.code.name)
    }
}
