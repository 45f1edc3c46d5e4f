/// The ordered features of a model: together they define the context vector, column by column.
public struct FeatureSchema: Sendable, Hashable, Codable {
    public var features: [FeatureSpec]

    public init(features: [FeatureSpec]) {
        self.features = features
    }

    /// Total number of context columns, `d`.
    public var dimension: Int {
        features.reduce(0) { $0 + $1.width }
    }

    public init(from decoder: any Decoder) throws {
        self.features = try [FeatureSpec](from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try features.encode(to: encoder)
    }
}
