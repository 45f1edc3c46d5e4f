public import CouponRankModelStore
import Foundation

/// A real redis-server on 127.0.0.1 and a free port, started for one test and stopped by its PID.
public final class RedisServerFixture: @unchecked Sendable {
    /// Where redis-server is installed, if it is.
    public static let binary: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    public static var isAvailable: Bool { binary != nil }
    public static let unavailableReason = "redis-server is not installed: `make test` installs it (apt-get install redis-server)"

    public let port: Int
    private var process: Process?
    /// With persistence: where the append-only file lives, kept across restarts.
    private let dataDirectory: URL?
    /// More redis-server arguments (a cluster node's), kept across restarts.
    private let extraArguments: [String]

    public var url: RedisURL { RedisURL(host: "127.0.0.1", port: port) }

    private init(port: Int, dataDirectory: URL?, extraArguments: [String]) {
        self.port = port
        self.dataDirectory = dataDirectory
        self.extraArguments = extraArguments
    }

    /// Starts a server with no persistence, or, when `persistent`, with an append-only file
    /// synced on every write, so that what it acknowledged survives a SIGKILL and a restart.
    /// `port` (default: a free one) and `arguments` are for cluster nodes.
    public static func start(persistent: Bool = false, port: Int? = nil, arguments: [String] = []) async throws -> RedisServerFixture {
        var directory: URL?
        if persistent {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("couponrank-redis-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            directory = url
        }
        let chosen: Int
        if let port { chosen = port } else { chosen = try TestPorts.reserve() }
        let fixture = RedisServerFixture(port: chosen, dataDirectory: directory, extraArguments: arguments)
        try await fixture.launch()
        return fixture
    }

    /// Whether the server this fixture started is running.
    public var isRunning: Bool { process?.isRunning ?? false }

    /// Freezes the server (SIGSTOP): connections stay open and nothing is answered.
    public func pause() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGSTOP) }
    }

    /// Thaws a paused server (SIGCONT).
    public func resume() {
        if let process, process.isRunning { kill(process.processIdentifier, SIGCONT) }
    }

    /// Runs `body` with a fresh server, stopped afterwards whatever happens.
    public static func with<T>(persistent: Bool = false, _ body: (RedisServerFixture) async throws -> T) async throws -> T {
        let fixture = try await start(persistent: persistent)
        return try await stopping(fixture, body)
    }

    /// Stops the server — SIGKILL to the process this fixture started, as a crash would — and
    /// waits for it to exit. (SIGTERM is not enough: the test runner's blocked signals are
    /// inherited by the child.)
    public func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        kill(process.processIdentifier, SIGCONT)
        process.waitUntilExit()
        self.process = nil
    }

    /// Starts an empty server again on the same port.
    public func restart() async throws {
        stop()
        try await launch()
    }

    private func launch() async throws {
        guard let binary = Self.binary else { throw TestServerError(Self.unavailableReason) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--daemonize", "no", "--loglevel", "warning",
        ]
        if let dataDirectory {
            process.arguments! += ["--appendonly", "yes", "--appendfsync", "always", "--dir", dataDirectory.path]
        } else {
            process.arguments! += ["--appendonly", "no"]
        }
        process.arguments! += extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let client = RedisClient(url: url, connectTimeout: .milliseconds(200))
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if case .status("PONG")? = try? await client.command(["PING"]) { return }
            guard process.isRunning else {
                self.process = nil
                throw TestServerError("redis-server exited at start on port \(port) (status \(process.terminationStatus))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw TestServerError("redis-server did not answer PING on port \(port) within 10 s")
    }

    deinit {
        stop()
        if let dataDirectory { try? FileManager.default.removeItem(at: dataDirectory) }
    }
}

/// A fixture that ends with ``stop()``: Redis servers, clusters, sentinel sets.
protocol StoppableFixture {
    func stop()
}

extension RedisServerFixture: StoppableFixture {}
extension RedisClusterFixture: StoppableFixture {}
extension RedisSentinelFixture: StoppableFixture {}

/// Runs `body` with `fixture`, stopped afterwards whatever happens.
func stopping<F: StoppableFixture, T>(_ fixture: F, _ body: (F) async throws -> T) async throws -> T {
    do {
        let result = try await body(fixture)
        fixture.stop()
        return result
    } catch {
        fixture.stop()
        throw error
    }
}
