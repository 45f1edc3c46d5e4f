/// `redis://[[username]:password@]host[:port][/db]`: with a username, the engine authenticates
/// as that ACL user (`AUTH username password`, Redis 6 and later); without one, with the password
/// alone (`AUTH password`, the `default` user).
///
/// A Redis Cluster is named by its seed nodes, `redis://host:port,host:port,…` (several) or
/// `redis+cluster://host:port[,…]` (one is enough): the client reads the slot map from them and
/// follows it. A cluster has database 0 only.
///
/// A Sentinel-managed primary is named by its sentinels and its name,
/// `redis+sentinel://[[username]:password@]host:port[,host:port…]/<master-name>[/db]`: the client
/// asks the sentinels where the primary is, and asks again when it loses it (a failover). The
/// credentials are the primary's; the sentinels are asked without.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public enum Topology: Sendable, Hashable {
        case single
        case cluster
        /// The nodes are sentinels that monitor the primary of this name.
        case sentinel(masterName: String)
    }

    public struct Node: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    public var topology: Topology
    /// The nodes named besides `host:port` (a cluster's other seeds).
    public var otherNodes: [Node]

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        topology: Topology = .single,
        otherNodes: [Node] = []
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.topology = topology
        self.otherNodes = otherNodes
    }

    /// Every node the URL names, `host:port` first.
    public var nodes: [Node] { [Node(host: host, port: port)] + otherNodes }

    /// This URL's credentials and database on one `node`: how a cluster client connects to it.
    public func at(_ node: Node) -> RedisURL {
        RedisURL(host: node.host, port: node.port, username: username, password: password, database: database)
    }

    public init(parsing text: String) throws(RedisError) {
        if text.hasPrefix("rediss://") {
            throw RedisError(
                .invalidURL,
                "rediss:// (TLS) is not supported by this build; reach Redis through a TLS proxy such as stunnel on a loopback port and use redis://"
            )
        }
        var topology = Topology.single
        var rest: Substring
        var sentinel = false
        if text.hasPrefix("redis+sentinel://") {
            sentinel = true
            rest = Substring(text.dropFirst("redis+sentinel://".count))
        } else if text.hasPrefix("redis+cluster://") {
            topology = .cluster
            rest = Substring(text.dropFirst("redis+cluster://".count))
        } else if text.hasPrefix("redis://") {
            rest = Substring(text.dropFirst("redis://".count))
        } else {
            throw RedisError(.invalidURL, "'\(text)' does not start with redis:// (or redis+cluster:// for a Redis Cluster)")
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : String(user)
                let secret = credentials[credentials.index(after: colon)...]
                password = secret.isEmpty ? nil : String(secret)
            } else {
                password = credentials.isEmpty ? nil : String(credentials)
            }
            rest = rest[rest.index(after: at)...]
        }
        if sentinel {
            guard let slash = rest.firstIndex(of: "/"), case let name = rest[rest.index(after: slash)...].prefix(while: { $0 != "/" }), !name.isEmpty else {
                throw RedisError(.invalidURL, "'\(text)' names no primary: redis+sentinel://host:port[,host:port…]/<master-name>[/db]")
            }
            topology = .sentinel(masterName: String(name))
            rest = rest[..<slash] + rest[rest.index(slash, offsetBy: name.count + 1)...]
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else { throw RedisError(.invalidURL, "database '\(path)' is not a number") }
                database = db
            }
            rest = rest[..<slash]
        }
        var nodes: [Node] = []
        for part in rest.split(separator: ",", omittingEmptySubsequences: false) {
            nodes.append(try Self.node(part, in: text, defaultPort: sentinel ? 26379 : 6379))
        }
        if nodes.count > 1, topology == .single { topology = .cluster }
        if topology == .cluster, database != 0 {
            throw RedisError(.invalidURL, "a Redis Cluster has database 0 only, '\(text)' names \(database)")
        }
        self.init(
            host: nodes[0].host,
            port: nodes[0].port,
            username: username,
            password: password,
            database: database,
            topology: topology,
            otherNodes: Array(nodes.dropFirst())
        )
    }

    private static func node(_ text: Substring, in url: String, defaultPort: Int) throws(RedisError) -> Node {
        var host = String(text)
        var port = defaultPort
        if !text.hasPrefix("["), text.filter({ $0 == ":" }).count > 1 {
            throw RedisError(.invalidURL, "'\(url)': put an IPv6 address in brackets, [::1]:6379")
        }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {  // [::1]:6379
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw RedisError(.invalidURL, "port '\(after.dropFirst())' is not a number") }
                port = p
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]) else {
                throw RedisError(.invalidURL, "port '\(text[text.index(after: colon)...])' is not a number")
            }
            port = p
        }
        guard !host.isEmpty else { throw RedisError(.invalidURL, "'\(url)' has no host") }
        guard (1...65535).contains(port) else { throw RedisError(.invalidURL, "port \(port) is out of range") }
        return Node(host: host, port: port)
    }

    /// The URL with the password masked, for logs.
    public var description: String {
        let credentials = password == nil ? (username.map { "\($0)@" } ?? "") : "\(username ?? ""):***@"
        let nodes = nodes.map(\.description).joined(separator: ",")
        switch topology {
        case .single: return "redis://\(credentials)\(nodes)/\(database)"
        case .cluster: return "redis+cluster://\(credentials)\(nodes)"
        case .sentinel(let name): return "redis+sentinel://\(credentials)\(nodes)/\(name)/\(database)"
        }
    }
}
