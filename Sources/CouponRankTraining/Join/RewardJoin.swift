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

    /// What the join has seen, for metrics and summaries.
    public struct Counters: Sendable, Hashable, Codable {
        public var decisions = 0
        public var duplicateDecisions = 0
        public var closed = 0
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

    private struct Pending: Sendable {
        var decision: LoggedDecision
        var streamID: StreamID
        var rewarded: [Bool]
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

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Decisions waiting for their window to close.
    public var pendingCount: Int { pending.count }

    /// The pending decisions, oldest first, with the rewards joined so far (for a checkpoint).
    public var pendingDecisions: [(streamID: StreamID, decision: LoggedDecision, rewarded: [Bool])] {
        order[head...].compactMap { id in pending[id].map { ($0.streamID, $0.decision, $0.rewarded) } }
    }

    /// Restores a pending decision from a checkpoint, with the rewards it had.
    public mutating func restore(_ decision: LoggedDecision, streamID: StreamID, rewarded: [Bool], counters: Counters? = nil) {
        if let counters { self.counters = counters }
        guard pending[decision.eventID] == nil, rewarded.count == decision.items.count else { return }
        pending[decision.eventID] = Pending(decision: decision, streamID: streamID, rewarded: rewarded)
        order.append(decision.eventID)
    }

    public mutating func restoreCounters(_ counters: Counters) {
        self.counters = counters
    }

    /// A decision read from the stream, in stream order.
    public mutating func add(_ decision: LoggedDecision, streamID: StreamID) {
        let id = decision.eventID
        guard pending[id] == nil, !recentlyClosed.contains(id) else {
            counters.duplicateDecisions += 1
            return
        }
        counters.decisions += 1
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
        counters.rewards += 1
        if var entry = pending[reward.eventID] {
            join(reward, streamID: streamID, into: &entry)
            pending[reward.eventID] = entry
        } else if recentlyClosed.contains(reward.eventID) {
            counters.rewardsLate += 1
        } else {
            orphans[reward.eventID, default: []].append((streamID, reward))
            orphanOrder.append((streamID, reward.eventID))
        }
    }

    private mutating func join(_ reward: RewardRecord, streamID: StreamID, into entry: inout Pending) {
        guard streamID.milliseconds <= entry.streamID.milliseconds &+ configuration.windowMillis else {
            counters.rewardsLate += 1
            return
        }
        guard let slot = entry.decision.items.firstIndex(where: { $0.coupon.id == reward.couponID }) else {
            counters.rewardsNotShown += 1
            return
        }
        guard reward.kind == configuration.targetKind else {
            counters.rewardsOtherKind += 1
            return
        }
        counters.rewardsJoined += 1
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
        counters.closed += 1
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
                counters.rewardsUnmatched += waiting.count
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
