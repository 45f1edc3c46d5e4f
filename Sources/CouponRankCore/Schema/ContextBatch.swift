/// The context matrix of one request: one row per candidate, `dimension` columns, laid out by the
/// model's feature schema.
///
/// Stored in the shape the schema guarantees instead of as a dense `n × d` array: the columns fed
/// only by user fields and the bias are the same in every row and are kept once in ``shared``;
/// every per-candidate feature sets at most one column of its own block, so each row is exactly
/// ``entriesPerRow`` `(column, value)` pairs. Row `i` of the dense matrix is ``shared`` with those
/// pairs written over it (``denseRow(_:)``).
public struct ContextBatch: Sendable {
    public private(set) var dimension: Int
    public private(set) var entriesPerRow: Int
    public internal(set) var count: Int
    /// Columns that are equal for every candidate; zero in the per-candidate columns.
    public internal(set) var shared: [Double]
    /// `count × entriesPerRow` column indices, row-major.
    public internal(set) var columns: [Int32]
    /// `count × entriesPerRow` values matching ``columns``.
    public internal(set) var values: [Double]
    /// What the eligibility rules reuse from one request to the next on the same thread.
    public var rulesScratch = RulesScratch()

    /// An empty batch, to be filled (and refilled) by ``CompiledSchema/makeContexts(user:candidates:stats:into:)``.
    public init() {
        self.dimension = 0
        self.entriesPerRow = 0
        self.count = 0
        self.shared = []
        self.columns = []
        self.values = []
    }

    /// Sizes the batch for `count` rows, keeping its storage: shared columns zeroed, row entries
    /// zeroed (every one is written by the fill that follows).
    mutating func reset(dimension: Int, entriesPerRow: Int, count: Int) {
        self.dimension = dimension
        self.entriesPerRow = entriesPerRow
        self.count = count
        Self.resize(&shared, to: dimension, zero: 0)
        Self.resize(&columns, to: count * entriesPerRow, zero: 0)
        Self.resize(&values, to: count * entriesPerRow, zero: 0)
    }

    private static func resize<T: Numeric>(_ array: inout [T], to count: Int, zero: T) {
        if array.count > count {
            array.removeLast(array.count - count)
        }
        array.withUnsafeMutableBufferPointer { $0.update(repeating: zero) }
        if array.count < count {
            array.append(contentsOf: repeatElement(zero, count: count - array.count))
        }
    }

    /// Row `index` as a dense vector of `dimension` values.
    public func denseRow(_ index: Int) -> [Double] {
        var row = shared
        let start = index * entriesPerRow
        for entry in start..<(start + entriesPerRow) where values[entry] != 0 {
            row[Int(columns[entry])] = values[entry]
        }
        return row
    }

    /// The whole `count × dimension` matrix, row-major.
    public func denseMatrix() -> [Double] {
        var matrix = [Double]()
        matrix.reserveCapacity(count * dimension)
        for index in 0..<count {
            matrix.append(contentsOf: denseRow(index))
        }
        return matrix
    }
}
