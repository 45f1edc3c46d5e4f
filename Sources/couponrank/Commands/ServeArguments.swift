import Foundation

/// `couponrank serve` takes each setting from, in rising precedence: a configuration file, the
/// environment, the command line. The file and the environment are turned into flags placed
/// before the command line's, and the last occurrence of a flag wins.
///
/// - File (`--config FILE` or `COUPONRANK_CONFIG`): `key = value` lines; `#` starts a comment at
///   the start of a line or after whitespace (so `redis://:pa#ss@host` keeps its `#`); keys are
///   the flag names without dashes, e.g. `redis-url = redis://127.0.0.1:6379`.
/// - Environment: `COUPONRANK_<KEY>` with the key upper-cased and `-` as `_`, e.g.
///   `COUPONRANK_PORT=7420`, `COUPONRANK_ADMIN_TOKEN=…`. Variables that name no option (another
///   tool's `COUPONRANK_PREFIX`, Kubernetes' service links `COUPONRANK_PORT=tcp://…`,
///   `COUPONRANK_SERVICE_HOST`, …) are ignored with a warning naming them.
/// - Flags that take no value (`no-ops`, `no-decision-log`) are set by `true` and left out by `false`.
enum ServeArguments {
    static let valuelessFlags: Set<String> = ["no-ops", "no-decision-log"]

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// The `serve` arguments with the file's and the environment's settings in front, and a
    /// warning for each environment variable ignored.
    static func expand(
        _ arguments: [String],
        environment: [String: String],
        knownKeys: Set<String>
    ) throws -> (arguments: [String], warnings: [String]) {
        var fromFile: [String] = []
        if let path = configPath(arguments) ?? environment["COUPONRANK_CONFIG"] {
            fromFile = try fileArguments(path)
        }
        let (fromEnvironment, warnings) = try environmentArguments(environment, knownKeys: knownKeys)
        return (fromFile + fromEnvironment + arguments, warnings)
    }

    /// The option names (without dashes) in a command's help text.
    static func optionKeys(inHelp help: String) -> Set<String> {
        var keys = Set<String>()
        var rest = help[...]
        while let range = rest.range(of: "--") {
            let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
            if !name.isEmpty { keys.insert(String(name)) }
            rest = rest[range.upperBound...]
        }
        return keys
    }

    static func configPath(_ arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--config", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--config=") { return String(argument.dropFirst("--config=".count)) }
        }
        return nil
    }

    static func fileArguments(_ path: String) throws -> [String] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Problem(description: "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        var arguments: [String] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = withoutComment(rawLine).trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw Problem(description: "\(path):\(number + 1): expected `key = value`, got `\(line)`")
            }
            guard parts[0] != "config" else { throw Problem(description: "\(path):\(number + 1): a configuration file cannot name another") }
            arguments += try flag(parts[0], value: parts[1], origin: "\(path):\(number + 1)")
        }
        return arguments
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

    static func environmentArguments(
        _ environment: [String: String],
        knownKeys: Set<String>
    ) throws -> (arguments: [String], warnings: [String]) {
        var arguments: [String] = []
        var warnings: [String] = []
        for name in environment.keys.sorted() {
            guard name.hasPrefix("COUPONRANK_"), name != "COUPONRANK_CONFIG" else { continue }
            let value = environment[name]!
            let key = name.dropFirst("COUPONRANK_".count).lowercased().replacingOccurrences(of: "_", with: "-")
            if value.hasPrefix("tcp://") || value.hasPrefix("udp://") || name.hasPrefix("COUPONRANK_PORT_") || name.hasPrefix("COUPONRANK_SERVICE_") {
                warnings.append("ignoring \(name): a Kubernetes service link, not a setting (set enableServiceLinks: false)")
                continue
            }
            guard knownKeys.contains(key) else {
                warnings.append("ignoring \(name): couponrank serve has no option --\(key)")
                continue
            }
            arguments += try flag(key, value: value, origin: name)
        }
        return (arguments, warnings)
    }

    private static func flag(_ key: String, value: String, origin: String) throws -> [String] {
        guard valuelessFlags.contains(key) else { return ["--\(key)", value] }
        switch value.lowercased() {
        case "true", "yes", "1": return ["--\(key)"]
        case "false", "no", "0": return []
        default: throw Problem(description: "\(origin): \(key) takes true or false, got `\(value)`")
        }
    }
}
