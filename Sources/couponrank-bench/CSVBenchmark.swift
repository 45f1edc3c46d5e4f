import CouponRankBatch
import CSV
import Foundation

/// `couponrank-bench --csv FILE`: whether CSV.swift limits `couponrank batch`. Times, on one
/// thread, reading a customer file with ``CustomerFileReader`` (CSV.swift's `CSVReader` over our
/// counting file stream, rows checked and typed), and writing offer lines of top-k offers with
/// CSV.swift's `CSVWriter` (to memory) and with ``OfferCSV``.
struct CSVBenchmark {
    var path: String
    var numericColumns: Set<String>
    var topK: Int
    var writtenRows: Int

    struct Result: Codable {
        var readRows: Int
        var readSeconds: Double
        var readMicrosecondsPerRow: Double
        var csvWriterMicrosecondsPerRow: Double
        var offerCSVMicrosecondsPerRow: Double
        var topK: Int

        enum CodingKeys: String, CodingKey {
            case readRows = "read_rows"
            case readSeconds = "read_seconds"
            case readMicrosecondsPerRow = "read_us_per_row"
            case csvWriterMicrosecondsPerRow = "csv_swift_writer_us_per_row"
            case offerCSVMicrosecondsPerRow = "offer_csv_us_per_row"
            case topK = "top_k"
        }
    }

    func run() throws -> Result {
        let readStart = ContinuousClock.now
        let reader = try CustomerFileReader(path: path, numericColumns: numericColumns)
        var rows = 0
        while let chunk = try reader.next(maximumRows: 128) { rows += chunk.records }
        let readSeconds = (ContinuousClock.now - readStart) / .seconds(1)

        let offers = (0..<topK).map { Offer(couponID: "C00\($0)202", name: "45% off beauty at shop-0283", score: 0.33902225620693 + Double($0)) }
        let outcome = RowOutcome.ranked(offers: offers, modelVersion: "bench", degraded: false)
        let format = OfferCSV(topK: topK)

        let writerStart = ContinuousClock.now
        var written = 0
        for chunk in stride(from: 0, to: writtenRows, by: 128) {
            let stream = OutputStream.toMemory()
            let writer = try CSVWriter(stream: stream)
            for index in chunk..<min(writtenRows, chunk + 128) {
                try writer.write(row: [ExampleCustomers.easyID(index)] + offers.flatMap { [$0.couponID, $0.name, $0.score.description] } + [outcome.status])
            }
            written += (stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data)?.count ?? 0
        }
        let writerSeconds = (ContinuousClock.now - writerStart) / .seconds(1)

        let ownStart = ContinuousClock.now
        var bytes: [UInt8] = []
        var ownWritten = 0
        for chunk in stride(from: 0, to: writtenRows, by: 128) {
            bytes.removeAll(keepingCapacity: true)
            for index in chunk..<min(writtenRows, chunk + 128) {
                format.append(CustomerRow(line: index + 2, easyID: ExampleCustomers.easyID(index)), outcome, to: &bytes)
            }
            ownWritten += bytes.count
        }
        let ownSeconds = (ContinuousClock.now - ownStart) / .seconds(1)
        // CSVWriter puts no line end after its last row: one byte less per 128-row chunk.
        precondition(abs(written - ownWritten) <= writtenRows / 128 + 1, "both wrote the same lines (\(written) vs \(ownWritten) bytes)")

        return Result(
            readRows: rows,
            readSeconds: readSeconds,
            readMicrosecondsPerRow: readSeconds / Double(max(rows, 1)) * 1e6,
            csvWriterMicrosecondsPerRow: writerSeconds / Double(writtenRows) * 1e6,
            offerCSVMicrosecondsPerRow: ownSeconds / Double(writtenRows) * 1e6,
            topK: topK
        )
    }
}
