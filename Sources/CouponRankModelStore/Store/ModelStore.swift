public import CouponRankCore
public import CouponRankModelFile
public import Foundation

/// Metadata of one published model.
public struct ModelEntryInfo: Sendable, Hashable {
    public var version: String
    public var kind: String
    public var dimension: Int
    public var createdAt: String
    public var publishedAt: String
    public var crc32: String
    public var documentBytes: Int
    public var isCurrent: Bool
}

/// Published models in Redis, laid out as MODEL.md §7 says.
public struct ModelStore: Sendable {
    public let redis: RedisClient
    public let keys: ModelKeys
    /// Versions kept in the history; older entries are deleted on publish (never the current one).
    public let historyLimit: Int
    /// Documents larger than this are refused before they are fetched.
    public let maximumDocumentBytes: Int

    public init(redis: RedisClient, keys: ModelKeys = .init(), historyLimit: Int = 20, maximumDocumentBytes: Int = ModelFile.defaultMaximumBytes) {
        precondition(historyLimit > 0 && maximumDocumentBytes > 0)
        self.redis = redis
        self.keys = keys
        self.historyLimit = historyLimit
        self.maximumDocumentBytes = maximumDocumentBytes
    }

    /// Validates `document`, writes its entry, records it in the history, and — when `activate`
    /// — points `current` at it last, so engines never see a half-written model.
    @discardableResult
    public func publish(_ document: Data, activate: Bool = true, now: Date = Date()) async throws(ModelStoreError) -> ModelEntryInfo {
        let model: ScoringModel
        do {
            model = try ModelFile.decode(document)
        } catch {
            throw ModelStoreError(.invalid, error.description)
        }
        let version = model.version
        let entry = keys.entry(version)
        guard try await run(["EXISTS", entry]).integer == 0 else {
            throw ModelStoreError(.conflict, "version \(version) is already published; publish under a new version")
        }
        let info = ModelEntryInfo(
            version: version,
            kind: model.kind.rawValue,
            dimension: model.dimension,
            createdAt: model.definition.createdAt,
            publishedAt: ISO8601DateFormatter().string(from: now),
            crc32: CRC32.hex(document),
            documentBytes: document.count,
            isCurrent: activate
        )
        let fields: [[UInt8]] = [
            "HSET", entry, "crc32", info.crc32, "kind", info.kind, "dimension", String(info.dimension),
            "created_at", info.createdAt, "published_at", info.publishedAt, "document",
        ].map { Array($0.utf8) } + [Array(document)]
        _ = try await run(fields)
        _ = try await run(["LPUSH", keys.history, version])
        try await trimHistory()
        if activate {
            _ = try await run(["SET", keys.current, version])
        }
        return info
    }

    /// Points `current` at a published version (rollback or roll forward), after checking that
    /// its entry loads and validates.
    public func activate(_ version: String) async throws(ModelStoreError) {
        _ = try await load(version: version)
        _ = try await run(["SET", keys.current, version])
    }

    /// The version `current` points at, or `nil` when none is published.
    public func currentVersion() async throws(ModelStoreError) -> String? {
        try await run(["GET", keys.current]).text
    }

    /// Fetches, checks and compiles one version.
    public func load(version: String) async throws(ModelStoreError) -> ScoringModel {
        // The size first: a document over the limit is never fetched into memory.
        let size = Int(try await run(["HSTRLEN", keys.entry(version), "document"]).integer ?? 0)
        guard size <= maximumDocumentBytes else {
            throw ModelStoreError(.invalid, "entry \(version): the document is \(size) bytes, more than the limit of \(maximumDocumentBytes)")
        }
        let fields = try await hash(keys.entry(version))
        guard !fields.isEmpty else { throw ModelStoreError(.notFound, "no entry for version \(version)") }
        guard let document = fields["document"] else { throw ModelStoreError(.corrupt, "entry \(version) has no document") }
        guard let crc32 = fields["crc32"].map({ String(decoding: $0, as: UTF8.self) }) else {
            throw ModelStoreError(.corrupt, "entry \(version) has no crc32")
        }
        let actual = CRC32.hex(document)
        guard actual == crc32.lowercased() else {
            throw ModelStoreError(.corrupt, "entry \(version): crc32 is \(actual), the entry says \(crc32)")
        }
        let model: ScoringModel
        do {
            model = try ModelFile.decode(Data(document), maximumBytes: maximumDocumentBytes)
        } catch {
            throw ModelStoreError(.invalid, "entry \(version): \(error.description)")
        }
        guard model.version == version else {
            throw ModelStoreError(.corrupt, "entry \(version) holds a document of version \(model.version)")
        }
        if let kind = fields["kind"].map({ String(decoding: $0, as: UTF8.self) }), kind != model.kind.rawValue {
            throw ModelStoreError(.corrupt, "entry \(version) says kind \(kind), its document is \(model.kind.rawValue)")
        }
        if let dimension = fields["dimension"].map({ String(decoding: $0, as: UTF8.self) }), dimension != String(model.dimension) {
            throw ModelStoreError(.corrupt, "entry \(version) says dimension \(dimension), its schema has \(model.dimension)")
        }
        return model
    }

    /// The model `current` points at.
    public func loadCurrent() async throws(ModelStoreError) -> ScoringModel {
        guard let version = try await currentVersion() else {
            throw ModelStoreError(.notFound, "no model is published under \(keys.current)")
        }
        return try await load(version: version)
    }

    /// The published versions, newest first.
    public func list() async throws(ModelStoreError) -> [ModelEntryInfo] {
        let current = try await currentVersion()
        let versions = try await run(["LRANGE", keys.history, "0", "-1"]).elements?.compactMap(\.text) ?? []
        var infos: [ModelEntryInfo] = []
        for version in versions {
            if let info = try await info(version: version, current: current) { infos.append(info) }
        }
        if let current, !versions.contains(current), let info = try await info(version: current, current: current) {
            infos.insert(info, at: 0)
        }
        return infos
    }

    /// Metadata and document of one version (the current one when `version` is nil).
    public func show(version: String?) async throws(ModelStoreError) -> (ModelEntryInfo, Data) {
        let current = try await currentVersion()
        guard let version = version ?? current else { throw ModelStoreError(.notFound, "no model is published") }
        guard let info = try await info(version: version, current: current) else {
            throw ModelStoreError(.notFound, "no entry for version \(version)")
        }
        let document = try await run(["HGET", keys.entry(version), "document"]).bytes ?? []
        return (info, Data(document))
    }

    /// Asks every subscribed engine to refresh now; the number of engines that received it.
    public func broadcastReload() async throws(ModelStoreError) -> Int {
        Int(try await run(["PUBLISH", keys.reloadChannel, "reload"]).integer ?? 0)
    }

    /// Sets the fleet's exploration switch and tells every subscribed engine; the number reached.
    public func setFleetExploration(enabled: Bool) async throws(ModelStoreError) -> Int {
        let value = enabled ? "on" : "off"
        _ = try await run(["SET", keys.exploration, value])
        return Int(try await run(["PUBLISH", keys.reloadChannel, "exploration " + value]).integer ?? 0)
    }

    /// The fleet's exploration switch; `nil` when never set.
    public func fleetExploration() async throws(ModelStoreError) -> Bool? {
        switch try await run(["GET", keys.exploration]).text {
        case "on": true
        case "off": false
        default: nil
        }
    }

    private func info(version: String, current: String?) async throws(ModelStoreError) -> ModelEntryInfo? {
        let reply = try await run(["HMGET", keys.entry(version), "kind", "dimension", "created_at", "published_at", "crc32"])
        let values = reply.elements?.map(\.text) ?? []
        guard values.count == 5, values.contains(where: { $0 != nil }) else { return nil }
        let length = try await run(["HSTRLEN", keys.entry(version), "document"]).integer ?? 0
        return ModelEntryInfo(
            version: version,
            kind: values[0] ?? "?",
            dimension: Int(values[1] ?? "") ?? 0,
            createdAt: values[2] ?? "?",
            publishedAt: values[3] ?? "?",
            crc32: values[4] ?? "?",
            documentBytes: Int(length),
            isCurrent: version == current
        )
    }

    private func trimHistory() async throws(ModelStoreError) {
        try await redis.trimHistory(keys.history, keep: historyLimit, current: keys.current, entry: keys.entry)
    }

    private func hash(_ key: String) async throws(ModelStoreError) -> [String: [UInt8]] {
        try await redis.hashFields(key)
    }

    private func run(_ arguments: [String]) async throws(ModelStoreError) -> RedisReply {
        try await redis.storeCommand(arguments)
    }

    private func run(_ arguments: [[UInt8]]) async throws(ModelStoreError) -> RedisReply {
        try await redis.storeCommand(arguments)
    }
}
