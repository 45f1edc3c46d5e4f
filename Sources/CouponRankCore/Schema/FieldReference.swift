/// A numeric input of the schema, resolved once when the schema is compiled.
enum NumericField: Sendable, Hashable {
    case user(String)
    case discountRate
    case minimumSpend
    case daysToExpiry
    case couponAttribute(String)
    case ctr
    case cvr

    init(parsing name: String) throws(SchemaError) {
        switch FieldName(name) {
        case .user(let field): self = .user(field)
        case .coupon("discount_rate"): self = .discountRate
        case .coupon("min_spend"): self = .minimumSpend
        case .coupon("days_to_expiry"): self = .daysToExpiry
        case .coupon("category"), .coupon("shop"), .coupon("id"), .coupon("name"):
            throw SchemaError("field '\(name)' is categorical, not numeric")
        case .coupon(let attribute): self = .couponAttribute(attribute)
        case .stats("ctr"): self = .ctr
        case .stats("cvr"): self = .cvr
        case .stats, .invalid: throw SchemaError("unknown numeric field '\(name)'")
        }
    }

    /// Same value for every candidate of a request.
    var isPerUser: Bool {
        if case .user = self { true } else { false }
    }

    /// Reads through a pointer so that only the field, never the whole coupon, is copied.
    @inline(__always)
    func value(user: borrowing UserFeatures, coupon: UnsafePointer<Coupon>, stats: CouponStats) -> Double? {
        switch self {
        case .user(let name): user.numeric[name]
        case .discountRate: coupon.pointee.discountRate
        case .minimumSpend: coupon.pointee.minimumSpend
        case .daysToExpiry: coupon.pointee.daysToExpiry
        case .couponAttribute(let name): coupon.pointee.numericAttributes[name]
        case .ctr: stats.ctr
        case .cvr: stats.cvr
        }
    }

    /// Whether the row loop needs the coupon's statistics.
    var readsStats: Bool {
        switch self {
        case .ctr, .cvr: true
        default: false
        }
    }
}

/// A categorical input of the schema, resolved once when the schema is compiled.
enum CategoricalField: Sendable, Hashable {
    case user(String)
    case category
    case shop
    case couponLabel(String)

    init(parsing name: String) throws(SchemaError) {
        switch FieldName(name) {
        case .user(let field): self = .user(field)
        case .coupon("category"): self = .category
        case .coupon("shop"): self = .shop
        case .coupon("discount_rate"), .coupon("min_spend"), .coupon("days_to_expiry"):
            throw SchemaError("field '\(name)' is numeric, not categorical")
        case .coupon(let label): self = .couponLabel(label)
        case .stats, .invalid: throw SchemaError("unknown categorical field '\(name)'")
        }
    }

    var isPerUser: Bool {
        if case .user = self { true } else { false }
    }

    @inline(__always)
    func value(user: borrowing UserFeatures, coupon: UnsafePointer<Coupon>) -> String? {
        switch self {
        case .user(let name): user.categorical[name]
        case .category: coupon.pointee.category
        case .shop: coupon.pointee.shop
        case .couponLabel(let name): coupon.pointee.labels[name]
        }
    }
}

/// `scope.name`, split.
private enum FieldName {
    case user(String)
    case coupon(String)
    case stats(String)
    case invalid

    init(_ name: String) {
        guard let dot = name.firstIndex(of: "."), name.index(after: dot) != name.endIndex else {
            self = .invalid
            return
        }
        let field = String(name[name.index(after: dot)...])
        switch name[..<dot] {
        case "user": self = .user(field)
        case "coupon": self = .coupon(field)
        case "stats": self = .stats(field)
        default: self = .invalid
        }
    }
}

/// A schema that cannot be compiled.
public struct SchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
