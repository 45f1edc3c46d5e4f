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

/// An independent HTTP server written in Python (its http.server), started by PID and stopped by
/// it: the script prints its port on its first line and serves for the seconds given as its argument.
public final class PythonHTTPServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    /// Starts `script` (a path under Tests/); the blocking wait for its port runs on a thread-pool
    /// thread, not the cooperative pool the tests share.
    public static func start(script: String, seconds: Int = 120) async throws -> PythonHTTPServer {
        try await NIOThreadPool.singleton.runIfActive { try startBlocking(script: script, seconds: seconds) }
    }

    private static func startBlocking(script: String, seconds: Int) throws -> PythonHTTPServer {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(script)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path.path, "\(seconds)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw TestServerError("\(script) did not report a port")
        }
        return PythonHTTPServer(port: port, process: process)
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

/// The misbehaving upstream of Tests/CouponRankUpstreamsTests/Fixtures/faulty_upstream.py.
public enum FaultyUpstream {
    public static func start() async throws -> PythonHTTPServer {
        try await PythonHTTPServer.start(script: "CouponRankUpstreamsTests/Fixtures/faulty_upstream.py")
    }
}
