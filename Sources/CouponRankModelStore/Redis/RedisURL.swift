/// `redis://[[username]:password@]host[:port][/db]`: with a username, the engine authenticates
/// as that ACL user (`AUTH username password`, Redis 6 and later); without one, with the password
/// alone (`AUTH password`, the `default` user).
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    public init(parsing text: String) throws(RedisError) {
        if text.hasPrefix("rediss://") {
            throw RedisError(
                .invalidURL,
                "rediss:// (TLS) is not supported by this build; reach Redis through a TLS proxy such as stunnel on a loopback port and use redis://"
            )
        }
        guard text.hasPrefix("redis://") else {
            throw RedisError(.invalidURL, "'\(text)' does not start with redis://")
        }
        var rest = Substring(text.dropFirst("redis://".count))
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
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else { throw RedisError(.invalidURL, "database '\(path)' is not a number") }
                database = db
            }
            rest = rest[..<slash]
        }
        var host = String(rest)
        var port = 6379
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {  // [::1]:6379
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { throw RedisError(.invalidURL, "port '\(after.dropFirst())' is not a number") }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]) else {
                throw RedisError(.invalidURL, "port '\(rest[rest.index(after: colon)...])' is not a number")
            }
            port = p
        }
        guard !host.isEmpty else { throw RedisError(.invalidURL, "'\(text)' has no host") }
        guard (1...65535).contains(port) else { throw RedisError(.invalidURL, "port \(port) is out of range") }
        self.init(host: host, port: port, username: username, password: password, database: database)
    }

    /// The URL with the password masked, for logs.
    public var description: String {
        let credentials = password == nil ? (username.map { "\($0)@" } ?? "") : "\(username ?? ""):***@"
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }
}
