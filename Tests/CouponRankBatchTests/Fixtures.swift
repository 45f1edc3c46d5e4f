import CouponRankBatch
import CouponRankCore
import CouponRankEngine
import CouponRankSources
import CouponRankTestSupport
import CSV
import Foundation

/// A customer file written for a test, with what it holds: the rows to rank, in order, and the
/// bad rows with the line and reason each should be reported with.
struct CustomerFile {
    var path: String
    var good: [CustomerRow] = []
    var bad: [(line: Int, reason: RowProblem.Reason)] = []

    /// `text` as a file in a fresh temporary directory (``remove(_:)`` removes it).
    static func write(_ text: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("customers.csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Removes the directory `write` made for the file at `path`, and whatever the run put beside it.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent())
    }

    /// `rows` customers, one `easy_id` column; every 23rd row is bad, in turn: a row of two
    /// fields, an easy_id of 129 bytes, a blank line. Some easy_ids need quotes (a comma, a quote).
    static func generated(rows: Int) throws -> CustomerFile {
        var text = "easy_id\n"
        var file = CustomerFile(path: "")
        var line = 2
        var badKinds = 0
        for index in 0..<rows {
            if index % 23 == 11 {
                switch badKinds % 3 {
                case 0:
                    text += "\(index),extra\n"
                    file.bad.append((line, .wrongColumnCount))
                case 1:
                    text += String(repeating: "7", count: 129) + "\n"
                    file.bad.append((line, .easyIDTooLong))
                default:
                    text += "\n"
                    file.bad.append((line, .blankLine))
                }
                badKinds += 1
            } else if index % 50 == 7 {
                let easyID = "vip,\(index) \"gold\""
                text += "\"vip,\(index) \"\"gold\"\"\"\n"
                file.good.append(CustomerRow(line: line, easyID: easyID))
            } else {
                let easyID = ExampleCustomers.easyID(index)
                text += easyID + "\n"
                file.good.append(CustomerRow(line: line, easyID: easyID))
            }
            line += 1
        }
        file.path = try write(text)
        return file
    }
}

/// One line of an offer file, parsed back.
struct OfferLine: Equatable {
    var easyID: String
    var offers: [Offer]
    var status: String

    /// The lines of the offer file at `path`, after checking its header.
    static func read(_ path: String, topK: Int) throws -> [OfferLine] {
        let reader = try CSVReader(string: try String(contentsOfFile: path, encoding: .utf8), hasHeaderRow: true)
        guard reader.headerRow == OfferCSV(topK: topK).header else { throw FixtureError("unexpected header \(reader.headerRow ?? [])") }
        var lines: [OfferLine] = []
        while let fields = reader.next() {
            guard fields.count == 2 + 3 * topK else { throw FixtureError("a line of \(fields.count) fields: \(fields)") }
            var offers: [Offer] = []
            for slot in 0..<topK where !fields[1 + 3 * slot].isEmpty {
                guard let score = Double(fields[3 + 3 * slot]) else { throw FixtureError("score '\(fields[3 + 3 * slot])'") }
                offers.append(Offer(couponID: fields[1 + 3 * slot], name: fields[2 + 3 * slot], score: score))
            }
            lines.append(OfferLine(easyID: fields[0], offers: offers, status: fields[fields.count - 1]))
        }
        return lines
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// What a run gave: its summary, the problems it reported, and where its output is.
struct BatchResult {
    var summary: BatchSummary
    var problems: [RowProblem]
    var output: String
}

enum Batch {
    /// The engine of `TestServer`'s default sources and model, in process.
    static func engine(sources: SourceFanOut = .stubs(TestServer.generator, timeouts: TestServer.relaxedTimeouts)) throws -> RankEngine {
        RankEngine(sources: sources, models: ModelSlot(try TestServer.bundledModel(), origin: .embedded))
    }

    /// Runs `ranker` over the customer file at `path` into an offer file beside it.
    static func run(
        _ path: String,
        ranker: some BatchRanker,
        topK: Int = 5,
        numericColumns: Set<String> = [],
        configuration: BatchConfiguration = BatchConfiguration(rowsPerChunk: 7, chunksInFlight: 3),
        outputName: String = "offers.csv"
    ) async throws -> BatchResult {
        let output = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(outputName).path
        let reader = try CustomerFileReader(path: path, numericColumns: numericColumns)
        var problems: [RowProblem] = []
        let summary = try await BatchRunner(ranker: ranker, format: OfferCSV(topK: topK), configuration: configuration).run(
            input: reader,
            output: try OfferFileWriter(path: output),
            mode: "test",
            onProblem: { problems.append($0) }
        )
        return BatchResult(summary: summary, problems: problems, output: output)
    }

    /// The engine's greedy decision online for `easyID`, as offers.
    static func online(_ engine: RankEngine, _ easyID: String, topK: Int = 5) async throws -> [Offer] {
        let decision = try await engine.rank(DecisionRequest(easyID: easyID, topK: topK, deadline: .now + .seconds(30), policy: .noExploration))
        return decision.ranked.map { Offer(couponID: $0.id, name: $0.name, score: $0.score) }
    }
}
