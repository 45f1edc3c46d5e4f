import CouponRankCore
import CouponRankSources
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
