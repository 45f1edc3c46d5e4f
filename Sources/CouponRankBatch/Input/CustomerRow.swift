public import CouponRankCore

/// One customer to rank, as read from the input.
public struct CustomerRow: Sendable, Hashable {
    /// The line of the input where the row starts (the header is line 1).
    public var line: Int
    public var easyID: String
    /// The user features given as columns; `nil` when the file has only `easy_id`, and the
    /// engine's user-features source is asked as online.
    public var features: UserFeatures?

    public init(line: Int, easyID: String, features: UserFeatures? = nil) {
        self.line = line
        self.easyID = easyID
        self.features = features
    }
}
