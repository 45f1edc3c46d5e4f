import CouponRankEngine
import CouponRankTestSupport
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

    /// Issue 11: a method the document does not declare on a path that exists answered 404, as if
    /// the path did not exist; HTTP asks for 405 and an `Allow` header naming the declared ones.
    @Test func anUndeclaredMethodIsRefused405WithTheAllowedOnes() async throws {
        @Sendable func request(_ port: Int, _ method: String, _ path: String) async throws -> (status: Int, allow: String) {
            let (_, output) = try await runChildProcess(["curl", "-sS", "-o", "/dev/null", "-D", "-", "-X", method, "http://127.0.0.1:\(port)\(path)"])
            let lines = output.split(whereSeparator: \.isNewline)
            let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
            let allow = lines.first { $0.lowercased().hasPrefix("allow:") }.map { String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces) } ?? ""
            return (status, allow)
        }
        try await OpsHarness.with(rewardToken: "r3ward", rewardSink: CollectedRewards()) { ops in
            for path in ["/healthz", "/readyz", "/metrics", "/v1/model", "/v1/rank?easy_id=1"] {
                for method in ["POST", "PUT", "DELETE", "PATCH", "QUERY"] {
                    let answer = try await request(ops.opsPort, method, path)
                    #expect(answer.status == 405 && answer.allow == "GET", "\(method) \(path): \(answer)")
                }
            }
            let get = try await request(ops.opsPort, "GET", "/v1/events/e-1/rewards")
            #expect(get.status == 405 && get.allow == "POST", "\(get)")
            #expect(try await request(ops.opsPort, "GET", "/no/such/path").status == 404)
        }
    }
}
