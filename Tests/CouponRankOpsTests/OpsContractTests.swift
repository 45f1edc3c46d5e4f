import CouponRankEngine
import Foundation
import Testing

/// Drift between the ops port and proto-spec/OPS.openapi.yaml found by the contract test
/// (Tests/contract/ops_contract.sh, schemathesis), pinned here against the real ops server.
@Suite struct OpsContractTests {
    /// Issue 11: `explore` is the enum `"true"`/`"false"`, but any other value (`False`, `0`,
    /// `no`, empty) ranked with exploration on and answered 200: a caller who meant "greedy"
    /// silently got exploration.
    @Test(arguments: ["False", "0", "no", "", "%F2%8E%99%A7%19"])
    func anExploreValueOutsideTheEnumIsRefused(value: String) async throws {
        try await OpsHarness.with { ops in
            let refused = try await ops.get("/v1/rank?easy_id=12345&top_k=3&explore=\(value)")
            #expect(refused.status == 400, "\(refused.body)")
            #expect(refused.body.contains(#""error":"INVALID_ARGUMENT""#), "\(refused.body)")
            #expect(try await ops.get("/v1/rank?easy_id=12345&top_k=3&explore=false").status == 200)
            #expect(try await ops.get("/v1/rank?easy_id=12345&top_k=3&explore=true").status == 200)
            #expect(try await ops.get("/v1/rank?easy_id=12345&top_k=3").status == 200)
        }
    }

    /// Issue 11: the reward route's `{event_id}` was used still percent-encoded, so a valid id
    /// sent encoded (`a%3Ab` for `a:b`, as an HTTP client may send a colon in a path segment)
    /// was refused 400.
    @Test func aPercentEncodedEventIDInTheRewardPathIsDecoded() async throws {
        let sink = CollectedRewards()
        try await OpsHarness.with(rewardToken: "r3ward", rewardSink: sink) { ops in
            let body = #"{"coupon_id":"C000001","kind":"click"}"#
            let accepted = try await OpsRewardTests().post(ops.opsPort, "/v1/events/a%3Ab%2Dc/rewards", token: "r3ward", body: body)
            #expect(accepted.status == 202, "\(accepted.body)")
            // Decoded, the id must still be of the alphabet; a broken escape is refused as sent.
            #expect(try await OpsRewardTests().post(ops.opsPort, "/v1/events/bad%21id/rewards", token: "r3ward", body: body).status == 400)
            #expect(try await OpsRewardTests().post(ops.opsPort, "/v1/events/a%ZZb/rewards", token: "r3ward", body: body).status == 400)
        }
        #expect(sink.rewards.withLock { $0.map(\.eventID) } == ["a:b-c"])
    }
}
