/// A model as trainers publish it: metadata, feature schema and parameters (proto-spec/MODEL.md).
public struct ModelDefinition: Sendable, Hashable, Codable {
    public var version: String
    /// RFC 3339 timestamp of training.
    public var createdAt: String
    public var kind: ModelKind
    /// Exploration weight of LinUCB; ignored by logistic models.
    public var alpha: Double
    public var features: FeatureSchema
    /// Weights, one per context column.
    public var theta: [Double]
    /// `A⁻¹`, `d × d`, row-major; empty for logistic models.
    public var aInverse: [Double]

    public init(
        version: String,
        createdAt: String,
        kind: ModelKind,
        alpha: Double = 0,
        features: FeatureSchema,
        theta: [Double],
        aInverse: [Double] = []
    ) {
        self.version = version
        self.createdAt = createdAt
        self.kind = kind
        self.alpha = alpha
        self.features = features
        self.theta = theta
        self.aInverse = aInverse
    }

    enum CodingKeys: String, CodingKey {
        case version
        case createdAt = "created_at"
        case kind
        case alpha
        case features
        case theta
        case aInverse = "a_inverse"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.version = try container.decode(String.self, forKey: .version)
        self.createdAt = try container.decode(String.self, forKey: .createdAt)
        self.kind = try container.decode(ModelKind.self, forKey: .kind)
        self.alpha = try container.decodeIfPresent(Double.self, forKey: .alpha) ?? 0
        self.features = try container.decode(FeatureSchema.self, forKey: .features)
        self.theta = try container.decode([Double].self, forKey: .theta)
        self.aInverse = try container.decodeIfPresent([Double].self, forKey: .aInverse) ?? []
    }
}

/// A model definition that cannot be served.
public struct ModelError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
