import CouponRankClient
import Foundation
import NIOCore
import NIOPosix

/// `couponrank serve` as a child process on a loopback port, stopped by its PID.
final class EngineProcess: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let errorLog: URL

    private init(port: Int, process: Process, errorLog: URL) {
        self.port = port
        self.process = process
        self.errorLog = errorLog
    }

    /// Starts the engine and waits until it answers health checks (at most 60 s).
    static func start(binary: String, arguments: [String]) async throws -> EngineProcess {
        let port = try await freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "\(port)", "--no-ops", "--log-level", "warning"] + arguments
        let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("couponrank-simulate-engine-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errorLog)
        try process.run()
        let engine = EngineProcess(port: port, process: process, errorLog: errorLog)
        let end = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < end {
            guard process.isRunning else {
                throw SimulationError("the engine exited during start-up: \(engine.standardError().suffix(2000))")
            }
            if let client = try? await CouponRankClient.connect(host: "127.0.0.1", port: port, connectTimeout: .milliseconds(200)) {
                let healthy = (try? await client.health(timeout: .seconds(2))) != nil
                await client.close()
                if healthy { return engine }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        engine.stop()
        throw SimulationError("the engine did not answer within 60 s: \(engine.standardError().suffix(2000))")
    }

    func standardError() -> String {
        (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then SIGKILL after 10 s.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let end = Date().addingTimeInterval(10)
        while process.isRunning, Date() < end { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: errorLog)
    }

    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        guard port > 0 else { throw SimulationError("no free loopback port") }
        return port
    }
}

/// A simulation that cannot go on, and why.
public struct SimulationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
