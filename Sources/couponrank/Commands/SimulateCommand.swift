import ArgumentParser
import CouponRankCore
import CouponRankModelFile
import CouponRankModelStore
import CouponRankSimulation
import Foundation
import Logging

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the closed learning loop against the stub data's ground truth and write SIMULATION.md.",
        discussion: """
            For each world (standard: the stubs as shipped; cold-start: much noisier statistics and half the \
            catalog without any), runs the baselines (random, most popular, stats CTR, oracle) in process and \
            each learning policy (greedy logistic, ε-greedy, LinUCB at each --alpha) through a real \
            `couponrank serve` started by this command and a trainer over the given redis-server, from a cold \
            start; then checks off-policy evaluation on the ε-greedy run's logs against the final models' \
            online values. Writes <out-dir>/simulation.json, <out-dir>/SIMULATION.md and \
            <out-dir>/charts/simulation-<world>.svg. `make simulate` starts a redis-server for it.
            """
    )

    @Option(help: "redis-server to use (keys are prefixed sim-<run id>:, so runs never mix).")
    var redisURL = "redis://127.0.0.1:6379"

    @Option(help: "Impressions per policy (ranks × top k).")
    var impressions = 200_000

    @Option(help: "Coupons shown per rank.")
    var topK = 5

    @Option(help: "Ranks per second sent to each engine.")
    var rate = 2500.0

    @Option(help: "Ranks in flight at once.")
    var concurrency = 16

    @Option(help: "The trainer publishes after this many closed decisions.")
    var publishEvery = 1000

    @Option(help: "Reward window of the trainer, in milliseconds.")
    var rewardWindowMs = 500

    @Option(parsing: .upToNextOption, help: "LinUCB α values to compare.")
    var alpha: [Double] = [0.05, 0.15, 0.5]

    @Option(help: "Worlds to run, comma-separated: standard, cold-start.")
    var worlds = "standard,cold-start"

    @Option(help: "Where simulation.json, SIMULATION.md and charts/ go.")
    var outDir = "loadtest"

    @Option(help: "Seed of the visitor sequence and the clicks.")
    var seed: UInt64 = 1

    @Option(help: "Run nothing: render SIMULATION.md and the charts from this simulation.json of an earlier run.")
    var renderFrom: String?

    func validate() throws {
        guard impressions >= 1000 else { throw ValidationError("--impressions must be at least 1000") }
        guard (1...50).contains(topK) else { throw ValidationError("--top-k must be 1…50") }
        guard rate > 0, concurrency > 0, publishEvery > 0, rewardWindowMs > 0 else {
            throw ValidationError("--rate, --concurrency, --publish-every and --reward-window-ms must be positive")
        }
        guard alpha.allSatisfy({ $0 >= 0 && $0.isFinite }), !alpha.isEmpty else { throw ValidationError("--alpha values must be finite and ≥ 0") }
        for name in worlds.split(separator: ",") where !["standard", "cold-start"].contains(name) {
            throw ValidationError("unknown world '\(name)': standard or cold-start")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .notice
            return handler
        }
        let logger = Logger(label: "couponrank.simulate")
        if let renderFrom {
            let report: SimulationReport
            do {
                report = try JSONDecoder().decode(SimulationReport.self, from: Data(contentsOf: URL(fileURLWithPath: renderFrom)))
            } catch {
                print("error: cannot read \(renderFrom): \(error)")
                throw ExitCode(1)
            }
            try write(report, json: false)
            return
        }
        let url: RedisURL
        do {
            url = try RedisURL(parsing: redisURL)
        } catch {
            throw ValidationError("--redis-url: \(error.message)")
        }
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let settings = SimulationSettings(
            impressions: impressions, topK: topK, rate: rate, concurrency: concurrency, publishEvery: publishEvery,
            rewardWindowMillis: UInt64(rewardWindowMs), alphas: alpha, seed: seed, binary: binary, redisURL: url,
            runID: "\(Int(Date().timeIntervalSince1970))"
        )
        let simulation = Simulation(settings: settings, logger: logger)
        let bundled = try BundledModel.load().definition
        var reports: [SimulationReport.World] = []
        for name in worlds.split(separator: ",") {
            let world = name == "standard" ? SimulationWorld.standard : SimulationWorld.coldStart
            var policies: [PolicyResult] = []
            for baseline in Simulation.Baseline.allCases {
                let result = simulation.runBaseline(baseline, world: world)
                print(summary(result, world: world.name))
                policies.append(result)
            }
            var loggingRuns: [(String, String)] = []
            var targets: [(String, ScoringModel)] = []
            for policy in simulation.enginePolicies(bundled: bundled) {
                let run: Simulation.EngineRun
                do {
                    run = try await simulation.runEngine(policy, world: world)
                } catch {
                    print("error: \(policy.name) in world \(world.name): \(error)")
                    throw ExitCode(1)
                }
                print(summary(run.result, world: world.name))
                policies.append(run.result)
                if policy.logsCandidates { loggingRuns.append((policy.name, run.prefix)) }
                if let model = run.finalModel, policy.name == "greedy-logistic" || policy.name.hasPrefix("linucb") {
                    targets.append((policy.name, model))
                }
            }
            var checks: [OffPolicyCheck] = []
            for (name, prefix) in loggingRuns {
                checks += try await simulation.offPolicyChecks(loggingPolicy: name, loggingPrefix: prefix, targets: targets, world: world)
            }
            for check in checks {
                print("  OPE on \(check.loggingPolicy)'s logs, \(check.target): DR \(String(format: "%.4f", check.doublyRobust.value)) [\(String(format: "%.4f", check.doublyRobust.lower)), \(String(format: "%.4f", check.doublyRobust.upper))], online \(String(format: "%.4f", check.online.value)); DR covers online: \(check.covers["dr"]!)")
            }
            reports.append(.init(name: world.name, statsNoise: world.statsNoise, unseenCouponShare: world.unseenCouponShare, policies: policies, offPolicyChecks: checks, onlineVisitors: settings.onlineCheckVisitors))
        }
        let report = SimulationReport(
            generatedAt: ISO8601DateFormatter().string(from: Date()), impressionsPerPolicy: impressions, topK: topK,
            ratePerSecond: rate, publishEvery: publishEvery, rewardWindowMillis: UInt64(rewardWindowMs), seed: seed, worlds: reports
        )
        try write(report, json: true)
    }

    private func summary(_ result: PolicyResult, world: String) -> String {
        String(
            format: "%@ %-16@ final CTR@%d %.4f (%.1f %% of oracle), precision %.1f %%, regret %.0f, %d ranks failed, %.1f s",
            world, result.policy, topK, result.finalCTR, result.finalRatioToOracle * 100, result.finalPrecision * 100,
            result.cumulativeRegret, result.failedRanks, result.seconds
        )
    }

    private func write(_ report: SimulationReport, json: Bool) throws {
        let directory = URL(fileURLWithPath: outDir)
        let charts = directory.appendingPathComponent("charts")
        try FileManager.default.createDirectory(at: charts, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        if json { try encoder.encode(report).write(to: directory.appendingPathComponent("simulation.json")) }
        for world in report.worlds {
            try report.learningCurveSVG(world: world).write(to: charts.appendingPathComponent("simulation-\(world.name).svg"), atomically: true, encoding: .utf8)
        }
        try report.markdown { "charts/simulation-\($0).svg" }.write(to: directory.appendingPathComponent("SIMULATION.md"), atomically: true, encoding: .utf8)
        print("wrote \(directory.appendingPathComponent("SIMULATION.md").path)\(json ? ", simulation.json" : "") and charts/simulation-*.svg")
    }
}
