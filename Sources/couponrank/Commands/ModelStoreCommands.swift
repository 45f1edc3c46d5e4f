import ArgumentParser
import CouponRankModelStore
import Foundation
import Logging

/// Where the model store is: shared by the `model` subcommands that talk to Redis.
struct ModelStoreOptions: ParsableArguments {
    @Option(help: "Model store: redis://[:password@]host:port[/db], a cluster's seeds redis://h:p,h:p,…, or redis+sentinel://h:p,…/<master-name> (env COUPONRANK_REDIS_URL; default redis://127.0.0.1:6379).")
    var redisURL: String?

    @Option(help: "Key prefix of the model store.")
    var redisPrefix = "couponrank:"

    func makeStore() throws -> ModelStore {
        let text = redisURL ?? ProcessInfo.processInfo.environment["COUPONRANK_REDIS_URL"] ?? "redis://127.0.0.1:6379"
        let url: RedisURL
        do {
            url = try RedisURL(parsing: text)
        } catch {
            throw ValidationError("--redis-url: \(error.message)")
        }
        guard !redisPrefix.contains("{"), !redisPrefix.contains("}") else {
            throw ValidationError("--redis-prefix must not contain { or }: they would make a Redis Cluster hash tag of it and put every key in one slot")
        }
        var logger = Logger(label: "couponrank.model")
        logger.logLevel = .warning
        return ModelStore(redis: RedisClient(url: url, logger: logger), keys: ModelKeys(prefix: redisPrefix))
    }

    func makeRulesStore() throws -> RulesStore {
        let models = try makeStore()
        return RulesStore(redis: models.redis, keys: models.keys)
    }
}

/// The bytes of a document to publish; a file that cannot be read is printed plainly and exits 1.
func readDocument(_ path: String) throws -> Data {
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        print("error: cannot read \(path): \(error.localizedDescription)")
        throw ExitCode(1)
    }
}

/// Runs a store operation; a failure is printed plainly and exits 1.
func storeOperation<T>(_ operation: () async throws(ModelStoreError) -> T) async throws -> T {
    do {
        return try await operation()
    } catch {
        print("error: \(error)")
        throw ExitCode(1)
    }
}

struct PublishModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Validate a model document and publish it to Redis (entry first, current pointer last)."
    )

    @Argument(help: "Path of the model JSON document.")
    var file: String

    @Flag(help: "Store the version without making it current.")
    var noActivate = false

    @OptionGroup var store: ModelStoreOptions

    func run() async throws {
        let document = try readDocument(file)
        let modelStore = try store.makeStore()
        let info = try await storeOperation { () async throws(ModelStoreError) in try await modelStore.publish(document, activate: !noActivate) }
        print("published \(info.version) (\(info.kind), d=\(info.dimension), crc32 \(info.crc32))\(info.isCurrent ? "; now current" : "")")
    }
}

struct ListModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List published model versions, newest first.")

    @OptionGroup var store: ModelStoreOptions

    func run() async throws {
        let modelStore = try store.makeStore()
        let infos = try await storeOperation { () async throws(ModelStoreError) in try await modelStore.list() }
        guard !infos.isEmpty else {
            print("no model published")
            return
        }
        print("  " + [pad("VERSION", 32), pad("KIND", 9), pad("DIM", 6), pad("CREATED", 22), "PUBLISHED"].joined())
        for info in infos {
            print(
                (info.isCurrent ? "* " : "  ")
                    + [pad(info.version, 32), pad(info.kind, 9), pad(String(info.dimension), 6), pad(info.createdAt, 22), info.publishedAt].joined()
            )
        }
    }
}

struct ShowModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one published version (the current one by default).")

    @Argument(help: "Version to show.")
    var version: String?

    @Flag(help: "Print the model document itself.")
    var document = false

    @OptionGroup var store: ModelStoreOptions

    func run() async throws {
        let modelStore = try store.makeStore()
        let (info, data) = try await storeOperation { () async throws(ModelStoreError) in try await modelStore.show(version: version) }
        if document {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("version       \(info.version)\(info.isCurrent ? " (current)" : "")")
        print("kind          \(info.kind)")
        print("dimension     \(info.dimension)")
        print("created_at    \(info.createdAt)")
        print("published_at  \(info.publishedAt)")
        print("crc32         \(info.crc32)")
        print("document      \(info.documentBytes) bytes")
    }
}

struct ActivateModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Make a published version current (rollback or roll forward); engines pick it up on their next refresh."
    )

    @Argument(help: "Version to make current.")
    var version: String

    @OptionGroup var store: ModelStoreOptions

    func run() async throws {
        let modelStore = try store.makeStore()
        let previous = try await storeOperation { () async throws(ModelStoreError) in try await modelStore.currentVersion() }
        try await storeOperation { () async throws(ModelStoreError) in try await modelStore.activate(version) }
        print("current: \(previous ?? "none") → \(version)")
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}
