import CouponRankBatch
import CouponRankTestSupport
import Foundation
import Testing

let couponrankBinary = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".build/debug/couponrank").path

/// The case study's two rules over a generated customer file, through `couponrank batch` as
/// marketing runs it: publishing the rules to a real redis-server changes the next run's offers.
@Suite(.enabled(
    if: RedisServerFixture.isAvailable && FileManager.default.isExecutableFile(atPath: couponrankBinary),
    "needs redis-server and the built couponrank executable (make test builds both)"
))
struct BatchRulesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theCaseStudyRulesPublishedToRedisChangeTheNextBatchRun() async throws {
        try await RedisServerFixture.with { redis in
            let url = "redis://127.0.0.1:\(redis.port)"
            // Customers of four kinds: in Europa or not, above 65 or not.
            var text = "easy_id,region,age\n"
            var customers: [(easyID: String, europa: Bool, senior: Bool)] = []
            for index in 0..<200 {
                let europa = index % 2 == 0
                let senior = index % 4 < 2
                customers.append(("cust-\(index)", europa, senior))
                text += "cust-\(index),\(europa ? "Europa" : "Asia"),\(senior ? 66 + index % 20 : 18 + index % 47)\n"
            }
            let input = try CustomerFile.write(text)
            let output = URL(fileURLWithPath: input).deletingLastPathComponent().appendingPathComponent("offers.csv").path
            // Six offers, C000001…C000006, every customer's candidates: the case study's world.
            let batch = [
                couponrankBinary, "batch", "--input", input, "--output", output, "--top-k", "6", "--numeric-columns", "age",
                "--redis-url", url, "--catalog-size", "6", "--candidates", "6",
            ]
            let model = Self.root.appendingPathComponent("Sources/CouponRankModelFile/Resources/default-model.json").path
            let published = try await runChildProcess([couponrankBinary, "model", "publish", model, "--redis-url", url])
            #expect(published.status == 0, "\(published.output)")

            let before = try await runChildProcess(batch)
            #expect(before.status == 0, "\(before.output)")
            let unfiltered = try OfferLine.read(output, topK: 6)
            #expect(unfiltered.count == 200 && unfiltered.allSatisfy { $0.offers.count == 6 })

            let rules = Self.root.appendingPathComponent("proto-spec/examples/rules-case-study.json").path
            let publish = try await runChildProcess([couponrankBinary, "rules", "publish", rules, "--redis-url", url])
            #expect(publish.status == 0, "\(publish.output)")
            let after = try await runChildProcess(batch)
            #expect(after.status == 0, "\(after.output)")
            #expect(after.output.contains("rules case-study-1 (redis)"), "\(after.output)")
            let filtered = try OfferLine.read(output, topK: 6)
            #expect(filtered.map(\.easyID) == customers.map(\.easyID))
            for ((customer, line), old) in zip(zip(customers, filtered), unfiltered) {
                var excluded = Set<String>()
                if customer.europa { excluded.formUnion(["C000004", "C000005", "C000006"]) }
                if customer.senior { excluded.formUnion(["C000001", "C000003", "C000004"]) }
                // The same order as before, without what the rules exclude.
                #expect(line.offers.map(\.couponID) == old.offers.map(\.couponID).filter { !excluded.contains($0) }, "\(customer)")
            }
        }
    }
}
