/// Sources whose answer was replaced by documented defaults.
public struct DegradedSources: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// ``CouponRankCore/UserFeatures/unknown`` was used.
    public static let userFeatures = DegradedSources(rawValue: 1 << 0)
    /// ``CouponRankCore/CouponStats/prior`` was used for every coupon.
    public static let stats = DegradedSources(rawValue: 1 << 1)

    public var names: [String] {
        var names: [String] = []
        if contains(.userFeatures) { names.append("user_features") }
        if contains(.stats) { names.append("stats") }
        return names
    }
}
