import ArgumentParser
import CouponRankEvents

/// How the event log is split (proto-spec/EVENTS.md §1.2): shared by the commands that write or
/// read it.
struct EventShardOptions: ParsableArguments {
    @Option(help: "Shards of each event stream, by a hash of the event id: 1 keeps <prefix>events:decisions and events:rewards; S splits them into <prefix>events:{n}:decisions and …:rewards, n < S, spread over a Redis Cluster. Every engine, trainer and reader of a log must agree.")
    var eventShards = 1

    func validate() throws {
        guard (1...EventKeys.maximumShards).contains(eventShards) else {
            throw ValidationError("--event-shards must be in 1...\(EventKeys.maximumShards), got \(eventShards)")
        }
    }

    func keys(prefix: String) -> EventKeys {
        EventKeys(prefix: prefix, shards: eventShards)
    }
}
