public import CouponRankCore
public import CouponRankModelFile
public import Foundation

/// Metadata of one published rules document.
public struct RulesEntryInfo: Sendable, Hashable {
    public var version: String
    public var rules: Int
    public var createdAt: String
    public var publishedAt: String
    public var crc32: String
    public var documentBytes: Int
    public var isCurrent: Bool
}

/// Published rules documents in Redis (RULES.md §8), beside the models and laid out the same
/// way: an immutable entry per version, a history for rollback, and a `current` pointer written
/// last. Engines read them when they refresh the model.
public struct RulesStore: Sendable {
    public let redis: RedisClient
    public let keys: ModelKeys
    public let historyLimit: Int

    public init(redis: RedisClient, keys: ModelKeys = .init(), historyLimit: Int = 20) {
        precondition(historyLimit > 0)
        self.redis = redis
        self.keys = keys
        self.historyLimit = historyLimit
    }

    /// Compiles `document` (so a broken one never reaches an engine), writes its entry, records
    /// it in the history and, when `activate`, points `current` at it last.
    @discardableResult
    public func publish(_ document: Data, activate: Bool = true, now: Date = Date()) async throws(ModelStoreError) -> RulesEntryInfo {
        let parsed: RulesDocument
        do {
            parsed = try RulesFile.decode(document).document
        } catch {
            throw ModelStoreError(.invalid, error.description)
        }
        let entry = keys.rulesEntry(parsed.version)
        guard try await redis.storeCommand(["EXISTS", entry]).integer == 0 else {
            throw ModelStoreError(.conflict, "rules version \(parsed.version) is already published; publish under a new version")
        }
        let info = RulesEntryInfo(
            version: parsed.version,
            rules: parsed.rules.count,
            createdAt: parsed.createdAt ?? "",
            publishedAt: ISO8601DateFormatter().string(from: now),
            crc32: CRC32.hex(document),
            documentBytes: document.count,
            isCurrent: activate
        )
        let fields: [[UInt8]] = [
            "HSET", entry, "crc32", info.crc32, "rules", String(info.rules), "created_at", info.createdAt,
            "published_at", info.publishedAt, "document",
        ].map { Array($0.utf8) } + [Array(document)]
        _ = try await redis.storeCommand(fields)
        _ = try await redis.storeCommand(["LPUSH", keys.rulesHistory, parsed.version])
        try await redis.trimHistory(keys.rulesHistory, keep: historyLimit, current: keys.rulesCurrent, entry: keys.rulesEntry)
        if activate {
            _ = try await redis.storeCommand(["SET", keys.rulesCurrent, parsed.version])
        }
        return info
    }

    /// Points `current` at a published version (rollback or roll forward) once it compiles.
    public func activate(_ version: String) async throws(ModelStoreError) {
        _ = try await load(version: version)
        _ = try await redis.storeCommand(["SET", keys.rulesCurrent, version])
    }

    /// Stops applying rules: `current` is removed, the entries are kept.
    public func deactivate() async throws(ModelStoreError) {
        _ = try await redis.storeCommand(["DEL", keys.rulesCurrent])
    }

    /// The version `current` names, or `nil` when no rules apply.
    public func currentVersion() async throws(ModelStoreError) -> String? {
        try await redis.storeCommand(["GET", keys.rulesCurrent]).text
    }

    /// Fetches, checks and compiles one version.
    public func load(version: String) async throws(ModelStoreError) -> CompiledRules {
        let size = Int(try await redis.storeCommand(["HSTRLEN", keys.rulesEntry(version), "document"]).integer ?? 0)
        guard size <= RulesFile.maximumBytes else {
            throw ModelStoreError(.invalid, "rules entry \(version): the document is \(size) bytes, more than the limit of \(RulesFile.maximumBytes)")
        }
        let fields = try await redis.hashFields(keys.rulesEntry(version))
        guard !fields.isEmpty else { throw ModelStoreError(.notFound, "no rules entry for version \(version)") }
        guard let document = fields["document"], let crc32 = fields["crc32"].map({ String(decoding: $0, as: UTF8.self) }) else {
            throw ModelStoreError(.corrupt, "rules entry \(version) lacks its document or crc32")
        }
        let actual = CRC32.hex(document)
        guard actual == crc32.lowercased() else {
            throw ModelStoreError(.corrupt, "rules entry \(version): crc32 is \(actual), the entry says \(crc32)")
        }
        let rules: CompiledRules
        do {
            rules = try RulesFile.decode(Data(document)).rules
        } catch {
            throw ModelStoreError(.invalid, "rules entry \(version): \(error.description)")
        }
        guard rules.version == version else {
            throw ModelStoreError(.corrupt, "rules entry \(version) holds a document of version \(rules.version)")
        }
        return rules
    }

    /// The published versions, newest first.
    public func list() async throws(ModelStoreError) -> [RulesEntryInfo] {
        let current = try await currentVersion()
        var versions = try await redis.storeCommand(["LRANGE", keys.rulesHistory, "0", "-1"]).elements?.compactMap(\.text) ?? []
        if let current, !versions.contains(current) { versions.insert(current, at: 0) }
        var infos: [RulesEntryInfo] = []
        for version in versions {
            let values = try await redis.storeCommand(["HMGET", keys.rulesEntry(version), "rules", "created_at", "published_at", "crc32"])
                .elements?.map(\.text) ?? []
            guard values.count == 4, values.contains(where: { $0 != nil }) else { continue }
            let length = try await redis.storeCommand(["HSTRLEN", keys.rulesEntry(version), "document"]).integer ?? 0
            infos.append(
                RulesEntryInfo(
                    version: version,
                    rules: Int(values[0] ?? "") ?? 0,
                    createdAt: values[1] ?? "",
                    publishedAt: values[2] ?? "?",
                    crc32: values[3] ?? "?",
                    documentBytes: Int(length),
                    isCurrent: version == current
                )
            )
        }
        return infos
    }

    /// The document of one version (the current one when `version` is nil).
    public func document(version: String?) async throws(ModelStoreError) -> Data {
        let named: String? = if let version { version } else { try await currentVersion() }
        guard let version = named else {
            throw ModelStoreError(.notFound, "no rules are current")
        }
        guard let bytes = try await redis.storeCommand(["HGET", keys.rulesEntry(version), "document"]).bytes else {
            throw ModelStoreError(.notFound, "no rules entry for version \(version)")
        }
        return Data(bytes)
    }
}
