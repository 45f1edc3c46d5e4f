import CouponRankEngine
import Testing

/// Issue 11: a reward without a token was told "no reward log" (503) before "unauthenticated"
/// (401) when the server had a token but no reward log.
@Suite struct RewardIntakeTests {
    static func refusal(_ intake: RewardIntake, token: String) -> RewardIntake.Refusal.Code? {
        do throws(RewardIntake.Refusal) {
            try intake.accept(token: token, eventID: "evt-1", couponID: "C1", kind: .click, value: 1, unixMillis: nil)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func theTokenIsCheckedBeforeTheServerSaysItHasNoRewardLog() {
        let intake = RewardIntake(token: "r3ward", sink: nil)
        #expect(Self.refusal(intake, token: "") == .unauthenticated)
        #expect(Self.refusal(intake, token: "wrong") == .unauthenticated)
        #expect(Self.refusal(intake, token: "r3ward") == .noLog)
        #expect(Self.refusal(RewardIntake(token: nil, sink: nil), token: "r3ward") == .disabled)
    }
}
