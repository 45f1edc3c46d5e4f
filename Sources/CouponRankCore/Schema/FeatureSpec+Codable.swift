extension FeatureSpec: Codable {
    private enum CodingKeys: String, CodingKey {
        case kind, field, fields, transform, mean, std, vocabulary, buckets
    }

    private enum Kind: String, Codable {
        case bias, numeric, onehot, hashed, cross, product
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .kind) {
        case .bias:
            self = .bias
        case .numeric:
            self = .numeric(
                field: try container.decode(String.self, forKey: .field),
                transform: try container.decodeIfPresent(NumericTransform.self, forKey: .transform) ?? .identity,
                mean: try container.decodeIfPresent(Double.self, forKey: .mean) ?? 0,
                std: try container.decodeIfPresent(Double.self, forKey: .std) ?? 1
            )
        case .onehot:
            self = .oneHot(
                field: try container.decode(String.self, forKey: .field),
                vocabulary: try container.decode([String].self, forKey: .vocabulary)
            )
        case .hashed:
            self = .hashed(
                field: try container.decode(String.self, forKey: .field),
                buckets: try container.decode(Int.self, forKey: .buckets)
            )
        case .cross:
            let (left, right) = try Self.decodePair(container)
            self = .cross(left: left, right: right, buckets: try container.decode(Int.self, forKey: .buckets))
        case .product:
            let (left, right) = try Self.decodePair(container)
            self = .product(
                left: left,
                right: right,
                transform: try container.decodeIfPresent(NumericTransform.self, forKey: .transform) ?? .identity,
                mean: try container.decodeIfPresent(Double.self, forKey: .mean) ?? 0,
                std: try container.decodeIfPresent(Double.self, forKey: .std) ?? 1
            )
        }
    }

    private static func decodePair(_ container: KeyedDecodingContainer<CodingKeys>) throws -> (String, String) {
        let fields = try container.decode([String].self, forKey: .fields)
        guard fields.count == 2 else {
            throw DecodingError.dataCorruptedError(
                forKey: .fields,
                in: container,
                debugDescription: "expected exactly two fields, got \(fields.count)"
            )
        }
        return (fields[0], fields[1])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .bias:
            try container.encode(Kind.bias, forKey: .kind)
        case .numeric(let field, let transform, let mean, let std):
            try container.encode(Kind.numeric, forKey: .kind)
            try container.encode(field, forKey: .field)
            try container.encode(transform, forKey: .transform)
            try container.encode(mean, forKey: .mean)
            try container.encode(std, forKey: .std)
        case .oneHot(let field, let vocabulary):
            try container.encode(Kind.onehot, forKey: .kind)
            try container.encode(field, forKey: .field)
            try container.encode(vocabulary, forKey: .vocabulary)
        case .hashed(let field, let buckets):
            try container.encode(Kind.hashed, forKey: .kind)
            try container.encode(field, forKey: .field)
            try container.encode(buckets, forKey: .buckets)
        case .cross(let left, let right, let buckets):
            try container.encode(Kind.cross, forKey: .kind)
            try container.encode([left, right], forKey: .fields)
            try container.encode(buckets, forKey: .buckets)
        case .product(let left, let right, let transform, let mean, let std):
            try container.encode(Kind.product, forKey: .kind)
            try container.encode([left, right], forKey: .fields)
            try container.encode(transform, forKey: .transform)
            try container.encode(mean, forKey: .mean)
            try container.encode(std, forKey: .std)
        }
    }
}
