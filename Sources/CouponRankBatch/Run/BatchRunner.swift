import CouponRankCore
public import NIOPosix
import Synchronization

/// Ranks a customer file into an offer file: reads chunks of rows, ranks up to
/// ``BatchConfiguration/chunksInFlight`` of them concurrently, and writes each chunk's lines in
/// input order as soon as every chunk before it is written. Bad rows are reported through
/// `onProblem` as they are read and left out.
///
/// Reading and writing block, so they run on NIO's thread pool, a chunk at a time; ranking runs
/// in child tasks, which format their own lines; this task only reads, reorders and writes.
public struct BatchRunner<Ranker: BatchRanker>: Sendable {
    public let ranker: Ranker
    public let format: OfferCSV
    public let configuration: BatchConfiguration
    public let threadPool: NIOThreadPool

    public init(ranker: Ranker, format: OfferCSV, configuration: BatchConfiguration, threadPool: NIOThreadPool = .singleton) {
        self.ranker = ranker
        self.format = format
        self.configuration = configuration
        self.threadPool = threadPool
    }

    /// Ranks every row of `input` into `output`, then commits `output` (renames it into place);
    /// on an error, discards it.
    public func run(
        input: sending CustomerFileReader,
        output: OfferFileWriter,
        mode: String,
        onProblem: (RowProblem) -> Void = { _ in },
        onProgress: (BatchProgress) -> Void = { _ in }
    ) async throws(BatchError) -> BatchSummary {
        let start = ContinuousClock.now
        var summary = BatchSummary(input: input.path, output: output.path, mode: mode)
        let totalBytes = input.totalBytes
        let reader = SerialReader(input)
        do {
            var header: [UInt8] = []
            format.appendHeader(to: &header)
            try await blocking { [header] () throws(BatchError) in try output.write(header) }
            try await rankAll(reader: reader, output: output, summary: &summary, totalBytes: totalBytes, start: start, onProblem: onProblem, onProgress: onProgress)
            try await blocking { () throws(BatchError) in try output.commit() }
        } catch {
            output.discard()
            throw error
        }
        summary.elapsedSeconds = (ContinuousClock.now - start).seconds
        summary.rowsPerSecond = summary.elapsedSeconds > 0 ? Double(summary.rowsRead) / summary.elapsedSeconds : 0
        return summary
    }

    private func rankAll(
        reader: SerialReader,
        output: OfferFileWriter,
        summary: inout BatchSummary,
        totalBytes: Int?,
        start: ContinuousClock.Instant,
        onProblem: (RowProblem) -> Void,
        onProgress: (BatchProgress) -> Void
    ) async throws(BatchError) {
        let rowsPerChunk = configuration.rowsPerChunk
        let chunksInFlight = configuration.chunksInFlight
        let ranker = self.ranker
        let format = self.format
        do {
            try await withThrowingTaskGroup(of: RankedChunk.self) { group in
                var started = 0
                var finished = ReorderBuffer<RankedChunk>()
                var exhausted = false
                var bytesRead = 0
                while true {
                    while !exhausted, started - finished.nextSequence < chunksInFlight {
                        guard let (chunk, bytes) = try await blocking({ () throws(BatchError) in try reader.next(maximumRows: rowsPerChunk) })
                        else {
                            exhausted = true
                            break
                        }
                        bytesRead = bytes
                        summary.rowsRead += chunk.records
                        for problem in chunk.problems {
                            summary.count(problem)
                            onProblem(problem)
                        }
                        guard !chunk.rows.isEmpty else { continue }
                        let sequence = started
                        started += 1
                        let rows = chunk.rows
                        group.addTask {
                            try await RankedChunk(sequence: sequence, rows: rows, outcomes: ranker.rank(rows), format: format)
                        }
                    }
                    guard let done = try await group.next() else { break }
                    finished.insert(done, sequence: done.sequence)
                    while let ready = finished.popNext() {
                        try await blocking { () throws(BatchError) in try output.write(ready.bytes) }
                        summary.add(ready.counts)
                        onProgress(
                            BatchProgress(
                                rowsRead: summary.rowsRead,
                                rowsDone: summary.rowsWritten + summary.rowsSkipped,
                                bytesRead: bytesRead,
                                totalBytes: totalBytes,
                                elapsed: .now - start
                            )
                        )
                    }
                }
            }
        } catch let error as BatchError {
            throw error
        } catch {
            throw BatchError(.input, "the run was interrupted", underlying: error)
        }
    }

    /// `body` on the thread pool, where blocking is allowed.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(BatchError) -> T) async throws(BatchError) -> T {
        let result: Result<T, BatchError>
        do {
            result = try await threadPool.runIfActive { () -> Result<T, BatchError> in
                do throws(BatchError) {
                    return .success(try body())
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw BatchError(.input, "the thread pool for file I/O is not running", underlying: error)
        }
        return try result.get()
    }
}

/// A ranked chunk: its output lines, formatted by the task that ranked it, and its counts.
private struct RankedChunk: Sendable {
    var sequence: Int
    var bytes: [UInt8]
    var counts: BatchSummary

    init(sequence: Int, rows: [CustomerRow], outcomes: [RowOutcome], format: OfferCSV) {
        precondition(rows.count == outcomes.count, "one outcome per row")
        self.sequence = sequence
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows.count * (32 + 64 * format.topK))
        var counts = BatchSummary(input: "", output: "", mode: "")
        for (row, outcome) in zip(rows, outcomes) {
            format.append(row, outcome, to: &bytes)
            counts.count(outcome)
        }
        self.bytes = bytes
        self.counts = counts
    }
}

/// The customer file, read by one thread at a time from whichever thread asks.
private final class SerialReader: Sendable {
    private let reader: Mutex<CustomerFileReader>

    init(_ reader: sending CustomerFileReader) {
        self.reader = Mutex(reader)
    }

    /// The next chunk and the bytes parsed after it; `nil` at the end.
    func next(maximumRows: Int) throws(BatchError) -> (CustomerChunk, Int)? {
        try reader.withLock { reader throws(BatchError) -> (CustomerChunk, Int)? in
            guard let chunk = try reader.next(maximumRows: maximumRows) else { return nil }
            return (chunk, reader.bytesParsed)
        }
    }
}
