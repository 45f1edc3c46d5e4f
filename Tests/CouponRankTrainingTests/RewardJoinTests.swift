import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankTraining
import Testing

@Suite struct RewardJoinTests {
    static func decision(_ eventID: String, coupons: [String]) -> LoggedDecision {
        let items = coupons.map { id in
            LoggedDecision.Item(
                coupon: Coupon(id: id, name: "", category: "travel", shop: "s", discountRate: 0.1, minimumSpend: 0, daysToExpiry: 3),
                score: 0, probability: 0, propensity: 1, choice: .best, stats: .prior
            )
        }
        return LoggedDecision(
            eventID: eventID, unixMillis: 0, easyID: "1", modelVersion: "m", policy: .greedy, degraded: 0, eligible: coupons.count,
            scoreMax: 0, normalizer: 0, user: .unknown, items: items
        )
    }

    static func reward(_ eventID: String, _ couponID: String, kind: Reward.Kind = .click) -> RewardRecord {
        RewardRecord(eventID: eventID, couponID: couponID, kind: kind, value: 1, unixMillis: 0, receivedUnixMillis: 0)
    }

    static func id(_ ms: UInt64, _ seq: UInt64 = 0) -> StreamID { StreamID(milliseconds: ms, sequence: seq) }

    @Test func aClickInTheWindowIsTheTargetAndTheOtherItemsGetTheDefault() {
        var join = RewardJoin(configuration: .init(windowMillis: 1000, defaultReward: -0.5))
        join.add(Self.decision("e1", coupons: ["A", "B", "C"]), streamID: Self.id(100))
        join.add(Self.reward("e1", "B"), streamID: Self.id(600))
        #expect(join.close(upTo: 1099).isEmpty)
        let closed = join.close(upTo: 1100)
        #expect(closed.count == 1)
        #expect(closed.first?.rewards == [-0.5, 1, -0.5])
        #expect(closed.first?.rewarded == [false, true, false])
        #expect(join.counters.rewardsJoined == 1)
    }

    @Test func rewardsAfterTheWindowAreLateAndIgnored() {
        var join = RewardJoin(configuration: .init(windowMillis: 1000))
        join.add(Self.decision("e1", coupons: ["A", "B"]), streamID: Self.id(100))
        // Read before the decision closed, but written after its window: late.
        join.add(Self.reward("e1", "A"), streamID: Self.id(1101))
        let closed = join.close(upTo: 2000)
        #expect(closed.first?.rewards == [0, 0])
        // After it closed: late too, not unmatched.
        join.add(Self.reward("e1", "B"), streamID: Self.id(2001))
        #expect(join.counters.rewardsLate == 2)
        #expect(join.counters.rewardsUnmatched == 0)
    }

    @Test func aRewardReadBeforeItsDecisionWaitsForIt() {
        var join = RewardJoin(configuration: .init(windowMillis: 1000))
        join.add(Self.reward("e1", "B"), streamID: Self.id(300))
        join.add(Self.decision("e1", coupons: ["A", "B"]), streamID: Self.id(200))
        #expect(join.close(upTo: 1200).first?.rewarded == [false, true])
    }

    @Test func unknownEventsOtherKindsAndUnshownCouponsAreCountedApart() {
        var join = RewardJoin(configuration: .init(windowMillis: 1000))
        join.add(Self.decision("e1", coupons: ["A"]), streamID: Self.id(0))
        join.add(Self.reward("nobody", "A"), streamID: Self.id(10))
        join.add(Self.reward("e1", "A", kind: .conversion), streamID: Self.id(20))
        join.add(Self.reward("e1", "Z"), streamID: Self.id(30))
        let closed = join.close(upTo: 5000)
        #expect(closed.first?.rewards == [0])
        #expect(join.counters.rewardsUnmatched == 1)
        #expect(join.counters.rewardsOtherKind == 1)
        #expect(join.counters.rewardsNotShown == 1)
        #expect(join.counters.rewards == 3)
    }

    @Test func aDecisionLoggedTwiceIsLearnedOnce() {
        var join = RewardJoin(configuration: .init(windowMillis: 10))
        join.add(Self.decision("e1", coupons: ["A"]), streamID: Self.id(0))
        join.add(Self.decision("e1", coupons: ["A"]), streamID: Self.id(1))
        #expect(join.close(upTo: 100).count == 1)
        join.add(Self.decision("e1", coupons: ["A"]), streamID: Self.id(200))
        #expect(join.close(upTo: 1000).isEmpty)
        #expect(join.counters.duplicateDecisions == 2)
    }

    @Test func theBatchJoinClosesEveryDecisionInStreamOrder() {
        let decisions = (0..<5).map { (Self.id(UInt64($0) * 100), Self.decision("e\($0)", coupons: ["A", "B"])) }
        let rewards = [(Self.id(150), Self.reward("e1", "A")), (Self.id(5000), Self.reward("e4", "B"))]
        let (closed, counters) = RewardJoin.closeAll(decisions: decisions, rewards: rewards, configuration: .init(windowMillis: 1000))
        #expect(closed.map(\.decision.eventID) == ["e0", "e1", "e2", "e3", "e4"])
        #expect(closed[1].rewarded == [true, false])
        #expect(closed[4].rewarded == [false, false])
        #expect(counters.rewardsLate == 1)
    }

    @Test func streamIDsOrderAsRedisOrdersThem() {
        #expect(StreamID("1-2")! < StreamID("1-10")!)
        #expect(StreamID("2-0")! > StreamID("1-99")!)
        #expect(StreamID("12") == nil)
        #expect(StreamID("a-1") == nil)
    }
}
