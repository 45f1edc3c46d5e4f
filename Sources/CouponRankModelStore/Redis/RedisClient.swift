public import Logging
public import NIOPosix
import Metrics
import Synchronization

/// A Redis connection for request/response commands, safe to share: to one node, to a Redis
/// Cluster through its slot map (``RedisClusterRouter``), or to the primary its sentinels name,
/// as the URL says. After a failover the old primary answers writes `READONLY` or not at all:
/// either way the client asks the sentinels again and retries once on the new primary.
///
/// Commands run one at a time on a thread pool (hiredis blocks). A failed connection is dropped
/// and rebuilt on the next command, no sooner than an exponential backoff allows (100 ms doubling
/// to 5 s), so a Redis that is away costs callers a fast `unavailable` error, not a timeout each.
public final class RedisClient: Sendable {
    public let url: RedisURL
    public let connectTimeout: Duration
    public let commandTimeout: Duration
    private let threadPool: NIOThreadPool
    private let logger: Logger
    private let state = Mutex(State())
    /// Connections to Redis lost or refused: outages show in metrics, not only in logs.
    private let failuresCounter = Counter(label: "couponrank_redis_failures_total")

    private struct State {
        var connection: RedisConnection?
        var cluster: RedisClusterRouter?
        /// The node `connection` is to (a sentinel-managed primary: the one last resolved).
        var node: RedisURL.Node?
        /// When `connection` last answered.
        var lastUsed: ContinuousClock.Instant?
        var failures = 0
        var retryAt: ContinuousClock.Instant?
    }

    public init(
        url: RedisURL,
        connectTimeout: Duration = .seconds(1),
        commandTimeout: Duration = .seconds(2),
        threadPool: NIOThreadPool = .singleton,
        logger: Logger = Logger(label: "couponrank.redis")
    ) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Runs one command.
    public func command(_ arguments: [String]) async throws(RedisError) -> RedisReply {
        try await command(arguments.map { Array($0.utf8) })
    }

    /// Runs one command with binary arguments.
    public func command(_ arguments: [[UInt8]]) async throws(RedisError) -> RedisReply {
        let result: Result<RedisReply, RedisError>
        do {
            result = try await threadPool.runIfActive { self.blockingCommand(arguments) }
        } catch {
            throw RedisError(.unavailable, "thread pool is shut down")
        }
        return try result.get().checked()
    }

    /// Runs several commands in one round trip; the replies in order. A reply that is a Redis
    /// error is returned as such, not thrown.
    public func pipeline(_ commands: [[[UInt8]]]) async throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        let result: Result<[RedisReply], RedisError>
        do {
            result = try await threadPool.runIfActive { self.blockingPipelineResult(commands) }
        } catch {
            throw RedisError(.unavailable, "thread pool is shut down")
        }
        return try result.get()
    }

    /// The start of the error reply that stands, in a cluster pipeline's replies, for a command
    /// whose node failed after it was sent: Redis may or may not have applied it.
    public static let unconfirmedReplyPrefix = RedisClusterRouter.unconfirmedPrefix

    /// ``pipeline(_:)`` on the calling thread, which it blocks: for a thread of the caller's own
    /// (the event log's writer), never an event loop or the cooperative pool.
    public func blockingPipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        return try blockingPipelineResult(commands).get()
    }

    private func blockingPipelineResult(_ commands: [[[UInt8]]]) -> Result<[RedisReply], RedisError> {
        if url.topology == .cluster {
            return blockingCluster { router throws(RedisError) in try router.pipeline(commands) }
        }
        return blockingOnPrimary({ connection throws(RedisError) in try connection.pipeline(commands) }, refused: { $0.contains(where: isDemotedPrimary) })
    }

    private func blockingCommand(_ arguments: [[UInt8]]) -> Result<RedisReply, RedisError> {
        if url.topology == .cluster {
            return blockingCluster { router throws(RedisError) in try router.command(arguments) }
        }
        return blockingOnPrimary({ connection throws(RedisError) in try connection.command(arguments) }, refused: isDemotedPrimary)
    }

    /// ``blocking(_:)``, and once more, on the primary the sentinels name now, when the old one,
    /// demoted, refused: it applied nothing, so nothing runs twice.
    private func blockingOnPrimary<T>(
        _ body: (RedisConnection) throws(RedisError) -> T,
        refused: (T) -> Bool
    ) -> Result<T, RedisError> {
        let first = blocking(body)
        guard case .success(let value) = first, refused(value) else { return first }
        state.withLock { $0.connection = nil }
        return blocking(body)
    }

    /// A reply from a sentinel-managed primary that has been demoted to a replica.
    private func isDemotedPrimary(_ reply: RedisReply) -> Bool {
        guard case .sentinel = url.topology, case .error(let message) = reply else { return false }
        return message.hasPrefix("READONLY")
    }

    /// The node this client talks to now: the primary the sentinels named last, or the URL's node.
    public var currentNode: RedisURL.Node? {
        state.withLock { state in
            switch url.topology {
            case .single: RedisURL.Node(host: url.host, port: url.port)
            case .sentinel: state.node
            case .cluster: nil
            }
        }
    }

    private func blockingCluster<T>(_ body: (RedisClusterRouter) throws(RedisError) -> T) -> Result<T, RedisError> {
        state.withLock { state in
            if let retryAt = state.retryAt, ContinuousClock.now < retryAt {
                return .failure(RedisError(.unavailable, "\(url) unreachable; next attempt in \(retryAt - ContinuousClock.now)"))
            }
            let router = state.cluster ?? RedisClusterRouter(url: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout, logger: logger)
            state.cluster = router
            do throws(RedisError) {
                let result = try body(router)
                state.failures = 0
                state.retryAt = nil
                return .success(result)
            } catch {
                if error.code == .io || error.code == .unavailable {
                    noteFailure(&state)
                    logger.debug("redis cluster command failed", metadata: ["redis.url": "\(url)", "error": "\(error)"])
                }
                return .failure(error)
            }
        }
    }

    private func blocking<T>(_ body: (RedisConnection) throws(RedisError) -> T) -> Result<T, RedisError> {
        state.withLock { state in
            do throws(RedisError) {
                let connection = try connection(&state)
                let result = try body(connection)
                state.lastUsed = .now
                return .success(result)
            } catch {
                // A refusal during the backoff is not a new failure: it must not push the next attempt further out.
                if error.code != .unavailable, state.connection?.isBroken ?? true {
                    state.connection = nil
                    noteFailure(&state)
                    logger.debug("redis command failed", metadata: ["redis.url": "\(url)", "error": "\(error)"])
                }
                return .failure(error)
            }
        }
    }

    /// A connection idle this long is checked for a close by the server before it is used.
    static let staleAfter = Duration.seconds(1)

    private func connection(_ state: inout State) throws(RedisError) -> RedisConnection {
        if let connection = state.connection, !connection.isBroken {
            // Closed by the server while it sat idle (a restart, a failover, its idle timeout):
            // found before anything is sent on it, so no command is ever sent twice.
            let idle = state.lastUsed.map { ContinuousClock.now - $0 >= Self.staleAfter } ?? false
            if !idle || !connection.peerClosed { return connection }
        }
        state.connection = nil
        if let retryAt = state.retryAt, ContinuousClock.now < retryAt {
            throw RedisError(.unavailable, "\(url) unreachable; next attempt in \(retryAt - ContinuousClock.now)")
        }
        let node = try primaryNode()
        let connection = try RedisConnection.connect(url: url.at(node), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        if case .sentinel = url.topology {
            // Right after a failover a sentinel may still name the old primary, now a replica.
            let role = try connection.command([Array("ROLE".utf8)]).checked()
            guard role.elements?.first?.text == "master" else {
                throw RedisError(.io, "\(node), named primary by the sentinels of \(url), is a \(role.elements?.first?.text ?? "node of unknown role")")
            }
        }
        state.connection = connection
        state.node = node
        state.failures = 0
        state.retryAt = nil
        return connection
    }

    /// Where to connect: the URL's node, or the primary its sentinels name now.
    private func primaryNode() throws(RedisError) -> RedisURL.Node {
        guard case .sentinel = url.topology else { return RedisURL.Node(host: url.host, port: url.port) }
        return try RedisSentinel.primary(of: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
    }

    private func noteFailure(_ state: inout State) {
        failuresCounter.increment()
        state.failures += 1
        // A cluster or a sentinel set names the new primary within seconds of a failover: look
        // again at least every second. A single node has no one to name another.
        let ceiling = url.topology == .single ? 5000 : 1000
        let backoff = Duration.milliseconds(min(100 * (1 << min(state.failures - 1, 6)), ceiling))
        state.retryAt = .now + backoff
    }
}
