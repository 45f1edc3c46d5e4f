/// A rules document as published (proto-spec/RULES.md §2): eligibility rules, diversity caps
/// and a frequency cap, versioned like a model.
public struct RulesDocument: Sendable, Hashable, Codable {
    public static let formatName = "couponrank-rules"
    public static let currentFormatVersion = 1
    /// The most rules one document may hold.
    public static let maximumRules = 1000
    /// The most values one `in` list may hold.
    public static let maximumListValues = 10_000

    public struct Rule: Sendable, Hashable, Codable {
        /// Unique in the document; reported with the candidates it removed.
        public var name: String
        /// A condition on user fields only; the rule applies to every user when absent.
        public var when: String?
        /// A condition on coupon fields: the candidates it holds for are removed.
        public var exclude: String
        public var description: String?

        public init(name: String, when: String? = nil, exclude: String, description: String? = nil) {
            self.name = name
            self.when = when
            self.exclude = exclude
            self.description = description
        }
    }

    public var format: String
    public var formatVersion: Int
    public var version: String
    public var createdAt: String?
    public var description: String?
    /// The user fields and the coupon attributes beyond the built-in ones that rules may read,
    /// with their types.
    public var fields: [String: RuleFieldType]
    public var rules: [Rule]
    public var diversity: DiversityCaps?
    public var frequencyCap: FrequencyCap?

    public init(
        version: String,
        createdAt: String? = nil,
        description: String? = nil,
        fields: [String: RuleFieldType] = [:],
        rules: [Rule],
        diversity: DiversityCaps? = nil,
        frequencyCap: FrequencyCap? = nil
    ) {
        self.format = Self.formatName
        self.formatVersion = Self.currentFormatVersion
        self.version = version
        self.createdAt = createdAt
        self.description = description
        self.fields = fields
        self.rules = rules
        self.diversity = diversity
        self.frequencyCap = frequencyCap
    }

    enum CodingKeys: String, CodingKey {
        case format
        case formatVersion = "format_version"
        case version
        case createdAt = "created_at"
        case description
        case fields
        case rules
        case diversity
        case frequencyCap = "frequency_cap"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.format = try container.decode(String.self, forKey: .format)
        self.formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        self.version = try container.decode(String.self, forKey: .version)
        self.createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt)
        self.description = try container.decodeIfPresent(String.self, forKey: .description)
        self.fields = try container.decodeIfPresent([String: RuleFieldType].self, forKey: .fields) ?? [:]
        self.rules = try container.decodeIfPresent([Rule].self, forKey: .rules) ?? []
        self.diversity = try container.decodeIfPresent(DiversityCaps.self, forKey: .diversity)
        self.frequencyCap = try container.decodeIfPresent(FrequencyCap.self, forKey: .frequencyCap)
    }
}

/// How many coupons of one shop or one category may share a ranking (RULES.md §5).
public struct DiversityCaps: Sendable, Hashable, Codable {
    /// At most this many shown coupons of one shop; `nil` or 0: no cap.
    public var maximumPerShop: Int?
    /// At most this many shown coupons of one category; `nil` or 0: no cap.
    public var maximumPerCategory: Int?

    public init(maximumPerShop: Int? = nil, maximumPerCategory: Int? = nil) {
        self.maximumPerShop = maximumPerShop
        self.maximumPerCategory = maximumPerCategory
    }

    public static let none = DiversityCaps()

    enum CodingKeys: String, CodingKey {
        case maximumPerShop = "max_per_shop"
        case maximumPerCategory = "max_per_category"
    }

    /// Whether any cap is set.
    public var isActive: Bool { (maximumPerShop ?? 0) > 0 || (maximumPerCategory ?? 0) > 0 }

    /// The stricter of these caps (the rules') and `other` (a request's), cap by cap: a caller
    /// may tighten what marketing set, never loosen it.
    public func tightened(by other: DiversityCaps) -> DiversityCaps {
        func stricter(_ a: Int?, _ b: Int?) -> Int? {
            switch (a.flatMap { $0 > 0 ? $0 : nil }, b.flatMap { $0 > 0 ? $0 : nil }) {
            case (let a?, let b?): min(a, b)
            case (let a?, nil): a
            case (nil, let b): b
            }
        }
        return DiversityCaps(
            maximumPerShop: stricter(maximumPerShop, other.maximumPerShop),
            maximumPerCategory: stricter(maximumPerCategory, other.maximumPerCategory)
        )
    }
}

/// Demotes a coupon the user has been shown too often (RULES.md §6).
public struct FrequencyCap: Sendable, Hashable, Codable {
    /// A coupon shown to the user this many times or more in the window goes after every coupon
    /// that has not been.
    public var maximumImpressions: Int
    /// The window, in hours; counted in whole clock hours (RULES.md §6).
    public var windowHours: Int

    public init(maximumImpressions: Int, windowHours: Int) {
        self.maximumImpressions = maximumImpressions
        self.windowHours = windowHours
    }

    enum CodingKeys: String, CodingKey {
        case maximumImpressions = "max_impressions"
        case windowHours = "window_hours"
    }
}
