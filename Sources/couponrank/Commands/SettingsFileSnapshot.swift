import Configuration
import Foundation

/// The configuration file of `couponrank serve` for swift-configuration's `FileProvider`:
/// `key = value` lines, keys being the flag names without dashes. `#` starts a comment at the
/// start of a line or after whitespace, so `redis-url = redis://:pa#ss@host` keeps its `#`.
/// Every value is text; the command's own parsing gives it its type.
struct SettingsFileSnapshot: FileConfigSnapshot {
    struct ParsingOptions: FileParsingOptions {
        static var `default`: ParsingOptions { ParsingOptions() }
    }

    struct Entry {
        let key: String
        let value: String
        let line: Int
    }

    /// A line that is not a setting; the provider's caller adds the file's path.
    struct LineError: Error, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { "line \(line): \(message)" }
    }

    let providerName: String
    /// In file order; a key given twice keeps its last value.
    let entries: [Entry]
    private let values: [String: String]

    init(data: RawSpan, providerName: String, parsingOptions: ParsingOptions) throws {
        let bytes = data.withUnsafeBytes { Array($0) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LineError(line: 1, message: "the file is not UTF-8 text")
        }
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Self.withoutComment(rawLine).trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw LineError(line: index + 1, message: "expected `key = value`, got `\(line)`")
            }
            entries.append(Entry(key: parts[0], value: parts[1], line: index + 1))
        }
        self.providerName = providerName
        self.entries = entries
        self.values = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// A line up to its comment: `#` at its start or after whitespace.
    static func withoutComment(_ line: Substring) -> Substring {
        var previous: Character = " "
        for index in line.indices {
            if line[index] == "#", previous.isWhitespace { return line[..<index] }
            previous = line[index]
        }
        return line
    }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        let name = key.components.joined(separator: ".")
        guard let text = values[name] else { return LookupResult(encodedKey: name, value: nil) }
        guard type == .string else {
            throw LineError(line: entries.last { $0.key == name }?.line ?? 0, message: "\(name) is read as text, not as \(type)")
        }
        return LookupResult(encodedKey: name, value: ConfigValue(.string(text), isSecret: ServeSettings.isSecret(name)))
    }

    var description: String { "\(providerName)[\(entries.count) settings]" }
    var debugDescription: String {
        "\(providerName)[" + entries.map { "\($0.key)=\(ServeSettings.isSecret($0.key) ? "<secret>" : $0.value)" }.joined(separator: ", ") + "]"
    }
}
