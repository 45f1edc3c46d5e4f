import Logging

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The blocking half of a Redis Cluster client: the slot map, one connection per node, and the
/// redirections. ``RedisClient`` calls it under its lock, on its thread pool, one call at a time.
///
/// The slot map comes from `CLUSTER SLOTS` on any node that answers (the URL's seeds first). A
/// `MOVED` reply moves its slot in the map and refreshes the whole map before the retry; an `ASK`
/// reply sends the command once to the named node, after `ASKING`, without touching the map
/// (the slot is being migrated). A node that cannot be reached drops its connection and the map
/// is refreshed from another node, which is how a failover is followed. At most
/// ``maximumRedirections`` redirections or reconnections per command.
///
/// `@unchecked Sendable`: its only owner, ``RedisClient``, calls it under its lock.
final class RedisClusterRouter: @unchecked Sendable {
    typealias Node = RedisURL.Node

    static let maximumRedirections = 5

    private let url: RedisURL
    private let connectTimeout: Duration
    private let commandTimeout: Duration
    private let logger: Logger
    /// The primary serving each slot; empty until the first refresh.
    private var slots: [Node?] = []
    private var connections: [Node: RedisConnection] = [:]
    /// Nodes learned from the slot map, besides the URL's seeds.
    private var knownNodes: [Node] = []

    init(url: RedisURL, connectTimeout: Duration, commandTimeout: Duration, logger: Logger) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.logger = logger
    }

    /// The primary that serves `key` now, per the map (refreshed first if there is none).
    func node(forKey key: [UInt8]) throws(RedisError) -> Node {
        if slots.isEmpty { try refresh() }
        guard let node = slots[RedisClusterSlot.of(key)] else {
            throw RedisError(.unavailable, "no node serves slot \(RedisClusterSlot.of(key)) of \(url)")
        }
        return node
    }

    func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        var asking: Node?
        var lastError: RedisError?
        for _ in 0...Self.maximumRedirections {
            let node: Node
            do throws(RedisError) {
                if let asking { node = asking } else { node = try target(of: arguments) }
            } catch {
                lastError = error
                continue
            }
            let reply: RedisReply
            do throws(RedisError) {
                let connection = try connection(to: node)
                if asking != nil { _ = try connection.command([Array("ASKING".utf8)]).checked() }
                reply = try connection.command(arguments)
            } catch {
                lastError = error
                dropConnection(to: node)
                asking = nil
                try? refresh(avoiding: node)
                continue
            }
            asking = nil
            switch Redirection(reply) {
            case nil:
                return reply
            case .moved(let slot, let target):
                if slots.isEmpty { slots = Array(repeating: nil, count: RedisClusterSlot.count) }
                slots[slot] = target
                try? refresh()
            case .ask(let target):
                asking = target
            case .retryLater:
                usleep(100_000)
                try? refresh()
            }
        }
        throw lastError ?? RedisError(.server, "gave up after \(Self.maximumRedirections) redirections")
    }

    /// Sends each node its share of `commands` in one round trip, then redoes the ones that were
    /// redirected, one by one. The replies in the order of `commands`.
    func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        var replies = [RedisReply?](repeating: nil, count: commands.count)
        var byNode: [Node: [Int]] = [:]
        var order: [Node] = []
        for (index, command) in commands.enumerated() {
            let node = try target(of: command)
            if byNode[node] == nil { order.append(node) }
            byNode[node, default: []].append(index)
        }
        // Every node gets its share before any reply is read: the nodes work at once.
        var sent: [(Node, RedisConnection)] = []
        for node in order {
            do throws(RedisError) {
                let connection = try connection(to: node)
                try connection.send(byNode[node]!.map { commands[$0] })
                sent.append((node, connection))
            } catch {
                dropConnection(to: node)
                try? refresh(avoiding: node)
            }
        }
        for (node, connection) in sent {
            let indices = byNode[node]!
            do throws(RedisError) {
                let answered = try connection.receive(indices.count)
                for (index, reply) in zip(indices, answered) where Redirection(reply) == nil {
                    replies[index] = reply
                }
            } catch {
                dropConnection(to: node)
                try? refresh(avoiding: node)
            }
        }
        for index in replies.indices where replies[index] == nil {
            replies[index] = try command(commands[index])
        }
        return replies.map { $0! }
    }

    /// Reads the slot map from the first node that answers: the URL's seeds, then the nodes the
    /// last map named, `avoiding` last.
    func refresh(avoiding avoided: Node? = nil) throws(RedisError) {
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
                dropConnection(to: node)
                lastError = error
            }
        }
        throw lastError
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
            // An empty host means "the node you asked".
            let host = primary[0].text.flatMap { $0.isEmpty || $0 == "?" ? nil : $0 } ?? queried.host
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
            return knownNodes.first ?? Node(host: url.host, port: url.port)
        }
        return try node(forKey: key)
    }

    private func connection(to node: Node) throws(RedisError) -> RedisConnection {
        if let connection = connections[node], !connection.isBroken { return connection }
        connections[node] = nil
        let connection = try RedisConnection.connect(url: url.at(node), connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        connections[node] = connection
        return connection
    }

    private func dropConnection(to node: Node) {
        connections[node] = nil
        logger.debug("redis cluster node dropped", metadata: ["redis.node": "\(node)"])
    }
}

/// What a reply that is not the command's answer asks the client to do.
enum Redirection: Equatable {
    case moved(slot: Int, to: RedisURL.Node)
    case ask(to: RedisURL.Node)
    /// `TRYAGAIN` (a multi-key command during a migration) or `CLUSTERDOWN` (a failover).
    case retryLater

    init?(_ reply: RedisReply) {
        guard case .error(let message) = reply else { return nil }
        let words = message.split(separator: " ")
        switch words.first {
        case "MOVED", "ASK":
            guard words.count == 3, let slot = Int(words[1]), let colon = words[2].lastIndex(of: ":"),
                let port = Int(words[2][words[2].index(after: colon)...])
            else { return nil }
            var host = String(words[2][..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            let node = RedisURL.Node(host: host, port: port)
            self = words.first == "MOVED" ? .moved(slot: slot, to: node) : .ask(to: node)
        case "TRYAGAIN", "CLUSTERDOWN":
            self = .retryLater
        default:
            return nil
        }
    }
}
