public import CouponRankWire
public import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP connection that sends exactly the bytes a test gives it and reads frames back,
/// for feeding a server malformed, pipelined or dribbled input.
public final class RawConnection: Sendable {
    private let channel: any Channel
    private let received: Received

    final class Received: Sendable {
        struct State {
            var buffer = ByteBuffer()
            var closed = false
        }

        let state = Mutex(State())
    }

    private init(channel: any Channel, received: Received) {
        self.channel = channel
        self.received = received
    }

    public static func connect(host: String = "127.0.0.1", port: Int) async throws -> RawConnection {
        let received = Received()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: host, port: port)
            .get()
        return RawConnection(channel: channel, received: received)
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    public func send(_ buffer: ByteBuffer) async throws {
        try await channel.writeAndFlush(buffer)
    }

    /// The next frame; `nil` when the server closed the connection first. Throws
    /// ``RawConnectionTimeout`` when neither happens within `timeout`.
    public func readFrame(timeout: Duration = .seconds(5)) async throws -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (frame, closed) = try received.state.withLock { state -> (Frame?, Bool) in
                var decoder = FrameDecoder(limits: WireLimits(maximumFrameSize: 64 << 20))
                return (try decoder.decode(buffer: &state.buffer), state.closed)
            }
            if let frame { return frame }
            if closed { return nil }
            guard ContinuousClock.now < deadline else { throw RawConnectionTimeout() }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Whether the server closes the connection within `timeout`.
    public func closesWithin(_ timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if received.state.withLock({ $0.closed }) { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    public func close() async {
        try? await channel.close()
    }
}

public struct RawConnectionTimeout: Error {}

private final class Collector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let received: RawConnection.Received

    init(received: RawConnection.Received) {
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        _ = received.state.withLock { $0.buffer.writeBuffer(&chunk) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        received.state.withLock { $0.closed = true }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
