public import CouponRankCore

/// The JSON bodies of proto-spec/UPSTREAMS.md.
public enum UpstreamPayloads {
    public struct UserFeaturesBody: Codable, Sendable {
        public var easyID: String
        public var numeric: [String: Double]
        public var categorical: [String: String]

        enum CodingKeys: String, CodingKey {
            case easyID = "easy_id"
            case numeric, categorical
        }

        public init(easyID: String, features: UserFeatures) {
            self.easyID = easyID
            self.numeric = features.numeric
            self.categorical = features.categorical
        }

        public var features: UserFeatures { UserFeatures(numeric: numeric, categorical: categorical) }
    }

    public struct CouponBody: Codable, Sendable {
        public var id: String
        public var name: String
        public var category: String
        public var shop: String
        public var discountRate: Double
        public var minSpend: Double
        public var daysToExpiry: Double
        public var attributes: [String: Double]?
        public var labels: [String: String]?

        enum CodingKeys: String, CodingKey {
            case id, name, category, shop
            case discountRate = "discount_rate"
            case minSpend = "min_spend"
            case daysToExpiry = "days_to_expiry"
            case attributes, labels
        }

        public init(_ coupon: Coupon) {
            self.id = coupon.id
            self.name = coupon.name
            self.category = coupon.category
            self.shop = coupon.shop
            self.discountRate = coupon.discountRate
            self.minSpend = coupon.minimumSpend
            self.daysToExpiry = coupon.daysToExpiry
            self.attributes = coupon.numericAttributes.isEmpty ? nil : coupon.numericAttributes
            self.labels = coupon.labels.isEmpty ? nil : coupon.labels
        }

        public var coupon: Coupon {
            Coupon(
                id: id,
                name: name,
                category: category,
                shop: shop,
                discountRate: discountRate,
                minimumSpend: minSpend,
                daysToExpiry: daysToExpiry,
                numericAttributes: attributes ?? [:],
                labels: labels ?? [:]
            )
        }
    }

    public struct CouponsBody: Codable, Sendable {
        public var easyID: String
        public var coupons: [CouponBody]

        enum CodingKeys: String, CodingKey {
            case easyID = "easy_id"
            case coupons
        }

        public init(easyID: String, coupons: [Coupon]) {
            self.easyID = easyID
            self.coupons = coupons.map(CouponBody.init)
        }
    }

    public struct StatBody: Codable, Sendable {
        public var couponID: String
        public var ctr: Double
        public var cvr: Double

        enum CodingKeys: String, CodingKey {
            case couponID = "coupon_id"
            case ctr, cvr
        }
    }

    public struct StatsBody: Codable, Sendable {
        public var easyID: String
        public var stats: [StatBody]

        enum CodingKeys: String, CodingKey {
            case easyID = "easy_id"
            case stats
        }

        public init(easyID: String, table: CouponStatsTable) {
            self.easyID = easyID
            self.stats = zip(table.couponIDs, table.entries).map { StatBody(couponID: $0, ctr: $1.ctr, cvr: $1.cvr) }
        }

        public var table: CouponStatsTable {
            CouponStatsTable(couponIDs: stats.map(\.couponID), entries: stats.map { CouponStats(ctr: $0.ctr, cvr: $0.cvr) })
        }
    }
}
