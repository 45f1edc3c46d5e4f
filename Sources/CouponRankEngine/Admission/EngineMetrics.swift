public import CoreMetrics

/// The engine's rank metrics, through swift-metrics (the executable chooses the backend).
///
/// Every metric object is made once, here: recording on the request path allocates nothing.
public struct EngineMetrics: Sendable {
    /// `couponrank_ranks_total{outcome}`: `ok`, `degraded`, or an error code name.
    private let ranks: [String: Counter]
    /// `couponrank_rank_duration_seconds{outcome}`: server time of each answered rank.
    private let durations: [String: Timer]
    private let otherRanks: Counter
    private let otherDurations: Timer
    let inFlight: Gauge
    let overloadRejections: Counter
    /// `couponrank_open_connections`: kept by the RPC server.
    public let openConnections: Gauge

    /// Every outcome label made up front: a decision's, each ``RankError/Code``'s, and the
    /// request errors a transport records before the engine sees the request.
    static let outcomes: [String] = ["ok", "degraded"] + RankError.Code.all.map(\.name) + ["MALFORMED_PAYLOAD", "INTERNAL"]

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        var ranks: [String: Counter] = [:]
        var durations: [String: Timer] = [:]
        for outcome in Self.outcomes {
            ranks[outcome] = Counter(label: "couponrank_ranks_total", dimensions: [("outcome", outcome)], factory: factory)
            durations[outcome] = Timer(label: "couponrank_rank_duration_seconds", dimensions: [("outcome", outcome)], factory: factory)
        }
        self.ranks = ranks
        self.durations = durations
        self.otherRanks = Counter(label: "couponrank_ranks_total", dimensions: [("outcome", "other")], factory: factory)
        self.otherDurations = Timer(label: "couponrank_rank_duration_seconds", dimensions: [("outcome", "other")], factory: factory)
        self.inFlight = Gauge(label: "couponrank_requests_in_flight", factory: factory)
        self.overloadRejections = Counter(label: "couponrank_overload_rejections_total", factory: factory)
        self.openConnections = Gauge(label: "couponrank_open_connections", factory: factory)
    }

    public func recordRank(outcome: String, duration: Duration) {
        (ranks[outcome] ?? otherRanks).increment()
        (durations[outcome] ?? otherDurations).recordNanoseconds(duration.nanoseconds)
    }
}
