import CouponRankCore
import Testing

@Suite struct FeatureHashTests {
    @Test(arguments: [
        ("", 0xcbf2_9ce4_8422_2325 as UInt64),
        ("a", 0xaf63_dc4c_8601_ec8c),
        ("foobar", 0x8594_4171_f739_67e8),
    ])
    func matchesPublishedFNV1a64Vectors(input: String, expected: UInt64) {
        var hash = FeatureHash()
        hash.combine(input)
        #expect(hash.value == expected)
    }

    @Test func crossHashesLeftSeparatorRight() {
        var hash = FeatureHash()
        hash.combine("vip\u{1F}books")
        #expect(FeatureHash.bucket(crossing: "vip", with: "books", buckets: 1000) == hash.bucket(1000))
        #expect(FeatureHash.bucket(crossing: "vip", with: "books", buckets: 1000) != FeatureHash.bucket(crossing: "books", with: "vip", buckets: 1000))
    }
}
