public import CouponRankCore
public import Foundation

/// The JSON rules document of proto-spec/RULES.md.
public enum RulesFile {
    /// The largest document read: room for a thousand rules with long id lists.
    public static let maximumBytes = 4 << 20

    /// Parses, checks and compiles a rules document.
    public static func decode(_ data: Data) throws(RulesError) -> (document: RulesDocument, rules: CompiledRules) {
        guard data.count <= maximumBytes else {
            throw RulesError("the document is \(data.count) bytes, more than the limit of \(maximumBytes)")
        }
        let document: RulesDocument
        do {
            document = try JSONDecoder().decode(RulesDocument.self, from: data)
        } catch let error as DecodingError {
            throw RulesError("not a rules document: \(error.summary)")
        } catch {
            throw RulesError("not a rules document: \(error)")
        }
        return (document, try CompiledRules(document))
    }

    public static func encode(_ document: RulesDocument) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }

    /// Reads, checks and compiles the rules file at `path`.
    public static func load(path: String) throws(RulesError) -> (document: RulesDocument, rules: CompiledRules) {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maximumBytes else {
            throw RulesError("rules file \(path) is \(size) bytes, more than the limit of \(maximumBytes)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RulesError("cannot read rules file \(path): \(error.localizedDescription)")
        }
        return try decode(data)
    }

}
