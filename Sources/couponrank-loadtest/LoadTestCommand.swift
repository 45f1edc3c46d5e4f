import ArgumentParser
import CouponRankClient
import CouponRankCore
import CouponRankLoadTest
import Foundation

@main
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "couponrank-loadtest",
        abstract: "Offer Rank load to a CouponRank server and report throughput and latency.",
        discussion: """
            Open loop (--rate) measures each latency from the request's intended start, so a stalled \
            server cannot hide its queue; the uncorrected figures are reported beside. Errors stay in \
            every statistic. Exit status: 0 when the SLO is met (or none is given), 3 when missed.
            """
    )

    @Option(help: "Server address, HOST:PORT (loopback only for tests on shared machines).")
    var server = "127.0.0.1:7420"

    @Option(help: ArgumentHelp(
        "Measure an HTTP/JSON peer instead of a CouponRank server, e.g. http://127.0.0.1:8000 (open loop only).",
        discussion: "Each call is GET URL/v1/rank/{easy_id}?top_k=K; see loadtest/peers/README.md."
    ))
    var http: String?

    @Option(help: "Connections to the server.")
    var connections = 4

    @Option(help: "Open loop: requests (or pages) started per second.")
    var rate: Double?

    @Option(help: "Closed loop: requests in flight per connection (used when --rate is absent).")
    var inFlight = 16

    @Option(help: "Measured duration, e.g. 10s (after the warm-up).")
    var duration = "10s"

    @Option(help: "Measured request (or page) count instead of a duration.")
    var requests: Int?

    @Option(help: "Warm-up excluded from the results, e.g. 2s.")
    var warmup = "2s"

    @Option(help: "easy_ids are drawn from 1…users.")
    var users = 1_000_000

    @Option(help: "Zipf exponent for hot users (e.g. 1.1); uniform when absent.")
    var zipf: Double?

    @Option(help: "top_k of each request.")
    var topK: UInt16 = 20

    @Option(help: "Budget sent with each request, e.g. 100ms.")
    var budget = "100ms"

    @Option(help: "Client timeout of each call, e.g. 2s.")
    var timeout = "2s"

    @Option(help: "Page mode: rank calls per page load (open loop); the SLO then applies to pages.")
    var pageCalls = 1

    @Option(help: "Latency SLO, repeatable: p50|p90|p99|p99.9|max=VALUE (us, ms, s).")
    var slo: [String] = []

    @Option(help: "Largest acceptable error rate, e.g. 0.1% or 0.001.")
    var maxErrorRate: String?

    @Option(help: "Largest acceptable share of degraded (not fully personalised) answers, e.g. 1%.")
    var maxDegradedRate: String?

    @Flag(help: "Search the highest open-loop rate that meets the SLO (default SLO p99=50ms).")
    var findMax = false

    @Option(help: "--find-max: first rate tried.")
    var startRate = 1000.0

    @Option(help: "--find-max: highest rate tried.")
    var maxRate = 500_000.0

    @Option(help: "--find-max: measured duration of each step, e.g. 5s.")
    var stepDuration = "5s"

    @Option(help: "Write every figure as JSON to this file.")
    var json: String?

    @Option(help: "Write an SVG chart to this file (the sweep for --find-max, else the latency distribution).")
    var svg: String?

    @Option(help: "Title of the chart.")
    var title = "CouponRank Rank latency"

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        guard connections > 0, inFlight > 0, users > 0, pageCalls > 0 else {
            throw ValidationError("--connections, --in-flight, --users and --page-calls must be positive")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        for (flag, value) in [("--duration", duration), ("--warmup", warmup), ("--budget", budget), ("--timeout", timeout), ("--step-duration", stepDuration)] {
            guard Duration(parsing: value) != nil else { throw ValidationError("\(flag) '\(value)' is not a duration such as 500ms or 10s") }
        }
        for entry in slo where ServiceLevelObjective.parseLatency(entry) == nil {
            throw ValidationError("--slo '\(entry)' is not like p99=50ms")
        }
        if let maxErrorRate, ServiceLevelObjective.parseRate(maxErrorRate) == nil {
            throw ValidationError("--max-error-rate '\(maxErrorRate)' is not like 0.1% or 0.001")
        }
        if let maxDegradedRate, ServiceLevelObjective.parseRate(maxDegradedRate) == nil {
            throw ValidationError("--max-degraded-rate '\(maxDegradedRate)' is not like 1% or 0.01")
        }
        if let http {
            guard http.hasPrefix("http://") || http.hasPrefix("https://") else { throw ValidationError("--http '\(http)' is not an http:// URL") }
            guard rate != nil || findMax else { throw ValidationError("--http needs --rate or --find-max (open loop)") }
        }
        if pageCalls > 1 && rate == nil && !findMax { throw ValidationError("--page-calls needs --rate or --find-max (open loop)") }
        if let requests, requests <= 0 { throw ValidationError("--requests must be positive") }
    }

    func run() async throws {
        let target = try await connect()
        defer {
            switch target {
            case .rpc(let clients): Task { await clients.close() }
            case .http(let peer): peer.shutdown()
            }
        }

        var objective = ServiceLevelObjective(
            latency: slo.compactMap(ServiceLevelObjective.parseLatency),
            maximumErrorRate: maxErrorRate.flatMap(ServiceLevelObjective.parseRate),
            maximumDegradedRate: maxDegradedRate.flatMap(ServiceLevelObjective.parseRate)
        )
        objective.judgesPages = pageCalls > 1
        if findMax && objective.latency.isEmpty { objective.latency = [(99, .milliseconds(50))] }
        let hasSLO = !objective.latency.isEmpty || objective.maximumErrorRate != nil || objective.maximumDegradedRate != nil

        if findMax {
            let search = MaximumRateSearch(startRate: startRate, maximumRate: maxRate)
            let result = await search.run(slo: objective) { rate in
                let plan = makePlan(mode: .open(rate: rate), limit: .duration(Duration(parsing: stepDuration)!))
                return await LoadRunner(plan: plan, target: target).run(progress: progressPrinter)
            } onStep: { point in
                clearProgress()
                print(
                    String(format: "step %8.0f/s offered → %8.0f/s achieved, p50 %6d µs, p99 %7d µs, p99.9 %7d µs, errors %.3f%%, degraded %.1f%%  %@",
                           point.offeredRate, point.achievedRate, point.p50, point.p99, point.p999, point.errorRate * 100, point.degradedRate * 100,
                           point.meetsSLO ? "meets SLO" : "misses: " + point.violations.joined(separator: "; "))
                )
            }
            print("")
            if let best = result.best {
                print(String(format: "highest rate meeting the SLO (%@): %.0f/s", objective.description, best.rate))
                print(ReportFormatter.table(best.report, slo: objective))
            } else {
                print("no rate tried met the SLO (\(objective))")
            }
            try write(json: FindMaxOutput(slo: objective.description, bestRate: result.best?.rate, best: result.best?.report, curve: result.curve))
            if let svg {
                try SVGChart.latencyVersusThroughput(
                    result.curve, title: title, slo: objective.latency.first { $0.percentile == 99 }?.limit, chosen: result.best?.report.achievedRate
                )
                .write(toFile: svg, atomically: true, encoding: .utf8)
            }
            if result.best == nil { throw ExitCode(3) }
            return
        }

        let mode: LoadMode = rate.map { .open(rate: $0) } ?? .closed(connections: connections, inFlightPerConnection: inFlight)
        let limit: RunLimit = requests.map { .count($0) } ?? .duration(Duration(parsing: duration)!)
        let report = await LoadRunner(plan: makePlan(mode: mode, limit: limit), target: target).run(progress: progressPrinter)
        clearProgress()
        print(ReportFormatter.table(report, slo: hasSLO ? objective : nil))
        try write(json: report)
        if let svg {
            try SVGChart.latencyDistribution(report, title: title).write(toFile: svg, atomically: true, encoding: .utf8)
        }
        if case .rpc(let clients) = target {
            if clients.reconnectionCount > 0 {
                print("reconnected \(clients.reconnectionCount) time(s) after the server closed connections")
            }
            let downtime = clients.averageDowntime
            if downtime > .zero {
                print(String(format: "without a connection to the server for %.1f s of the run (average over connections)", downtime.seconds))
            }
            if downtime.seconds * 2 > report.measuredSeconds {
                print("the server was away for most of the run: its figures do not describe the server")
                throw ExitCode(4)
            }
        }
        if hasSLO && !objective.violations(of: report).isEmpty { throw ExitCode(3) }
    }

    /// The RPC connections to `--server`, or the HTTP peer at `--http`.
    private func connect() async throws -> LoadTarget {
        if let http {
            // HTTP/1.1 answers one call per connection at a time: allow as many as can be in flight.
            return .http(HTTPRankTarget(base: http, maximumConnections: max(connections, 256)))
        }
        let parts = server.split(separator: ":")
        guard parts.count >= 2, let port = Int(parts.last!) else { throw ValidationError("--server must be HOST:PORT") }
        let host = parts.dropLast().joined(separator: ":").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return .rpc(try await ClientPool.connect(host: host, port: port, count: connections))
    }

    private func makePlan(mode: LoadMode, limit: RunLimit) -> LoadPlan {
        LoadPlan(
            mode: mode,
            limit: limit,
            warmup: Duration(parsing: warmup)!,
            easyIDs: zipf.map { .zipf(count: users, exponent: $0) } ?? .uniform(count: users),
            topK: topK,
            budget: Duration(parsing: budget)!,
            timeout: Duration(parsing: timeout)!,
            callsPerPage: pageCalls
        )
    }

    private var progressPrinter: (@Sendable (LoadProgress) -> Void)? {
        guard !quiet else { return nil }
        return { progress in
            let phase = progress.inWarmup ? "warm-up" : "measuring"
            let line = String(
                format: "\r%@ %5.1fs  started %d  completed %d  errors %d  p99 %.2f ms   ",
                phase, progress.elapsed.seconds, progress.started, progress.completed, progress.errors, progress.p99.seconds * 1000
            )
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    private func clearProgress() {
        if !quiet { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func write(json value: some Encodable) throws {
        guard let json else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(value).write(to: URL(fileURLWithPath: json))
    }
}

struct FindMaxOutput: Encodable {
    var slo: String
    var bestRate: Double?
    var best: RunReport?
    var curve: [MaximumRateSearch.Point]

    enum CodingKeys: String, CodingKey {
        case slo
        case bestRate = "best_rate"
        case best, curve
    }
}
