import CouponRankTestSupport
import Foundation
import NIOPosix
import Testing

/// proto-spec/examples/client.py was written from PROTOCOL.md alone; it must talk to the server.
@Suite struct SpecClientTests {
    @Test func theIndependentPythonClientRanksPipelinesAndGetsDocumentedErrors() async throws {
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let interpreter = try #require(python, "python3 is needed for this test (make test installs it)")
        try await TestServer.with { server in
            let script = ProtocolVectors.specDirectory.appendingPathComponent("examples/client.py").path
            let port = server.port
            // Waiting for the child blocks: do it on a thread-pool thread, not the cooperative pool.
            let (status, data) = try await NIOThreadPool.singleton.runIfActive { () throws -> (Int32, Data) in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: interpreter)
                process.arguments = [script, "--port", "\(port)", "conformance"]
                let output = Pipe()
                process.standardOutput = output
                try process.run()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return (process.terminationStatus, data)
            }
            #expect(status == 0)

            let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let health = try #require(report["health"] as? [String: Any])
            #expect(health["status"] as? Int == 0)
            let rank = try #require(report["rank"] as? [String: Any])
            #expect(rank["type"] as? String == "RankResponse")
            #expect((rank["items"] as? [Any])?.count == 5)
            let pipelined = try #require(report["pipelined"] as? [String: Any])
            #expect(pipelined["answered"] as? [Int] == Array(100..<110))
            #expect(pipelined["all_ranked"] as? Bool == true)
            let unknownType = try #require((report["unknown_type"] as? [Any])?.last as? [String: Any])
            #expect(unknownType["name"] as? String == "UNKNOWN_MESSAGE_TYPE")
            let unknownVersion = try #require((report["unknown_version"] as? [Any])?.last as? [String: Any])
            #expect(unknownVersion["name"] as? String == "UNSUPPORTED_VERSION")
            let tooLong = try #require((report["easy_id_too_long"] as? [Any])?.last as? [String: Any])
            #expect(tooLong["name"] as? String == "INVALID_ARGUMENT")
            #expect(report["still_open"] as? Bool == true)
        }
    }
}
