public import CouponRankCore
import Foundation

/// The model shipped inside the engine, served when no other model is available.
///
/// `Resources/default-model.json` was produced by `couponrank model synthesize` (a LinUCB fit
/// on simulated impressions of the stub data) over ``schema``.
public enum BundledModel {
    /// The model, parsed and validated.
    public static func load() throws(ModelError) -> ScoringModel {
        guard let url = Bundle.module.url(forResource: "default-model", withExtension: "json") else {
            throw ModelError("the bundled default-model.json is missing from the build")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelError("cannot read the bundled model: \(error.localizedDescription)")
        }
        return try ModelFile.decode(data)
    }

    /// The feature schema of the bundled model: 64 columns over the stub data's fields.
    public static let schema = FeatureSchema(features: [
        .bias,
        .numeric(field: "user.age", transform: .identity, mean: 46, std: 17),
        .numeric(field: "user.tenure_days", transform: .log1p, mean: 6, std: 2),
        .numeric(field: "user.purchases_90d", transform: .log1p, mean: 1.2, std: 1.1),
        .numeric(field: "user.avg_order_value", transform: .log1p, mean: 8, std: 0.6),
        .oneHot(field: "user.segment", vocabulary: ["new", "regular", "vip", "dormant"]),
        .oneHot(field: "user.device", vocabulary: ["ios", "android", "web"]),
        .hashed(field: "user.region", buckets: 4),
        .oneHot(
            field: "coupon.category",
            vocabulary: [
                "fashion", "electronics", "grocery", "beauty", "travel",
                "home", "sports", "books", "kids", "pets",
            ]
        ),
        .numeric(field: "coupon.discount_rate", transform: .identity, mean: 0.275, std: 0.144),
        .numeric(field: "coupon.min_spend", transform: .log1p, mean: 6.3, std: 3.4),
        .numeric(field: "coupon.days_to_expiry", transform: .identity, mean: 30.5, std: 17.3),
        .hashed(field: "coupon.shop", buckets: 8),
        .cross(left: "user.preferred_category", right: "coupon.category", buckets: 15),
        .cross(left: "user.segment", right: "coupon.category", buckets: 8),
        .product(left: "user.avg_order_value", right: "coupon.min_spend", transform: .log1p, mean: 14.3, std: 3.5),
        .numeric(field: "stats.ctr", transform: .identity, mean: 0.03, std: 0.03),
        .numeric(field: "stats.cvr", transform: .identity, mean: 0.003, std: 0.003),
        .product(left: "user.purchases_90d", right: "coupon.discount_rate", transform: .identity, mean: 1.6, std: 2.5),
    ])
}
