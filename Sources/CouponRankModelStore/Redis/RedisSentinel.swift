/// Asking Redis Sentinel where a primary is.
enum RedisSentinel {
    /// The primary that the first answering sentinel of `url` names (blocking).
    static func primary(of url: RedisURL, connectTimeout: Duration, commandTimeout: Duration) throws(RedisError) -> RedisURL.Node {
        guard case .sentinel(let name) = url.topology else { return RedisURL.Node(host: url.host, port: url.port) }
        var problems: [String] = []
        for sentinel in url.nodes {
            do throws(RedisError) {
                let connection = try RedisConnection.connect(
                    url: RedisURL(host: sentinel.host, port: sentinel.port),
                    connectTimeout: connectTimeout,
                    commandTimeout: commandTimeout
                )
                let reply = try connection.command(["SENTINEL", "get-master-addr-by-name", name].map { Array($0.utf8) }).checked()
                guard let parts = reply.elements, parts.count == 2, let host = parts[0].text, let port = parts[1].text.flatMap({ Int($0) }) else {
                    problems.append("\(sentinel): knows no primary named \(name)")
                    continue
                }
                return RedisURL.Node(host: host, port: port)
            } catch {
                problems.append("\(sentinel): \(error.message)")
            }
        }
        throw RedisError(.io, "no sentinel of \(url) named the primary: " + problems.joined(separator: "; "))
    }
}
