public import CouponRankModelStore
import Foundation

/// A Sentinel-managed Redis on 127.0.0.1: a primary, one replica and three sentinels (quorum 2,
/// the primary judged down after 1 s), started for one test and stopped by their PIDs.
public final class RedisSentinelFixture: @unchecked Sendable {
    public static let masterName = "couponrank"
    public static var isAvailable: Bool { RedisServerFixture.isAvailable }

    public let primary: RedisServerFixture
    public let replica: RedisServerFixture
    public let sentinelPorts: [Int]
    private var sentinels: [Process]
    private let directory: URL

    /// `redis+sentinel://127.0.0.1:s1,…/couponrank`.
    public var urlString: String {
        "redis+sentinel://" + sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") + "/\(Self.masterName)"
    }

    private init(primary: RedisServerFixture, replica: RedisServerFixture, sentinelPorts: [Int], sentinels: [Process], directory: URL) {
        self.primary = primary
        self.replica = replica
        self.sentinelPorts = sentinelPorts
        self.sentinels = sentinels
        self.directory = directory
    }

    public static func with<T>(_ body: (RedisSentinelFixture) async throws -> T) async throws -> T {
        let fixture = try await start()
        return try await stopping(fixture, body)
    }

    public static func start() async throws -> RedisSentinelFixture {
        guard let binary = RedisServerFixture.binary else { throw TestServerError(RedisServerFixture.unavailableReason) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("couponrank-sentinel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let primary = try await RedisServerFixture.start()
        let replica = try await RedisServerFixture.start(arguments: ["--replicaof", "127.0.0.1", "\(primary.port)"])
        var sentinels: [Process] = []
        var ports: [Int] = []
        do {
            for _ in 0..<3 {
                let port = try TestPorts.reserve()
                let configuration = directory.appendingPathComponent("sentinel-\(port).conf")
                try """
                    port \(port)
                    bind 127.0.0.1
                    dir \(directory.path)
                    sentinel monitor \(masterName) 127.0.0.1 \(primary.port) 2
                    sentinel down-after-milliseconds \(masterName) 1000
                    sentinel failover-timeout \(masterName) 5000
                    sentinel parallel-syncs \(masterName) 1

                    """.write(to: configuration, atomically: true, encoding: .utf8)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = [configuration.path, "--sentinel"]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                sentinels.append(process)
                ports.append(port)
            }
            let fixture = RedisSentinelFixture(primary: primary, replica: replica, sentinelPorts: ports, sentinels: sentinels, directory: directory)
            try await fixture.waitUntilReady()
            return fixture
        } catch {
            sentinels.forEach { kill($0.processIdentifier, SIGKILL); $0.waitUntilExit() }
            primary.stop()
            replica.stop()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Until the replica is in sync and every sentinel knows the replica and the other two.
    private func waitUntilReady(timeout: Duration = .seconds(30)) async throws {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            var ready = (try? await RedisClient(url: replica.url).command(["INFO", "replication"]).text)?.contains("master_link_status:up") ?? false
            for port in sentinelPorts where ready {
                let fields = (try? await RedisClient(url: RedisURL(host: "127.0.0.1", port: port)).command(["SENTINEL", "master", Self.masterName]).elements) ?? []
                let texts = fields.map { $0.text ?? "" }
                func value(_ name: String) -> String? { texts.firstIndex(of: name).flatMap { $0 + 1 < texts.count ? texts[$0 + 1] : nil } }
                if value("num-slaves") != "1" || value("num-other-sentinels") != "2" { ready = false }
            }
            if ready { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestServerError("the sentinels did not see the primary, its replica and each other within \(timeout)")
    }

    public func stop() {
        for process in sentinels where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        sentinels = []
        primary.stop()
        replica.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
