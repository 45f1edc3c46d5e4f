import CouponRankCore
import CouponRankUpstreamJSON
public import CouponRankSources
public import Logging
public import NIOCore
import NIOHTTP1
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// The three upstream services of UPSTREAMS.md over HTTP/1.1, served from a
/// ``CouponRankSources/StubDataGenerator`` with injected latency and errors per service.
public final class StubHTTPServer: Service, Sendable {
    public struct Behaviour: Sendable, Hashable {
        public var latency: LatencyDistribution
        /// Fraction of requests answered `500`.
        public var errorRate: Double

        public init(latency: LatencyDistribution = .none, errorRate: Double = 0) {
            self.latency = latency
            self.errorRate = errorRate
        }
    }

    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var userFeatures: Behaviour
        public var coupons: Behaviour
        public var stats: Behaviour

        public init(
            host: String = "127.0.0.1",
            port: Int = 8081,
            userFeatures: Behaviour = .init(),
            coupons: Behaviour = .init(),
            stats: Behaviour = .init()
        ) {
            self.host = host
            self.port = port
            self.userFeatures = userFeatures
            self.coupons = coupons
            self.stats = stats
        }
    }

    public let configuration: Configuration
    public let generator: StubDataGenerator
    private let counters = Counters()
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) -> Void

    final class Counters: Sendable {
        let connections = Atomic<Int>(0)
        let requests = Atomic<Int>(0)
    }

    public init(
        configuration: Configuration,
        generator: StubDataGenerator,
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.generator = generator
        self.logger = logger
        self.onListening = onListening
    }

    /// Connections accepted so far.
    public var connectionsAccepted: Int { counters.connections.load(ordering: .relaxed) }
    /// Requests answered so far.
    public var requestsServed: Int { counters.requests.load(ordering: .relaxed) }

    public func run() async throws {
        let counters = self.counters
        let router = StubRouter(configuration: configuration, generator: generator, counters: counters)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                counters.connections.add(1, ordering: .relaxed)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(StubHTTPHandler(router: router))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        guard let address = channel.localAddress else { throw ChannelError.unknownLocalAddress }
        logger.info("stub upstreams listening", metadata: ["http.address": "\(address)"])
        onListening(address)
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// Maps a path to a body and the behaviour of its service.
struct StubRouter: Sendable {
    let configuration: StubHTTPServer.Configuration
    let generator: StubDataGenerator
    let counters: StubHTTPServer.Counters

    struct Answer {
        var status: HTTPResponseStatus
        var body: [UInt8]
        var delay: Duration
    }

    func answer(path: String) -> Answer {
        counters.requests.add(1, ordering: .relaxed)
        let parts = path.split(separator: "?", maxSplits: 1)[0].split(separator: "/").map(String.init)
        if parts == ["healthz"] { return Answer(status: .ok, body: Array(#"{"status":"ok"}"#.utf8), delay: .zero) }
        if parts == ["_stats"] {
            let body = #"{"connections":\#(counters.connections.load(ordering: .relaxed)),"requests":\#(counters.requests.load(ordering: .relaxed))}"#
            return Answer(status: .ok, body: Array(body.utf8), delay: .zero)
        }
        guard parts.count == 4, parts[0] == "v1", parts[1] == "users", let easyID = parts[2].removingPercentEncoding, !easyID.isEmpty else {
            return Answer(status: .notFound, body: Array(#"{"error":"no such resource"}"#.utf8), delay: .zero)
        }
        let behaviour: StubHTTPServer.Behaviour
        let body: () -> [UInt8]
        switch parts[3] {
        case "features":
            behaviour = configuration.userFeatures
            body = { StubJSON.features(easyID: easyID, generator.userFeatures(for: easyID)) }
        case "coupons":
            behaviour = configuration.coupons
            body = { StubJSON.coupons(easyID: easyID, generator.candidates(for: easyID)) }
        case "coupon-stats":
            behaviour = configuration.stats
            body = { StubJSON.stats(easyID: easyID, generator.stats(for: easyID)) }
        default:
            return Answer(status: .notFound, body: Array(#"{"error":"no such resource"}"#.utf8), delay: .zero)
        }
        var rng = SystemRandomNumberGenerator()
        let delay = behaviour.latency.sample(using: &rng)
        if behaviour.errorRate > 0, Double.random(in: 0..<1, using: &rng) < behaviour.errorRate {
            return Answer(status: .internalServerError, body: Array(#"{"error":"injected failure"}"#.utf8), delay: delay)
        }
        return Answer(status: .ok, body: body(), delay: delay)
    }
}

final class StubHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: StubRouter
    private var head: HTTPRequestHead?

    init(router: StubRouter) {
        self.router = router
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let answer = router.answer(path: head.uri)
            let keepAlive = head.isKeepAlive
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            if answer.delay > .zero {
                context.eventLoop.scheduleTask(in: .nanoseconds(answer.delay.nanoseconds)) {
                    let (handler, context) = bound.value
                    handler.respond(answer, keepAlive: keepAlive, context: context)
                }
            } else {
                respond(answer, keepAlive: keepAlive, context: context)
            }
        }
    }

    private func respond(_ answer: StubRouter.Answer, keepAlive: Bool, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(answer.body.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

import Foundation
