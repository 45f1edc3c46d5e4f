import CouponRankSources
public import CouponRankUpstreams
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle

/// The stub upstream services on 127.0.0.1 and a free port, for the duration of a test body.
public enum StubUpstreams {
    public static func with<T: Sendable>(
        configuration: StubHTTPServer.Configuration = .init(port: 0),
        _ body: @Sendable (_ baseURL: String, _ server: StubHTTPServer) async throws -> T
    ) async throws -> T {
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = 0
        var logger = Logger(label: "test-stubs")
        logger.logLevel = .warning
        let port = ListeningPort()
        let server = StubHTTPServer(configuration: configuration, generator: TestServer.generator, logger: logger, onListening: port.report)
        return try await withListeningService(server, port: port, logger: logger) { port, _ in
            try await body("http://127.0.0.1:\(port)", server)
        }
    }
}

/// An independent misbehaving HTTP server (Python's http.server), started by PID and stopped by it.
public final class FaultyUpstream: @unchecked Sendable {
    public let port: Int
    private let process: Process

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    /// Starts the server; the blocking wait for its port runs on a thread-pool thread, not the
    /// cooperative pool the tests share.
    public static func start() async throws -> FaultyUpstream {
        try await NIOThreadPool.singleton.runIfActive { try startBlocking() }
    }

    private static func startBlocking() throws -> FaultyUpstream {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CouponRankUpstreamsTests/Fixtures/faulty_upstream.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "120"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw TestServerError("faulty_upstream.py did not report a port")
        }
        return FaultyUpstream(port: port, process: process)
    }

    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        stop()
    }
}
