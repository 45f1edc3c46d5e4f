import ArgumentParser
import CouponRankClient
import CouponRankWire

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a server for its health; exit 0 when it is serving."
    )

    @Option(help: "Server address, HOST:PORT.")
    var server = ServerAddress.local

    @Option(help: "How long to wait, in milliseconds.")
    var timeoutMs = 1000

    func run() async throws {
        let health: HealthResponse
        do {
            let client = try await CouponRankClient.connect(host: server.host, port: server.port)
            defer { Task { await client.close() } }
            health = try await client.health(timeout: .milliseconds(timeoutMs))
        } catch {
            print("NOT REACHABLE: \(error)")
            throw ExitCode(2)
        }
        let origin = health.modelOrigin.isEmpty ? "" : " origin=\(health.modelOrigin)"
        print("\(health.status) model=\(health.modelVersion)\(origin) model_age=\(health.modelAgeSeconds)s uptime=\(Double(health.uptimeMillis) / 1000)s")
        for component in health.components {
            print("  \(component.name): \(component.state)")
        }
        if health.status != .serving {
            throw ExitCode(1)
        }
    }
}
