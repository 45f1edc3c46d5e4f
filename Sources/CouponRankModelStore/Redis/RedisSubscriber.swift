import Foundation
public import Logging
import Synchronization

/// Listens on a pub/sub channel on a dedicated thread and calls `onMessage` for each message.
///
/// The thread blocks in hiredis; ``stop()`` unblocks it by shutting the socket down. When Redis
/// goes away the subscriber reconnects with backoff until stopped.
public final class RedisSubscriber: Sendable {
    public let url: RedisURL
    public let channel: String
    private let logger: Logger
    private let onMessage: @Sendable (String) -> Void
    private let onSubscribed: @Sendable () -> Void
    private let state = Mutex(State())

    private struct State {
        var stopped = false
        var connection: RedisConnection?
        var subscribed = false
    }

    /// - Parameter onSubscribed: called each time the subscription is established, the first
    ///   time and after every reconnection: messages sent while it was down are lost.
    public init(
        url: RedisURL,
        channel: String,
        logger: Logger,
        onSubscribed: @escaping @Sendable () -> Void = {},
        onMessage: @escaping @Sendable (String) -> Void
    ) {
        self.url = url
        self.channel = channel
        self.logger = logger
        self.onSubscribed = onSubscribed
        self.onMessage = onMessage
    }

    /// Whether the subscription is currently established.
    public var isSubscribed: Bool { state.withLock { $0.subscribed } }

    public func start() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "redis-subscriber"
        thread.start()
    }

    public func stop() {
        state.withLock { state in
            state.stopped = true
            state.connection?.interrupt()
        }
    }

    private func loop() {
        var failures = 0
        // A cluster broadcasts every PUBLISH to all its nodes: any node will do, the next seed
        // after each failure. A sentinel-managed primary is asked of its sentinels each time.
        let nodes = url.nodes
        while !state.withLock({ $0.stopped }) {
            do {
                let node: RedisURL.Node
                if case .sentinel = url.topology {
                    node = try RedisSentinel.primary(of: url, connectTimeout: .seconds(1), commandTimeout: .seconds(2))
                } else {
                    node = nodes[failures % nodes.count]
                }
                let connection = try RedisConnection.connect(url: url.at(node), connectTimeout: .seconds(1), commandTimeout: .seconds(2))
                let confirmed = try connection.command([Array("SUBSCRIBE".utf8), Array(channel.utf8)]).checked()
                guard confirmed.elements?.first?.text == "subscribe" else {
                    throw RedisError(.protocolViolation, "SUBSCRIBE answered \(confirmed)")
                }
                // Block for pushed messages without a timeout from now on.
                let stopped = state.withLock { state in
                    state.connection = connection
                    state.subscribed = true
                    return state.stopped
                }
                if stopped { break }
                setBlocking(connection)
                failures = 0
                logger.info("subscribed to model reloads", metadata: ["redis.channel": "\(channel)"])
                onSubscribed()
                while true {
                    let reply = try connection.nextReply()
                    if let parts = reply.elements, parts.count == 3, parts[0].text == "message", let payload = parts[2].text {
                        onMessage(payload)
                    }
                }
            } catch {
                state.withLock { state in
                    state.connection = nil
                    state.subscribed = false
                }
                if state.withLock({ $0.stopped }) { break }
                failures += 1
                logger.warning("model reload subscription lost", metadata: ["redis.url": "\(url)", "error": "\(error)"])
                Thread.sleep(forTimeInterval: min(0.1 * Double(1 << min(failures, 6)), 5))
            }
        }
        state.withLock { state in
            state.connection = nil
            state.subscribed = false
        }
    }

    private func setBlocking(_ connection: RedisConnection) {
        connection.setCommandTimeout(nil)
    }
}
