/// One candidate coupon with the attributes the feature schema can read.
///
/// The well-known attributes are stored fields (`coupon.category`, `coupon.shop`,
/// `coupon.discount_rate`, `coupon.min_spend`, `coupon.days_to_expiry`) so that context building
/// reads them without a dictionary lookup; anything else travels in ``numericAttributes`` and
/// ``labels``.
///
/// Immutable, and stored behind one reference: a candidate list is copied between sources,
/// filters and the ranker on every request, and a copy then costs one retain instead of one per
/// string and dictionary.
public struct Coupon: Sendable, Hashable {
    private final class Storage: Sendable {
        let id: String
        let name: String
        let category: String
        let shop: String
        let discountRate: Double
        let minimumSpend: Double
        let daysToExpiry: Double
        let numericAttributes: [String: Double]
        let labels: [String: String]

        init(
            id: String,
            name: String,
            category: String,
            shop: String,
            discountRate: Double,
            minimumSpend: Double,
            daysToExpiry: Double,
            numericAttributes: [String: Double],
            labels: [String: String]
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

    private let storage: Storage

    public var id: String { storage.id }
    public var name: String { storage.name }
    public var category: String { storage.category }
    public var shop: String { storage.shop }
    /// Fraction off the price, in `0...1`.
    public var discountRate: Double { storage.discountRate }
    /// Minimum basket value for the coupon to apply, in yen.
    public var minimumSpend: Double { storage.minimumSpend }
    public var daysToExpiry: Double { storage.daysToExpiry }
    public var numericAttributes: [String: Double] { storage.numericAttributes }
    public var labels: [String: String] { storage.labels }

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
        self.storage = Storage(
            id: id,
            name: name,
            category: category,
            shop: shop,
            discountRate: discountRate,
            minimumSpend: minimumSpend,
            daysToExpiry: daysToExpiry,
            numericAttributes: numericAttributes,
            labels: labels
        )
    }

    public static func == (lhs: Coupon, rhs: Coupon) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.id == rhs.id && lhs.name == rhs.name && lhs.category == rhs.category && lhs.shop == rhs.shop
                && lhs.discountRate == rhs.discountRate && lhs.minimumSpend == rhs.minimumSpend
                && lhs.daysToExpiry == rhs.daysToExpiry && lhs.numericAttributes == rhs.numericAttributes
                && lhs.labels == rhs.labels)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(name)
        hasher.combine(discountRate)
    }
}
