/// One candidate coupon with the attributes the feature schema can read.
///
/// The well-known attributes are stored fields (`coupon.category`, `coupon.shop`,
/// `coupon.discount_rate`, `coupon.min_spend`, `coupon.days_to_expiry`) so that context building
/// reads them without a dictionary lookup; anything else travels in ``numericAttributes`` and
/// ``labels``.
public struct Coupon: Sendable, Hashable {
    public var id: String
    public var name: String
    public var category: String
    public var shop: String
    /// Fraction off the price, in `0...1`.
    public var discountRate: Double
    /// Minimum basket value for the coupon to apply, in yen.
    public var minimumSpend: Double
    public var daysToExpiry: Double
    public var numericAttributes: [String: Double]
    public var labels: [String: String]

    public init(
        id: String,
        name: String,
        category: String,
        shop: String,
        discountRate: Double,
        minimumSpend: Double,
        daysToExpiry: Double,
        numericAttributes: [String: Double] = [:],
        labels: [String: String] = [:]
    ) {
        self.id = id
        self.name = name
        self.category = category
        self.shop = shop
        self.discountRate = discountRate
        self.minimumSpend = minimumSpend
        self.daysToExpiry = daysToExpiry
        self.numericAttributes = numericAttributes
        self.labels = labels
    }
}
