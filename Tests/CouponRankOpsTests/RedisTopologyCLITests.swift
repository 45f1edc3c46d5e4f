import CouponRankClient
import CouponRankTestSupport
import CouponRankWire
import Foundation
import Testing

/// Issue 16: `couponrank model …` and `couponrank serve` unchanged against a Redis Cluster and a
/// Sentinel-managed primary: the same `--redis-url`, another form.
@Suite(.enabled(if: RedisClusterFixture.isAvailable && ServeProcess.binaryExists, "needs redis-server, redis-cli and the built couponrank"))
struct RedisTopologyCLITests {
    static let bundledModel = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/CouponRankModelFile/Resources/default-model.json")

    /// The bundled model under another version, as a file.
    static func modelFile(version: String) throws -> String {
        var document = try JSONSerialization.jsonObject(with: Data(contentsOf: bundledModel)) as! [String: Any]
        document["version"] = version
        return try ServeProcess.temporaryFile(String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self))
    }

    static func cli(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await runChildProcess([ServeProcess.binary] + arguments, timeout: .seconds(60))
    }

    static let adminToken = "t0ken"

    /// Publishes with the CLI (again, as an operator would, while a failover leaves no primary),
    /// reloads the engine, and says whether it then ranks with that version.
    static func publishAndReload(_ version: String, url: String, server: ServeProcess) async throws -> Bool {
        let file = try modelFile(version: version)
        defer { try? FileManager.default.removeItem(atPath: file) }
        var published = try await cli(["model", "publish", file, "--redis-url", url])
        let end = ContinuousClock.now + .seconds(30)
        while published.status != 0, ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(200))
            published = try await cli(["model", "publish", file, "--redis-url", url])
        }
        #expect(published.status == 0, "\(published.output)")
        let client = try await CouponRankClient.connectForTesting(host: "127.0.0.1", port: server.port)
        defer { Task { await client.close() } }
        let reload = try await client.reloadModel(token: adminToken)
        #expect(reload.currentVersion == version, "\(reload)")
        return try await client.rank(RankRequest(easyID: "7", topK: 2)).modelVersion == version
    }

    static let caseStudyRules = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("proto-spec/examples/rules-case-study.json").path

    /// The rules store through the same URL: published, listed, applied by the engine after a reload.
    static func rulesWork(url: String, server: ServeProcess) async throws {
        let published = try await cli(["rules", "publish", caseStudyRules, "--redis-url", url])
        #expect(published.status == 0, "\(published.output)")
        let listed = try await cli(["rules", "list", "--redis-url", url])
        #expect(listed.status == 0 && listed.output.contains("case-study"), "\(listed.output)")
        let client = try await CouponRankClient.connectForTesting(host: "127.0.0.1", port: server.port)
        defer { Task { await client.close() } }
        let reload = try await client.reloadModel(token: adminToken)
        #expect(reload.message.contains("rules"), "\(reload)")
        let answer = try await client.rank(RankRequest(easyID: "7", topK: 2))
        #expect(answer.rulesVersion.hasPrefix("case-study"), "the engine applies the rules read through \(url): \(answer.rulesVersion)")
    }

    @Test func theCLIAndTheEngineWorkAgainstACluster() async throws {
        try await RedisClusterFixture.with { cluster in
            let url = cluster.urlString
            let file = try Self.modelFile(version: "cli-cluster-1")
            defer { try? FileManager.default.removeItem(atPath: file) }
            #expect(try await Self.cli(["model", "publish", file, "--redis-url", url]).status == 0)
            let server = try await ServeProcess.start(["--redis-url", url, "--admin-token", Self.adminToken], environment: [:])
            defer { server.stop() }
            let client = try await CouponRankClient.connectForTesting(host: "127.0.0.1", port: server.port)
            #expect(try await client.rank(RankRequest(easyID: "7", topK: 2)).modelVersion == "cli-cluster-1")
            await client.close()
            #expect(try await Self.publishAndReload("cli-cluster-2", url: url, server: server), "a model published through the cluster reaches the engine")
            let listed = try await Self.cli(["model", "list", "--redis-url", url])
            #expect(listed.status == 0 && listed.output.contains("* cli-cluster-2") && listed.output.contains("cli-cluster-1"), "\(listed.output)")
            try await Self.rulesWork(url: url, server: server)
        }
    }

    @Test func theCLIAndTheEngineWorkAgainstASentinelSetAndTheEngineSaysWhichPrimaryItUses() async throws {
        try await RedisSentinelFixture.with { fixture in
            let url = fixture.urlString
            let server = try await ServeProcess.start(["--redis-url", url, "--admin-token", Self.adminToken], environment: [:])
            defer { server.stop() }
            #expect(try await Self.publishAndReload("cli-sentinel-1", url: url, server: server))
            let (_, before) = try await runChildProcess(["curl", "-sS", "http://127.0.0.1:\(server.opsPort)/metrics"])
            #expect(before.contains(#"couponrank_redis_primary_info{node="127.0.0.1:\#(fixture.primary.port)"} 1"#), "\(before)")

            fixture.primary.stop()
            #expect(try await Self.publishAndReload("cli-sentinel-2", url: url, server: server), "published on the new primary, served by the engine")
            let (_, after) = try await runChildProcess(["curl", "-sS", "http://127.0.0.1:\(server.opsPort)/metrics"])
            #expect(after.contains(#"couponrank_redis_primary_info{node="127.0.0.1:\#(fixture.replica.port)"} 1"#), "\(after)")
            #expect(after.contains(#"couponrank_redis_primary_info{node="127.0.0.1:\#(fixture.primary.port)"} 0"#))
            try await Self.rulesWork(url: url, server: server)
        }
    }
}
