import CouponRankCore

/// A three-column schema whose contexts are easy to compute by hand:
/// `[1, (user.x - 1) / 2, coupon.discount_rate]`.
let tinySchema = FeatureSchema(features: [
    .bias,
    .numeric(field: "user.x", transform: .identity, mean: 1, std: 2),
    .numeric(field: "coupon.discount_rate", transform: .identity, mean: 0, std: 1),
])

func coupon(_ id: String, discount: Double = 0.1, category: String = "books", shop: String = "shop-0001") -> Coupon {
    Coupon(
        id: id,
        name: "coupon \(id)",
        category: category,
        shop: shop,
        discountRate: discount,
        minimumSpend: 1000,
        daysToExpiry: 10
    )
}

func tinyDefinition(_ kind: ModelKind) -> ModelDefinition {
    ModelDefinition(
        version: "tiny-\(kind.rawValue)",
        createdAt: "2026-11-24T00:00:00Z",
        kind: kind,
        alpha: kind == .linucb ? 0.5 : 0,
        features: tinySchema,
        theta: [0.5, -1, 2],
        aInverse: kind == .linucb ? [2, 0.5, 0, 0.5, 1, 0, 0, 0, 0.25] : []
    )
}

func tinyModel(_ kind: ModelKind) throws -> ScoringModel {
    try ScoringModel(tinyDefinition(kind))
}
