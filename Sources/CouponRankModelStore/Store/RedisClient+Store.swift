/// The commands the model and rules stores share.
extension RedisClient {
    func storeCommand(_ arguments: [String]) async throws(ModelStoreError) -> RedisReply {
        try await storeCommand(arguments.map { Array($0.utf8) })
    }

    func storeCommand(_ arguments: [[UInt8]]) async throws(ModelStoreError) -> RedisReply {
        do {
            return try await command(arguments)
        } catch {
            throw ModelStoreError(.redis, error.description)
        }
    }

    /// A hash's fields by name.
    func hashFields(_ key: String) async throws(ModelStoreError) -> [String: [UInt8]] {
        let elements = try await storeCommand(["HGETALL", key]).elements ?? []
        var fields: [String: [UInt8]] = [:]
        var index = 0
        while index + 1 < elements.count {
            if let name = elements[index].text, let value = elements[index + 1].bytes { fields[name] = value }
            index += 2
        }
        return fields
    }

    /// Keeps the newest `keep` versions of `history` and deletes the entries of those dropped,
    /// never the one `current` names.
    func trimHistory(_ history: String, keep: Int, current: String, entry: (String) -> String) async throws(ModelStoreError) {
        let dropped = try await storeCommand(["LRANGE", history, String(keep), "-1"]).elements?.compactMap(\.text) ?? []
        _ = try await storeCommand(["LTRIM", history, "0", String(keep - 1)])
        let currentVersion = try await storeCommand(["GET", current]).text
        let kept = Set(try await storeCommand(["LRANGE", history, "0", "-1"]).elements?.compactMap(\.text) ?? [])
        for version in Set(dropped) where version != currentVersion && !kept.contains(version) {
            _ = try await storeCommand(["DEL", entry(version)])
        }
    }
}
