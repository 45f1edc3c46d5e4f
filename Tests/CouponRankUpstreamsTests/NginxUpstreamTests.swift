import CouponRankClient
import CouponRankSources
import CouponRankTestSupport
import CouponRankUpstreamJSON
import CouponRankUpstreams
import CouponRankWire
import Foundation
import Testing

/// nginx from Debian, serving the three contracts from files: an upstream that shares no code
/// with the engine.
@Suite(.enabled(if: NginxFixture.binary != nil, "nginx is not installed: `make test` installs it (apt-get install nginx-light)"))
struct NginxUpstreamTests {
    @Test func theEngineRanksFromNginxWithFarFewerConnectionsThanRequests() async throws {
        let users = (0..<25).map { "nginx-user-\($0)" }
        let nginx = try await NginxFixture.start(users: users)
        defer { nginx.stop() }
        let sources = HTTPSourceTests.httpSources(nginx.baseURL)
        let viaNginx = try await TestServer.with(sources: sources) { server in
            var answers: [RankResponse] = []
            for _ in 0..<4 {  // every user four times: 300 upstream requests
                answers = try await HTTPSourceTests.rank(users, port: server.port)
            }
            return answers
        }
        let inProcess = try await TestServer.with { server in
            try await HTTPSourceTests.rank(users, port: server.port)
        }
        #expect(viaNginx.map(\.items) == inProcess.map(\.items))
        #expect(viaNginx.allSatisfy { $0.degraded.isEmpty })

        let (connections, requests) = try nginx.connectionsAndRequests()
        print("nginx upstream: \(connections) connections for \(requests) requests")
        #expect(requests == 300)
        #expect(connections <= 10, "\(connections) connections for \(requests) requests")
    }
}

extension NginxUpstreamTests {
    /// Issue 11: 16 ranks of unknown users (nginx answers 404 for every contract) opened all three
    /// breakers, and every user then got UPSTREAM_UNAVAILABLE. A 404 is an answer, not a failure.
    @Test func unknownUsersAreNoCandidatesAndOpenNoBreaker() async throws {
        let nginx = try await NginxFixture.start(users: ["known-user"])
        defer { nginx.stop() }
        let upstreams = UpstreamSet()
        try await TestServer.with(sources: HTTPSourceTests.httpSources(nginx.baseURL, upstreams: upstreams)) { server in
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            for index in 0..<30 {
                do {
                    _ = try await client.rank(RankRequest(easyID: "unknown-\(index)", topK: 5))
                    Issue.record("an unknown user was ranked")
                } catch let error as ClientError {
                    #expect(error.serverError?.code == .noCandidates)
                }
            }
            #expect(upstreams.breakerStates.allSatisfy { $0.state == "closed" }, "\(upstreams.breakerStates)")
            let known = try await client.rank(RankRequest(easyID: "known-user", topK: 5))
            #expect(known.items.count == 5 && known.degraded.isEmpty)
            await client.close()
        }
    }
}

/// nginx on a free loopback port, with a document root written from the stub data.
final class NginxFixture: @unchecked Sendable {
    static let binary: String? = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }

    let port: Int
    let directory: URL
    private let process: Process
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, directory: URL, process: Process) {
        self.port = port
        self.directory = directory
        self.process = process
    }

    static func start(users: [String]) async throws -> NginxFixture {
        guard let binary else { throw TestServerError("nginx is not installed") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("couponrank-nginx-\(UUID().uuidString)")
        let generator = TestServer.generator
        for user in users {
            let folder = directory.appendingPathComponent("root/v1/users/\(user)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(StubJSON.features(easyID: user, generator.userFeatures(for: user))).write(to: folder.appendingPathComponent("features"))
            try Data(StubJSON.coupons(easyID: user, generator.candidates(for: user))).write(to: folder.appendingPathComponent("coupons"))
            try Data(StubJSON.stats(easyID: user, generator.stats(for: user))).write(to: folder.appendingPathComponent("coupon-stats"))
        }
        for attempt in 0..<5 {
            let port = try TestPorts.reserve()
            let config = """
                daemon off;
                master_process off;
                worker_processes 1;
                error_log \(directory.path)/error.log warn;
                pid \(directory.path)/nginx.pid;
                events { worker_connections 256; }
                http {
                    log_format conn '$connection $connection_requests $status';
                    access_log \(directory.path)/access.log conn;
                    client_body_temp_path \(directory.path)/tmp;
                    proxy_temp_path \(directory.path)/tmp;
                    fastcgi_temp_path \(directory.path)/tmp;
                    uwsgi_temp_path \(directory.path)/tmp;
                    scgi_temp_path \(directory.path)/tmp;
                    keepalive_requests 10000;
                    keepalive_timeout 60s;
                    default_type application/json;
                    server {
                        listen 127.0.0.1:\(port);
                        root \(directory.path)/root;
                    }
                }
                """
            try config.write(to: directory.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["-c", directory.appendingPathComponent("nginx.conf").path, "-p", directory.path, "-e", directory.path + "/error.log"]
            process.standardError = FileHandle.nullDevice
            try process.run()
            let http = CurlHTTPClient()
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline, process.isRunning {
                if let answer = try? await http.get("http://127.0.0.1:\(port)/v1/users/\(users[0])/features", timeout: .milliseconds(200), maximumBodyBytes: 1 << 20),
                    answer.status == 200
                {
                    let fixture = NginxFixture(port: port, directory: directory, process: process)
                    // Leave the readiness probe out of the statistics.
                    fixture.skippedLines = try fixture.logLines().count
                    return fixture
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            if attempt == 4 { break }
        }
        throw TestServerError("nginx did not start (see \(directory.path)/error.log)")
    }

    private var skippedLines = 0

    private func logLines() throws -> [Substring] {
        let path = directory.appendingPathComponent("access.log")
        guard FileManager.default.fileExists(atPath: path.path) else { return [] }
        return try String(contentsOf: path, encoding: .utf8).split(separator: "\n")
    }

    /// Distinct connections and total requests in the access log since start-up.
    func connectionsAndRequests() throws -> (Int, Int) {
        let lines = try logLines().dropFirst(skippedLines)
        return (Set(lines.compactMap { $0.split(separator: " ").first }).count, lines.count)
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
