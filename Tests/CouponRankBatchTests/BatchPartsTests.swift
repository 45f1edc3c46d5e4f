import CouponRankBatch
import CouponRankCore
import Foundation
import Testing

@Suite struct BatchPartsTests {
    @Test func theReorderBufferReleasesResultsInSequenceWhateverOrderTheyArriveIn() {
        var buffer = ReorderBuffer<String>()
        buffer.insert("c", sequence: 2)
        #expect(buffer.popNext() == nil)
        buffer.insert("b", sequence: 1)
        #expect(buffer.popNext() == nil)
        buffer.insert("a", sequence: 0)
        #expect(buffer.popNext() == "a")
        #expect(buffer.popNext() == "b")
        #expect(buffer.popNext() == "c")
        #expect(buffer.popNext() == nil)
        #expect(buffer.nextSequence == 3 && buffer.count == 0)
        buffer.insert("d", sequence: 3)
        #expect(buffer.popNext() == "d")
    }

    @Test(arguments: [
        (["id", "age"], Set<String>(), BatchError.Code.invalidHeader),
        (["easy_id", "age", "age"], Set<String>(), .invalidHeader),
        (["easy_id", " "], Set<String>(), .invalidHeader),
        (["easy_id", "age"], Set(["agee"]), .invalidOptions),
        (["easy_id", "age"], Set(["easy_id"]), .invalidOptions),
    ])
    func aHeaderThatCannotBeReadStopsTheRun(header: [String], numeric: Set<String>, code: BatchError.Code) {
        let error = #expect(throws: BatchError.self) { try CustomerColumns(header: header, numericColumns: numeric) }
        #expect(error?.code == code)
    }

    @Test func columnsAreNumericWhenListedAndCategoricalOtherwiseAndHeadersAreTrimmed() throws {
        let columns = try CustomerColumns(header: ["age ", " easy_id", "segment"], numericColumns: ["age"])
        #expect(columns.easyIDIndex == 1)
        #expect(columns.features.map(\.name) == ["age", "segment"])
        #expect(columns.features.map(\.kind) == [.numeric, .categorical])
        let row = try columns.row(["41.5", "u1", "vip"], line: 2).get()
        #expect(row.features == UserFeatures(numeric: ["age": 41.5], categorical: ["segment": "vip"]))
        let partial = try columns.row(["", "u2", ""], line: 3).get()
        #expect(partial.features == UserFeatures())
        #expect(throws: RowProblem.self) { try columns.row(["0x10", "u3", "vip"], line: 4).get() }
        #expect(throws: RowProblem.self) { try columns.row(["inf", "u3", "vip"], line: 4).get() }
    }

    @Test func columnsTheModelReadsOtherwiseOrNotAtAllAreNamed() throws {
        let schema = FeatureSchema(features: [.bias, .numeric(field: "user.age", transform: .identity, mean: 0, std: 1), .oneHot(field: "user.segment", vocabulary: ["vip"])])
        let columns = try CustomerColumns(header: ["easy_id", "age", "segment", "shoe_size"], numericColumns: ["segment"])
        let mismatches = columns.mismatches(with: schema)
        #expect(mismatches.count == 3)
        #expect(mismatches[0].contains("--numeric-columns"))
        #expect(mismatches[1].contains("as a category"))
        #expect(mismatches[2].contains("shoe_size"))
        let right = try CustomerColumns(header: ["easy_id", "age", "segment"], numericColumns: ["age"])
        #expect(right.mismatches(with: schema).isEmpty)
    }

    @Test func offerLinesQuoteWhatNeedsQuotesAndLeaveMissingSlotsEmpty() {
        let format = OfferCSV(topK: 2)
        #expect(format.header == ["easy_id", "offer_1_id", "offer_1_name", "offer_1_score", "offer_2_id", "offer_2_name", "offer_2_score", "status"])
        var bytes: [UInt8] = []
        format.append(
            CustomerRow(line: 2, easyID: "a,b"),
            .ranked(offers: [Offer(couponID: "C1", name: "10% off \"books\"", score: 0.1)], modelVersion: "m", degraded: false),
            to: &bytes
        )
        format.append(CustomerRow(line: 3, easyID: "c"), .failed(reason: "UPSTREAM_UNAVAILABLE"), to: &bytes)
        format.append(CustomerRow(line: 4, easyID: "d\ne"), .noEligibleCoupon, to: &bytes)
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == "\"a,b\",C1,\"10% off \"\"books\"\"\",0.1,,,,ok\nc,,,,,,,error:UPSTREAM_UNAVAILABLE\n\"d\ne\",,,,,,,no_eligible_coupon\n"
        )
    }

    @Test func progressShowsTheShareReadAndTheTimeLeftWhenTheSizeIsKnown() {
        let known = BatchProgress(rowsRead: 1000, rowsDone: 1000, bytesRead: 250, totalBytes: 1000, elapsed: .seconds(10))
        #expect(known.line == "1000 rows  100 rows/s  25.0 %  ETA 0:30")
        let unknown = BatchProgress(rowsRead: 50, rowsDone: 40, bytesRead: 10, totalBytes: nil, elapsed: .seconds(4))
        #expect(unknown.line == "40 rows  10 rows/s")
    }

    @Test func eventIDsAreThePrefixAndTheLineAndStayValid() {
        #expect(BatchEventIDs()!.id(line: 12) == "batch-12")
        #expect(BatchEventIDs(prefix: "campaign_2026:11") != nil)
        #expect(BatchEventIDs(prefix: "no spaces") == nil)
        #expect(BatchEventIDs(prefix: "") == nil)
        #expect(BatchEventIDs(prefix: String(repeating: "p", count: 44)) == nil)
    }
}
