public import CouponRankModelStore
import Foundation
import NIOCore
import NIOPosix

/// A real redis-server on 127.0.0.1 and a free port, started for one test and stopped by its PID.
public final class RedisServerFixture: @unchecked Sendable {
    /// Where redis-server is installed, if it is.
    public static let binary: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    public static var isAvailable: Bool { binary != nil }
    public static let unavailableReason = "redis-server is not installed: `make test` installs it (apt-get install redis-server)"

    public let port: Int
    private var process: Process?

    public var url: RedisURL { RedisURL(host: "127.0.0.1", port: port) }

    private init(port: Int) {
        self.port = port
    }

    /// Starts a server with no persistence.
    public static func start() async throws -> RedisServerFixture {
        let fixture = RedisServerFixture(port: try await freePort())
        try await fixture.launch()
        return fixture
    }

    /// Runs `body` with a fresh server, stopped afterwards whatever happens.
    public static func with<T>(_ body: (RedisServerFixture) async throws -> T) async throws -> T {
        let fixture = try await start()
        do {
            let result = try await body(fixture)
            fixture.stop()
            return result
        } catch {
            fixture.stop()
            throw error
        }
    }

    /// Stops the server — SIGKILL to the process this fixture started, as a crash would — and
    /// waits for it to exit. (SIGTERM is not enough: the test runner's blocked signals are
    /// inherited by the child.)
    public func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
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
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--loglevel", "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let client = RedisClient(url: url, connectTimeout: .milliseconds(200))
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if case .status("PONG")? = try? await client.command(["PING"]) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw TestServerError("redis-server did not answer PING on port \(port) within 10 s")
    }

    deinit {
        stop()
    }

    /// A port the kernel just handed out and released.
    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        guard port > 0 else { throw TestServerError("no free port") }
        return port
    }
}
