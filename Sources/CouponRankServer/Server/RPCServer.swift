public import CouponRankCore
import CouponRankWire
public import Logging
public import NIOCore
public import NIOPosix
import Synchronization
public import ServiceLifecycle

/// The binary RPC server of PROTOCOL.md, as a lifecycle service.
///
/// Frames are decoded in the channel pipeline; requests are handled in child tasks of their
/// connection, so many can be in flight and answered out of order. Beyond the per-connection or
/// server-wide bound a request is answered OVERLOADED at once instead of queued. On graceful
/// shutdown the server stops accepting, answers new requests SHUTTING_DOWN, finishes the ones in
/// flight (each bounded by its deadline) and closes every connection.
public final class RPCServer: Service, Sendable {
    public let configuration: ServerConfiguration
    private let dispatcher: RequestDispatcher
    private let inFlight: InFlightLimiter
    public let status: EngineStatus
    private let metrics: EngineMetrics
    private let connections = Atomic<Int>(0)
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) -> Void

    /// - Parameters:
    ///   - reloader: serves admin reloads; without one they are answered FAILED_PRECONDITION.
    ///   - componentStates: dependency states for the health answer (upstream breakers).
    ///   - onListening: called once the socket is bound, with the real address (useful with port 0).
    public init(
        configuration: ServerConfiguration,
        pipeline: RankPipeline,
        reloader: (any ModelReloading)? = nil,
        componentStates: @escaping @Sendable () -> [(name: String, state: String)] = { [] },
        status: EngineStatus = EngineStatus(),
        metrics: EngineMetrics = EngineMetrics(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.status = status
        self.metrics = metrics
        self.dispatcher = RequestDispatcher(
            pipeline: pipeline,
            reloader: reloader,
            componentStates: componentStates,
            configuration: configuration,
            status: status,
            metrics: metrics,
            logger: logger
        )
        self.inFlight = InFlightLimiter(limit: configuration.maximumInFlight)
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let limits = configuration.limits
        let idleTimeout = TimeAmount.nanoseconds(configuration.idleTimeout.nanoseconds)
        let serverChannel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(limits: limits)))
                    try channel.pipeline.syncOperations.addHandler(FrameIdleTimeoutHandler(timeout: idleTimeout))
                    return try NIOAsyncChannel<Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        guard let address = serverChannel.channel.localAddress else {
            throw ChannelError.unknownLocalAddress
        }
        logger.info("rpc server listening", metadata: ["rpc.address": "\(address)"])
        onListening(address)

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask {
                            await self.serve(connection)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.status.beginDraining()
            self.logger.info("rpc server draining")
            serverChannel.channel.close(promise: nil)
        }
        logger.info("rpc server stopped")
    }

    private func serve(_ connection: NIOAsyncChannel<Frame, ByteBuffer>) async {
        metrics.openConnections.record(connections.add(1, ordering: .relaxed).newValue)
        defer { metrics.openConnections.record(connections.subtract(1, ordering: .relaxed).newValue) }
        let channel = connection.channel
        let state = ConnectionState(channel: channel, maximumInFlight: configuration.maximumInFlightPerConnection)
        let allocator = channel.allocator
        do {
            try await withGracefulShutdownHandler {
                try await connection.executeThenClose { inbound, outbound in
                    try await withThrowingDiscardingTaskGroup { requests in
                        do {
                            for try await frame in inbound {
                                try await self.accept(frame, state: state, outbound: outbound, allocator: allocator, requests: &requests)
                            }
                        } catch let error as WireError {
                            // The stream is no longer framed: report why, then close.
                            self.logger.debug("closing connection on a framing error", metadata: ["error": "\(error)"])
                            try? await outbound.write(RequestDispatcher.errorFrame(error, requestID: 0, allocator: allocator))
                        }
                    }
                }
            } onGracefulShutdown: {
                state.beginDraining()
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func accept(
        _ frame: Frame,
        state: ConnectionState,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        allocator: ByteBufferAllocator,
        requests: inout ThrowingDiscardingTaskGroup<any Error>
    ) async throws {
        let receivedAt = ContinuousClock.now
        let requestID = frame.header.requestID
        if let error = dispatcher.precheck(frame.header) {
            try await outbound.write(RequestDispatcher.errorFrame(error, requestID: requestID, allocator: allocator))
            return
        }
        if frame.header.messageType == .healthRequest {
            try await outbound.write(dispatcher.health(requestID: requestID, allocator: allocator))
            return
        }
        if state.isDraining || status.isDraining {
            let error = WireError(.shuttingDown, "the server is shutting down")
            try await outbound.write(RequestDispatcher.errorFrame(error, requestID: requestID, allocator: allocator))
            return
        }
        guard state.inFlight.tryAcquire() else {
            metrics.overloadRejections.increment()
            let error = WireError(.overloaded, "more than \(state.inFlight.limit) requests in flight on this connection")
            try await outbound.write(RequestDispatcher.errorFrame(error, requestID: requestID, allocator: allocator))
            return
        }
        guard inFlight.tryAcquire() else {
            state.finished()
            metrics.overloadRejections.increment()
            let error = WireError(.overloaded, "more than \(inFlight.limit) requests in flight on this server")
            try await outbound.write(RequestDispatcher.errorFrame(error, requestID: requestID, allocator: allocator))
            return
        }
        let dispatcher = self.dispatcher
        let inFlight = self.inFlight
        let metrics = self.metrics
        metrics.inFlight.record(inFlight.inFlight)
        requests.addTask {
            defer {
                metrics.inFlight.record(inFlight.release())
                state.finished()
            }
            let response =
                frame.header.messageType == .adminReloadRequest
                ? await dispatcher.adminReload(frame, allocator: allocator)
                : await dispatcher.rank(frame, receivedAt: receivedAt, allocator: allocator)
            try? await outbound.write(response)
        }
    }
}
