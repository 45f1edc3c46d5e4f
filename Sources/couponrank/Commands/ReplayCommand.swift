import ArgumentParser
import CouponRankCore
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import Foundation

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Recompute a logged decision from its logged inputs and seed, and show that it comes out identical.",
        discussion: """
            Reads the decision from <prefix>events:decisions, rebuilds the shown coupons' contexts, scores them \
            with the logged model version (from the model store, or the bundled model when that is the one \
            logged), and recomputes every propensity from the logged seed. Exits 1 when anything differs. \
            With --model VERSION, shows how that version scores and orders the same shown coupons.
            """
    )

    @Argument(help: "The event id of the decision.")
    var eventID: String

    @Option(help: "Score with this model version instead of the logged one.")
    var model: String?

    @Option(help: "Entries searched for an event id that is not a UUIDv7 (newest first).")
    var scanLimit = 100_000

    @OptionGroup var store: ModelStoreOptions

    @OptionGroup var shards: EventShardOptions

    func run() async throws {
        let modelStore = try store.makeStore()
        let reader = DecisionLogReader(redis: modelStore.redis, keys: shards.keys(prefix: store.redisPrefix))
        let logged: LoggedDecision
        do {
            guard let found = try await reader.find(eventID: eventID, scanLimit: scanLimit) else {
                print("error: no decision with event id \(eventID) in \(reader.keys.decisions(shard: reader.keys.shard(ofEventID: eventID)))")
                throw ExitCode(1)
            }
            logged = found
        } catch let error as ExitCode {
            throw error
        } catch {
            print("error: cannot read the decision log: \(error)")
            throw ExitCode(1)
        }
        let version = model ?? logged.modelVersion
        let scoring: ScoringModel
        if let bundled = try? BundledModel.load(), bundled.version == version {
            scoring = bundled
        } else {
            scoring = try await storeOperation { () async throws(ModelStoreError) in try await modelStore.load(version: version) }
        }
        let replay = DecisionReplay(logged, model: scoring)
        print("event \(logged.eventID)  easy_id \(logged.easyID)  logged model \(logged.modelVersion)  policy \(logged.policy)")
        print("seed \(String(logged.seed, radix: 16))  eligible \(logged.eligible)  replayed with \(replay.modelVersion)")
        print("")
        print(pad("#", 4) + pad("coupon", 10) + pad("logged score", 22) + pad("replayed score", 22) + pad("logged propensity", 22) + "replayed propensity")
        for (index, item) in replay.items.enumerated() {
            print(
                pad("\(index + 1)", 4) + pad(item.couponID, 10) + pad("\(item.loggedScore)", 22) + pad("\(item.score)", 22)
                    + pad("\(item.loggedPropensity)", 22) + (item.propensity.map { "\($0)" } ?? "n/a (other model)")
            )
        }
        print("")
        if version != logged.modelVersion {
            print("\(version) would order these coupons: \(replay.greedyOrder.joined(separator: " "))")
            return
        }
        if replay.isIdentical {
            print("identical: every propensity recomputed bit for bit, every score and probability at the log's binary32; the seed's draws give the logged order")
        } else {
            print("DIFFERENT:")
            for difference in replay.differences { print("  \(difference)") }
            throw ExitCode(1)
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
