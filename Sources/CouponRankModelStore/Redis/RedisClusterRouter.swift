import Logging

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The blocking half of a Redis Cluster client: the slot map, one connection per node, and the
/// redirections. ``RedisClient`` calls it under its lock, on its thread pool, one call at a time.
///
/// The slot map comes from `CLUSTER SLOTS` on any node that answers (the URL's seeds first), at
/// most every ``refreshInterval``. A `MOVED` reply moves its slot in the map and the command goes
/// straight to the new owner; an `ASK` reply sends it once to the named node, after `ASKING`,
/// without touching the map (the slot is being migrated). A node that cannot be reached is left
/// alone for a backoff (100 ms doubling to 1 s) and the map is refreshed from another node, which
/// is how a failover is followed.
///
/// A command is sent again only when it cannot have been applied: it was redirected, its node
/// could not be reached, or it is idempotent (``RedisClusterSlot/isIdempotent(_:)``). A command
/// whose reply was lost after it was sent is not: its outcome is unknown, and the caller decides.
/// Every call ends within ``RedisClient/commandTimeout`` plus a connect timeout, or about that.
///
/// `@unchecked Sendable`: its only owner, ``RedisClient``, calls it under its lock.
final class RedisClusterRouter: @unchecked Sendable {
    typealias Node = RedisURL.Node

    static let maximumRedirections = 5
    static let refreshInterval = Duration.milliseconds(100)
    /// The prefix of the error reply that stands, in a pipeline's replies, for a command whose
    /// node failed after it was sent: Redis may or may not have applied it.
    static let unconfirmedPrefix = "UNCONFIRMED "

    private let url: RedisURL
    private let connectTimeout: Duration
    private let commandTimeout: Duration
    private let logger: Logger
    /// The primary serving each slot; empty until the first refresh.
    private var slots: [Node?] = []
    private var connections: [Node: RedisConnection] = [:]
    /// Nodes learned from the slot map, besides the URL's seeds.
    private var knownNodes: [Node] = []
    private var lastRefresh: ContinuousClock.Instant?
    /// Nodes that failed lately, and until when they are not tried.
    private var down: [Node: (until: ContinuousClock.Instant, failures: Int)] = [:]

    init(url: RedisURL, connectTimeout: Duration, commandTimeout: Duration, logger: Logger) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.logger = logger
    }

    /// The primary that serves `key` now, per the map (read first if there is none).
    func node(forKey key: [UInt8]) throws(RedisError) -> Node {
        if slots.isEmpty { try refresh() }
        let slot = RedisClusterSlot.of(key)
        if let node = slots[slot] { return node }
        refreshIfDue()
        guard let node = slots[slot] else { throw RedisError(.unavailable, "no node serves slot \(slot) of \(url)") }
        return node
    }

    func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        let deadline = ContinuousClock.now + connectTimeout + commandTimeout
        let idempotent = RedisClusterSlot.isIdempotent(arguments)
        var asking: Node?
        var lastError: RedisError?
        for attempt in 0...Self.maximumRedirections {
            if attempt > 0, ContinuousClock.now >= deadline { break }
            let node: Node
            let connection: RedisConnection
            do throws(RedisError) {
                if let asking { node = asking } else { node = try target(of: arguments) }
            } catch {
                lastError = error
                asking = nil
                continue
            }
            do throws(RedisError) {
                connection = try self.connection(to: node)
            } catch {
                // Nothing was sent. The node may be gone for good (a failover): look at the map.
                lastError = error
                asking = nil
                refreshIfDue(avoiding: node)
                continue
            }
            let reply: RedisReply
            do throws(RedisError) {
                if asking != nil { _ = try connection.command([Array("ASKING".utf8)]).checked() }
                reply = try connection.command(arguments)
            } catch {
                failed(node)
                guard idempotent else { throw error }
                lastError = error
                asking = nil
                continue
            }
            asking = nil
            switch Redirection(reply, from: node) {
            case nil:
                return reply
            case .moved(let slot, let target):
                if slots.isEmpty { slots = Array(repeating: nil, count: RedisClusterSlot.count) }
                slots[slot] = target
            case .ask(let target):
                asking = target
            case .retryLater:
                usleep(50_000)
                refreshIfDue()
            }
            lastError = RedisError(.unavailable, "redirected: \(reply)")
        }
        throw lastError ?? RedisError(.unavailable, "gave up after \(Self.maximumRedirections) redirections")
    }

    /// Sends each node its share of `commands` before reading any reply (the nodes work at once),
    /// then redoes the redirected ones and those whose node could not be reached, one by one.
    /// The replies in the order of `commands`: a command that could not be sent has an error
    /// reply; one whose node failed after it was sent, an error reply starting with
    /// ``unconfirmedPrefix``. It throws only when no node can be reached at all.
    func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        var replies = [RedisReply?](repeating: nil, count: commands.count)
        var byNode: [Node: [Int]] = [:]
        var order: [Node] = []
        if slots.isEmpty { try refresh() }
        for (index, command) in commands.enumerated() {
            guard let node = try? target(of: command) else { continue }  // redone below
            if byNode[node] == nil { order.append(node) }
            byNode[node, default: []].append(index)
        }
        var sent: [(Node, RedisConnection)] = []
        var failedNodes: [Node] = []
        var unreachable: [Node] = []
        for node in order {
            let indices = byNode[node]!
            guard let connection = try? connection(to: node) else {
                unreachable.append(node)  // nothing sent: redone below
                continue
            }
            do throws(RedisError) {
                try connection.send(indices.map { commands[$0] })
                sent.append((node, connection))
            } catch {
                for index in indices { replies[index] = .error(Self.unconfirmedPrefix + error.message) }
                failedNodes.append(node)
            }
        }
        for (node, connection) in sent {
            let indices = byNode[node]!
            for (position, index) in indices.enumerated() {
                let reply: RedisReply
                do throws(RedisError) {
                    reply = try connection.receive(1)[0]
                } catch {
                    for unknown in indices[position...] { replies[unknown] = .error(Self.unconfirmedPrefix + error.message) }
                    failedNodes.append(node)
                    break
                }
                // A redirected command was not applied: redone below.
                if Redirection(reply, from: node) == nil { replies[index] = reply }
            }
        }
        // Only now, with no reply outstanding on any connection.
        for node in failedNodes { failed(node) }
        for node in unreachable { refreshIfDue(avoiding: node) }
        for index in replies.indices where replies[index] == nil {
            do throws(RedisError) {
                replies[index] = try command(commands[index])
            } catch {
                replies[index] = .error("UNAVAILABLE " + error.message)
            }
        }
        return replies.map { $0! }
    }

    /// Reads the slot map from the first node that answers: the URL's seeds, then the nodes the
    /// last map named, `avoiding` last.
    func refresh(avoiding avoided: Node? = nil) throws(RedisError) {
        lastRefresh = .now
        var candidates: [Node] = []
        for node in url.nodes + knownNodes where !candidates.contains(node) && node != avoided { candidates.append(node) }
        if let avoided { candidates.append(avoided) }
        var lastError = RedisError(.unavailable, "no node of \(url) answered CLUSTER SLOTS")
        for node in candidates {
            do throws(RedisError) {
                let reply = try connection(to: node).command([Array("CLUSTER".utf8), Array("SLOTS".utf8)]).checked()
                try apply(reply, from: node)
                return
            } catch {
                failed(node, refreshing: false)
                lastError = error
            }
        }
        throw lastError
    }

    /// A refresh, unless one was made within ``refreshInterval``; its failure is left for the
    /// next command to meet.
    private func refreshIfDue(avoiding avoided: Node? = nil) {
        if let lastRefresh, ContinuousClock.now - lastRefresh < Self.refreshInterval { return }
        try? refresh(avoiding: avoided)
    }

    private func apply(_ reply: RedisReply, from queried: Node) throws(RedisError) {
        guard let ranges = reply.elements else { throw RedisError(.protocolViolation, "CLUSTER SLOTS answered \(reply)") }
        var map = [Node?](repeating: nil, count: RedisClusterSlot.count)
        var nodes: [Node] = []
        for range in ranges {
            guard let parts = range.elements, parts.count >= 3,
                let first = parts[0].integer, let last = parts[1].integer,
                let primary = parts[2].elements, primary.count >= 2,
                let port = primary[1].integer,
                (0..<Int64(RedisClusterSlot.count)).contains(first), (first..<Int64(RedisClusterSlot.count)).contains(last)
            else { throw RedisError(.protocolViolation, "CLUSTER SLOTS range \(range)") }
            // A null or empty host means "the node you asked"; "?" an unknown endpoint.
            let host: String
            switch primary[0] {
            case .null: host = queried.host
            case let value where value.text == "": host = queried.host
            case let value where value.text == "?": continue
            case let value: host = value.text ?? queried.host
            }
            let node = Node(host: host, port: Int(port))
            for slot in Int(first)...Int(last) { map[slot] = node }
            if !nodes.contains(node) { nodes.append(node) }
        }
        guard !nodes.isEmpty else { throw RedisError(.unavailable, "\(queried) serves no slot: the cluster is not set up") }
        slots = map
        knownNodes = nodes
        for stale in connections.keys where !nodes.contains(stale) && !url.nodes.contains(stale) {
            connections[stale] = nil
        }
    }

    private func target(of command: [[UInt8]]) throws(RedisError) -> Node {
        guard let key = RedisClusterSlot.routingKey(of: command) else {
            if slots.isEmpty { try refresh() }
            return knownNodes.first { !isDown($0) } ?? knownNodes.first ?? Node(host: url.host, port: url.port)
        }
        return try node(forKey: key)
    }

    private func connection(to node: Node) throws(RedisError) -> RedisConnection {
        if let connection = connections[node], !connection.isBroken { return connection }
        connections[node] = nil
        if let entry = down[node], ContinuousClock.now < entry.until {
            throw RedisError(.unavailable, "\(node) unreachable; next attempt in \(entry.until - ContinuousClock.now)")
        }
        do throws(RedisError) {
            let connection = try RedisConnection.connect(url: url.at(node), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
            connections[node] = connection
            down[node] = nil
            return connection
        } catch {
            failed(node, refreshing: false)
            throw error
        }
    }

    private func isDown(_ node: Node) -> Bool {
        down[node].map { ContinuousClock.now < $0.until } ?? false
    }

    /// Drops a node's connection, leaves the node alone for a backoff, and (unless refreshing
    /// already) looks at the map again: a failover moves its slots.
    private func failed(_ node: Node, refreshing: Bool = true) {
        connections[node] = nil
        let failures = (down[node]?.failures ?? 0) + 1
        down[node] = (until: .now + .milliseconds(min(100 * (1 << min(failures - 1, 4)), 1000)), failures: failures)
        logger.debug("redis cluster node failed", metadata: ["redis.node": "\(node)", "redis.failures": "\(failures)"])
        if refreshing { refreshIfDue(avoiding: node) }
    }
}

/// What a reply that is not the command's answer asks the client to do.
enum Redirection: Equatable {
    case moved(slot: Int, to: RedisURL.Node)
    case ask(to: RedisURL.Node)
    /// `TRYAGAIN` (a multi-key command during a migration) or `CLUSTERDOWN` (a failover).
    case retryLater

    /// `from` is the node that answered: an endpoint without a host means that node's host.
    init?(_ reply: RedisReply, from answering: RedisURL.Node) {
        guard case .error(let message) = reply else { return nil }
        let words = message.split(separator: " ")
        switch words.first {
        case "MOVED", "ASK":
            guard words.count == 3, let slot = Int(words[1]), (0..<RedisClusterSlot.count).contains(slot),
                let colon = words[2].lastIndex(of: ":"),
                let port = Int(words[2][words[2].index(after: colon)...])
            else { return nil }
            var host = String(words[2][..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host.isEmpty { host = answering.host }
            let node = RedisURL.Node(host: host, port: port)
            self = words.first == "MOVED" ? .moved(slot: slot, to: node) : .ask(to: node)
        case "TRYAGAIN", "CLUSTERDOWN":
            self = .retryLater
        default:
            return nil
        }
    }
}
