/// Finds the highest arrival rate that meets an SLO: doubles the rate until a step fails, then
/// bisects between the last passing and the first failing rate. When the first step already
/// fails, it halves the rate until one passes.
public struct MaximumRateSearch: Sendable {
    public struct Point: Codable, Sendable {
        public var offeredRate: Double
        public var achievedRate: Double
        public var meetsSLO: Bool
        public var p50: UInt64
        public var p99: UInt64
        public var p999: UInt64
        public var errorRate: Double
        public var degradedRate: Double
        public var violations: [String]

        public init(
            offeredRate: Double, achievedRate: Double, meetsSLO: Bool, p50: UInt64, p99: UInt64, p999: UInt64,
            errorRate: Double, degradedRate: Double, violations: [String]
        ) {
            self.offeredRate = offeredRate
            self.achievedRate = achievedRate
            self.meetsSLO = meetsSLO
            self.p50 = p50
            self.p99 = p99
            self.p999 = p999
            self.errorRate = errorRate
            self.degradedRate = degradedRate
            self.violations = violations
        }

        enum CodingKeys: String, CodingKey {
            case offeredRate = "offered_rate"
            case achievedRate = "achieved_rate"
            case meetsSLO = "meets_slo"
            case p50 = "p50_us"
            case p99 = "p99_us"
            case p999 = "p99_9_us"
            case errorRate = "error_rate"
            case degradedRate = "degraded_rate"
            case violations
        }
    }

    public struct Result: Sendable {
        /// The highest rate tried that met the SLO, with its report; nil when even the first failed.
        public var best: (rate: Double, report: RunReport)?
        /// Every step, in the order tried.
        public var curve: [Point]
    }

    public var startRate: Double
    public var maximumRate: Double
    /// Bisection stops when the bracket is narrower than this fraction of its lower end.
    public var precision: Double
    public var maximumSteps: Int
    /// When the first steps fail, the search halves the rate down to this before giving up.
    public var minimumRate: Double

    public init(
        startRate: Double,
        maximumRate: Double = 1_000_000,
        precision: Double = 0.05,
        maximumSteps: Int = 14,
        minimumRate: Double = 10
    ) {
        precondition(startRate > 0 && maximumRate >= startRate && minimumRate > 0)
        self.startRate = startRate
        self.minimumRate = minimumRate
        self.maximumRate = maximumRate
        self.precision = precision
        self.maximumSteps = maximumSteps
    }

    /// A step meets the SLO when it has no violation and achieves at least 95% of what was offered.
    public func run(
        slo: ServiceLevelObjective,
        probe: (Double) async throws -> RunReport,
        onStep: (Point) -> Void = { _ in }
    ) async rethrows -> Result {
        var curve: [Point] = []
        var best: (rate: Double, report: RunReport)?
        var low: Double?
        var high: Double?
        var rate = startRate
        for _ in 0..<maximumSteps {
            let report = try await probe(rate)
            var violations = slo.violations(of: report)
            if report.achievedRate < 0.95 * rate {
                violations.append(String(format: "achieved %.0f/s of %.0f/s offered", report.achievedRate, rate))
            }
            let point = Point(
                offeredRate: rate,
                achievedRate: report.achievedRate,
                meetsSLO: violations.isEmpty,
                p50: report.latency.p50,
                p99: report.latency.p99,
                p999: report.latency.p999,
                errorRate: report.errorRate,
                degradedRate: report.degradedRate,
                violations: violations
            )
            curve.append(point)
            onStep(point)
            if point.meetsSLO {
                low = rate
                if best == nil || rate > best!.rate { best = (rate, report) }
            } else {
                high = min(high ?? rate, rate)
            }
            if let high {
                guard let lower = low else {
                    // Nothing has passed yet: halve until something does.
                    rate = high / 2
                    guard rate >= minimumRate else { break }
                    continue
                }
                guard (high - lower) > precision * lower else { break }
                rate = (lower + high) / 2
            } else {
                guard rate < maximumRate else { break }
                rate = min(rate * 2, maximumRate)
            }
        }
        return Result(best: best, curve: curve)
    }
}
