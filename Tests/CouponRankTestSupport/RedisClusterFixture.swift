public import CouponRankModelStore
import Foundation

/// A real Redis Cluster of `primaries` redis-servers on 127.0.0.1, created with
/// `redis-cli --cluster create` for one test and stopped by the PIDs of its servers.
public final class RedisClusterFixture: @unchecked Sendable {
    public static let cli: String? = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) }
    public static var isAvailable: Bool { RedisServerFixture.isAvailable && cli != nil }

    public let nodes: [RedisServerFixture]
    private let directory: URL

    /// Every node as a seed: `redis://127.0.0.1:p1,127.0.0.1:p2,…`.
    public var url: RedisURL {
        RedisURL(host: "127.0.0.1", port: nodes[0].port, topology: .cluster, otherNodes: nodes.dropFirst().map { .init(host: "127.0.0.1", port: $0.port) })
    }

    public var urlString: String { "redis://" + nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    private init(nodes: [RedisServerFixture], directory: URL) {
        self.nodes = nodes
        self.directory = directory
    }

    public static func with<T>(primaries: Int = 3, replicas: Int = 0, _ body: (RedisClusterFixture) async throws -> T) async throws -> T {
        let fixture = try await start(primaries: primaries, replicas: replicas)
        return try await stopping(fixture, body)
    }

    /// `replicas` per primary; a replica takes over its primary's slots 2 s (the node timeout)
    /// after the primary stops answering.
    public static func start(primaries: Int = 3, replicas: Int = 0) async throws -> RedisClusterFixture {
        guard let cli else { throw TestServerError("redis-cli is not installed: `make test` installs redis-tools") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("couponrank-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var nodes: [RedisServerFixture] = []
        do {
            for _ in 0..<primaries * (1 + replicas) {
                let port = try TestPorts.reserveClusterNode()
                nodes.append(try await RedisServerFixture.start(port: port, arguments: [
                    "--cluster-enabled", "yes", "--cluster-config-file", directory.appendingPathComponent("nodes-\(port).conf").path,
                    "--cluster-node-timeout", "2000", "--dir", directory.path,
                ]))
            }
            let fixture = RedisClusterFixture(nodes: nodes, directory: directory)
            let create = try await runChildProcess(
                [cli, "--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "\(replicas)", "--cluster-yes"],
                timeout: .seconds(30)
            )
            guard create.status == 0 else { throw TestServerError("redis-cli --cluster create failed: \(create.output.suffix(2000))") }
            try await fixture.waitUntilEveryNodeSeesAllSlots()
            return fixture
        } catch {
            nodes.forEach { $0.stop() }
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Polls `CLUSTER INFO` on every node until each reports the cluster up with every slot served.
    public func waitUntilEveryNodeSeesAllSlots(timeout: Duration = .seconds(30)) async throws {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            var agreed = true
            for node in nodes where node.isRunning {
                let info = (try? await RedisClient(url: node.url).command(["CLUSTER", "INFO"]).text) ?? ""
                if !info.contains("cluster_state:ok") || !info.contains("cluster_slots_ok:16384") { agreed = false }
                // A replica counts once it has its primary's data.
                let replication = (try? await RedisClient(url: node.url).command(["INFO", "replication"]).text) ?? ""
                if replication.contains("role:slave"), !replication.contains("master_link_status:up") { agreed = false }
            }
            if agreed { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestServerError("the cluster did not come up within \(timeout)")
    }

    /// The node that serves `key` now, by asking a running node for the slot's owner.
    public func node(serving key: String) async throws -> RedisServerFixture {
        let slot = RedisClusterSlot.of(key)
        guard let asked = nodes.first(where: \.isRunning) else { throw TestServerError("no node is running") }
        let ranges = try await RedisClient(url: asked.url).command(["CLUSTER", "SLOTS"]).elements ?? []
        for range in ranges {
            guard let parts = range.elements, let first = parts[0].integer, let last = parts[1].integer,
                (first...last).contains(Int64(slot)), let port = parts[2].elements?[1].integer
            else { continue }
            if let node = nodes.first(where: { $0.port == Int(port) }) { return node }
        }
        throw TestServerError("no node serves slot \(slot)")
    }

    public func stop() {
        nodes.forEach { $0.stop() }
        try? FileManager.default.removeItem(at: directory)
    }
}
