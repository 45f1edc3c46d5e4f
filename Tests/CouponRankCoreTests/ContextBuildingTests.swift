import CouponRankCore
import Testing

@Suite struct ContextBuildingTests {
    let user = UserFeatures(
        numeric: ["x": 5, "spend": 99],
        categorical: ["segment": "vip", "favourite": "books"]
    )

    private func denseRow(_ features: [FeatureSpec], coupon: Coupon, stats: CouponStatsTable = .empty) throws -> [Double] {
        let schema = try CompiledSchema(FeatureSchema(features: features))
        let batch = schema.makeContexts(user: user, candidates: [coupon], stats: stats)
        #expect(batch.count == 1)
        #expect(batch.dimension == schema.dimension)
        return batch.denseRow(0)
    }

    @Test func biasIsOne() throws {
        #expect(try denseRow([.bias], coupon: coupon("C1")) == [1])
    }

    @Test func numericIsStandardisedAfterItsTransform() throws {
        let row = try denseRow(
            [
                .numeric(field: "user.x", transform: .identity, mean: 1, std: 2),
                .numeric(field: "user.spend", transform: .log1p, mean: 0, std: 1),
                .numeric(field: "coupon.discount_rate", transform: .identity, mean: 0.2, std: 0.1),
            ],
            coupon: coupon("C1", discount: 0.5)
        )
        #expect(row[0] == 2)
        #expect(abs(row[1] - 4.605170185988092) < 1e-12)  // log(100)
        #expect(abs(row[2] - 3) < 1e-12)
    }

    @Test func missingNumericFieldContributesZero() throws {
        let row = try denseRow(
            [.numeric(field: "user.unknown", transform: .identity, mean: 3, std: 2),
             .numeric(field: "coupon.unknown_attribute", transform: .identity, mean: 3, std: 2)],
            coupon: coupon("C1")
        )
        #expect(row == [0, 0])
    }

    @Test func statsFieldsReadTheCouponsRowOrThePrior() throws {
        let features: [FeatureSpec] = [
            .numeric(field: "stats.ctr", transform: .identity, mean: 0, std: 1),
            .numeric(field: "stats.cvr", transform: .identity, mean: 0, std: 1),
        ]
        let stats = CouponStatsTable(["C1": CouponStats(ctr: 0.25, cvr: 0.05)])
        #expect(try denseRow(features, coupon: coupon("C1"), stats: stats) == [0.25, 0.05])
        #expect(try denseRow(features, coupon: coupon("C2"), stats: stats) == [CouponStats.prior.ctr, CouponStats.prior.cvr])
    }

    @Test func oneHotSetsTheVocabularySlotOrNothing() throws {
        let features: [FeatureSpec] = [
            .oneHot(field: "user.segment", vocabulary: ["new", "vip"]),
            .oneHot(field: "coupon.category", vocabulary: ["books", "food", "toys"]),
        ]
        #expect(try denseRow(features, coupon: coupon("C1", category: "toys")) == [0, 1, 0, 0, 1])
        #expect(try denseRow(features, coupon: coupon("C1", category: "garden")) == [0, 1, 0, 0, 0])
    }

    @Test func hashedSetsTheFNVBucket() throws {
        let row = try denseRow([.hashed(field: "coupon.shop", buckets: 7)], coupon: coupon("C1", shop: "shop-0042"))
        var expected = [Double](repeating: 0, count: 7)
        expected[FeatureHash.bucket(of: "shop-0042", buckets: 7)] = 1
        #expect(row == expected)
    }

    @Test func crossOfUserAndCouponFieldsHashesBothValues() throws {
        let row = try denseRow(
            [.cross(left: "user.favourite", right: "coupon.category", buckets: 11)],
            coupon: coupon("C1", category: "food")
        )
        var expected = [Double](repeating: 0, count: 11)
        expected[FeatureHash.bucket(crossing: "books", with: "food", buckets: 11)] = 1
        #expect(row == expected)
    }

    @Test func crossOfTwoCouponFieldsAndOfTwoUserFields() throws {
        let row = try denseRow(
            [
                .cross(left: "coupon.category", right: "coupon.shop", buckets: 5),
                .cross(left: "user.segment", right: "user.favourite", buckets: 5),
            ],
            coupon: coupon("C1", category: "food", shop: "s9")
        )
        var expected = [Double](repeating: 0, count: 10)
        expected[FeatureHash.bucket(crossing: "food", with: "s9", buckets: 5)] = 1
        expected[5 + FeatureHash.bucket(crossing: "vip", with: "books", buckets: 5)] = 1
        #expect(row == expected)
    }

    @Test func crossWithAMissingSideSetsNothing() throws {
        let row = try denseRow([.cross(left: "user.absent", right: "coupon.category", buckets: 4)], coupon: coupon("C1"))
        #expect(row == [0, 0, 0, 0])
    }

    @Test func productMultipliesRawValuesThenTransformsAndStandardises() throws {
        let row = try denseRow(
            [.product(left: "user.x", right: "coupon.discount_rate", transform: .identity, mean: 1, std: 0.5)],
            coupon: coupon("C1", discount: 0.4)
        )
        #expect(abs(row[0] - 2) < 1e-12)  // (5 × 0.4 - 1) / 0.5
    }

    @Test func userColumnsAreSharedAndCouponColumnsArePerRow() throws {
        let schema = try CompiledSchema(tinySchema)
        let batch = schema.makeContexts(
            user: UserFeatures(numeric: ["x": 5]),
            candidates: [coupon("C1", discount: 0.5), coupon("C2", discount: 0.25)],
            stats: .empty
        )
        #expect(batch.shared == [1, 2, 0])
        #expect(batch.entriesPerRow == 1)
        #expect(batch.denseMatrix() == [1, 2, 0.5, 1, 2, 0.25])
    }

    @Test(arguments: [
        FeatureSchema(features: [.numeric(field: "user.x", transform: .identity, mean: 0, std: 0)]),
        FeatureSchema(features: [.hashed(field: "coupon.shop", buckets: 0)]),
        FeatureSchema(features: [.oneHot(field: "coupon.category", vocabulary: ["a", "a"])]),
        FeatureSchema(features: [.numeric(field: "coupon.category", transform: .identity, mean: 0, std: 1)]),
        FeatureSchema(features: [.hashed(field: "stats.ctr", buckets: 2)]),
        FeatureSchema(features: [.numeric(field: "weather.today", transform: .identity, mean: 0, std: 1)]),
        FeatureSchema(features: []),
    ])
    func invalidSchemasAreRejected(schema: FeatureSchema) {
        #expect(throws: SchemaError.self) { try CompiledSchema(schema) }
    }
}
