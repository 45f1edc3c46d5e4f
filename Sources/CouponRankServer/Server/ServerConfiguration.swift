public import CouponRankWire

/// Settings of the RPC server.
public struct ServerConfiguration: Sendable, Hashable {
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    public var limits: WireLimits
    /// Requests in flight on one connection beyond which the answer is OVERLOADED.
    public var maximumInFlightPerConnection: Int
    /// Requests in flight on the whole server beyond which the answer is OVERLOADED.
    public var maximumInFlight: Int
    /// Budget of a request that gives none.
    public var defaultBudget: Duration
    /// Largest budget honoured; larger ones are cut to it.
    public var maximumBudget: Duration
    /// A connection that completes no frame for this long is closed.
    public var idleTimeout: Duration
    /// Shared secret of admin messages; with none, admin messages are refused.
    public var adminToken: String?

    public init(
        host: String = "127.0.0.1",
        port: Int = 7420,
        limits: WireLimits = .init(),
        maximumInFlightPerConnection: Int = 256,
        maximumInFlight: Int = 4096,
        defaultBudget: Duration = .milliseconds(100),
        maximumBudget: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(300),
        adminToken: String? = nil
    ) {
        self.host = host
        self.port = port
        self.limits = limits
        self.maximumInFlightPerConnection = maximumInFlightPerConnection
        self.maximumInFlight = maximumInFlight
        self.defaultBudget = defaultBudget
        self.maximumBudget = maximumBudget
        self.idleTimeout = idleTimeout
        self.adminToken = adminToken
    }
}
