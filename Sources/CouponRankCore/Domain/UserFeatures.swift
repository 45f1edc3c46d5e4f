/// What the user-features source knows about one visitor.
///
/// Fields are open-ended: the model's feature schema names the ones it reads
/// (`user.<name>`), so a new model can use a new field without an engine release.
public struct UserFeatures: Sendable, Hashable {
    public var numeric: [String: Double]
    public var categorical: [String: String]

    public init(numeric: [String: Double] = [:], categorical: [String: String] = [:]) {
        self.numeric = numeric
        self.categorical = categorical
    }

    /// Used when the user-features source fails or times out: every field missing.
    ///
    /// A missing numeric field contributes its schema mean (0 after standardisation) and a missing
    /// categorical field sets no one-hot or hashed slot, so the ranking falls back to coupon
    /// attributes and statistics alone.
    public static let unknown = UserFeatures()
}
