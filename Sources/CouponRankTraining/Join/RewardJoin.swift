public import CouponRankEngine
public import CouponRankEvents

/// Joins rewards to the decisions they belong to, by event id, within a reward window
/// (proto-spec/EVENTS.md §6).
///
/// Time is the Redis clock of the stream entry ids, shared by every engine: a decision logged at
/// `t` closes once the watermark passes `t + window`; then each shown item's target is 1 when a
/// reward of the target kind for that coupon arrived (its reward entry's time ≤ `t + window`),
/// else the default reward. Rewards for an event not seen yet wait (they may be read before
/// their decision) until the watermark passes their own time plus the window.
public struct RewardJoin: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// How long after a decision its rewards count, in milliseconds.
        public var windowMillis: UInt64
        /// The target of a shown item without a reward of ``targetKind`` in the window.
        public var defaultReward: Double
        /// The reward kind that makes an item's target 1: `click` for the CTR model.
        public var targetKind: Reward.Kind
        /// Closed event ids remembered to tell a late reward from an unknown one.
        public var recentlyClosedCapacity: Int

        public init(windowMillis: UInt64 = 30 * 60_000, defaultReward: Double = 0, targetKind: Reward.Kind = .click, recentlyClosedCapacity: Int = 1 << 20) {
            self.windowMillis = windowMillis
            self.defaultReward = defaultReward
            self.targetKind = targetKind
            self.recentlyClosedCapacity = recentlyClosedCapacity
        }
    }

    /// What the join has finished with, for metrics and summaries. An entry is counted once its
    /// fate is sealed (its decision closed, or it can no longer count), so a checkpoint of these
    /// counters never holds an entry that a restart reads again.
    public struct Counters: Sendable, Hashable, Codable {
        /// Decisions closed, plus duplicates dropped.
        public var decisions = 0
        public var duplicateDecisions = 0
        public var closed = 0
        /// Rewards sealed, whatever their outcome.
        public var rewards = 0
        /// Rewards of the target kind joined to a shown item in time.
        public var rewardsJoined = 0
        /// Rewards of another kind, joined but not a training target.
        public var rewardsOtherKind = 0
        /// Rewards that arrived after their decision's window closed.
        public var rewardsLate = 0
        /// Rewards for an event never seen (not logged, sampled out, or before the trainer's start).
        public var rewardsUnmatched = 0
        /// Rewards naming a coupon the decision did not show.
        public var rewardsNotShown = 0

        public init() {}
    }

    /// What became of a reward joined to a pending decision, sealed when the decision closes.
    private enum Outcome: Sendable {
        case joined, otherKind, notShown
    }

    private struct Pending: Sendable {
        var decision: LoggedDecision
        var streamID: StreamID
        var rewarded: [Bool]
        var rewards: [(StreamID, Outcome)] = []
    }

    public let configuration: Configuration
    public private(set) var counters = Counters()
    private var pending: [String: Pending] = [:]
    /// Pending event ids in stream order (their close times are non-decreasing); `head` is the oldest.
    private var order: [String] = []
    private var head = 0
    private var orphans: [String: [(StreamID, RewardRecord)]] = [:]
    private var orphanOrder: [(StreamID, String)] = []
    private var orphanHead = 0
    private var recentlyClosed: Set<String> = []
    private var closedOrder: [String] = []
    private var closedHead = 0
    /// Entries whose fate is sealed since the last ``takeFinished()``: a consumer may acknowledge them.
    private var finishedDecisions: [StreamID] = []
    private var finishedRewards: [StreamID] = []

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Decisions waiting for their window to close.
    public var pendingCount: Int { pending.count }

    public mutating func restoreCounters(_ counters: Counters) {
        self.counters = counters
    }

    /// The stream ids of the entries sealed since the last call: decisions closed or dropped as
    /// duplicates, rewards whose decision closed or that can no longer count.
    public mutating func takeFinished() -> (decisions: [StreamID], rewards: [StreamID]) {
        defer {
            finishedDecisions.removeAll(keepingCapacity: true)
            finishedRewards.removeAll(keepingCapacity: true)
        }
        return (finishedDecisions, finishedRewards)
    }

    /// A decision read from the stream, in stream order.
    public mutating func add(_ decision: LoggedDecision, streamID: StreamID) {
        let id = decision.eventID
        guard pending[id] == nil, !recentlyClosed.contains(id) else {
            counters.decisions += 1
            counters.duplicateDecisions += 1
            finishedDecisions.append(streamID)
            return
        }
        var entry = Pending(decision: decision, streamID: streamID, rewarded: Array(repeating: false, count: decision.items.count))
        if let waiting = orphans.removeValue(forKey: id) {
            for (rewardID, reward) in waiting {
                join(reward, streamID: rewardID, into: &entry)
            }
        }
        pending[id] = entry
        order.append(id)
    }

    /// A reward read from the stream.
    public mutating func add(_ reward: RewardRecord, streamID: StreamID) {
        if var entry = pending[reward.eventID] {
            join(reward, streamID: streamID, into: &entry)
            pending[reward.eventID] = entry
        } else if recentlyClosed.contains(reward.eventID) {
            seal(streamID) { $0.rewardsLate += 1 }
        } else {
            orphans[reward.eventID, default: []].append((streamID, reward))
            orphanOrder.append((streamID, reward.eventID))
        }
    }

    private mutating func seal(_ rewardID: StreamID, _ count: (inout Counters) -> Void) {
        counters.rewards += 1
        count(&counters)
        finishedRewards.append(rewardID)
    }

    private mutating func join(_ reward: RewardRecord, streamID: StreamID, into entry: inout Pending) {
        guard streamID.milliseconds <= entry.streamID.milliseconds &+ configuration.windowMillis else {
            seal(streamID) { $0.rewardsLate += 1 }
            return
        }
        guard let slot = entry.decision.items.firstIndex(where: { $0.coupon.id == reward.couponID }) else {
            entry.rewards.append((streamID, .notShown))
            return
        }
        guard reward.kind == configuration.targetKind else {
            entry.rewards.append((streamID, .otherKind))
            return
        }
        entry.rewards.append((streamID, .joined))
        entry.rewarded[slot] = true
    }

    /// Closes every decision whose window ended at or before `watermark` (ms of the Redis clock),
    /// oldest first.
    public mutating func close(upTo watermark: UInt64) -> [ClosedDecision] {
        var closed: [ClosedDecision] = []
        while head < order.count {
            let id = order[head]
            guard let entry = pending[id] else {
                head += 1
                continue
            }
            guard entry.streamID.milliseconds &+ configuration.windowMillis <= watermark else { break }
            head += 1
            pending[id] = nil
            closed.append(finish(entry))
        }
        compact()
        expireOrphans(upTo: watermark)
        return closed
    }

    /// Closes every pending decision whatever its window (the end of a batch evaluation).
    public mutating func closeAll() -> [ClosedDecision] {
        let closed = close(upTo: .max)
        expireOrphans(upTo: .max)
        return closed
    }

    private mutating func finish(_ entry: Pending) -> ClosedDecision {
        counters.decisions += 1
        counters.closed += 1
        finishedDecisions.append(entry.streamID)
        for (rewardID, outcome) in entry.rewards {
            seal(rewardID) { counters in
                switch outcome {
                case .joined: counters.rewardsJoined += 1
                case .otherKind: counters.rewardsOtherKind += 1
                case .notShown: counters.rewardsNotShown += 1
                }
            }
        }
        remember(entry.decision.eventID)
        let rewards = entry.rewarded.map { $0 ? 1 : configuration.defaultReward }
        return ClosedDecision(decision: entry.decision, streamID: entry.streamID, rewards: rewards, rewarded: entry.rewarded)
    }

    private mutating func remember(_ id: String) {
        recentlyClosed.insert(id)
        closedOrder.append(id)
        while closedOrder.count - closedHead > configuration.recentlyClosedCapacity {
            recentlyClosed.remove(closedOrder[closedHead])
            closedHead += 1
        }
        if closedHead > 4096, closedHead * 2 > closedOrder.count {
            closedOrder.removeFirst(closedHead)
            closedHead = 0
        }
    }

    private mutating func expireOrphans(upTo watermark: UInt64) {
        while orphanHead < orphanOrder.count {
            let (streamID, id) = orphanOrder[orphanHead]
            guard streamID.milliseconds &+ configuration.windowMillis <= watermark else { break }
            orphanHead += 1
            if let waiting = orphans.removeValue(forKey: id) {
                for (rewardID, _) in waiting {
                    seal(rewardID) { $0.rewardsUnmatched += 1 }
                }
            }
        }
        if orphanHead > 4096, orphanHead * 2 > orphanOrder.count {
            orphanOrder.removeFirst(orphanHead)
            orphanHead = 0
        }
    }

    private mutating func compact() {
        if head > 4096, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    /// Joins a whole log at once: every decision and reward, merged in stream order, then closed.
    public static func closeAll(
        decisions: [(StreamID, LoggedDecision)],
        rewards: [(StreamID, RewardRecord)],
        configuration: Configuration
    ) -> (closed: [ClosedDecision], counters: Counters) {
        var join = RewardJoin(configuration: configuration)
        var closed: [ClosedDecision] = []
        var d = 0
        var r = 0
        while d < decisions.count || r < rewards.count {
            if r == rewards.count || (d < decisions.count && decisions[d].0 <= rewards[r].0) {
                join.add(decisions[d].1, streamID: decisions[d].0)
                d += 1
            } else {
                join.add(rewards[r].1, streamID: rewards[r].0)
                // Rewards are never older than what they join, so what closes before this time is final.
                closed += join.close(upTo: rewards[r].0.milliseconds)
                r += 1
            }
        }
        closed += join.closeAll()
        return (closed, join.counters)
    }
}
