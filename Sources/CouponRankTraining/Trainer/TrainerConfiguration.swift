public import CouponRankEvents
import CouponRankCore

/// How a trainer reads, learns, checkpoints and publishes (proto-spec/EVENTS.md §6).
public struct TrainerConfiguration: Sendable {
    /// This trainer's share of the decisions: those whose event id hashes to `index` mod `count`.
    public struct Partition: Sendable, Hashable, CustomStringConvertible {
        public var index: Int
        public var count: Int

        public static let whole = Partition(index: 0, count: 1)

        public init(index: Int, count: Int) {
            precondition(count >= 1 && (0..<count).contains(index))
            self.index = index
            self.count = count
        }

        /// `i/N`, 0-based.
        public init?(_ text: String) {
            let parts = text.split(separator: "/")
            guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else { return nil }
            self.init(index: index, count: count)
        }

        public var description: String { "\(index)/\(count)" }
        /// The suffix of the partition's consumer group and checkpoint key.
        public var tag: String { "\(index)of\(count)" }

        public func owns(eventID: String) -> Bool {
            count == 1 || TrainerConfiguration.partition(ofEventID: eventID, count: count) == index
        }
    }

    public enum StartPosition: String, Sendable, CaseIterable {
        /// A new consumer group reads the streams from their first entry.
        case beginning
        /// A new consumer group reads only what is appended after it was created.
        case now
    }

    public var keys: EventKeys
    /// The consumer group's name; each partition's group is `<group>-<i>of<N>`.
    public var group: String
    public var consumer: String
    public var partition: Partition
    public var startFrom: StartPosition
    public var join: RewardJoin.Configuration
    /// Decisions built on degraded inputs (defaults instead of the user's features or the
    /// statistics) are not learned from, so that defaults never teach the model.
    public var excludeDegraded: Bool
    /// Entries read per stream per call, and how long a call waits for new ones.
    public var readCount: Int
    public var blockMillis: Int
    /// A checkpoint is written at least this often while there is something to save.
    public var checkpointInterval: Duration
    /// Publish after this many closed decisions (over every partition's own count), if set.
    public var publishEvery: Int?
    /// Publish at least this often when something was learned.
    public var publishInterval: Duration
    /// Only partition 0 publishes; with `false` no partition does (statistics only).
    public var publishes: Bool
    /// Versions are `<prefix>-<sequence>`.
    public var versionPrefix: String
    /// The guard: closed decisions kept to evaluate a candidate against the serving model.
    public var guardWindow: Int
    /// Refuse a candidate whose value is below the serving model's by more than this, with 95 % confidence.
    public var guardMargin: Double
    /// Fewer evaluable decisions than this in the window: publish without the guard's verdict.
    public var guardMinimumDecisions: Int
    /// Publish even when the guard refuses.
    public var force: Bool
    /// How long a partition's lease lasts without renewal: one trainer per partition at a time;
    /// a trainer killed without releasing it is replaced once it expires.
    public var lease: Duration
    /// Tests only: stop dead right after writing the first checkpoint that holds this many closed
    /// decisions, before acknowledging what it holds, as a process killed at that moment would.
    var crashAfterClosing: Int?

    public init(
        keys: EventKeys = .init(),
        group: String = "trainer",
        consumer: String = "trainer-1",
        partition: Partition = .whole,
        startFrom: StartPosition = .beginning,
        join: RewardJoin.Configuration = .init(),
        excludeDegraded: Bool = true,
        readCount: Int = 500,
        blockMillis: Int = 200,
        checkpointInterval: Duration = .seconds(1),
        publishEvery: Int? = nil,
        publishInterval: Duration = .seconds(3600),
        publishes: Bool = true,
        versionPrefix: String = "trained",
        guardWindow: Int = 20_000,
        guardMargin: Double = 0.005,
        guardMinimumDecisions: Int = 500,
        force: Bool = false,
        lease: Duration = .seconds(5)
    ) {
        self.keys = keys
        self.group = group
        self.consumer = consumer
        self.partition = partition
        self.startFrom = startFrom
        self.join = join
        self.excludeDegraded = excludeDegraded
        self.readCount = readCount
        self.blockMillis = blockMillis
        self.checkpointInterval = checkpointInterval
        self.publishEvery = publishEvery
        self.publishInterval = publishInterval
        self.publishes = publishes
        self.versionPrefix = versionPrefix
        self.guardWindow = guardWindow
        self.guardMargin = guardMargin
        self.guardMinimumDecisions = guardMinimumDecisions
        self.force = force
        self.lease = lease
    }

    /// The partition's consumer group.
    public var groupName: String { partition.count == 1 ? group : "\(group)-\(partition.tag)" }

    /// The decisions stream a partition reads: the log's only one, or on a sharded log the
    /// partition's own shard (partition `i` of `S` reads shard `i`, EVENTS.md §6.4).
    public func decisionsStream(for partition: Partition) -> String {
        keys.shards == 1 ? keys.decisions : keys.decisions(shard: partition.index)
    }

    /// The rewards stream a partition reads (see ``decisionsStream(for:)``).
    public func rewardsStream(for partition: Partition) -> String {
        keys.shards == 1 ? keys.rewards : keys.rewards(shard: partition.index)
    }

    public var decisionsStream: String { decisionsStream(for: partition) }
    public var rewardsStream: String { rewardsStream(for: partition) }

    /// Why this configuration cannot run, or `nil`: a sharded log is read by one partition per shard.
    public var problem: String? {
        guard keys.shards > 1, keys.shards != partition.count else { return nil }
        return "the event log has \(keys.shards) shards: run \(keys.shards) trainer partitions (--partition i/\(keys.shards)), one per shard, not \(partition.count)"
    }

    /// Where a partition keeps its checkpoint.
    public func checkpointKey(for partition: Partition) -> String {
        "\(keys.prefix)trainer:\(group):checkpoint:\(partition.tag)"
    }

    /// The key of a partition's lease.
    public func leaseKey(for partition: Partition) -> String {
        "\(keys.prefix)trainer:\(group):lease:\(partition.tag)"
    }

    /// FNV-1a 64 of the event id, mod `count`: a decision and its rewards land in one partition.
    /// The same function as the event log's shards, so that partition `i` of `S` owns exactly
    /// shard `i` of an `S`-shard log.
    public static func partition(ofEventID eventID: String, count: Int) -> Int {
        EventKeys.shard(ofEventID: eventID, count: count)
    }
}
