public import CouponRankCore

/// Where the event streams live (proto-spec/EVENTS.md §1).
///
/// With one shard (the default) there is one stream of each kind, `P events:decisions` and
/// `P events:rewards`. With `S` shards each kind is split by a hash of the event id into
/// `P events:{n}:decisions` and `P events:{n}:rewards`, `n` in `0..<S`: on a Redis Cluster the
/// shards spread over the primaries, and the hash tag keeps a decision's shard and its rewards'
/// in one slot, so that a consumer reads the pair in one command.
public struct EventKeys: Sendable, Hashable {
    public var prefix: String
    public var shards: Int

    public static let maximumShards = 1024

    public init(prefix: String = "couponrank:", shards: Int = 1) {
        precondition((1...Self.maximumShards).contains(shards), "shards must be in 1...\(Self.maximumShards)")
        self.prefix = prefix
        self.shards = shards
    }

    /// The one decisions stream of an unsharded log (shard 0 of a sharded one).
    public var decisions: String { decisions(shard: 0) }
    /// The one rewards stream of an unsharded log (shard 0 of a sharded one).
    public var rewards: String { rewards(shard: 0) }

    /// One entry per logged decision, of the event ids of `shard`.
    public func decisions(shard: Int) -> String {
        shards == 1 ? prefix + "events:decisions" : prefix + "events:{\(shard)}:decisions"
    }

    /// One entry per accepted reward, of the event ids of `shard`.
    public func rewards(shard: Int) -> String {
        shards == 1 ? prefix + "events:rewards" : prefix + "events:{\(shard)}:rewards"
    }

    public var allDecisions: [String] { (0..<shards).map(decisions(shard:)) }
    public var allRewards: [String] { (0..<shards).map(rewards(shard:)) }

    /// The shard of an event: FNV-1a 64 of its id modulo the shard count, the same hash that
    /// assigns events to trainer partitions (EVENTS.md §6.4).
    public func shard(ofEventID eventID: String) -> Int {
        Self.shard(ofEventID: eventID, count: shards)
    }

    public static func shard(ofEventID eventID: String, count: Int) -> Int {
        guard count > 1 else { return 0 }
        var hash = FeatureHash()
        hash.combine(eventID)
        return Int(hash.value % UInt64(count))
    }
}
