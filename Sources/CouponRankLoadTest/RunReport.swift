import Histogram

/// Percentiles of one latency distribution, in microseconds.
public struct LatencySummary: Codable, Sendable, Hashable {
    public var count: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
    public var mean: Double

    enum CodingKeys: String, CodingKey {
        case count, p50, p90, p99, p999 = "p99_9", max, mean
    }

    init(_ histogram: Histogram<UInt64>) {
        self.count = histogram.totalCount
        guard histogram.totalCount > 0 else {
            self.p50 = 0; self.p90 = 0; self.p99 = 0; self.p999 = 0; self.max = 0; self.mean = 0
            return
        }
        self.p50 = histogram.valueAtPercentile(50)
        self.p90 = histogram.valueAtPercentile(90)
        self.p99 = histogram.valueAtPercentile(99)
        self.p999 = histogram.valueAtPercentile(99.9)
        self.max = histogram.max
        self.mean = histogram.mean
    }

    public init(count: UInt64, p50: UInt64, p90: UInt64, p99: UInt64, p999: UInt64, max: UInt64, mean: Double) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
    }

    /// The value at `percentile` (50, 90, 99, 99.9 or 100).
    public func value(at percentile: Double) -> UInt64? {
        switch percentile {
        case 50: p50
        case 90: p90
        case 99: p99
        case 99.9: p999
        case 100: max
        default: nil
        }
    }
}

/// Everything one run measured.
public struct RunReport: Codable, Sendable {
    public var mode: String
    /// Requests (or pages) per second offered; nil for closed loop.
    public var offeredRate: Double?
    public var achievedRate: Double
    public var measuredSeconds: Double
    public var sent: Int
    public var completed: Int
    public var ok: Int
    public var degraded: Int
    /// By code: OVERLOADED, DEADLINE_EXCEEDED, TRANSPORT, and any other.
    public var errors: [String: Int]
    /// Client round trip from the intended start (coordinated-omission corrected).
    public var latency: LatencySummary
    /// Client round trip from the actual send.
    public var latencyUncorrected: LatencySummary
    public var serverFetch: LatencySummary
    public var serverContext: LatencySummary
    public var serverScore: LatencySummary
    public var serverTotal: LatencySummary
    /// Page loads (page mode only).
    public var pages: LatencySummary?
    public var pagesFailed: Int?
    public var callsPerPage: Int

    enum CodingKeys: String, CodingKey {
        case mode
        case offeredRate = "offered_rate"
        case achievedRate = "achieved_rate"
        case measuredSeconds = "measured_seconds"
        case sent, completed, ok, degraded, errors
        case latency = "latency_us"
        case latencyUncorrected = "latency_uncorrected_us"
        case serverFetch = "server_fetch_us"
        case serverContext = "server_context_us"
        case serverScore = "server_score_us"
        case serverTotal = "server_total_us"
        case pages = "pages_us"
        case pagesFailed = "pages_failed"
        case callsPerPage = "calls_per_page"
    }

    public var errorCount: Int { errors.values.reduce(0, +) }
    public var errorRate: Double { completed == 0 ? 0 : Double(errorCount) / Double(completed) }
    /// Answers that were not fully personalised (an upstream's defaults stood in), of all completed calls.
    public var degradedRate: Double { completed == 0 ? 0 : Double(degraded) / Double(completed) }

    init(mode: String, offeredRate: Double?, sent: Int, measuredSeconds: Double, callsPerPage: Int, recorder: LatencyRecorder) {
        self.mode = mode
        self.offeredRate = offeredRate
        self.sent = sent
        self.measuredSeconds = measuredSeconds
        self.callsPerPage = callsPerPage
        let values = recorder.withState { state in
            (
                state.ok, state.degraded, state.errors,
                LatencySummary(state.corrected), LatencySummary(state.uncorrected),
                LatencySummary(state.fetch), LatencySummary(state.context), LatencySummary(state.score),
                LatencySummary(state.serverTotal), LatencySummary(state.pages), state.pagesCompleted, state.pagesFailed
            )
        }
        self.ok = values.0
        self.degraded = values.1
        self.errors = values.2
        self.completed = values.0 + values.2.values.reduce(0, +)
        self.latency = values.3
        self.latencyUncorrected = values.4
        self.serverFetch = values.5
        self.serverContext = values.6
        self.serverScore = values.7
        self.serverTotal = values.8
        if callsPerPage > 1 {
            self.pages = values.9
            self.pagesFailed = values.11
            self.achievedRate = measuredSeconds > 0 ? Double(values.10) / measuredSeconds : 0
        } else {
            self.pages = nil
            self.pagesFailed = nil
            self.achievedRate = measuredSeconds > 0 ? Double(completed) / measuredSeconds : 0
        }
    }

    /// A report of everything `recorder` holds, as one closed-loop run of `measuredSeconds`.
    public init(recorder: LatencyRecorder, measuredSeconds: Double) {
        self.init(mode: "recorded", offeredRate: nil, sent: recorder.completed, measuredSeconds: measuredSeconds, callsPerPage: 1, recorder: recorder)
    }

    /// A report from given figures, for tests and simulations.
    public init(offeredRate: Double?, achievedRate: Double, completed: Int, errors: [String: Int], latency: LatencySummary) {
        self.mode = "simulated"
        self.offeredRate = offeredRate
        self.achievedRate = achievedRate
        self.measuredSeconds = 1
        self.sent = completed
        self.completed = completed
        self.ok = completed - errors.values.reduce(0, +)
        self.degraded = 0
        self.errors = errors
        self.latency = latency
        self.latencyUncorrected = latency
        let empty = LatencySummary(count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0)
        self.serverFetch = empty
        self.serverContext = empty
        self.serverScore = empty
        self.serverTotal = empty
        self.pages = nil
        self.pagesFailed = nil
        self.callsPerPage = 1
    }
}
