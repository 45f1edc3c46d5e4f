/// How load is offered.
public enum LoadMode: Sendable, Hashable {
    /// `connections × inFlightPerConnection` workers, each sending its next request when the
    /// previous one is answered.
    case closed(connections: Int, inFlightPerConnection: Int)
    /// Requests (or pages) started at a constant rate per second, whatever the answers do.
    case open(rate: Double)
}

/// When a run ends.
public enum RunLimit: Sendable, Hashable {
    case duration(Duration)
    /// Measured requests (or pages), after the warm-up.
    case count(Int)
}

/// One load run.
public struct LoadPlan: Sendable {
    public var mode: LoadMode
    public var limit: RunLimit
    /// Excluded from every statistic.
    public var warmup: Duration
    public var easyIDs: EasyIDDistribution
    public var topK: UInt16
    /// Budget sent with each request.
    public var budget: Duration
    /// How long the client waits for an answer before counting a transport error.
    public var timeout: Duration
    /// Rank calls per page load (1: plain requests). A page's latency is its slowest call's.
    public var callsPerPage: Int

    public init(
        mode: LoadMode,
        limit: RunLimit,
        warmup: Duration = .seconds(2),
        easyIDs: EasyIDDistribution = .uniform(count: 1_000_000),
        topK: UInt16 = 20,
        budget: Duration = .milliseconds(100),
        timeout: Duration = .seconds(2),
        callsPerPage: Int = 1
    ) {
        self.mode = mode
        self.limit = limit
        self.warmup = warmup
        self.easyIDs = easyIDs
        self.topK = topK
        self.budget = budget
        self.timeout = timeout
        self.callsPerPage = callsPerPage
    }
}

/// The intended start times of an open-loop run: `start + index / rate`. Latency is measured
/// from these, not from when a request actually left, so a stalled server or client cannot hide
/// the queue that built up (coordinated omission).
public struct Pacer: Sendable {
    public let rate: Double
    public let start: ContinuousClock.Instant

    public init(rate: Double, start: ContinuousClock.Instant) {
        precondition(rate > 0)
        self.rate = rate
        self.start = start
    }

    public func intendedStart(of index: Int) -> ContinuousClock.Instant {
        start + .nanoseconds(Int64((Double(index) / rate * 1e9).rounded()))
    }

    /// How many starts are due at `now`.
    public func due(at now: ContinuousClock.Instant) -> Int {
        let elapsed = now - start
        guard elapsed >= .zero else { return 0 }
        let (seconds, attoseconds) = elapsed.components
        return Int((Double(seconds) + Double(attoseconds) * 1e-18) * rate) + 1
    }
}
