/// The type of a field a rule reads (proto-spec/RULES.md §3).
public enum RuleFieldType: String, Sendable, Hashable, Codable {
    case number
    case string
}

/// A field a rule reads, resolved once when the rules are compiled.
enum RuleField: Sendable, Hashable, CustomStringConvertible {
    case userNumber(String)
    case userString(String)
    case couponID
    case couponName
    case category
    case shop
    case discountRate
    case minimumSpend
    case daysToExpiry
    case couponNumber(String)
    case couponLabel(String)

    /// The coupon fields every rules document may read without declaring them.
    static let builtIn: [String: RuleField] = [
        "coupon.id": .couponID,
        "coupon.name": .couponName,
        "coupon.category": .category,
        "coupon.shop": .shop,
        "coupon.discount_rate": .discountRate,
        "coupon.min_spend": .minimumSpend,
        "coupon.days_to_expiry": .daysToExpiry,
    ]

    /// `name` as a built-in field or as `declared` types it; `nil` when it is neither.
    static func resolve(_ name: String, declared: [String: RuleFieldType]) throws(RulesError) -> RuleField? {
        if let field = builtIn[name] { return field }
        guard let type = declared[name] else { return nil }
        if let field = name.dropPrefix("user.") {
            return type == .number ? .userNumber(field) : .userString(field)
        }
        if let field = name.dropPrefix("coupon.") {
            return type == .number ? .couponNumber(field) : .couponLabel(field)
        }
        return nil
    }

    var type: RuleFieldType {
        switch self {
        case .userNumber, .discountRate, .minimumSpend, .daysToExpiry, .couponNumber: .number
        case .userString, .couponID, .couponName, .category, .shop, .couponLabel: .string
        }
    }

    var isUserField: Bool {
        switch self {
        case .userNumber, .userString: true
        default: false
        }
    }

    var description: String {
        switch self {
        case .userNumber(let name), .userString(let name): "user." + name
        case .couponID: "coupon.id"
        case .couponName: "coupon.name"
        case .category: "coupon.category"
        case .shop: "coupon.shop"
        case .discountRate: "coupon.discount_rate"
        case .minimumSpend: "coupon.min_spend"
        case .daysToExpiry: "coupon.days_to_expiry"
        case .couponNumber(let name), .couponLabel(let name): "coupon." + name
        }
    }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        guard hasPrefix(prefix), count > prefix.count else { return nil }
        return String(dropFirst(prefix.count))
    }
}

/// A rules document that cannot be compiled, or a rule in it that cannot.
public struct RulesError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
