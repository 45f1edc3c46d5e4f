/// A validated model, compiled for batch scoring. Immutable: a new version is a new instance.
public final class ScoringModel: Sendable {
    public let definition: ModelDefinition
    public let schema: CompiledSchema
    public var version: String { definition.version }
    public var kind: ModelKind { definition.kind }
    public var dimension: Int { schema.dimension }
    /// How this model's rankings explore.
    public var exploration: ExplorationPolicy { definition.exploration }

    let theta: [Double]
    /// `A⁻¹`, row-major (LinUCB only).
    let covariance: [Double]
    let alpha: Double

    /// Validates `definition` and compiles its schema.
    public init(_ definition: ModelDefinition) throws(ModelError) {
        guard !definition.version.isEmpty, definition.version.utf8.count <= 128 else {
            throw ModelError("version must be 1 to 128 bytes")
        }
        guard (1...ModelDefinition.currentFormat).contains(definition.format) else {
            throw ModelError("format \(definition.format) is not supported; this engine reads formats 1 and 2")
        }
        try definition.exploration.validate()
        let schema: CompiledSchema
        do {
            schema = try CompiledSchema(definition.features)
        } catch {
            throw ModelError("invalid feature schema: \(error)")
        }
        let d = schema.dimension
        guard definition.theta.count == d else {
            throw ModelError("theta has \(definition.theta.count) values, the schema has \(d) columns")
        }
        guard definition.theta.allSatisfy(\.isFinite) else { throw ModelError("theta has a non-finite value") }
        switch definition.kind {
        case .logistic:
            guard definition.aInverse.isEmpty else { throw ModelError("a logistic model has no a_inverse") }
        case .linucb:
            guard definition.alpha.isFinite, definition.alpha >= 0 else {
                throw ModelError("alpha must be finite and non-negative")
            }
            try Self.validateCovariance(definition.aInverse, dimension: d)
        }
        self.definition = definition
        self.schema = schema
        self.theta = definition.theta
        self.covariance = definition.aInverse
        self.alpha = definition.alpha
    }

    private static func validateCovariance(_ matrix: [Double], dimension d: Int) throws(ModelError) {
        guard matrix.count == d * d else {
            throw ModelError("a_inverse has \(matrix.count) values, expected \(d)×\(d) = \(d * d)")
        }
        guard matrix.allSatisfy(\.isFinite) else { throw ModelError("a_inverse has a non-finite value") }
        for i in 0..<d {
            guard matrix[i * d + i] >= 0 else { throw ModelError("a_inverse[\(i)][\(i)] is negative") }
            for j in (i + 1)..<max(d, i + 1) {
                let upper = matrix[i * d + j]
                let lower = matrix[j * d + i]
                let tolerance = 1e-9 * max(1, abs(upper), abs(lower))
                guard abs(upper - lower) <= tolerance else {
                    throw ModelError("a_inverse is not symmetric at [\(i)][\(j)]")
                }
            }
        }
    }
}
