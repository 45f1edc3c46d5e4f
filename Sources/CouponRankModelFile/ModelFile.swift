public import CouponRankCore
public import Foundation

/// The JSON model document of proto-spec/MODEL.md §1–§2.
public enum ModelFile {
    /// The largest document read by default: far above the bundled model (about 40 KB) and a
    /// LinUCB model of d = 1000 (about 20 MB), far below what would exhaust a replica's memory.
    public static let defaultMaximumBytes = 64 << 20

    /// Parses and validates a model document.
    public static func decode(_ data: Data, maximumBytes: Int = defaultMaximumBytes) throws(ModelError) -> ScoringModel {
        guard data.count <= maximumBytes else {
            throw ModelError("the document is \(data.count) bytes, more than the limit of \(maximumBytes)")
        }
        return try ScoringModel(decodeDefinition(data))
    }

    /// Parses a model document without validating its numbers.
    public static func decodeDefinition(_ data: Data) throws(ModelError) -> ModelDefinition {
        do {
            return try JSONDecoder().decode(ModelDefinition.self, from: data)
        } catch let error as DecodingError {
            throw ModelError("not a model document: \(error.summary)")
        } catch {
            throw ModelError("not a model document: \(error)")
        }
    }

    public static func encode(_ definition: ModelDefinition) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(definition)
    }

    /// Reads and validates the model file at `path`.
    public static func load(path: String, maximumBytes: Int = defaultMaximumBytes) throws(ModelError) -> ScoringModel {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maximumBytes else {
            throw ModelError("model file \(path) is \(size) bytes, more than the limit of \(maximumBytes)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ModelError("cannot read model file \(path): \(error.localizedDescription)")
        }
        return try decode(data, maximumBytes: maximumBytes)
    }
}
