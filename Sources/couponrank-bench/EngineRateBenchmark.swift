import CouponRankBatch
import CouponRankCore
import CouponRankEngine
import CouponRankModelFile
import CouponRankSources
import Dispatch
import Foundation
import Synchronization

/// `couponrank-bench --engine-rate`: the engine's in-process rank rate, the ceiling of
/// `couponrank batch`. The same engine batch builds by default (bundled model; the stub sources
/// of `serve`'s defaults: catalog 3000, 200 candidates per user, seed 20261124), the same users
/// (`couponrank batch --generate-example`'s easy_ids), the same requests (top-k, greedy, event id
/// `batch-<line>`), `RankEngine.rankFromMemory` in a loop on `threads` threads, each over its own
/// contiguous share of the users, with its own context scratch. Nothing else: no CSV, no I/O.
struct EngineRateBenchmark {
    var users: Int
    var threads: Int
    var topK: Int

    struct Result: Codable {
        var ranks: Int
        var threads: Int
        var topK: Int
        var seconds: Double
        var ranksPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case ranks, threads, seconds
            case topK = "top_k"
            case ranksPerSecond = "ranks_per_second"
        }
    }

    func run() throws -> Result {
        let engine = RankEngine(
            sources: .stubs(StubDataGenerator()),
            models: ModelSlot(try BundledModel.load(), origin: .embedded),
            defaultTopK: topK
        )
        precondition(engine.answersFromMemory)
        // Warm-up, not timed: the first ranks fault in the catalog and the allocator's pools.
        _ = rank(engine, 0..<min(users, 2000))
        let threads = self.threads
        let users = self.users
        let shown = Atomic<Int>(0)
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let range = (users * thread / threads)..<(users * (thread + 1) / threads)
            shown.wrappingAdd(rank(engine, range), ordering: .relaxed)
        }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        precondition(shown.load(ordering: .relaxed) == users * topK, "every user ranked \(topK) coupons")
        return Result(ranks: users, threads: threads, topK: topK, seconds: seconds, ranksPerSecond: Double(users) / seconds)
    }

    /// Ranks the users of `range`; the coupons shown, so that nothing is optimised away.
    private func rank(_ engine: RankEngine, _ range: Range<Int>) -> Int {
        var scratch = ContextBatch()
        var shown = 0
        for index in range {
            let request = DecisionRequest(
                easyID: ExampleCustomers.easyID(index),
                topK: topK,
                deadline: .now + .seconds(1),
                eventID: "batch-\(index + 2)",
                policy: .noExploration
            )
            do {
                shown += try engine.rankFromMemory(request, scratch: &scratch)?.ranked.count ?? 0
            } catch {
                fatalError("rank failed: \(error)")
            }
        }
        return shown
    }
}
