import CouponRankCore
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import CouponRankTestSupport
import CouponRankTraining
import Foundation
import NIOCore
import Testing

/// The executable under test: `COUPONRANK_BINARY`, else the debug build beside the package.
let evaluateCommandBinary = ProcessInfo.processInfo.environment["COUPONRANK_BINARY"]
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".build/debug/couponrank").path

/// `couponrank evaluate` against a real redis-server holding a simulated log: its numbers are
/// the evaluator's on the same decisions, joined from the streams.
@Suite(.enabled(if: RedisServerFixture.isAvailable && FileManager.default.isExecutableFile(atPath: evaluateCommandBinary), "needs redis-server and the built couponrank executable (make test builds both)"))
struct EvaluationCommandTests {
    typealias F = EvaluationFixtures

    static var binary: String { evaluateCommandBinary }

    static let logger = Result { try F.bundled(version: "logger-epsilon", exploration: .epsilonGreedy(epsilon: 0.2)) }
    static let log = Result { F.simulatedLog(logger: try logger.get(), count: 300, seed: 3) }

    /// Writes the log three hours in the past (decision `i` at `t₀ + 10·i` ms, its clicks 1–5 ms
    /// later), then an unreadable entry, then a decision made now (its window still open).
    static func write(_ log: [F.SimulatedDecision], to redis: RedisClient) async throws {
        let keys = EventKeys()
        let time = try await redis.command(["TIME"]).elements ?? []
        let now = UInt64(time[0].text!)! * 1000 + UInt64(time[1].text!)! / 1000
        let start = now - 3 * 3_600_000
        func add(_ key: String, _ id: String, _ fields: [(String, [UInt8])]) async throws {
            _ = try await redis.command([Array("XADD".utf8), Array(key.utf8), Array(id.utf8)] + fields.flatMap { [Array($0.0.utf8), $0.1] })
        }
        func entry(_ decision: LoggedDecision) -> [(String, [UInt8])] {
            var body = ByteBufferAllocator().buffer(capacity: 4096)
            decision.encode(into: &body)
            var candidates = ByteBufferAllocator().buffer(capacity: 64 * 1024)
            LoggedDecision.encodeCandidates(decision.candidates ?? [], into: &candidates)
            return [("body", Array(body.readableBytesView)), ("candidates", Array(candidates.readableBytesView))]
        }
        for (index, simulated) in log.enumerated() {
            let decision = simulated.closed.decision
            let millis = start + 10 * UInt64(index)
            try await add(keys.decisions, "\(millis)-0", entry(decision))
            for (slot, reward) in simulated.closed.rewards.enumerated() where reward == 1 {
                let fields = [
                    "event_id": decision.eventID, "coupon_id": decision.items[slot].coupon.id, "kind": "click", "value": "1.0",
                    "time_ms": "\(millis + 1)", "received_ms": "\(millis + 1)",
                ]
                try await add(keys.rewards, "\(millis + 1 + UInt64(slot))-0", fields.map { ($0.key, Array($0.value.utf8)) })
            }
        }
        try await add(keys.decisions, "\(start + 10 * UInt64(log.count))-0", [("body", [0xFF, 0x00])])
        var open = log[0].closed.decision
        open.eventID = "still-open"
        try await add(keys.decisions, "*", entry(open))
    }

    static func modelFile(_ model: ScoringModel) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("couponrank-evaluate-\(UUID().uuidString).json").path
        try ModelFile.encode(model.definition).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String, json: [String: Any]?) {
        let (status, output) = try await runChildProcess([binary, "evaluate"] + arguments, timeout: .seconds(120))
        let json = output.firstIndex(of: "{").flatMap { start in
            try? JSONSerialization.jsonObject(with: Data(output[start...].utf8)) as? [String: Any]
        }
        return (status, output, json)
    }

    static func value(_ json: [String: Any], model: Int, _ estimator: String) -> Double? {
        ((json["models"] as? [[String: Any]])?[model][estimator] as? [String: Any])?["value"] as? Double
    }

    @Test func estimatesEqualTheEvaluatorsOnTheJoinedLogAndComparePairwise() async throws {
        let log = try Self.log.get()
        let logger = try Self.logger.get()
        let halved = try F.bundled(version: "halved", exploration: .softmax(temperature: 0.05), thetaScale: 0.5)
        try await RedisServerFixture.with { server in
            try await Self.write(log, to: RedisClient(url: server.url))
            let files = try [logger, halved].map(Self.modelFile)
            let export = FileManager.default.temporaryDirectory.appendingPathComponent("couponrank-rows-\(UUID().uuidString).json").path
            let (status, output, json) = try await Self.run(
                ["--model-file", files[0], "--model-file", files[1], "--redis-url", "redis://127.0.0.1:\(server.port)", "--json", "--export-rows", export]
            )
            #expect(status == 0, "\(output)")
            let report = try #require(json, "\(output)")
            let decisions = try #require(report["decisions"] as? [String: Any])
            #expect(decisions["read"] as? Int == 302 && decisions["closed"] as? Int == 300)
            #expect(decisions["open"] as? Int == 1 && decisions["unreadable"] as? Int == 1)
            let closed = log.map(\.closed)
            let expected = [OffPolicyEvaluator(model: logger).evaluate(closed), OffPolicyEvaluator(model: halved).evaluate(closed)]
            for (index, evaluation) in expected.enumerated() {
                for (name, estimate) in [("ips", evaluation.inverseProbability), ("snips", evaluation.selfNormalized), ("dr", evaluation.doublyRobust), ("observed", evaluation.observed)] {
                    let printed = try #require(Self.value(report, model: index, name))
                    #expect(EvaluationTests.close(printed, estimate.value), "\(evaluation.modelVersion) \(name): \(printed) vs \(estimate.value)")
                }
            }
            let comparison = OffPolicyComparison(candidate: expected[1], serving: expected[0])
            let printed = try #require((report["comparisons"] as? [[String: Any]])?.first)
            #expect(printed["candidate_version"] as? String == "halved" && printed["serving_version"] as? String == "logger-epsilon")
            let difference = try #require(printed["difference"] as? [String: Any])
            #expect(EvaluationTests.close(difference["value"] as? Double ?? .nan, comparison.difference.value))
            #expect(EvaluationTests.close(difference["upper"] as? Double ?? .nan, comparison.difference.upper))
            // One export per model, each agreeing with the plain formulas.
            let exports = try #require(report["exports"] as? [String])
            #expect(exports.count == 2 && exports.allSatisfy { $0.contains(".logger-epsilon.") || $0.contains(".halved.") })
            let check = try await runChildProcess(
                ["python3", EvaluationReferenceTests.reference.appendingPathComponent("obp_check.py").path, "--plain"] + exports
            )
            #expect(check.status == 0, "\(check.output)")
            for path in files + exports { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    @Test func limitTakesTheNewestDecisionsAndTheTableNamesWhatWasLeftOut() async throws {
        let log = try Self.log.get()
        let logger = try Self.logger.get()
        try await RedisServerFixture.with { server in
            try await Self.write(log, to: RedisClient(url: server.url))
            let file = try Self.modelFile(logger)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let url = "redis://127.0.0.1:\(server.port)"
            let (status, _, json) = try await Self.run(["--model-file", file, "--redis-url", url, "--limit", "100", "--policy", "greedy", "--json"])
            #expect(status == 0)
            let report = try #require(json)
            let decisions = try #require(report["decisions"] as? [String: Any])
            #expect(decisions["read"] as? Int == 100 && decisions["closed"] as? Int == 98 && decisions["log_length"] as? Int == 302)
            let expected = OffPolicyEvaluator(model: logger, policy: .greedy).evaluate(log.suffix(98).map(\.closed))
            #expect(EvaluationTests.close(Self.value(report, model: 0, "dr") ?? .nan, expected.doublyRobust.value))
            #expect(((report["models"] as? [[String: Any]])?[0]["rows"] as? Int) == expected.rowCount)

            let table = try await Self.run(["--model-file", file, "--redis-url", url])
            #expect(table.status == 0)
            #expect(table.output.contains("decisions: 302 read of 302"), "\(table.output)")
            #expect(table.output.contains("1 still open (left out), 1 unreadable"), "\(table.output)")
            #expect(table.output.contains("observed") && table.output.contains("SNIPS") && table.output.contains("logger-epsilon (ε-greedy 0.2)"))
        }
    }

    @Test func unusableArgumentsAndMissingModelsAreRefusedWithTheirReason() async throws {
        try await RedisServerFixture.with { server in
            let url = "redis://127.0.0.1:\(server.port)"
            let none = try await Self.run(["--redis-url", url])
            #expect(none.status == 64 && none.output.contains("name at least one model version or --model-file"))
            let window = try await Self.run(["v1", "--window", "5x", "--redis-url", url])
            #expect(window.status == 64 && window.output.contains("--window"))
            let missing = try await Self.run(["no-such-version", "--redis-url", url])
            #expect(missing.status == 1 && missing.output.contains("no entry for version no-such-version"), "\(missing.output)")
            // An empty log: nothing to evaluate is an error, after the summary.
            let file = try Self.modelFile(try Self.logger.get())
            defer { try? FileManager.default.removeItem(atPath: file) }
            let empty = try await Self.run(["--model-file", file, "--redis-url", url])
            #expect(empty.status == 1 && empty.output.contains("no decision could be evaluated"), "\(empty.output)")
        }
    }
}
