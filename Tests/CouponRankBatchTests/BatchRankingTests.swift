import CouponRankBatch
import CouponRankClient
import CouponRankCore
import CouponRankEngine
import CouponRankSources
import CouponRankTestSupport
import Foundation
import Testing

/// Batch ranking against what the engine decides online for the same users, same model, same
/// stub sources.
@Suite struct BatchRankingTests {
    @Test func inProcessOffersAreTheEnginesOnlineDecisionsInInputOrderAndBadRowsAreSkippedByLine() async throws {
        let file = try CustomerFile.generated(rows: 300)
        defer { CustomerFile.remove(file.path) }
        let engine = try Batch.engine()
        let result = try await Batch.run(file.path, ranker: EngineBatchRanker(engine: engine, topK: 5, eventIDs: BatchEventIDs()!))

        let lines = try OfferLine.read(result.output, topK: 5)
        #expect(lines.map(\.easyID) == file.good.map(\.easyID))
        for (line, customer) in zip(lines, file.good) {
            #expect(line.status == "ok")
            #expect(line.offers.count == 5)
            #expect(line.offers == (try await Batch.online(engine, customer.easyID)), "line \(customer.line), easy_id \(customer.easyID)")
        }

        #expect(result.problems.map(\.line) == file.bad.map(\.line))
        #expect(result.problems.map(\.reason) == file.bad.map(\.reason))
        let summary = result.summary
        #expect(summary.rowsRead == 300)
        #expect(summary.rowsRanked == file.good.count)
        #expect(summary.rowsSkipped == file.bad.count)
        #expect(summary.rowsFailed == 0 && summary.rowsNoEligibleCoupon == 0)
        #expect(summary.skippedByReason == ["wrong_column_count": 5, "easy_id_too_long": 4, "blank_line": 4])
        #expect(summary.modelVersions == [try TestServer.bundledModel().version: file.good.count])
        #expect(!FileManager.default.fileExists(atPath: result.output + ".partial"))
    }

    @Test func sourcesThatMustBeWaitedForGiveTheSameOffers() async throws {
        let file = try CustomerFile.generated(rows: 120)
        defer { CustomerFile.remove(file.path) }
        let inMemory = try await Batch.run(
            file.path,
            ranker: EngineBatchRanker(engine: try Batch.engine(), topK: 5, eventIDs: BatchEventIDs()!),
            outputName: "memory.csv"
        )
        // A millisecond of latency on the candidate stub: the engine can no longer answer from
        // memory, so rows are ranked concurrently, each waiting on its fetch.
        let slow = SourceFanOut.stubs(TestServer.generator, latency: (.none, LatencyDistribution(parsing: "fixed:1ms")!, .none), timeouts: TestServer.relaxedTimeouts)
        let engine = try Batch.engine(sources: slow)
        #expect(!engine.answersFromMemory)
        let waited = try await Batch.run(
            file.path,
            ranker: EngineBatchRanker(engine: engine, topK: 5, eventIDs: BatchEventIDs()!, budget: .seconds(30)),
            configuration: .waiting(maximumInFlight: 16),
            outputName: "waited.csv"
        )
        #expect(try Data(contentsOf: URL(fileURLWithPath: waited.output)) == Data(contentsOf: URL(fileURLWithPath: inMemory.output)))
    }

    @Test func serverModeOverARealServerWritesTheSameFileAsInProcess() async throws {
        let file = try CustomerFile.generated(rows: 300)
        defer { CustomerFile.remove(file.path) }
        let inProcess = try await Batch.run(
            file.path,
            ranker: EngineBatchRanker(engine: try Batch.engine(), topK: 5, eventIDs: BatchEventIDs()!),
            outputName: "in-process.csv"
        )
        let overServer = try await TestServer.with { server in
            var clients: [CouponRankClient] = []
            for _ in 0..<3 { clients.append(try await CouponRankClient.connectForTesting(host: server.host, port: server.port)) }
            let result = try await Batch.run(
                file.path,
                ranker: ServerBatchRanker(clients: clients, topK: 5, eventIDs: BatchEventIDs()!, timeout: .seconds(20)),
                configuration: .waiting(maximumInFlight: 32),
                outputName: "server.csv"
            )
            for client in clients { await client.close() }
            return result
        }
        let expected = try Data(contentsOf: URL(fileURLWithPath: inProcess.output))
        #expect(try Data(contentsOf: URL(fileURLWithPath: overServer.output)) == expected)
        #expect(overServer.problems == inProcess.problems)
        var summary = overServer.summary
        summary.mode = inProcess.summary.mode
        summary.output = inProcess.summary.output
        summary.elapsedSeconds = inProcess.summary.elapsedSeconds
        summary.rowsPerSecond = inProcess.summary.rowsPerSecond
        #expect(summary == inProcess.summary)
    }

    @Test func aServerIsNotGivenAFileWithFeatureColumnsUnlessTheyAreIgnored() async throws {
        let path = try CustomerFile.write("easy_id,age,segment\n1000000,41,vip\n1000001,,new\n")
        defer { CustomerFile.remove(path) }
        let read = try CustomerFileReader(path: path, numericColumns: ["age"])
        #expect(throws: BatchError.self) { try ServerBatchRanker.check(read.columns, path: path) }

        let ignoring = try CustomerFileReader(path: path, numericColumns: ["age"], ignoresFeatures: true)
        try ServerBatchRanker.check(ignoring.columns, path: path)
        let rows = try #require(try ignoring.next(maximumRows: 10)).rows
        #expect(rows.map(\.easyID) == ["1000000", "1000001"])
        #expect(rows.allSatisfy { $0.features == nil })
    }

    @Test func featureColumnsAreRankedInsteadOfTheFetchedFeatures() async throws {
        // The stub users' own features as columns: the same offers as fetching them.
        let generator = TestServer.generator
        var text = "easy_id,age,tenure_days,purchases_90d,avg_order_value,segment,preferred_category,device,region\n"
        var expected: [String: UserFeatures] = [:]
        let ids = (0..<40).map(ExampleCustomers.easyID)
        for (index, easyID) in ids.enumerated() {
            var user = generator.userFeatures(for: easyID)
            if index % 2 == 1 {
                // Someone else's: another segment and category, a region with a comma.
                user.categorical["segment"] = "vip"
                user.categorical["preferred_category"] = "travel"
                user.categorical["region"] = "kanto, east"
                user.numeric["purchases_90d"] = 40
            }
            expected[easyID] = user
            let numbers = ["age", "tenure_days", "purchases_90d", "avg_order_value"].map { user.numeric[$0]!.description }
            let categories = ["segment", "preferred_category", "device", "region"].map { name in
                let value = user.categorical[name]!
                return value.contains(",") ? "\"\(value)\"" : value
            }
            text += ([easyID] + numbers + categories).joined(separator: ",") + "\n"
        }
        let path = try CustomerFile.write(text)
        defer { CustomerFile.remove(path) }
        let numeric: Set = ["age", "tenure_days", "purchases_90d", "avg_order_value"]
        let engine = try Batch.engine(sources: SourceFanOut.stubs(generator, timeouts: TestServer.relaxedTimeouts).withUserFeaturesFromRows())
        let result = try await Batch.run(path, ranker: EngineBatchRanker(engine: engine, topK: 5, eventIDs: BatchEventIDs()!), numericColumns: numeric)

        // Online, an engine whose user-features source knows these features.
        let online = try Batch.engine(
            sources: SourceFanOut(
                userFeatures: FixtureSources(users: expected, coupons: [:]),
                candidates: StubCandidateSource(generator: generator),
                stats: StubStatsSource(generator: generator)
            )
        )
        let stubOnly = try Batch.engine()
        let lines = try OfferLine.read(result.output, topK: 5)
        #expect(lines.map(\.easyID) == ids)
        var changed = 0
        for (index, line) in lines.enumerated() {
            #expect(line.offers == (try await Batch.online(online, line.easyID)))
            if index % 2 == 0 {
                #expect(line.offers == (try await Batch.online(stubOnly, line.easyID)))
            } else if line.offers != (try await Batch.online(stubOnly, line.easyID)) {
                changed += 1
            }
        }
        // The altered features did reach the model.
        #expect(changed > 10)
        #expect(result.summary.rowsRanked == 40)
    }

    @Test func badFeatureValuesAndEmptyEasyIDsAreReportedByLineAndSkipped() async throws {
        let path = try CustomerFile.write(
            "easy_id,age,segment\n1000000,41,vip\n,30,new\n1000002,forty,new\n1000003,nan,new\n1000004, 52 ,regular\n1000005,,\n1000006,1e2\n"
        )
        defer { CustomerFile.remove(path) }
        let result = try await Batch.run(
            path,
            ranker: EngineBatchRanker(engine: try Batch.engine(sources: .stubs(TestServer.generator).withUserFeaturesFromRows()), topK: 3, eventIDs: BatchEventIDs()!),
            topK: 3,
            numericColumns: ["age"]
        )
        #expect(result.problems.map(\.line) == [3, 4, 5, 8])
        #expect(result.problems.map(\.reason) == [.emptyEasyID, .featureNotANumber, .featureNotANumber, .wrongColumnCount])
        #expect(try OfferLine.read(result.output, topK: 3).map(\.easyID) == ["1000000", "1000004", "1000005"])
        #expect(result.summary.skippedByReason == ["empty_easy_id": 1, "feature_not_a_number": 2, "wrong_column_count": 1])
    }

    @Test func quotedFieldsWithCommasQuotesAndLineBreaksInACRLFFileKeepTheirLines() async throws {
        let path = try CustomerFile.write(
            "easy_id\r\n\"1000,1\"\r\n\"say \"\"hi\"\"\"\r\n\"two\r\nlines\"\r\nx,y\r\n1000002\r\n\"a\nb\"\r\n,\r\n"
        )
        defer { CustomerFile.remove(path) }
        let engine = try Batch.engine()
        let result = try await Batch.run(path, ranker: EngineBatchRanker(engine: engine, topK: 2, eventIDs: BatchEventIDs()!), topK: 2)
        let lines = try OfferLine.read(result.output, topK: 2)
        #expect(lines.map(\.easyID) == ["1000,1", "say \"hi\"", "two\r\nlines", "1000002", "a\nb"])
        for line in lines {
            #expect(line.offers == (try await Batch.online(engine, line.easyID, topK: 2)))
        }
        // The record that spans lines 4 and 5 moves the next one to line 6; "a\nb" spans 8-9.
        #expect(result.problems.map(\.line) == [6, 10])
        #expect(result.problems.map(\.reason) == [.wrongColumnCount, .wrongColumnCount])
    }

    @Test func invalidUTF8StopsTheRunAndLeavesNoOutput() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("customers.csv").path
        var bytes = Array("easy_id\n1000000\n".utf8) + [0x31, 0xFF, 0xFE, 0x0A]
        bytes += Array("1000002\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = await #expect(throws: BatchError.self) {
            try await Batch.run(path, ranker: EngineBatchRanker(engine: try Batch.engine(), topK: 1, eventIDs: BatchEventIDs()!), topK: 1)
        }
        #expect(error?.code == .input)
        #expect(error?.message.contains("line 3") == true)
        let output = directory.appendingPathComponent("offers.csv").path
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(!FileManager.default.fileExists(atPath: output + ".partial"))
    }

    @Test func aUserWithoutCandidatesHasNoEligibleCoupon() async throws {
        let path = try CustomerFile.write("easy_id\nknown\nnobody\n")
        defer { CustomerFile.remove(path) }
        let generator = TestServer.generator
        let sources = SourceFanOut(
            userFeatures: StubUserFeatureSource(generator: generator),
            candidates: FixtureSources(users: [:], coupons: ["known": generator.candidates(for: "known")]),
            stats: StubStatsSource(generator: generator)
        )
        let result = try await Batch.run(path, ranker: EngineBatchRanker(engine: try Batch.engine(sources: sources), topK: 2, eventIDs: BatchEventIDs()!), topK: 2)
        let lines = try OfferLine.read(result.output, topK: 2)
        #expect(lines.map(\.status) == ["ok", "no_eligible_coupon"])
        #expect(lines[1].offers.isEmpty)
        #expect(result.summary.rowsNoEligibleCoupon == 1 && result.summary.rowsRanked == 1)
    }
}
