import ArgumentParser
import Foundation

@main
struct CouponRankCommand: AsyncParsableCommand {
    static let version = "0.12.0"

    static let configuration = CommandConfiguration(
        commandName: "couponrank",
        abstract: "CouponRank: ranks coupons for a visitor with a contextual-bandit model.",
        version: "couponrank \(CouponRankCommand.version) (RPC protocol 1 revision 3, model format 2, events format 1)",
        subcommands: [
            ServeCommand.self, RankCommand.self, RewardCommand.self, HealthCommand.self, ModelCommand.self, AdminCommand.self,
            ReplayCommand.self, TrainCommand.self, EvaluateCommand.self, SimulateCommand.self, StubsCommand.self, RulesCommand.self,
            BatchCommand.self,
        ]
    )

    static func main() async {
        // Swift repairs invalid UTF-8 in arguments into U+FFFD: refuse it instead of ranking
        // another easy_id than the one given (PROTOCOL.md §2).
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw))
            if String(validating: bytes, as: UTF8.self) == nil {
                FileHandle.standardError.write(Data("Error: argument \(index) is not valid UTF-8\n".utf8))
                Foundation.exit(64)
            }
        }
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "serve", !arguments.contains("--help"), !arguments.contains("-h") {
            do {
                let expanded = try await ServeSettings.expand(
                    Array(arguments.dropFirst()),
                    environment: ProcessInfo.processInfo.environment,
                    knownKeys: ServeSettings.optionKeys(inHelp: ServeCommand.helpMessage(columns: 10_000))
                )
                for warning in expanded.warnings {
                    FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
                }
                arguments = ["serve"] + expanded.arguments
            } catch {
                FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
                Foundation.exit(64)
            }
        }
        await main(arguments)
    }
}
