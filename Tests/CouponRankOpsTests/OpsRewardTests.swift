import CouponRankEngine
import CouponRankTestSupport
import Foundation
import Synchronization
import Testing

/// Rewards that a test keeps in memory, in the order accepted.
final class CollectedRewards: RewardSink, Sendable {
    let rewards = Mutex<[Reward]>([])

    func record(_ reward: Reward) -> Bool {
        rewards.withLock { $0.append(reward) }
        return true
    }
}

/// `POST /v1/events/{event_id}/rewards` over real HTTP (curl), and `/v1/rank`'s event id,
/// exploration switch and propensities.
@Suite struct OpsRewardTests {
    func post(_ port: Int, _ path: String, token: String?, body: String) async throws -> (status: Int, body: String) {
        var arguments = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json", "--data", body]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        let (_, output) = try await runChildProcess(arguments + ["http://127.0.0.1:\(port)\(path)"])
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func withoutARewardTokenTheRouteIsOff() async throws {
        try await OpsHarness.with { ops in
            let answer = try await post(ops.opsPort, "/v1/events/e-1/rewards", token: "x", body: #"{"coupon_id":"C000001","kind":"click"}"#)
            #expect(answer.status == 404)
        }
    }

    @Test func rewardsNeedTheTokenAndValidFieldsAndAreHandedToTheLog() async throws {
        let sink = CollectedRewards()
        try await OpsHarness.with(rewardToken: "r3ward", rewardSink: sink) { ops in
            let good = #"{"coupon_id":"C000001","kind":"conversion","value":2500,"time_ms":1764072000000}"#
            #expect(try await post(ops.opsPort, "/v1/events/e-1/rewards", token: nil, body: good).status == 401)
            #expect(try await post(ops.opsPort, "/v1/events/e-1/rewards", token: "wrong", body: good).status == 401)
            #expect(try await post(ops.opsPort, "/v1/events/bad!id/rewards", token: "r3ward", body: good).status == 400)
            #expect(try await post(ops.opsPort, "/v1/events/e-1/rewards", token: "r3ward", body: #"{"coupon_id":"C1","kind":"like"}"#).status == 400)
            #expect(try await post(ops.opsPort, "/v1/events/e-1/rewards", token: "r3ward", body: "not json").status == 400)
            let accepted = try await post(ops.opsPort, "/v1/events/e-1/rewards", token: "r3ward", body: good)
            #expect(accepted.status == 202, "\(accepted.body)")
            #expect(try await ops.metric(#"couponrank_rewards_total{outcome="accepted"}"#) == 1)
            #expect(try await ops.metric(#"couponrank_rewards_total{outcome="unauthenticated"}"#) == 2)
        }
        let rewards = sink.rewards.withLock { $0 }
        #expect(rewards.count == 1)
        #expect(rewards.first?.eventID == "e-1" && rewards.first?.kind == .conversion && rewards.first?.value == 2500)
        #expect(rewards.first?.unixMillis == 1_764_072_000_000)
    }

    @Test func opsRanksCarryTheEventIDAndCanTurnExplorationOff() async throws {
        try await OpsHarness.with { ops in
            let chosen = try await ops.get("/v1/rank?easy_id=5&top_k=3&event_id=ops-1")
            #expect(chosen.status == 200)
            #expect(chosen.body.contains(#""event_id":"ops-1""#))
            #expect(chosen.body.contains(#""propensity":1"#))
            let made = try await ops.get("/v1/rank?easy_id=5&top_k=3&explore=false")
            #expect(made.body.contains(#""policy":"greedy""#))
            let bad = try await ops.get("/v1/rank?easy_id=5&event_id=no%20spaces")
            #expect(bad.status == 400)
        }
    }

    /// Issue 11: `top_k` outside OpenAPI's limits and an easy_id that is not UTF-8 were ranked.
    @Test(arguments: ["top_k=abc", "top_k=-1", "top_k=70000", "top_k=1001"])
    func opsRanksRefuseATopKOutsideItsLimits(query: String) async throws {
        try await OpsHarness.with { ops in
            let answer = try await ops.get("/v1/rank?easy_id=5&\(query)")
            #expect(answer.status == 400, "\(answer.body)")
        }
    }

    @Test func opsRanksRefuseAnEasyIDThatIsNotUTF8() async throws {
        try await OpsHarness.with { ops in
            let answer = try await ops.get("/v1/rank?easy_id=%FF%FE")
            #expect(answer.status == 400, "\(answer.body)")
            #expect(try await ops.get("/v1/rank?easy_id=%C3%A4").status == 200, "a valid UTF-8 easy_id still ranks")
        }
    }
}
