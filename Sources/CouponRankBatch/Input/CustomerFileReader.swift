import CSV
import Foundation

/// The rows of a customer file, a chunk at a time: CSV (RFC 4180: quoted fields with commas,
/// quotes and line breaks, LF or CRLF) in UTF-8, read by CSV.swift and streamed, never held whole.
///
/// Blocking and not thread-safe: one thread at a time, one that may block (``BatchRunner`` reads
/// it on NIO's thread pool).
public final class CustomerFileReader {
    public let path: String
    public let columns: CustomerColumns
    private let stream: CountingFileStream
    private let csv: CSVReader
    /// The line where the next record starts.
    private var nextLine: Int
    private var finished = false

    /// Opens `path` and reads its header (``CustomerColumns`` says how the columns are read).
    public init(path: String, numericColumns: Set<String> = [], ignoresFeatures: Bool = false) throws(BatchError) {
        let stream = try CountingFileStream(path: path)
        let csv: CSVReader
        do {
            csv = try CSVReader(stream: stream, hasHeaderRow: false)
        } catch {
            throw BatchError(.input, "cannot read \(path)", underlying: error)
        }
        self.path = path
        self.stream = stream
        self.csv = csv
        self.nextLine = 1
        guard let header = try Self.record(csv, path: path, line: 1) else {
            throw BatchError(.invalidHeader, "\(path) is empty: a header with an easy_id column is expected")
        }
        self.columns = try CustomerColumns(header: header, numericColumns: numericColumns, ignoresFeatures: ignoresFeatures)
        nextLine += 1 + Self.lineBreaks(in: header)
        bytesParsed += Self.bytes(of: header)
    }

    /// Bytes of the file read so far (CSV.swift reads ahead up to 64 KiB of the rows returned).
    public var bytesRead: Int { stream.bytesRead }

    /// Bytes of the records returned so far, header included: their fields, separators and line
    /// ends, without the quotes (so about, and at most, their share of the file).
    public private(set) var bytesParsed = 0

    /// The file's size, when it is a regular file.
    public var totalBytes: Int? { stream.size }

    /// The next data rows, up to `maximumRows` of them good or bad; `nil` at the end of the file.
    public func next(maximumRows: Int) throws(BatchError) -> CustomerChunk? {
        guard !finished else { return nil }
        var chunk = CustomerChunk()
        chunk.rows.reserveCapacity(maximumRows)
        while chunk.records < maximumRows {
            let line = nextLine
            guard let fields = try Self.record(csv, path: path, line: line) else {
                finished = true
                stream.close()
                break
            }
            nextLine += 1 + Self.lineBreaks(in: fields)
            bytesParsed += Self.bytes(of: fields)
            chunk.records += 1
            switch columns.row(fields, line: line) {
            case .success(let row): chunk.rows.append(row)
            case .failure(let problem): chunk.problems.append(problem)
            }
        }
        return chunk.records == 0 ? nil : chunk
    }

    /// The next record, `nil` at the end; CSV.swift's error, if it met one, as a ``BatchError``
    /// (it ends a record where a read failed or the bytes stopped being UTF-8, so that record
    /// cannot be trusted, nor anything after it).
    private static func record(_ csv: CSVReader, path: String, line: Int) throws(BatchError) -> [String]? {
        let fields = csv.next()
        if let error = csv.error {
            if case CSVError.unicodeDecoding = error {
                throw BatchError(.input, "\(path): the record at line \(line) is not valid UTF-8", underlying: error)
            }
            throw BatchError(.input, "\(path): reading the record at line \(line) failed", underlying: error)
        }
        return fields
    }

    /// The bytes of a record without its quotes: fields, commas and one line end.
    private static func bytes(of fields: [String]) -> Int {
        fields.reduce(fields.count) { $0 + $1.utf8.count }
    }

    /// Line breaks inside quoted fields: a record spans one line more for each.
    private static func lineBreaks(in fields: [String]) -> Int {
        var count = 0
        for field in fields {
            var previous: UInt8 = 0
            for byte in field.utf8 {
                if byte == UInt8(ascii: "\n") {
                    if previous != UInt8(ascii: "\r") { count += 1 }
                } else if byte == UInt8(ascii: "\r") {
                    count += 1
                }
                previous = byte
            }
        }
        return count
    }
}

/// Consecutive data rows of the input: those to rank, and those skipped with why.
public struct CustomerChunk: Sendable {
    public var rows: [CustomerRow] = []
    public var problems: [RowProblem] = []
    /// Data rows read, good and bad.
    public var records = 0

    public init(rows: [CustomerRow] = [], problems: [RowProblem] = [], records: Int? = nil) {
        self.rows = rows
        self.problems = problems
        self.records = records ?? rows.count + problems.count
    }
}
