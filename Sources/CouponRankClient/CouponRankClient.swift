public import CouponRankWire
public import NIOCore
public import NIOPosix
import Synchronization

/// A connection to a CouponRank server that carries many calls at once, matched by request id.
public final class CouponRankClient: Sendable {
    public let channel: any Channel
    /// How long a rank or health call waits for its answer when the call does not say.
    public let defaultTimeout: Duration
    private let nextRequestID = Atomic<UInt64>(1)

    private init(channel: any Channel, defaultTimeout: Duration) {
        self.channel = channel
        self.defaultTimeout = defaultTimeout
    }

    /// Connects to `host:port`.
    public static func connect(
        host: String,
        port: Int,
        limits: WireLimits = .init(),
        connectTimeout: Duration = .seconds(2),
        defaultTimeout: Duration = .seconds(1),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> CouponRankClient {
        let channel = try await ClientBootstrap(group: eventLoopGroup)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000 + connectTimeout.components.attoseconds / 1_000_000_000))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(limits: limits)))
                    try channel.pipeline.syncOperations.addHandler(ClientHandler())
                }
            }
            .connect(host: host, port: port)
            .get()
        return CouponRankClient(channel: channel, defaultTimeout: defaultTimeout)
    }

    /// Ranks the user's coupons.
    ///
    /// - Parameters:
    ///   - timeout: how long this call waits for its answer (default: the client's).
    ///   - budget: the time budget sent to the server (defaults to the timeout).
    public func rank(_ request: RankRequest, timeout: Duration? = nil, budget: Duration? = nil) async throws -> RankResponse {
        let timeout = timeout ?? defaultTimeout
        let frame = try await call(request, timeout: timeout, budget: budget ?? timeout)
        return try Self.decode(RankResponse.self, from: frame)
    }

    /// The server's health.
    public func health(timeout: Duration? = nil) async throws -> HealthResponse {
        let frame = try await call(HealthRequest(), timeout: timeout ?? defaultTimeout, budget: nil)
        return try Self.decode(HealthResponse.self, from: frame)
    }

    /// Asks the server to reload its model (admin; needs the server's token).
    public func reloadModel(token: String, scope: AdminReloadRequest.Scope = .engine, timeout: Duration = .seconds(10)) async throws -> AdminReloadResponse {
        let frame = try await call(AdminReloadRequest(token: token, scope: scope), timeout: timeout, budget: timeout)
        return try Self.decode(AdminReloadResponse.self, from: frame)
    }

    /// Reports what the user did with a shown coupon (needs the server's reward token).
    public func reward(_ request: RewardRequest, timeout: Duration? = nil) async throws {
        let frame = try await call(request, timeout: timeout ?? defaultTimeout, budget: nil)
        _ = try Self.decode(RewardResponse.self, from: frame)
    }

    /// Turns exploration on or off on the server, or on its fleet (admin; needs the server's token).
    public func setExploration(
        token: String,
        enabled: Bool,
        scope: AdminReloadRequest.Scope = .engine,
        timeout: Duration = .seconds(10)
    ) async throws -> AdminExplorationResponse {
        let frame = try await call(AdminExplorationRequest(token: token, enabled: enabled, scope: scope), timeout: timeout, budget: timeout)
        return try Self.decode(AdminExplorationResponse.self, from: frame)
    }

    /// Sends any request and returns the raw answer frame.
    public func call<Message: WireMessage>(_ message: Message, timeout: Duration, budget: Duration?) async throws -> Frame {
        let requestID = nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue
        var buffer = channel.allocator.buffer(capacity: 64)
        buffer.writeFrame(message, requestID: requestID, budgetMicros: budget.map(Self.micros) ?? 0)
        let promise = channel.eventLoop.makePromise(of: Frame.self)
        let call = OutboundCall(
            requestID: requestID,
            frame: buffer,
            timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000),
            promise: promise
        )
        channel.writeAndFlush(call).whenFailure { error in
            promise.fail(ClientError(.connectionClosed, "write failed: \(error)"))
        }
        return try await promise.futureResult.get()
    }

    public func close() async {
        try? await channel.close()
    }

    private static func micros(_ duration: Duration) -> UInt32 {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return UInt32(clamping: max(micros, 1))
    }

    static func decode<Message: WireMessage>(_: Message.Type, from frame: Frame) throws -> Message {
        var payload = frame.payload
        switch frame.header.messageType {
        case Message.messageType:
            do {
                return try Message(payload: &payload)
            } catch {
                throw ClientError(.protocolViolation, "undecodable \(Message.messageType): \(error)")
            }
        case .error:
            let error: ErrorResponse
            do {
                error = try ErrorResponse(payload: &payload)
            } catch {
                throw ClientError(.protocolViolation, "undecodable Error frame: \(error)")
            }
            throw ClientError(.server, error.message, serverError: error)
        default:
            throw ClientError(.protocolViolation, "expected \(Message.messageType), got \(frame.header.messageType)")
        }
    }
}
