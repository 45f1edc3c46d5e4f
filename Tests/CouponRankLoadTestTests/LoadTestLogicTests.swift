import CouponRankLoadTest
import CouponRankWire
import Testing

@Suite struct PacingTests {
    @Test func intendedStartsAreSpacedByTheRate() {
        let start = ContinuousClock.now
        let pacer = Pacer(rate: 2000, start: start)
        #expect(pacer.intendedStart(of: 0) == start)
        #expect(pacer.intendedStart(of: 1) - start == .microseconds(500))
        #expect(pacer.intendedStart(of: 2000) - start == .seconds(1))
        #expect(pacer.due(at: start + .milliseconds(10)) == 21)  // starts 0…20
        #expect(pacer.due(at: start - .milliseconds(1)) == 0)
    }

    @Test func zipfDrawsFavourTheHotUsersAndUniformDoesNot() {
        var rng = SystemRandomNumberGenerator()
        let zipf = EasyIDDistribution.zipf(count: 10_000, exponent: 1.1).makeSampler()
        let uniform = EasyIDDistribution.uniform(count: 10_000).makeSampler()
        let zipfHot = (0..<20_000).filter { _ in zipf.nextIndex(using: &rng) < 10 }.count
        let uniformHot = (0..<20_000).filter { _ in uniform.nextIndex(using: &rng) < 10 }.count
        #expect(zipfHot > 20_000 / 4)  // the top 10 of 10 000 users get over a quarter
        #expect(uniformHot < 100)
        #expect((0..<1000).allSatisfy { _ in (0..<10_000).contains(zipf.nextIndex(using: &rng)) })
    }
}

@Suite struct CoordinatedOmissionTests {
    /// A server that answers in 1 ms but stalls once for 200 ms, offered 1000 requests/s: the
    /// requests that should have started during the stall waited for it. Measured from the send,
    /// they look fast; measured from the intended start, the stall shows.
    @Test func aStallShowsInTheCorrectedFiguresOnly() {
        let recorder = LatencyRecorder()
        let start = ContinuousClock.now
        let pacer = Pacer(rate: 1000, start: start)
        let stallStart = start + .milliseconds(500)
        let stallEnd = stallStart + .milliseconds(200)
        var clientFree = start  // a closed client can only send after the previous answer
        for index in 0..<2000 {
            let intended = pacer.intendedStart(of: index)
            let sent = max(intended, clientFree)
            let serviceStart = sent >= stallStart && sent < stallEnd ? stallEnd : sent
            let end = serviceStart + .milliseconds(1)
            clientFree = end
            recorder.record(
                corrected: end - intended,
                uncorrected: end - sent,
                outcome: .ranked(.init(totalMicros: 1000), degraded: false)
            )
        }
        let report = RunReport.from(recorder, seconds: 2)
        #expect(report.latencyUncorrected.p999 < 5_000)  // the stall hides behind one slow request
        #expect(report.latency.max >= 200_000)
        #expect(report.latency.p99 >= 50_000)  // ~200 requests waited for the stall
        #expect(report.latencyUncorrected.max >= 200_000)  // the one request that met the stall
    }

    @Test func errorsStayInTheStatisticsAndAreCountedByCode() {
        let recorder = LatencyRecorder()
        recorder.record(corrected: .milliseconds(1), uncorrected: .milliseconds(1), outcome: .serverError(.overloaded))
        recorder.record(corrected: .milliseconds(2), uncorrected: .milliseconds(2), outcome: .serverError(.deadlineExceeded))
        recorder.record(corrected: .seconds(2), uncorrected: .seconds(2), outcome: .transport)
        recorder.record(corrected: .milliseconds(3), uncorrected: .milliseconds(3), outcome: .ranked(.init(), degraded: true))
        let report = RunReport.from(recorder, seconds: 1)
        #expect(report.completed == 4)
        #expect(report.errors == ["OVERLOADED": 1, "DEADLINE_EXCEEDED": 1, "TRANSPORT": 1])
        #expect(report.degraded == 1)
        #expect(report.latency.count == 4)
        #expect(report.latency.max >= 1_990_000)
        #expect(abs(report.errorRate - 0.75) < 1e-9)
    }
}

@Suite struct SLOTests {
    static func report(p99: UInt64, errors: Int = 0, completed: Int = 1000) -> RunReport {
        RunReport(
            offeredRate: 1000,
            achievedRate: 1000,
            completed: completed,
            errors: errors > 0 ? ["OVERLOADED": errors] : [:],
            latency: LatencySummary(count: UInt64(completed), p50: p99 / 4, p90: p99 / 2, p99: p99, p999: p99 * 2, max: p99 * 3, mean: Double(p99) / 4)
        )
    }

    @Test func parsesTheDocumentedForms() throws {
        let p99 = try #require(ServiceLevelObjective.parseLatency("p99=50ms"))
        #expect(p99.percentile == 99 && p99.limit == .milliseconds(50))
        #expect(ServiceLevelObjective.parseLatency("p99.9=250us")?.limit == .microseconds(250))
        #expect(ServiceLevelObjective.parseLatency("max=1s")?.percentile == 100)
        #expect(ServiceLevelObjective.parseLatency("p98=1ms") == nil)
        #expect(ServiceLevelObjective.parseLatency("p99=fast") == nil)
        #expect(ServiceLevelObjective.parseRate("0.1%") == 0.001)
        #expect(ServiceLevelObjective.parseRate("0.02") == 0.02)
        #expect(ServiceLevelObjective.parseRate("150%") == nil)
    }

    @Test func judgesLatencyAndErrorRate() {
        let slo = ServiceLevelObjective(latency: [(99, .milliseconds(50))], maximumErrorRate: 0.001)
        #expect(slo.violations(of: Self.report(p99: 49_000)).isEmpty)
        #expect(slo.violations(of: Self.report(p99: 50_000)).isEmpty)
        #expect(slo.violations(of: Self.report(p99: 50_001)).count == 1)
        #expect(slo.violations(of: Self.report(p99: 10_000, errors: 2)).count == 1)  // 0.2% > 0.1%
        #expect(slo.violations(of: Self.report(p99: 10_000, errors: 1)).isEmpty)  // exactly 0.1%
        #expect(!slo.violations(of: Self.report(p99: 1, completed: 0)).isEmpty)
    }
}

@Suite struct FindMaxTests {
    /// A simulated server: p99 grows as load approaches its capacity of 10 000/s, and it cannot
    /// go faster than its capacity.
    static func simulatedServer(_ rate: Double) -> RunReport {
        let capacity = 10_000.0
        let utilisation = min(rate / capacity, 0.999)
        let p99 = UInt64(1000 / (1 - utilisation))  // 1 ms at idle, rising steeply near capacity
        return SLOTests.report(p99: p99).with(offered: rate, achieved: min(rate, capacity))
    }

    @Test func findsTheHighestRateMeetingTheSLO() async throws {
        let slo = ServiceLevelObjective(latency: [(99, .milliseconds(10))])
        // p99 ≤ 10 ms ⇔ utilisation ≤ 0.9 ⇔ rate ≤ 9000/s.
        let result = await MaximumRateSearch(startRate: 500, precision: 0.02).run(slo: slo) { Self.simulatedServer($0) }
        let best = try #require(result.best)
        #expect((8800...9000).contains(best.rate))
        #expect(result.curve.contains { !$0.meetsSLO })
        #expect(result.curve.first?.offeredRate == 500)
    }

    @Test func searchesDownwardsWhenTheFirstStepFails() async {
        let slo = ServiceLevelObjective(latency: [(99, .milliseconds(10))])
        let result = await MaximumRateSearch(startRate: 40_000, precision: 0.02).run(slo: slo) { Self.simulatedServer($0) }
        #expect(result.curve.first?.meetsSLO == false)
        #expect((8800...9000).contains(result.best?.rate ?? 0))
    }

    @Test func reportsNothingWhenNoRateDownToTheMinimumPasses() async {
        let slo = ServiceLevelObjective(latency: [(99, .microseconds(500))])
        let result = await MaximumRateSearch(startRate: 100, minimumRate: 10).run(slo: slo) { Self.simulatedServer($0) }
        #expect(result.best == nil)
        #expect(result.curve.map(\.offeredRate) == [100, 50, 25, 12.5])
    }

    @Test func aStepThatCannotKeepUpWithTheOfferedRateFails() async {
        // Latency never breaks the SLO, but the server saturates at 10 000/s.
        let slo = ServiceLevelObjective(latency: [(99, .seconds(10))])
        let result = await MaximumRateSearch(startRate: 1000, precision: 0.02).run(slo: slo) { Self.simulatedServer($0) }
        // A step passes while it achieves 95% of its offered rate: the answer is the capacity
        // within that tolerance.
        #expect((9500...10_000 / 0.95).contains(result.best?.rate ?? 0))
    }
}

extension RunReport {
    static func from(_ recorder: LatencyRecorder, seconds: Double) -> RunReport {
        RunReport(recorder: recorder, measuredSeconds: seconds)
    }

    func with(offered: Double, achieved: Double) -> RunReport {
        var copy = self
        copy.offeredRate = offered
        copy.achievedRate = achieved
        return copy
    }
}

/// Issue 11: `--slo p99=100us` printed `p99 ≤ 0 ms`.
@Suite struct SLODescriptionTests {
    @Test(arguments: [("p99=100us", "p99 ≤ 100 µs"), ("p99=50ms", "p99 ≤ 50 ms"), ("p99.9=2.5ms", "p99.9 ≤ 2.5 ms"), ("max=2s", "max ≤ 2 s")])
    func limitsAreShownInTheirUnit(text: String, shown: String) throws {
        let objective = ServiceLevelObjective(latency: [try #require(ServiceLevelObjective.parseLatency(text))], maximumErrorRate: nil)
        #expect(objective.description.contains(shown), "\(objective.description)")
    }
}
