import CouponRankLoadTest
import CouponRankTestSupport
import CouponRankWire
import Foundation
import Testing

/// Issue 15: degraded answers count against the SLO when the run asks, and `--find-max` honours it.
@Suite struct DegradedSLOTests {
    static func report(degraded: Int, completed: Int = 1000) -> RunReport {
        var report = SLOTests.report(p99: 10_000, completed: completed)
        report.degraded = degraded
        return report
    }

    @Test func degradedAnswersBreakTheBoundOnlyWhenOneIsSet() {
        let bounded = ServiceLevelObjective(latency: [(99, .milliseconds(50))], maximumDegradedRate: 0.01)
        #expect(bounded.violations(of: Self.report(degraded: 10)).isEmpty)  // exactly 1%
        #expect(bounded.violations(of: Self.report(degraded: 11)) == ["degraded 1.10% > 1.00%"])
        let unbounded = ServiceLevelObjective(latency: [(99, .milliseconds(50))])
        #expect(unbounded.violations(of: Self.report(degraded: 900)).isEmpty)
        #expect(bounded.description.contains("degraded ≤ 1%"))
    }

    /// A simulated service whose answers degrade as load rises (its upstreams time out): 0.5% of
    /// answers per 1000/s offered, rounded down. Latency alone allows 9000/s; 1% degraded allows under 2200/s.
    @Test func findMaxStopsWhereTheDegradedShareCrossesTheBound() async throws {
        let latencyOnly = ServiceLevelObjective(latency: [(99, .milliseconds(10))])
        var bounded = latencyOnly
        bounded.maximumDegradedRate = 0.01
        let probe: (Double) -> RunReport = { rate in
            var report = FindMaxTests.simulatedServer(rate)
            report.degraded = Int(Double(report.completed) * 0.005 * rate / 1000)
            return report
        }
        let unboundedBest = try #require(await MaximumRateSearch(startRate: 500, precision: 0.02).run(slo: latencyOnly, probe: probe).best)
        let boundedResult = await MaximumRateSearch(startRate: 500, precision: 0.02).run(slo: bounded, probe: probe)
        let boundedBest = try #require(boundedResult.best)
        #expect((8800...9000).contains(unboundedBest.rate))
        #expect((2100..<2200).contains(boundedBest.rate), "\(boundedBest.rate)")
        #expect(boundedResult.curve.contains { $0.violations.contains { $0.hasPrefix("degraded") } })
        #expect(boundedResult.curve.allSatisfy { $0.degradedRate >= 0 })
    }
}

/// Issue 15: the charts' x ticks repeated (`2k, 2k`) and were not round.
@Suite struct ChartTests {
    @Test(arguments: [0.7, 9.0, 137.0, 1_687.0, 2_200.0, 3_375.0, 15_284.0, 16_800.0, 99_000.0, 123_456.0])
    func xTicksAreRoundDistinctAndCoverTheData(maxX: Double) {
        let ticks = SVGChart.roundTicks(upTo: maxX)
        #expect(Set(ticks.map(\.label)).count == ticks.count, "\(ticks.map(\.label))")
        #expect(ticks.first?.value == 0)
        #expect((ticks.last?.value ?? 0) >= maxX)
        #expect((3...7).contains(ticks.count), "\(ticks.map(\.label))")
        let step = ticks[1].value
        let mantissa = step / pow(10, floor(log10(step)))
        #expect([1.0, 2, 5].contains { abs($0 - mantissa) < 1e-9 }, "step \(step)")
    }

    @Test func theSweepChartLabelsTheSLOAndMarksTheChosenMaximumInsideTheFrame() {
        let points = [1000.0, 2000, 4000, 8000, 16_000, 12_000, 14_000].map { rate in
            MaximumRateSearch.Point(
                offeredRate: rate, achievedRate: min(rate, 15_000), meetsSLO: rate <= 14_000,
                p50: 200, p99: rate <= 14_000 ? 2_000 : 90_000, p999: 120_000, errorRate: 0, degradedRate: 0, violations: []
            )
        }
        let svg = SVGChart.latencyVersusThroughput(points, title: "t", slo: .milliseconds(50), chosen: 14_000)
        #expect(svg.contains("SLO: p99 ≤ 50 ms"))
        #expect(svg.contains("maximum at the SLO: 14000/s achieved"))
        // Nothing is drawn right of the frame (720 wide, 30 px right margin).
        let xs = svg.matches(of: /<text x="([0-9.]+)"/).compactMap { Double($0.1) }
        #expect(xs.allSatisfy { $0 <= 720 - 30 + 20 }, "\(xs)")
    }
}

/// Issue 15: the generator measures an HTTP/JSON peer the way it measures the engine, against a
/// real HTTP server on loopback.
@Suite struct HTTPPeerTargetTests {
    @Test func callsAreCountedAsAnsweredDegradedOrFailedByStatus() async throws {
        let server = try await PythonHTTPServer.start(script: "CouponRankLoadTestTests/Fixtures/rank_peer_stub.py")
        defer { server.stop() }
        let target = HTTPRankTarget(base: server.baseURL, maximumConnections: 16)
        defer { target.shutdown() }
        let plan = LoadPlan(mode: .open(rate: 100), limit: .count(400), warmup: .zero, easyIDs: .uniform(count: 1000), timeout: .seconds(10))
        let report = await LoadRunner(plan: plan, target: .http(target)).run()
        print("HTTP peer stub: \(report.completed) completed, \(report.ok) ok, \(report.degraded) degraded, errors \(report.errors)")
        #expect(report.completed == 400)
        // easy_ids ending in 7 get 503, in 3 a degraded answer: about a tenth each.
        #expect((10...90).contains(report.errors["HTTP_503"] ?? 0))
        #expect((10...90).contains(report.degraded))
        #expect(report.errors.keys.allSatisfy { $0 == "HTTP_503" })
        #expect(report.serverTotal.p50 == 70)
    }
}
