import ArgumentParser
import CouponRankClient
import CouponRankWire
import Foundation

struct RewardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward",
        abstract: "Report what a user did with a shown coupon, joined to its decision by event id."
    )

    @Argument(help: "The decision's event id, as the rank answered it.")
    var eventID: String

    @Argument(help: "The coupon the user acted on.")
    var couponID: String

    @Option(help: "click or conversion.")
    var kind = "click"

    @Option(help: "The reward's value.")
    var value = 1.0

    @Option(help: "Server address, HOST:PORT.")
    var server = ServerAddress.local

    @Option(help: "Reward token (env COUPONRANK_REWARD_TOKEN).")
    var token: String?

    func validate() throws {
        guard RewardRequest.Kind(name: kind) != nil else { throw ValidationError("--kind must be click or conversion, got '\(kind)'") }
        guard value.isFinite else { throw ValidationError("--value must be finite") }
    }

    func run() async throws {
        let token = self.token ?? ProcessInfo.processInfo.environment["COUPONRANK_REWARD_TOKEN"] ?? ""
        let client = try await CouponRankClient.connect(host: server.host, port: server.port)
        defer { Task { await client.close() } }
        do {
            try await client.reward(
                RewardRequest(token: token, eventID: eventID, couponID: couponID, kind: RewardRequest.Kind(name: kind)!, value: value)
            )
        } catch {
            print("reward refused: \(error)")
            throw ExitCode(1)
        }
        print("reward accepted: \(kind) \(value) for \(couponID) in event \(eventID)")
    }
}
