import ArgumentParser
import CouponRankCore
import CouponRankModelFile
import CouponRankModelStore
import CouponRankSources
import Foundation

/// `make bench`: the engine's per-request CPU work — context build and batch scoring — for
/// n candidates × d features, beside numpy's matmul path for the same batch shape. With `--train`,
/// the online learner's instead (``LearnerBenchmark``).
@main
struct ScoringBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "couponrank-bench",
        abstract: "Time context build + batch scoring of one request, or with --train the online learner (not a unit test)."
    )

    @Option(help: "Candidates per request.")
    var n = 200

    @Option(help: "Context dimension (≥ 57: the bundled schema with its shop hash resized).")
    var d = 64

    @Option(help: "Model kind: linucb or logistic.")
    var kind = "linucb"

    @Option(help: "Timed requests per round.")
    var iterations = 5000

    @Option(help: "Rounds; the median round is reported.")
    var rounds = 7

    @Flag(help: "Skip the numpy comparison.")
    var noNumpy = false

    @Flag(help: "Time the online learner instead: OnlineLearner.learn item updates/s (LinUCB and logistic), merging, makeDefinition.")
    var train = false

    @Option(help: "With --train: synthetic closed decisions learned per round.")
    var decisions = 20_000

    @Option(help: "With --train: shown items per decision.")
    var shown = 5

    @Option(help: "Time applying this many eligibility rules to the n candidates instead (RULES.md §7).")
    var rules: Int?

    @Flag(help: "Time the engine's in-process rank rate instead: RankEngine.rankFromMemory over --users users on --threads threads (the ceiling of couponrank batch).")
    var engineRate = false

    @Option(help: "With --engine-rate: users ranked (easy_ids of couponrank batch --generate-example).")
    var users = 200_000

    @Option(help: "With --engine-rate: threads (default: the cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "With --engine-rate or --csv: coupons per user.")
    var topK = 5

    @Option(help: "Time CSV.swift instead: reading this customer file, and writing offer lines with CSVWriter and with OfferCSV.")
    var csv: String?

    @Option(help: "With --csv: the file's numeric columns, comma-separated.")
    var numericColumns = ""

    @Option(help: "Time the event log's writers instead: decisions/s into this Redis (a node, a cluster's seeds, redis+sentinel://…), with --event-shards and --writers.")
    var eventLog: String?

    @Option(help: "With --event-log: shards of the decisions stream.")
    var eventShards = 1

    @Option(help: "With --event-log: writers, each standing for one engine.")
    var writers = 2

    @Option(help: "With --event-log: measured seconds.")
    var seconds = 10.0

    @Option(help: "With --rules, --engine-rate, --csv or --event-log: also write the figures as JSON to this file.")
    var json: String?

    func validate() throws {
        guard n > 0 else { throw ValidationError("--n must be positive") }
        guard d >= 57 else { throw ValidationError("--d must be at least 57 (the bundled schema's fixed columns + 1)") }
        guard ModelKind(rawValue: kind) != nil else { throw ValidationError("--kind must be linucb or logistic") }
        guard iterations > 0, rounds > 0 else { throw ValidationError("--iterations and --rounds must be positive") }
        if let rules { guard rules >= 0 else { throw ValidationError("--rules must not be negative") } }
        guard decisions > 0, (1...20).contains(shown) else { throw ValidationError("--decisions must be positive and --shown 1…20") }
        guard users > 0, threads > 0, topK > 0 else { throw ValidationError("--users, --threads and --top-k must be positive") }
    }

    func run() async throws {
        if let eventLog {
            let url = try RedisURL(parsing: eventLog)
            let result = try await EventLogBenchmark(url: url, shards: eventShards, writers: writers, seconds: seconds).run()
            print(String(format: "event log: %@, %d shard(s), %d writer(s): %.0f decisions/s (%d written in %.1f s, %d dropped, %d bytes each)", result.topology, result.shards, result.writers, result.decisionsPerSecond, result.written, result.seconds, result.dropped, result.entryBytes))
            try writeJSON(result)
            return
        }
        if let rules {
            let results = try RulesBenchmark(rules: rules, candidates: n, iterations: iterations, rounds: rounds).run()
            for result in results {
                print(
                    String(
                        format: "%@: %d rules over %d candidates, %.1f rules removing %.1f candidates per rank: %.2f µs/rank",
                        result.name, result.rules, result.candidates, result.rulesRemoving, result.removed, result.microsecondsPerRank
                    )
                )
            }
            try writeJSON(results)
            return
        }
        if engineRate {
            let result = try EngineRateBenchmark(users: users, threads: threads, topK: topK).run()
            print(String(format: "engine: %d in-process ranks (top %d, greedy) on %d threads in %.2f s: %.0f ranks/s", result.ranks, topK, result.threads, result.seconds, result.ranksPerSecond))
            try writeJSON(result)
            return
        }
        if let csv {
            let numeric = Set(numericColumns.split(separator: ",").map(String.init))
            let result = try CSVBenchmark(path: csv, numericColumns: numeric, topK: topK, writtenRows: 100_000).run()
            print(String(format: "read %d customer rows (CSV.swift CSVReader, checked and typed): %.2f µs/row", result.readRows, result.readMicrosecondsPerRow))
            print(String(format: "offer lines, top %d: CSV.swift CSVWriter %.2f µs/row, OfferCSV %.2f µs/row", topK, result.csvWriterMicrosecondsPerRow, result.offerCSVMicrosecondsPerRow))
            try writeJSON(result)
            return
        }
        if train {
            try LearnerBenchmark(base: try makeModel().definition, decisions: decisions, shown: shown, rounds: rounds).run()
            return
        }
        let model = try makeModel()
        let generator = StubDataGenerator(configuration: .init(catalogSize: max(3000, n), candidatesPerUser: n))
        let easyID = "12345"
        let user = generator.userFeatures(for: easyID)
        let candidates = generator.candidates(for: easyID)
        let stats = generator.stats(for: easyID)

        var contextTimes: [Double] = []
        var scoreTimes: [Double] = []
        var checksum = 0.0
        var scores = BatchScores()
        for _ in 0..<(rounds + 1) {  // the first round warms up
            let clock = ContinuousClock()
            var built = model.schema.makeContexts(user: user, candidates: candidates, stats: stats)
            let contextStart = clock.now
            for _ in 0..<iterations {
                built = model.schema.makeContexts(user: user, candidates: candidates, stats: stats)
                checksum += built.values[0]
            }
            let scoreStart = clock.now
            for _ in 0..<iterations {
                model.score(built, into: &scores)
                checksum += scores.scores[0]
            }
            let end = clock.now
            contextTimes.append((scoreStart - contextStart).seconds / Double(iterations) * 1e6)
            scoreTimes.append((end - scoreStart).seconds / Double(iterations) * 1e6)
        }
        let context = median(contextTimes.dropFirst())
        let score = median(scoreTimes.dropFirst())
        let m = model.schema.entriesPerRow
        print("model: \(model.kind.rawValue), d = \(model.dimension), \(m) per-candidate entries per row; n = \(n)")
        print(String(format: "context build  %8.2f µs/request", context))
        print(String(format: "batch scoring  %8.2f µs/request", score))
        print(String(format: "total          %8.2f µs/request  (%.0f requests/s on one core)", context + score, 1e6 / (context + score)))
        if !noNumpy, model.kind == .linucb {
            if let numpy = runNumpy() {
                print(String(format: "numpy matmul   %8.2f µs/request  (%@, scoring only, dense %d×%d)", numpy.median, numpy.blas, n, d))
                print(String(format: "ratio          %8.2f× faster than numpy (context build + scoring vs numpy scoring)", numpy.median / (context + score)))
            } else {
                print("numpy matmul   not measured (python3 with numpy not found)")
            }
        }
        if checksum.isNaN { print("checksum NaN") }
    }

    private func writeJSON(_ value: some Encodable) throws {
        guard let json else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(value).write(to: URL(fileURLWithPath: json))
    }

    private func makeModel() throws -> ScoringModel {
        let modelKind = ModelKind(rawValue: kind)!
        var definition: ModelDefinition
        if d == 64 {
            definition = try BundledModel.load().definition
        } else {
            var features = BundledModel.schema.features.filter {
                if case .hashed(field: "coupon.shop", _) = $0 { false } else { true }
            }
            features.append(.hashed(field: "coupon.shop", buckets: d - FeatureSchema(features: features).dimension))
            definition = try fit(FeatureSchema(features: features))
        }
        if modelKind == .logistic {
            definition.kind = .logistic
            definition.aInverse = []
        }
        return try ScoringModel(definition)
    }

    /// A LinUCB fit on simulated impressions, so `A⁻¹` is a real dense matrix.
    private func fit(_ schema: FeatureSchema) throws -> ModelDefinition {
        let compiled = try CompiledSchema(schema)
        let generator = StubDataGenerator()
        var accumulator = LinUCBAccumulator(dimension: compiled.dimension)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<400 {
            let easyID = String(rng.next() % 1_000_000)
            let candidates = Array(generator.candidates(for: easyID).prefix(25))
            let user = generator.userFeatures(for: easyID)
            let batch = compiled.makeContexts(user: user, candidates: candidates, stats: generator.stats(for: easyID))
            for (row, coupon) in candidates.enumerated() {
                let reward = rng.unit() < generator.clickProbability(user: user, coupon: coupon) ? 1.0 : 0.0
                accumulator.observe(batch.denseRow(row), reward: reward)
            }
        }
        let (theta, aInverse) = try accumulator.solve()
        return ModelDefinition(
            version: "bench-d\(d)",
            createdAt: "2026-11-24T00:00:00Z",
            kind: .linucb,
            alpha: 0.25,
            features: schema,
            theta: theta,
            aInverse: aInverse
        )
    }

    private func runNumpy() -> (median: Double, blas: String)? {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("loadtest/bench/numpy_linucb.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // OpenBLAS workarounds set on some machines slow numpy down; measure it at its best.
        process.arguments = ["-u", "OPENBLAS_CORETYPE", "-u", "OPENBLAS_L2_SIZE", "python3", script.path, "--n", "\(n)", "--d", "\(d)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let median = json["median_us"] as? Double
        else { return nil }
        return (median, json["blas"] as? String ?? "unknown")
    }

    private func median(_ values: some Collection<Double>) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}
