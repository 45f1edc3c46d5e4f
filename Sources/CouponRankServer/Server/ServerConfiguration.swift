public import CouponRankWire

/// Settings of the RPC port. The bounds every entry point shares (in flight overall, queueing,
/// budgets) are the engine's ``CouponRankEngine/AdmissionConfiguration``.
public struct ServerConfiguration: Sendable, Hashable {
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    public var limits: WireLimits
    /// Requests in flight on one connection beyond which the answer is OVERLOADED.
    public var maximumInFlightPerConnection: Int
    /// A connection that completes no frame for this long is closed.
    public var idleTimeout: Duration
    /// Shared secret of admin messages; with none, admin messages are refused.
    public var adminToken: String?
    /// Shared secret of reward messages; with none, rewards are refused.
    public var rewardToken: String?
    /// Bytes of unfinished large frames held at once across all connections; a connection whose
    /// frame would pass it is answered OVERLOADED and closed.
    public var maximumBufferedFrameBytes: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 7420,
        limits: WireLimits = .init(),
        maximumInFlightPerConnection: Int = 256,
        idleTimeout: Duration = .seconds(300),
        adminToken: String? = nil,
        rewardToken: String? = nil,
        maximumBufferedFrameBytes: Int = 64 << 20
    ) {
        self.rewardToken = rewardToken
        self.maximumBufferedFrameBytes = maximumBufferedFrameBytes
        self.host = host
        self.port = port
        self.limits = limits
        self.maximumInFlightPerConnection = maximumInFlightPerConnection
        self.idleTimeout = idleTimeout
        self.adminToken = adminToken
    }
}
