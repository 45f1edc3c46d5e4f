import Foundation

/// `couponrank serve` takes each setting from, in rising precedence: a configuration file, the
/// environment, the command line. The file and the environment are turned into flags placed
/// before the command line's, and the last occurrence of a flag wins.
///
/// - File (`--config FILE` or `COUPONRANK_CONFIG`): `key = value` lines, `#` comments; keys are
///   the flag names without dashes, e.g. `redis-url = redis://127.0.0.1:6379`.
/// - Environment: `COUPONRANK_<KEY>` with the key upper-cased and `-` as `_`, e.g.
///   `COUPONRANK_PORT=7420`, `COUPONRANK_ADMIN_TOKEN=…`.
/// - Flags that take no value (`no-ops`) are set by `true` and left out by `false`.
enum ServeArguments {
    static let valuelessFlags: Set<String> = ["no-ops"]

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// The `serve` arguments with the file's and the environment's settings in front.
    static func expand(_ arguments: [String], environment: [String: String]) throws -> [String] {
        var fromFile: [String] = []
        if let path = configPath(arguments) ?? environment["COUPONRANK_CONFIG"] {
            fromFile = try fileArguments(path)
        }
        return fromFile + (try environmentArguments(environment)) + arguments
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
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .trimmingCharacters(in: .whitespaces) ?? ""
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

    static func environmentArguments(_ environment: [String: String]) throws -> [String] {
        try environment.keys.sorted().flatMap { name -> [String] in
            guard name.hasPrefix("COUPONRANK_"), name != "COUPONRANK_CONFIG" else { return [] }
            let key = name.dropFirst("COUPONRANK_".count).lowercased().replacingOccurrences(of: "_", with: "-")
            return try flag(key, value: environment[name]!, origin: name)
        }
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
