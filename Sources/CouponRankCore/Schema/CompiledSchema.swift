/// A feature schema turned into a fill plan, once per model version.
///
/// Field names are resolved to accessors, vocabularies to dictionaries and standard deviations to
/// reciprocals; the plan separates what is filled once per request (user fields, bias) from what
/// is filled per candidate.
public struct CompiledSchema: Sendable {
    public let schema: FeatureSchema
    public let dimension: Int
    private let sharedOperations: [SharedOperation]
    private let rowOperations: [RowOperation]
    private let readsStats: Bool

    /// Per-candidate `(column, value)` pairs in every row of a ``ContextBatch``.
    public var entriesPerRow: Int { rowOperations.count }

    public init(_ schema: FeatureSchema) throws(SchemaError) {
        var shared: [SharedOperation] = []
        var rows: [RowOperation] = []
        var column = 0
        for (index, feature) in schema.features.enumerated() {
            do {
                try Self.validate(feature)
                try Self.compile(feature, at: column, shared: &shared, rows: &rows)
            } catch {
                throw SchemaError("feature \(index): \(error.description)")
            }
            column += feature.width
        }
        guard column > 0 else { throw SchemaError("schema has no features") }
        guard column <= 1 << 24 else { throw SchemaError("schema has \(column) columns, more than 16777216") }
        self.schema = schema
        self.dimension = column
        self.sharedOperations = shared
        self.rowOperations = rows
        self.readsStats = rows.contains { $0.readsStats }
    }

    /// Builds the contexts of `candidates` for `user`.
    public func makeContexts(user: UserFeatures, candidates: [Coupon], stats: CouponStatsTable) -> ContextBatch {
        var batch = ContextBatch()
        makeContexts(user: user, candidates: candidates, stats: stats, into: &batch)
        return batch
    }

    /// Builds the contexts of `candidates` for `user` into `batch`, reusing its storage: a caller
    /// that keeps one batch per thread allocates nothing here once the batch has grown.
    public func makeContexts(user: UserFeatures, candidates: [Coupon], stats: CouponStatsTable, into batch: inout ContextBatch) {
        let stride = rowOperations.count
        let total = candidates.count * stride
        batch.reset(dimension: dimension, entriesPerRow: stride, count: candidates.count)
        for operation in sharedOperations {
            operation.apply(user: user, to: &batch.shared)
        }
        let rowStats: [CouponStats] = readsStats && total > 0 ? stats.aligned(with: candidates) : []
        batch.columns.withUnsafeMutableBufferPointer { columns in
            batch.values.withUnsafeMutableBufferPointer { values in
                candidates.withUnsafeBufferPointer { candidates in
                    for (offset, operation) in rowOperations.enumerated() {
                        operation.fill(
                            user: user,
                            candidates: candidates,
                            stats: rowStats,
                            columns: columns,
                            values: values,
                            offset: offset,
                            stride: stride
                        )
                    }
                }
            }
        }
    }
}

extension CompiledSchema {
    private static func validate(_ feature: FeatureSpec) throws(SchemaError) {
        switch feature {
        case .bias:
            break
        case .numeric(_, _, let mean, let std), .product(_, _, _, let mean, let std):
            guard mean.isFinite else { throw SchemaError("mean must be finite") }
            guard std.isFinite, std > 0 else { throw SchemaError("std must be finite and positive") }
        case .oneHot(_, let vocabulary):
            guard !vocabulary.isEmpty else { throw SchemaError("vocabulary is empty") }
            guard Set(vocabulary).count == vocabulary.count else {
                throw SchemaError("vocabulary has duplicate entries")
            }
        case .hashed(_, let buckets), .cross(_, _, let buckets):
            guard buckets > 0, buckets <= 1 << 20 else { throw SchemaError("buckets must be in 1...1048576") }
        }
    }

    private static func compile(
        _ feature: FeatureSpec,
        at column: Int,
        shared: inout [SharedOperation],
        rows: inout [RowOperation]
    ) throws(SchemaError) {
        switch feature {
        case .bias:
            shared.append(.bias(column: column))
        case .numeric(let name, let transform, let mean, let std):
            let field = try NumericField(parsing: name)
            let standardise = Standardisation(transform: transform, mean: mean, std: std)
            if case .user(let userField) = field {
                shared.append(.numeric(column: column, field: userField, standardise))
            } else {
                rows.append(.numeric(column: column, field: field, standardise))
            }
        case .oneHot(let name, let vocabulary):
            let field = try CategoricalField(parsing: name)
            let index = StringTable(vocabulary.enumerated().map { ($1, $0) })
            if case .user(let userField) = field {
                shared.append(.oneHot(column: column, field: userField, index: index))
            } else {
                rows.append(.oneHot(column: column, field: field, index: index))
            }
        case .hashed(let name, let buckets):
            let field = try CategoricalField(parsing: name)
            if case .user(let userField) = field {
                shared.append(.hashed(column: column, field: userField, buckets: buckets))
            } else {
                rows.append(.hashed(column: column, field: field, buckets: buckets))
            }
        case .cross(let leftName, let rightName, let buckets):
            let left = try CategoricalField(parsing: leftName)
            let right = try CategoricalField(parsing: rightName)
            if case .user(let l) = left, case .user(let r) = right {
                shared.append(.cross(column: column, left: l, right: r, buckets: buckets))
            } else {
                rows.append(.cross(column: column, left: left, right: right, buckets: buckets))
            }
        case .product(let leftName, let rightName, let transform, let mean, let std):
            let left = try NumericField(parsing: leftName)
            let right = try NumericField(parsing: rightName)
            let standardise = Standardisation(transform: transform, mean: mean, std: std)
            if case .user(let l) = left, case .user(let r) = right {
                shared.append(.product(column: column, left: l, right: r, standardise))
            } else {
                rows.append(.product(column: column, left: left, right: right, standardise))
            }
        }
    }
}

struct Standardisation: Sendable, Hashable {
    let transform: NumericTransform
    let mean: Double
    let inverseStd: Double

    init(transform: NumericTransform, mean: Double, std: Double) {
        self.transform = transform
        self.mean = mean
        self.inverseStd = 1 / std
    }

    @inline(__always)
    func callAsFunction(_ raw: Double?) -> Double {
        guard let raw, raw.isFinite else { return 0 }
        let value = (transform.apply(raw) - mean) * inverseStd
        return value.isFinite ? value : 0
    }
}

/// Fills columns that are equal for every candidate.
private enum SharedOperation: Sendable {
    case bias(column: Int)
    case numeric(column: Int, field: String, Standardisation)
    case oneHot(column: Int, field: String, index: StringTable)
    case hashed(column: Int, field: String, buckets: Int)
    case cross(column: Int, left: String, right: String, buckets: Int)
    case product(column: Int, left: String, right: String, Standardisation)

    func apply(user: UserFeatures, to shared: inout [Double]) {
        switch self {
        case .bias(let column):
            shared[column] = 1
        case .numeric(let column, let field, let standardise):
            shared[column] = standardise(user.numeric[field])
        case .oneHot(let column, let field, let index):
            if let value = user.categorical[field], let slot = index.value(for: value) {
                shared[column + slot] = 1
            }
        case .hashed(let column, let field, let buckets):
            if let value = user.categorical[field] {
                shared[column + FeatureHash.bucket(of: value, buckets: buckets)] = 1
            }
        case .cross(let column, let left, let right, let buckets):
            if let l = user.categorical[left], let r = user.categorical[right] {
                shared[column + FeatureHash.bucket(crossing: l, with: r, buckets: buckets)] = 1
            }
        case .product(let column, let left, let right, let standardise):
            if let l = user.numeric[left], let r = user.numeric[right] {
                shared[column] = standardise(l * r)
            }
        }
    }
}

/// Sets one `(column, value)` entry per candidate.
private enum RowOperation: Sendable {
    case numeric(column: Int, field: NumericField, Standardisation)
    case oneHot(column: Int, field: CategoricalField, index: StringTable)
    case hashed(column: Int, field: CategoricalField, buckets: Int)
    case cross(column: Int, left: CategoricalField, right: CategoricalField, buckets: Int)
    case product(column: Int, left: NumericField, right: NumericField, Standardisation)

    var readsStats: Bool {
        switch self {
        case .numeric(_, let field, _): field.readsStats
        case .product(_, let left, let right, _): left.readsStats || right.readsStats
        case .oneHot, .hashed, .cross: false
        }
    }

    // swiftlint:disable:next function_parameter_count
    func fill(
        user: UserFeatures,
        candidates buffer: UnsafeBufferPointer<Coupon>,
        stats: [CouponStats],
        columns: UnsafeMutableBufferPointer<Int32>,
        values: UnsafeMutableBufferPointer<Double>,
        offset: Int,
        stride: Int
    ) {
        @inline(__always)
        func statsOf(_ row: Int) -> CouponStats { stats.isEmpty ? .prior : stats[row] }

        guard let candidates = buffer.baseAddress else { return }
        let count = buffer.count
        var slot = offset
        switch self {
        case .numeric(let column, let field, let standardise):
            for row in 0..<count {
                columns[slot] = Int32(truncatingIfNeeded: column)
                values[slot] = standardise(field.value(user: user, coupon: candidates + row, stats: statsOf(row)))
                slot += stride
            }
        case .oneHot(let column, let field, let index):
            for row in 0..<count {
                if let value = field.value(user: user, coupon: candidates + row), let position = index.value(for: value) {
                    columns[slot] = Int32(truncatingIfNeeded: column + position)
                    values[slot] = 1
                } else {
                    columns[slot] = Int32(truncatingIfNeeded: column)
                    values[slot] = 0
                }
                slot += stride
            }
        case .hashed(let column, let field, let buckets):
            for row in 0..<count {
                if let value = field.value(user: user, coupon: candidates + row) {
                    var hash = FeatureHash()
                    hash.combine(value)
                    columns[slot] = Int32(truncatingIfNeeded: column + hash.bucket(buckets))
                    values[slot] = 1
                } else {
                    columns[slot] = Int32(truncatingIfNeeded: column)
                    values[slot] = 0
                }
                slot += stride
            }
        case .cross(let column, let left, let right, let buckets):
            // A user-side value is hashed once per request; FNV-1a continues from that state.
            var prefix: FeatureHash?
            if left.isPerUser, let value = left.value(user: user, coupon: candidates) {
                var hash = FeatureHash()
                hash.combine(value)
                hash.combine(FeatureHash.crossSeparator)
                prefix = hash
            }
            let userRight = right.isPerUser ? right.value(user: user, coupon: candidates) : nil
            for row in 0..<count {
                var hash: FeatureHash
                if let prefix {
                    hash = prefix
                } else if !left.isPerUser, let value = left.value(user: user, coupon: candidates + row) {
                    hash = FeatureHash()
                    hash.combine(value)
                    hash.combine(FeatureHash.crossSeparator)
                } else {
                    columns[slot] = Int32(truncatingIfNeeded: column)
                    values[slot] = 0
                    slot += stride
                    continue
                }
                if let value = userRight ?? right.value(user: user, coupon: candidates + row) {
                    hash.combine(value)
                    columns[slot] = Int32(truncatingIfNeeded: column + hash.bucket(buckets))
                    values[slot] = 1
                } else {
                    columns[slot] = Int32(truncatingIfNeeded: column)
                    values[slot] = 0
                }
                slot += stride
            }
        case .product(let column, let left, let right, let standardise):
            // A user-side factor is read once per request, not once per candidate.
            let userLeft = left.isPerUser ? left.value(user: user, coupon: candidates, stats: .prior) : nil
            let userRight = right.isPerUser ? right.value(user: user, coupon: candidates, stats: .prior) : nil
            for row in 0..<count {
                let rowStats = statsOf(row)
                columns[slot] = Int32(truncatingIfNeeded: column)
                if let l = userLeft ?? left.value(user: user, coupon: candidates + row, stats: rowStats),
                    let r = userRight ?? right.value(user: user, coupon: candidates + row, stats: rowStats)
                {
                    values[slot] = standardise(l * r)
                } else {
                    values[slot] = 0
                }
                slot += stride
            }
        }
    }
}
