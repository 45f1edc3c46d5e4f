import Configuration
import Foundation
import SystemPackage

/// `couponrank serve` takes each setting from, in falling precedence: the command line, the
/// environment, a secrets directory, a configuration file. swift-configuration reads the last
/// three through one `ConfigReader`; each value found becomes a flag placed before the command
/// line's, where the last occurrence of a flag wins and the command's own parsing validates it.
///
/// - Environment: `COUPONRANK_<KEY>` with the key upper-cased and `-` as `_`, e.g.
///   `COUPONRANK_PORT=7420`, `COUPONRANK_ADMIN_TOKEN=…`. Variables that name no option (another
///   tool's `COUPONRANK_PREFIX`, Kubernetes' service links `COUPONRANK_PORT=tcp://…`,
///   `COUPONRANK_SERVICE_HOST`, …) are ignored with a warning naming them.
/// - Secrets directory (`--secrets-dir DIR` or `COUPONRANK_SECRETS_DIR`): one file per setting,
///   named by its key, e.g. `admin-token`, as a mounted Kubernetes Secret lays them out.
/// - File (`--config FILE` or `COUPONRANK_CONFIG`): `key = value` lines (``SettingsFileSnapshot``).
/// - Flags that take no value (`no-ops`, `no-decision-log`) are set by `true` and left out by `false`.
enum ServeSettings {
    static let valuelessFlags: Set<String> = ["no-ops", "no-decision-log"]
    /// Settings that say where the others are; they are read before the reader exists.
    static let locators: Set<String> = ["config", "secrets-dir"]

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    /// The `serve` arguments with the environment's, the secrets directory's and the file's
    /// settings in front, and a warning for each environment variable ignored.
    static func expand(
        _ arguments: [String],
        environment: [String: String],
        knownKeys: Set<String>
    ) async throws -> (arguments: [String], warnings: [String]) {
        let (variables, warnings) = settingVariables(environment, knownKeys: knownKeys)
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(
                environmentVariables: variables,
                secretsSpecifier: .dynamic { name, _ in isSecret(name.lowercased().replacingOccurrences(of: "_", with: "-")) }
            ).prefixKeys(with: ConfigKey(["couponrank"]))
        ]
        if let directory = value(of: "secrets-dir", in: arguments) ?? environment["COUPONRANK_SECRETS_DIR"] {
            do {
                providers.append(try await DirectoryFilesProvider(directoryPath: FilePath(directory)))
            } catch {
                throw Problem(description: "cannot read the secrets directory \(directory): \(error)")
            }
        }
        if let path = value(of: "config", in: arguments) ?? environment["COUPONRANK_CONFIG"] {
            providers.append(try await fileProvider(path, knownKeys: knownKeys))
        }
        let reader = ConfigReader(providers: providers)
        var fromConfiguration: [String] = []
        for key in knownKeys.subtracting(locators).sorted() {
            guard let value = reader.string(forKey: ConfigKey([key]), isSecret: isSecret(key)) else { continue }
            fromConfiguration += try flag(key, value: value)
        }
        return (fromConfiguration + arguments, warnings)
    }

    /// Whether a setting is a credential: kept out of access logs and descriptions.
    static func isSecret(_ key: String) -> Bool {
        key.hasSuffix("token") || key == "redis-url"
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

    /// The value of `--key VALUE` or `--key=VALUE` on the command line.
    static func value(of key: String, in arguments: [String]) -> String? {
        for (index, argument) in arguments.enumerated() {
            if argument == "--\(key)", index + 1 < arguments.count { return arguments[index + 1] }
            if argument.hasPrefix("--\(key)=") { return String(argument.dropFirst("--\(key)=".count)) }
        }
        return nil
    }

    /// The configuration file as a provider, refused (with the line) when it names a setting
    /// `serve` does not have.
    private static func fileProvider(_ path: String, knownKeys: Set<String>) async throws -> FileProvider<SettingsFileSnapshot> {
        let provider: FileProvider<SettingsFileSnapshot>
        do {
            provider = try await FileProvider<SettingsFileSnapshot>(filePath: FilePath(path))
        } catch let error as SettingsFileSnapshot.LineError {
            throw Problem(description: "\(path):\(error.line): \(error.message)")
        } catch {
            throw Problem(description: "cannot read the configuration file \(path): \(error)")
        }
        if let file = provider.snapshot() as? SettingsFileSnapshot {
            for entry in file.entries where !knownKeys.contains(entry.key) || locators.contains(entry.key) {
                let why = locators.contains(entry.key) ? "a configuration file cannot name \(entry.key)" : "couponrank serve has no option --\(entry.key)"
                throw Problem(description: "\(path):\(entry.line): \(why)")
            }
        }
        return provider
    }

    /// The environment's `COUPONRANK_*` settings, and a warning for each variable that is not one.
    static func settingVariables(
        _ environment: [String: String],
        knownKeys: Set<String>
    ) -> (variables: [String: String], warnings: [String]) {
        var variables: [String: String] = [:]
        var warnings: [String] = []
        for name in environment.keys.sorted() where name.hasPrefix("COUPONRANK_") {
            let value = environment[name]!
            let key = name.dropFirst("COUPONRANK_".count).lowercased().replacingOccurrences(of: "_", with: "-")
            guard !locators.contains(key) else { continue }
            if value.hasPrefix("tcp://") || value.hasPrefix("udp://") || name.hasPrefix("COUPONRANK_PORT_") || name.hasPrefix("COUPONRANK_SERVICE_") {
                warnings.append("ignoring \(name): a Kubernetes service link, not a setting (set enableServiceLinks: false)")
                continue
            }
            guard knownKeys.contains(key) else {
                warnings.append("ignoring \(name): couponrank serve has no option --\(key)")
                continue
            }
            variables[name] = value
        }
        return (variables, warnings)
    }

    private static func flag(_ key: String, value: String) throws -> [String] {
        guard valuelessFlags.contains(key) else { return ["--\(key)", value] }
        switch value.lowercased() {
        case "true", "yes", "1": return ["--\(key)"]
        case "false", "no", "0": return []
        default: throw Problem(description: "\(key) takes true or false, got `\(value)`")
        }
    }
}
