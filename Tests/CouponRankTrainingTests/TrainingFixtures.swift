import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import CouponRankSources
import CouponRankTestSupport
import CouponRankTraining
import Foundation
import NIOCore

/// Synthetic logged decisions over the stub data: each shows a user's first `shown` candidates,
/// greedily, with clicks drawn from the stub generator's ground truth by a seeded generator.
struct SyntheticLog {
    var decisions: [LoggedDecision] = []
    /// `(event id, coupon id)` of every click.
    var clicks: [(String, String)] = []

    init(count: Int, shown: Int = 5, seed: UInt64 = 7, degradedEvery: Int = 0, modelVersion: String = "bundled-linucb-2026-11-24") {
        let stubs = StubDataGenerator(configuration: .init(catalogSize: 500, candidatesPerUser: 20))
        var state = seed
        func unit() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) * 0x1.0p-53
        }
        for index in 0..<count {
            let easyID = "\(1000 + index % 400)"
            let user = stubs.userFeatures(for: easyID)
            let candidates = stubs.candidates(for: easyID)
            let stats = stubs.stats(for: easyID)
            let eventID = "evt-\(seed)-\(index)"
            let items = candidates.prefix(shown).enumerated().map { slot, coupon in
                LoggedDecision.Item(coupon: coupon, score: 0.1, probability: 0.1, propensity: 1, choice: .best, stats: stats.entries[slot])
            }
            let unshown = candidates.dropFirst(shown).enumerated().map { offset, coupon in
                LoggedDecision.Candidate(coupon: coupon, stats: stats.entries[shown + offset])
            }
            let degraded: UInt8 = degradedEvery > 0 && index % degradedEvery == degradedEvery - 1 ? 1 : 0
            decisions.append(
                LoggedDecision(
                    eventID: eventID, unixMillis: 1_764_072_000_000 + Int64(index), easyID: easyID, modelVersion: modelVersion,
                    policy: .greedy, degraded: degraded, eligible: candidates.count, scoreMax: 0, normalizer: 0,
                    user: user, items: Array(items), candidates: Array(unshown)
                )
            )
            for coupon in candidates.prefix(shown) where unit() < stubs.clickProbability(user: user, coupon: coupon) * 4 {
                clicks.append((eventID, coupon.id))
            }
        }
    }

    /// Appends each decision and right after it its clicks to the streams, as engines would.
    func write(to redis: RedisClient, keys: EventKeys = .init(), pause: Duration = .zero) async throws {
        var clicksByEvent: [String: [String]] = [:]
        for (eventID, couponID) in clicks { clicksByEvent[eventID, default: []].append(couponID) }
        for decision in decisions {
            var body = ByteBufferAllocator().buffer(capacity: 2048)
            decision.encode(into: &body)
            let shard = keys.shard(ofEventID: decision.eventID)
            _ = try await redis.command([Array("XADD".utf8), Array(keys.decisions(shard: shard).utf8), Array("*".utf8), Array("body".utf8), Array(body.readableBytesView)])
            if pause > .zero { try await Task.sleep(for: pause) }
            for couponID in clicksByEvent[decision.eventID] ?? [] {
                _ = try await redis.command([
                    "XADD", keys.rewards(shard: shard), "*", "event_id", decision.eventID, "coupon_id", couponID, "kind", "click", "value", "1.0",
                    "time_ms", "1764072000500", "received_ms", "1764072000500",
                ])
            }
        }
    }

    /// What a learner that saw every non-degraded decision with its clicks holds.
    func referenceLearner(base: ModelDefinition, excludeDegraded: Bool = true, partition: TrainerConfiguration.Partition = .whole) throws -> OnlineLearner {
        var learner = try OnlineLearner(base: base)
        let clicked = Set(clicks.map { "\($0.0)|\($0.1)" })
        for decision in decisions where partition.owns(eventID: decision.eventID) {
            if excludeDegraded, decision.degraded != 0 { continue }
            let rewarded = decision.items.map { clicked.contains("\(decision.eventID)|\($0.coupon.id)") }
            learner.learn(ClosedDecision(decision: decision, streamID: .zero, rewards: rewarded.map { $0 ? 1 : 0 }, rewarded: rewarded))
        }
        return learner
    }
}

extension OnlineLearner {
    /// `(A, b)` of a LinUCB learner.
    var linucbStatistics: (a: [Double], b: [Double])? {
        if case .linucb(let accumulator) = statistics { return (accumulator.a, accumulator.b) }
        return nil
    }
}

/// The largest difference between two equally long vectors, relative to the larger magnitude.
func maximumRelativeDifference(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count)
    var worst = 0.0
    for (a, b) in zip(x, y) {
        worst = max(worst, abs(a - b) / max(1, abs(a), abs(b)))
    }
    return worst
}
