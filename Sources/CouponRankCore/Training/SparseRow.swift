/// One row of a ``ContextBatch`` as its non-zero `(column, value)` pairs: the shared columns and
/// the row's own entries, which never overlap.
public struct SparseRow: Sendable {
    public private(set) var columns: [Int] = []
    public private(set) var values: [Double] = []
    public var count: Int { columns.count }

    public init(_ batch: ContextBatch, row: Int) {
        columns.reserveCapacity(32)
        values.reserveCapacity(32)
        for j in 0..<batch.dimension where batch.shared[j] != 0 {
            columns.append(j)
            values.append(batch.shared[j])
        }
        let start = row * batch.entriesPerRow
        for e in start..<(start + batch.entriesPerRow) where batch.values[e] != 0 {
            columns.append(Int(batch.columns[e]))
            values.append(batch.values[e])
        }
    }
}
