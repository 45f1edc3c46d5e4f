/// How much of the input is in flight at once.
public struct BatchConfiguration: Sendable, Hashable {
    /// Data rows read, ranked and written together.
    public var rowsPerChunk: Int
    /// Chunks read but not yet written, at most: bounds the memory (this many chunks of input,
    /// outcomes and output bytes) and, with ``rowsPerChunk``, the rows being ranked at once.
    public var chunksInFlight: Int

    public init(rowsPerChunk: Int, chunksInFlight: Int) {
        precondition(rowsPerChunk > 0 && chunksInFlight > 0)
        self.rowsPerChunk = rowsPerChunk
        self.chunksInFlight = chunksInFlight
    }

    /// For ranking that is CPU work only (in process, sources in memory): two chunks per core, so
    /// that each core has the next one queued while the finished one is written.
    public static func cpuBound(cores: Int) -> BatchConfiguration {
        BatchConfiguration(rowsPerChunk: 128, chunksInFlight: 2 * max(1, cores))
    }

    /// For ranking that waits (a server, upstream sources): about `maximumInFlight` rows at once,
    /// in chunks of 16.
    public static func waiting(maximumInFlight: Int) -> BatchConfiguration {
        let rows = min(16, max(1, maximumInFlight))
        return BatchConfiguration(rowsPerChunk: rows, chunksInFlight: max(1, maximumInFlight / rows))
    }
}
