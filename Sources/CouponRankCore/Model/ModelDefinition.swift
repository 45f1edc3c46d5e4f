/// A model as trainers publish it: metadata, feature schema and parameters (proto-spec/MODEL.md).
public struct ModelDefinition: Sendable, Hashable, Codable {
    /// The document format: 1, or 2 which may declare ``exploration``.
    public var format: Int
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
    /// How rankings explore; always greedy in format 1.
    public var exploration: ExplorationPolicy
    /// Where a trained model came from; absent in hand-made documents.
    public var lineage: ModelLineage?

    public static let currentFormat = 2

    public init(
        format: Int = ModelDefinition.currentFormat,
        version: String,
        createdAt: String,
        kind: ModelKind,
        alpha: Double = 0,
        features: FeatureSchema,
        theta: [Double],
        aInverse: [Double] = [],
        exploration: ExplorationPolicy = .greedy,
        lineage: ModelLineage? = nil
    ) {
        self.format = format
        self.version = version
        self.createdAt = createdAt
        self.kind = kind
        self.alpha = alpha
        self.features = features
        self.theta = theta
        self.aInverse = aInverse
        self.exploration = exploration
        self.lineage = lineage
    }

    enum CodingKeys: String, CodingKey {
        case format
        case version
        case createdAt = "created_at"
        case kind
        case alpha
        case features
        case theta
        case aInverse = "a_inverse"
        case exploration
        case lineage
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.format = try container.decodeIfPresent(Int.self, forKey: .format) ?? 1
        self.version = try container.decode(String.self, forKey: .version)
        self.createdAt = try container.decode(String.self, forKey: .createdAt)
        self.kind = try container.decode(ModelKind.self, forKey: .kind)
        self.alpha = try container.decodeIfPresent(Double.self, forKey: .alpha) ?? 0
        self.features = try container.decode(FeatureSchema.self, forKey: .features)
        self.theta = try container.decode([Double].self, forKey: .theta)
        self.aInverse = try container.decodeIfPresent([Double].self, forKey: .aInverse) ?? []
        // Format 1 has no exploration: an `exploration` key there is an unknown key, ignored.
        self.exploration = format >= 2 ? try container.decodeIfPresent(ExplorationPolicy.self, forKey: .exploration) ?? .greedy : .greedy
        // Informational: a lineage of another shape (another trainer's) is not a reason to refuse a model.
        self.lineage = try? container.decodeIfPresent(ModelLineage.self, forKey: .lineage)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if format != 1 { try container.encode(format, forKey: .format) }
        try container.encode(version, forKey: .version)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(kind, forKey: .kind)
        if kind == .linucb || alpha != 0 { try container.encode(alpha, forKey: .alpha) }
        try container.encode(features, forKey: .features)
        try container.encode(theta, forKey: .theta)
        if !aInverse.isEmpty { try container.encode(aInverse, forKey: .aInverse) }
        if format >= 2, exploration != .greedy { try container.encode(exploration, forKey: .exploration) }
        try container.encodeIfPresent(lineage, forKey: .lineage)
    }
}

/// A trained model's provenance (MODEL.md §1): informational, engines only show it.
public struct ModelLineage: Sendable, Hashable, Codable {
    /// The version serving when this one was trained, if any.
    public var parent: String?
    /// The trainer's consumer group and partitions that produced it.
    public var trainer: String
    /// Closed decisions and item updates the statistics hold, over every partition.
    public var decisions: Int
    public var itemUpdates: Int
    /// Rewards of the target kind joined in those decisions.
    public var rewards: Int
    /// The last stream entry id each partition had consumed, by stream key.
    public var streamPositions: [String: String]

    public init(parent: String?, trainer: String, decisions: Int, itemUpdates: Int, rewards: Int, streamPositions: [String: String]) {
        self.parent = parent
        self.trainer = trainer
        self.decisions = decisions
        self.itemUpdates = itemUpdates
        self.rewards = rewards
        self.streamPositions = streamPositions
    }

    enum CodingKeys: String, CodingKey {
        case parent
        case trainer
        case decisions
        case itemUpdates = "item_updates"
        case rewards
        case streamPositions = "stream_positions"
    }
}

/// A model definition that cannot be served.
public struct ModelError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
