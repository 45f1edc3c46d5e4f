/// Ranks rows of a customer file: in process over the engine (``EngineBatchRanker``) or over
/// a running server (``ServerBatchRanker``).
public protocol BatchRanker: Sendable {
    /// One outcome per row, in the rows' order. A row's own failure is an outcome; a thrown
    /// error means no further row can be ranked (the server went away) and ends the run.
    func rank(_ rows: [CustomerRow]) async throws(BatchError) -> [RowOutcome]
}
