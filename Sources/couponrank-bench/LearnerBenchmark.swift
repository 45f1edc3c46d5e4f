import CouponRankCore
import CouponRankEvents
import CouponRankSources
import CouponRankTraining
import Foundation

/// `couponrank-bench --train`: the online trainer's CPU work, single-threaded — `OnlineLearner.learn`
/// over synthetic closed decisions of the stub data (contexts rebuilt from the logged inputs, then
/// one update per shown item), merging two partitions' statistics, and `makeDefinition` (LinUCB:
/// the Cholesky solve of `A` for `θ` and `A⁻¹`). No Redis: the join, checkpoints and publishing
/// are I/O and are not timed here.
struct LearnerBenchmark {
    /// The base model: its schema and kind (the kind is set per learner).
    var base: ModelDefinition
    var decisions: Int
    var shown: Int
    var rounds: Int

    func run() throws {
        let log = makeLog()
        let schema = try CompiledSchema(base.features)
        let d = schema.dimension
        let updates = log.reduce(0) { $0 + $1.rewards.count }
        let clicks = log.reduce(0) { $0 + $1.rewarded.lazy.filter { $0 }.count }
        let nonZeros = averageNonZeros(log, schema: schema)
        print("learner: d = \(d), \(decisions) closed decisions × \(shown) shown items = \(updates) item updates (\(clicks) clicks), \(String(format: "%.1f", nonZeros)) non-zero columns per row; median of \(rounds) rounds, one thread")
        print("")
        print("stage".padding(toLength: 36, withPad: " ", startingAt: 0) + "per decision   per item update   item updates/s")

        var batch = ContextBatch()
        let contexts = median(timed(rounds) {
            var checksum = 0.0
            for closed in log {
                let decision = closed.decision
                let coupons = decision.items.map(\.coupon)
                let stats = CouponStatsTable(couponIDs: coupons.map(\.id), entries: decision.items.map(\.stats))
                schema.makeContexts(user: decision.user, candidates: coupons, stats: stats, into: &batch)
                checksum += batch.shared[0]
            }
            return checksum
        })
        row("context rebuild only", seconds: contexts, updates: updates)

        var learners: [ModelKind: OnlineLearner] = [:]
        for kind in [ModelKind.linucb, .logistic] {
            var definition = base
            definition.kind = kind
            let seconds = try median(timed(rounds) { () throws -> Double in
                var learner = try OnlineLearner(base: definition)
                for closed in log { learner.learn(closed) }
                learners[kind] = learner
                return Double(learner.itemUpdates)
            })
            row(kind == .linucb ? "learn, LinUCB (A += xxᵀ, b += r·x)" : "learn, logistic (FTRL-Proximal)", seconds: seconds, updates: updates)
        }

        print("")
        let linucb = learners[.linucb]!
        let merge = try median(timed(max(rounds, 21)) { () throws -> Double in
            var merged = linucb
            try merged.merge(linucb)
            return Double(merged.itemUpdates)
        })
        print("once per publish".padding(toLength: 52, withPad: " ", startingAt: 0) + "time")
        once("merge of two partitions, LinUCB (A, b add)", seconds: merge)
        for kind in [ModelKind.linucb, .logistic] {
            let learner = learners[kind]!
            let seconds = try median(timed(max(rounds, 21)) { () throws -> Double in
                try learner.makeDefinition(version: "bench-1", createdAt: "2026-11-26T00:00:00Z", lineage: nil).theta[0]
            })
            once(kind == .linucb ? "makeDefinition, LinUCB (Cholesky, A⁻¹, θ)" : "makeDefinition, logistic (θ from z, n)", seconds: seconds)
        }
    }

    /// Closed decisions of the stub world: each shows the first `shown` candidates of one of 1 000
    /// users, with clicks drawn from the stub generator's ground truth by a seeded generator.
    private func makeLog() -> [ClosedDecision] {
        let generator = StubDataGenerator(configuration: .init(catalogSize: 3000, candidatesPerUser: max(shown, 20)))
        var rng = SplitMix64(seed: 20_261_126)
        var log: [ClosedDecision] = []
        log.reserveCapacity(decisions)
        for index in 0..<decisions {
            let easyID = "\(100_000 + index % 1000)"
            let user = generator.userFeatures(for: easyID)
            let stats = generator.stats(for: easyID)
            let coupons = generator.candidates(for: easyID).prefix(shown)
            let items = coupons.map { coupon in
                LoggedDecision.Item(coupon: coupon, score: 0, probability: 0, propensity: 1, choice: .best, stats: stats[coupon.id])
            }
            let rewarded = coupons.map { rng.unit() < generator.clickProbability(user: user, coupon: $0) }
            let decision = LoggedDecision(
                eventID: "bench-\(index)", unixMillis: 1_764_115_200_000 + Int64(index), easyID: easyID, modelVersion: base.version,
                policy: .greedy, degraded: 0, eligible: coupons.count, scoreMax: 0, normalizer: 0, user: user, items: Array(items)
            )
            log.append(
                ClosedDecision(
                    decision: decision,
                    streamID: StreamID(milliseconds: UInt64(1_764_115_200_000 + index), sequence: 0),
                    rewards: rewarded.map { $0 ? 1 : 0 },
                    rewarded: rewarded
                )
            )
        }
        return log
    }

    private func averageNonZeros(_ log: [ClosedDecision], schema: CompiledSchema) -> Double {
        var total = 0
        var rows = 0
        for closed in log.prefix(1000) {
            let decision = closed.decision
            let coupons = decision.items.map(\.coupon)
            let stats = CouponStatsTable(couponIDs: coupons.map(\.id), entries: decision.items.map(\.stats))
            let batch = schema.makeContexts(user: decision.user, candidates: coupons, stats: stats)
            for row in 0..<batch.count {
                total += SparseRow(batch, row: row).count
                rows += 1
            }
        }
        return Double(total) / Double(max(rows, 1))
    }

    private func row(_ stage: String, seconds: Double, updates: Int) {
        let perDecision = seconds / Double(decisions) * 1e6
        let perUpdate = seconds / Double(updates) * 1e6
        let padded = stage.padding(toLength: 34, withPad: " ", startingAt: 0)
        print(String(format: "%@ %8.2f µs   %10.3f µs   %14.0f", padded, perDecision, perUpdate, Double(updates) / seconds))
    }

    private func once(_ stage: String, seconds: Double) {
        print(String(format: "%@ %10.1f µs", stage.padding(toLength: 45, withPad: " ", startingAt: 0), seconds * 1e6))
    }

    /// Wall-clock seconds of `rounds` runs of `body` after one warm-up run.
    private func timed(_ rounds: Int, _ body: () throws -> Double) rethrows -> [Double] {
        var checksum = try body()
        let clock = ContinuousClock()
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = clock.now
            checksum += try body()
            times.append((clock.now - start).seconds)
        }
        if checksum.isNaN { print("checksum NaN") }
        return times
    }

    private func median(_ values: [Double]) -> Double {
        values.sorted()[values.count / 2]
    }
}
