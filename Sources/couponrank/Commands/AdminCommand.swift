import ArgumentParser
import CouponRankClient
import CouponRankWire
import Foundation

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Administer running engines (requires the admin token).",
        subcommands: [ReloadModelCommand.self, ExplorationCommand.self]
    )
}

struct ReloadModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload-model",
        abstract: "Make an engine fetch the published model now; with --all, every engine of the fleet."
    )

    @Option(help: "Server address, HOST:PORT.")
    var server = ServerAddress.local

    @Option(help: "Admin token (env COUPONRANK_ADMIN_TOKEN).")
    var token: String?

    @Flag(help: "Reach every engine subscribed to the model store, through Redis pub/sub.")
    var all = false

    @Option(help: "How long to wait, in milliseconds.")
    var timeoutMs = 10_000

    func run() async throws {
        let token = try adminToken(self.token)
        let client = try await CouponRankClient.connect(host: server.host, port: server.port)
        defer { Task { await client.close() } }
        let response: AdminReloadResponse
        do {
            response = try await client.reloadModel(token: token, scope: all ? .fleet : .engine, timeout: .milliseconds(timeoutMs))
        } catch {
            print("reload refused: \(error)")
            throw ExitCode(1)
        }
        let change =
            response.previousVersion == response.currentVersion
            ? response.currentVersion : "\(response.previousVersion) → \(response.currentVersion)"
        print("\(response.outcome): \(change) — \(response.message)")
        if all { print("broadcast reached \(response.receivers) engine(s)") }
        if response.outcome == .keptPrevious { throw ExitCode(1) }
    }
}

struct ExplorationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exploration",
        abstract: "Turn exploration on or off on an engine; with --all, on every engine of the fleet (the incident kill switch)."
    )

    @Argument(help: "on or off.")
    var state: String

    @Option(help: "Server address, HOST:PORT.")
    var server = ServerAddress.local

    @Option(help: "Admin token (env COUPONRANK_ADMIN_TOKEN).")
    var token: String?

    @Flag(help: "Set the fleet's switch in the model store and tell every subscribed engine.")
    var all = false

    func validate() throws {
        guard state == "on" || state == "off" else { throw ValidationError("the state must be on or off, got '\(state)'") }
    }

    func run() async throws {
        let token = try adminToken(self.token)
        let client = try await CouponRankClient.connect(host: server.host, port: server.port)
        defer { Task { await client.close() } }
        let response: AdminExplorationResponse
        do {
            response = try await client.setExploration(token: token, enabled: state == "on", scope: all ? .fleet : .engine)
        } catch {
            print("exploration change refused: \(error)")
            throw ExitCode(1)
        }
        print("exploration \(response.previouslyEnabled ? "on" : "off") → \(response.enabled ? "on" : "off")")
        if all { print("broadcast reached \(response.receivers) engine(s)") }
    }
}

/// The admin token from `--token` or `COUPONRANK_ADMIN_TOKEN`; a clear error when there is none.
func adminToken(_ flag: String?) throws -> String {
    guard let token = flag ?? ProcessInfo.processInfo.environment["COUPONRANK_ADMIN_TOKEN"], !token.isEmpty else {
        throw ValidationError("no admin token: pass --token or set COUPONRANK_ADMIN_TOKEN")
    }
    return token
}
