public import CouponRankCore
public import CouponRankEngine
import CouponRankWire
public import Logging
public import NIOCore
public import NIOPosix
import Synchronization
public import ServiceLifecycle

/// The binary RPC port of PROTOCOL.md, as a lifecycle service: an adapter between frames and the
/// rank engine.
///
/// Each connection's pipeline decodes frames, admits ranks through the engine's admission
/// controller, answers them (on the connection's event loop when the sources answer from memory)
/// and encodes the answers. Many requests may be in flight per connection and are answered as
/// they finish. On graceful shutdown the server stops accepting, the admission refuses new
/// requests SHUTTING_DOWN, every connection closes once its requests in flight are answered
/// (each bounded by its deadline), and `run` returns when the last one has closed.
public final class RPCServer: Service, Sendable {
    public let configuration: ServerConfiguration
    public let engine: RankEngine
    public let admission: AdmissionController
    private let dispatcher: RequestDispatcher
    private let registry = ConnectionRegistry()
    private let queues: InlineRankQueues
    /// Bytes of unfinished frames held across every connection.
    private let frameBudget: FrameBufferBudget
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) -> Void

    /// - Parameters:
    ///   - reloader: serves admin reloads; without one they are answered FAILED_PRECONDITION.
    ///   - rewards: the reward log; without one (or without a reward token) rewards are refused.
    ///   - componentStates: dependency states for the health answer (upstream breakers).
    ///   - onListening: called once the socket is bound, with the real address (useful with port 0).
    public init(
        configuration: ServerConfiguration,
        engine: RankEngine,
        admission: AdmissionController,
        reloader: (any ModelReloading)? = nil,
        rewards: (any RewardSink)? = nil,
        componentStates: @escaping @Sendable () -> [(name: String, state: String)] = { [] },
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.engine = engine
        self.admission = admission
        self.dispatcher = RequestDispatcher(
            models: engine.models,
            exploration: engine.exploration,
            rewards: RewardIntake(token: configuration.rewardToken, sink: rewards),
            admission: admission,
            reloader: reloader,
            componentStates: componentStates,
            configuration: configuration,
            logger: logger
        )
        self.queues = InlineRankQueues(engine: engine, admission: admission)
        self.frameBudget = FrameBufferBudget(limit: configuration.maximumBufferedFrameBytes)
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let serverChannel: any Channel
        do {
            serverChannel = try await bind()
        } catch {
            throw ListenError(port: "RPC", host: configuration.host, number: configuration.port, underlying: error)
        }
        guard let address = serverChannel.localAddress else {
            serverChannel.close(promise: nil)
            throw ChannelError.unknownLocalAddress
        }
        logger.info("rpc server listening", metadata: ["rpc.address": "\(address)"])
        onListening(address)
        try await serve(serverChannel)
    }

    private func bind() async throws -> any Channel {
        try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try self.configure(channel) }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
    }

    private func serve(_ serverChannel: any Channel) async throws {
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await serverChannel.closeFuture.get()
                await registry.waitUntilEmpty()
            } onCancel: {
                serverChannel.close(promise: nil)
                self.registry.closeAll()
            }
        } onGracefulShutdown: {
            self.admission.beginDraining()
            self.logger.info("rpc server draining")
            serverChannel.close(promise: nil)
            self.registry.drainAll(with: RPCRequestHandler.Drain())
        }
        logger.info("rpc server stopped")
    }

    private func configure(_ channel: any Channel) throws {
        let handler = RPCRequestHandler(
            engine: engine,
            admission: admission,
            dispatcher: dispatcher,
            queue: queues.queue(on: channel.eventLoop),
            maximumInFlight: configuration.maximumInFlightPerConnection,
            logger: logger
        )
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(limits: configuration.limits, budget: frameBudget)))
        try pipeline.addHandler(FrameIdleTimeoutHandler(timeout: .nanoseconds(configuration.idleTimeout.nanoseconds)))
        try pipeline.addHandler(RPCAnswerEncoder())
        try pipeline.addHandler(handler)
        let metrics = admission.metrics
        let registry = self.registry
        let (count, draining) = registry.register(channel)
        metrics.openConnections.record(count)
        channel.closeFuture.whenComplete { _ in
            metrics.openConnections.record(registry.unregister(channel))
        }
        if draining {
            channel.pipeline.fireUserInboundEventTriggered(RPCRequestHandler.Drain())
        }
    }
}

/// One ``InlineRankQueue`` per event loop, made on that loop when its first connection arrives.
final class InlineRankQueues: Sendable {
    private let engine: RankEngine
    private let admission: AdmissionController
    private let queues = Mutex<[ObjectIdentifier: NIOLoopBound<InlineRankQueue>]>([:])

    init(engine: RankEngine, admission: AdmissionController) {
        self.engine = engine
        self.admission = admission
    }

    /// The queue of `eventLoop`; call on that loop.
    func queue(on eventLoop: any EventLoop) -> InlineRankQueue {
        queues.withLock { queues in
            let key = ObjectIdentifier(eventLoop)
            if let existing = queues[key] { return existing.value }
            let made = InlineRankQueue(engine: engine, admission: admission, eventLoop: eventLoop)
            queues[key] = NIOLoopBound(made, eventLoop: eventLoop)
            return made
        }
    }
}
