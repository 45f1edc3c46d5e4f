import CouponRankCore
import CouponRankModelStore
import CouponRankTestSupport
import Foundation
import Testing

@Suite(.enabled(if: RedisServerFixture.isAvailable, "\(RedisServerFixture.unavailableReason)"))
struct ModelStoreTests {
    @Test func publishListShowAndActivate() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            #expect(try await store.currentVersion() == nil)
            let first = try await store.publish(try document(version: "m-1"))
            #expect(first.isCurrent && first.dimension == 64 && first.kind == "linucb")
            try await store.publish(try document(version: "m-2"))
            #expect(try await store.currentVersion() == "m-2")

            let listed = try await store.list()
            #expect(listed.map(\.version) == ["m-2", "m-1"])
            #expect(listed.map(\.isCurrent) == [true, false])

            let (info, body) = try await store.show(version: "m-1")
            #expect(info.crc32 == CRC32.hex(body))
            #expect(try await store.load(version: "m-1").version == "m-1")

            try await store.activate("m-1")
            #expect(try await store.currentVersion() == "m-1")
            await #expect(throws: ModelStoreError.self) { try await store.activate("m-404") }
            #expect(try await store.currentVersion() == "m-1")
        }
    }

    @Test func publishedVersionsAreImmutableAndInvalidDocumentsAreNotWritten() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            try await store.publish(try document(version: "m-1"))
            let conflict = await #expect(throws: ModelStoreError.self) { try await store.publish(try document(version: "m-1", scale: 2)) }
            #expect(conflict?.code == .conflict)

            var broken = try JSONSerialization.jsonObject(with: try document(version: "m-bad")) as! [String: Any]
            broken["theta"] = [1.0, 2.0]
            let invalid = await #expect(throws: ModelStoreError.self) {
                try await store.publish(try JSONSerialization.data(withJSONObject: broken))
            }
            #expect(invalid?.code == .invalid)
            #expect(try await store.list().map(\.version) == ["m-1"])
        }
    }

    @Test func theHistoryIsBoundedAndDroppedEntriesAreDeleted() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis, historyLimit: 3)
            for index in 1...5 { try await store.publish(try document(version: "m-\(index)")) }
            #expect(try await store.list().map(\.version) == ["m-5", "m-4", "m-3"])
            #expect(try await store.redis.command(["EXISTS", store.keys.entry("m-1")]).integer == 0)
            #expect(try await store.redis.command(["EXISTS", store.keys.entry("m-3")]).integer == 1)
        }
    }

    /// Issue 11: a valid 50 MB model document peaked the engine's RSS at 285 MB.
    @Test func aDocumentOverTheSizeLimitIsRefusedBeforeItIsFetched() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let big = try document(version: "too-big")
            try await store.publish(big)
            let limited = ModelStore(redis: store.redis, maximumDocumentBytes: big.count - 1)
            do {
                _ = try await limited.load(version: "too-big")
                Issue.record("a document over the limit was loaded")
            } catch {
                #expect("\(error)".contains("more than the limit of \(big.count - 1)"), "\(error)")
            }
            #expect(try await ModelStore(redis: store.redis, maximumDocumentBytes: big.count).load(version: "too-big").version == "too-big")
        }
    }

    @Test func aCorruptedDocumentFailsItsChecksum() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            let body = try document(version: "m-1")
            try await store.publish(body)
            var tampered = Array(body)
            let index = tampered.lastIndex(of: UInt8(ascii: "1"))!
            tampered[index] = UInt8(ascii: "2")
            _ = try await store.redis.command([Array("HSET".utf8), Array(store.keys.entry("m-1").utf8), Array("document".utf8), tampered])
            let error = await #expect(throws: ModelStoreError.self) { try await store.load(version: "m-1") }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("crc32") == true)
        }
    }

    @Test func metadataThatDisagreesWithTheDocumentIsRejected() async throws {
        try await RedisServerFixture.with { redis in
            let store = makeStore(redis)
            try await store.publish(try document(version: "m-1"))
            _ = try await store.redis.command(["HSET", store.keys.entry("m-1"), "dimension", "65"])
            let error = await #expect(throws: ModelStoreError.self) { try await store.load(version: "m-1") }
            #expect(error?.code == .corrupt)
        }
    }

    /// Issue 11: `redis://user:pw@…` sent `user:pw` as the password; an ACL user must work.
    @Test func anACLUserFromTheURLAuthenticates() async throws {
        try await RedisServerFixture.with { redis in
            let admin = RedisClient(url: redis.url)
            _ = try await admin.command(["ACL", "SETUSER", "engine", "on", ">wonder", "~*", "&*", "+@all"])
            var url = redis.url
            url.username = "engine"
            url.password = "wonder"
            #expect(try await RedisClient(url: url).command(["PING"]) == .status("PONG"))
            #expect(try await RedisClient(url: url).command(["ACL", "WHOAMI"]).text == "engine")
            url.password = "wrong"
            await #expect(throws: RedisError.self) { _ = try await RedisClient(url: url).command(["PING"]) }
        }
    }

    @Test func aModelPublishedWithPlainRedisCLIFromModelMDIsLoaded() async throws {
        let script = ProtocolVectors.specDirectory.appendingPathComponent("examples/publish-with-redis-cli.sh").path
        let redisCLI = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try #require(redisCLI != nil, "redis-cli is needed (make test installs redis-tools)")
        try await RedisServerFixture.with { redis in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("cli-model-\(redis.port).json")
            try document(version: "published-by-cli").write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = [script, file.path, "-h", "127.0.0.1", "-p", String(redis.port)]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)

            let store = makeStore(redis)
            let slot = ModelSlot(try TestServer.bundledModel(), origin: .embedded)
            let refresher = ModelRefresher(store: store, slot: slot, subscribe: false, logger: quietLogger)
            let report = await refresher.reload(reason: "test")
            #expect(report.outcome == .swapped, "\(report.message)")
            #expect(slot.current.model.version == "published-by-cli")
            #expect(slot.current.origin == .redis)
        }
    }
}

@Suite struct RedisURLTests {
    @Test(arguments: [
        ("redis://127.0.0.1:6390", RedisURL(host: "127.0.0.1", port: 6390)),
        ("redis://localhost", RedisURL(host: "localhost", port: 6379)),
        ("redis://:pw@cache:6380/2", RedisURL(host: "cache", port: 6380, password: "pw", database: 2)),
        ("redis://[::1]:7000/1", RedisURL(host: "::1", port: 7000, database: 1)),
        ("redis://alice:wonder@cache:6380", RedisURL(host: "cache", port: 6380, username: "alice", password: "wonder")),
        ("redis://pw@cache", RedisURL(host: "cache", port: 6379, password: "pw")),
    ])
    func parsesTheDocumentedForms(text: String, expected: RedisURL) throws {
        #expect(try RedisURL(parsing: text) == expected)
    }

    @Test(arguments: ["http://x", "redis://", "redis://host:port", "redis://host:70000", "redis://host/db"])
    func rejectsMalformedURLs(text: String) {
        #expect(throws: RedisError.self) { try RedisURL(parsing: text) }
    }

    @Test func descriptionsMaskThePassword() throws {
        #expect(try RedisURL(parsing: "redis://:secret@h:1/0").description == "redis://:***@h:1/0")
        #expect(try RedisURL(parsing: "redis://alice:secret@h:1/0").description == "redis://alice:***@h:1/0")
    }

    /// Issue 11: `rediss://` was refused without saying why.
    @Test func aTLSURLIsRefusedSayingWhatToDoInstead() {
        #expect(throws: RedisError.self) { try RedisURL(parsing: "rediss://cache:6380") }
        do {
            _ = try RedisURL(parsing: "rediss://cache:6380")
        } catch {
            #expect(error.message.contains("TLS") && error.message.contains("stunnel"))
        }
    }

    @Test func crc32MatchesZlib() {
        #expect(CRC32.hex(Array("123456789".utf8)) == "cbf43926")
        #expect(CRC32.hex([UInt8]()) == "00000000")
    }
}
