import CouponRankCore
import CouponRankSources
import Foundation
import Testing

@Suite struct StubDataGeneratorTests {
    let generator = StubDataGenerator()

    @Test func theSameEasyIDAlwaysGetsTheSameData() {
        let other = StubDataGenerator()
        #expect(generator.userFeatures(for: "12345") == other.userFeatures(for: "12345"))
        #expect(generator.candidates(for: "12345") == other.candidates(for: "12345"))
        #expect(generator.stats(for: "12345").byCouponID == other.stats(for: "12345").byCouponID)
        #expect(generator.candidates(for: "12345") != generator.candidates(for: "12346"))
    }

    @Test func candidatesAreDistinctCatalogCouponsOfTheConfiguredCount() {
        let candidates = generator.candidates(for: "abc")
        #expect(candidates.count == 200)
        #expect(Set(candidates.map(\.id)).count == 200)
        let small = StubDataGenerator(configuration: .init(catalogSize: 50, candidatesPerUser: 80))
        #expect(small.candidates(for: "abc").count == 50)
    }

    @Test func catalogAttributesAreRealistic() {
        #expect(generator.catalog.count == 3000)
        for coupon in generator.catalog {
            #expect((0.05...0.5).contains(coupon.discountRate))
            #expect((1...60).contains(coupon.daysToExpiry))
            #expect(StubDataGenerator.categories.contains(coupon.category))
            #expect(coupon.shop.hasPrefix("shop-"))
        }
        #expect(Set(generator.catalog.map(\.category)).count == StubDataGenerator.categories.count)
    }

    @Test func statsCoverEveryCandidateWithProbabilities() {
        let stats = generator.stats(for: "u1")
        for coupon in generator.candidates(for: "u1") {
            let entry = stats.byCouponID[coupon.id]
            #expect(entry != nil)
            #expect((0...1).contains(entry?.ctr ?? -1))
            #expect((entry?.cvr ?? 1) <= (entry?.ctr ?? 0))
        }
    }

    @Test func withoutNoiseTheListedCTRIsTheTrueClickProbabilityClamped() {
        let exact = StubDataGenerator(configuration: .init(statsNoise: 0))
        for easyID in ["u1", "u2", "12345"] {
            let user = exact.userFeatures(for: easyID)
            let stats = exact.stats(for: easyID).byCouponID
            let candidates = exact.candidates(for: easyID)
            #expect(stats.count == candidates.count)
            for coupon in candidates {
                let truth = exact.clickProbability(user: user, coupon: coupon)
                let entry = stats[coupon.id]
                #expect(entry?.ctr == min(max(truth, 0.0005), 0.95), "\(coupon.id)")
                #expect((entry?.cvr ?? 1) <= (entry?.ctr ?? 0))
            }
        }
    }

    @Test func moreNoiseSpreadsTheListedCTRFurtherFromTheTruth() {
        func spread(_ sigma: Double) -> Double {
            let noisy = StubDataGenerator(configuration: .init(statsNoise: sigma))
            var total = 0.0
            var count = 0
            for user in 0..<20 {
                let features = noisy.userFeatures(for: "\(user)")
                let stats = noisy.stats(for: "\(user)").byCouponID
                for coupon in noisy.candidates(for: "\(user)") {
                    let ratio = log(stats[coupon.id]!.ctr / noisy.clickProbability(user: features, coupon: coupon))
                    total += ratio * ratio
                    count += 1
                }
            }
            return (total / Double(count)).squareRoot()
        }
        let (low, high) = (spread(0.3), spread(1.0))
        #expect(abs(low - 0.3) < 0.05, "\(low)")
        #expect(high > 0.8 && high < 1.0, "\(high): clamping narrows it a little")
    }

    @Test(arguments: [0.1, 0.3, 0.8])
    func theUnseenShareOfTheCatalogIsLeftOutOfEveryUsersStats(share: Double) {
        let configuration = StubDataGenerator.Configuration(unseenCouponShare: share)
        let sparse = StubDataGenerator(configuration: configuration)
        let unseen = sparse.unseenCouponIDs
        let fraction = Double(unseen.count) / Double(sparse.catalog.count)
        #expect(abs(fraction - share) < 0.04, "\(fraction) of the catalog is unseen")
        #expect(StubDataGenerator(configuration: configuration).unseenCouponIDs == unseen, "chosen from the seed alone")
        #expect(StubDataGenerator(configuration: .init(seed: 7, unseenCouponShare: share)).unseenCouponIDs != unseen)
        let full = StubDataGenerator()
        for easyID in ["u1", "u2", "12345"] {
            #expect(sparse.candidates(for: easyID) == full.candidates(for: easyID), "the candidates do not change")
            let listed = sparse.stats(for: easyID)
            let expected = sparse.candidates(for: easyID).map(\.id).filter { !unseen.contains($0) }
            #expect(listed.couponIDs == expected)
            // The coupons still listed keep the values they have without unseen coupons.
            let reference = full.stats(for: easyID).byCouponID
            #expect(listed.byCouponID.allSatisfy { reference[$0.key] == $0.value })
            // What context building reads: the prior for an unseen coupon.
            for (coupon, stats) in zip(sparse.candidates(for: easyID), listed.aligned(with: sparse.candidates(for: easyID))) {
                #expect(unseen.contains(coupon.id) ? stats == .prior : stats == reference[coupon.id])
            }
        }
    }

    /// The defaults reproduce the data generated before the two settings existed (values pinned
    /// from that generator, bit for bit), so every seeded test and benchmark keeps its inputs.
    @Test func theDefaultsLeaveEveryGeneratedValueUnchanged() {
        #expect(generator.configuration == .init(catalogSize: 3000, candidatesPerUser: 200, seed: 20_261_124, statsNoise: 0.3, unseenCouponShare: 0))
        #expect(generator.unseenCouponIDs.isEmpty)
        let stats = generator.stats(for: "12345")
        #expect(stats.couponIDs == generator.candidates(for: "12345").map(\.id))
        #expect(stats.couponIDs.prefix(3) == ["C000305", "C002388", "C001471"])
        #expect(stats.entries.prefix(3).map(\.ctr.bitPattern) == [0x3fbd_466a_f198_47fa, 0x3fbf_550a_33ac_6b3d, 0x3f95_44d8_5d36_62bc])
        #expect(stats.entries.prefix(3).map(\.cvr.bitPattern) == [0x3f78_3816_2712_6133, 0x3f91_8321_45b4_a484, 0x3f54_a0ac_b9a1_76d5])
    }

    @Test func thePreferredCategoryIsClickedMoreOften() {
        var user = generator.userFeatures(for: "u1")
        let coupon = generator.catalog[0]
        user.categorical["preferred_category"] = coupon.category
        let liked = generator.clickProbability(user: user, coupon: coupon)
        user.categorical["preferred_category"] = "none"
        #expect(liked > generator.clickProbability(user: user, coupon: coupon))
    }
}

@Suite struct LatencyDistributionTests {
    @Test(arguments: [
        ("none", LatencyDistribution.none),
        ("fixed:5ms", .fixed(.milliseconds(5))),
        ("uniform:2ms-8ms", .uniform(.milliseconds(2), .milliseconds(8))),
        ("lognormal:5ms,40ms", .logNormal(median: .milliseconds(5), p99: .milliseconds(40))),
        ("fixed:250us", .fixed(.microseconds(250))),
    ])
    func parsesTheDocumentedForms(text: String, expected: LatencyDistribution) {
        #expect(LatencyDistribution(parsing: text) == expected)
    }

    @Test(arguments: ["", "fixed", "fixed:5", "uniform:8ms-2ms", "lognormal:40ms,5ms", "gamma:1ms"])
    func rejectsEverythingElse(text: String) {
        #expect(LatencyDistribution(parsing: text) == nil)
    }

    @Test func logNormalSamplesHaveTheRequestedMedianAndP99() {
        var rng = SplitMix64(seed: 1)
        let distribution = LatencyDistribution.logNormal(median: .milliseconds(5), p99: .milliseconds(40))
        let samples = (0..<20_000).map { _ in distribution.sample(using: &rng).seconds }.sorted()
        #expect(abs(samples[10_000] - 0.005) < 0.0005)
        #expect(abs(samples[19_800] - 0.040) < 0.006)
    }

    @Test func uniformSamplesStayInTheirBounds() {
        var rng = SplitMix64(seed: 2)
        let distribution = LatencyDistribution.uniform(.milliseconds(2), .milliseconds(8))
        for _ in 0..<1000 {
            let sample = distribution.sample(using: &rng).seconds
            #expect((0.002...0.008).contains(sample))
        }
    }
}
