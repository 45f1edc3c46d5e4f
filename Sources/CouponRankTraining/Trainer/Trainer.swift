public import CouponRankCore
public import CouponRankEvents
public import CouponRankModelStore
import CouponRankModelFile
import Foundation
public import Logging
import Metrics
import NIOCore
public import ServiceLifecycle
import Synchronization

/// The online trainer (proto-spec/EVENTS.md §6): reads decisions and rewards through consumer
/// groups, joins them within the reward window, learns from each closed decision, checkpoints
/// and acknowledges, and publishes new model versions through the model store, guarded by an
/// off-policy comparison with the serving model.
public final class Trainer: Service, Sendable {
    /// What the trainer has done, for its ops port and its log.
    public struct Status: Sendable, Hashable {
        public var partition = TrainerConfiguration.Partition.whole
        public var counters = RewardJoin.Counters()
        public var excludedDegraded = 0
        public var itemUpdates = 0
        public var pending = 0
        public var decisionsPosition = StreamID.zero
        public var rewardsPosition = StreamID.zero
        public var lagSeconds: [String: Double] = [:]
        public var checkpoints = 0
        public var publishes = 0
        public var refusals = 0
        public var lastPublished = ""
        public var lastPublishOutcome = ""
        public var lastPublishUnixSeconds = 0.0
        public var lastError = ""
        /// Whether the loop is reading: its groups made, its checkpoint resumed, its pending list re-read.
        public var running = false
    }

    public let configuration: TrainerConfiguration
    public let redis: RedisClient
    public let store: ModelStore
    public let base: ModelDefinition
    private let publishGuard: (any PublishGuard)?
    private let logger: Logger
    private let state: Mutex<Status>
    private let metrics: TrainerMetrics

    public init(
        configuration: TrainerConfiguration,
        redis: RedisClient,
        store: ModelStore,
        base: ModelDefinition,
        publishGuard: (any PublishGuard)?,
        logger: Logger = Logger(label: "couponrank.trainer")
    ) {
        self.configuration = configuration
        self.redis = redis
        self.store = store
        self.base = base
        self.publishGuard = publishGuard
        self.logger = logger
        self.state = Mutex(Status(partition: configuration.partition))
        self.metrics = TrainerMetrics()
    }

    public var status: Status { state.withLock { $0 } }

    public func run() async throws {
        if let problem = configuration.problem {
            update { $0.lastError = problem }
            throw ConfigurationProblem(description: problem)
        }
        var session: Session
        do {
            session = try await Session(trainer: self)
        } catch {
            update { $0.lastError = "\(error)" }
            throw error
        }
        defer { update { $0.running = false } }
        try await session.run()
        // A last checkpoint on the way out, so a stopped trainer hands over what it read, and the
        // partition to whoever comes next.
        try? await session.checkpoint()
        await session.releaseLease()
    }

    /// Another trainer holds this trainer's partition, or took it over.
    struct LeaseLost: Error, CustomStringConvertible {
        var description: String
    }

    /// The failure ``TrainerConfiguration/crashAfterClosing`` injects.
    struct SimulatedCrash: Error {}

    public struct ConfigurationProblem: Error, CustomStringConvertible {
        public let description: String
    }

    fileprivate func update(_ body: @Sendable (inout Status) -> Void) {
        state.withLock { body(&$0) }
    }

    fileprivate var log: Logger { logger }
    fileprivate var counters: TrainerMetrics { metrics }
    fileprivate var guardian: (any PublishGuard)? { publishGuard }
}

/// The trainer's metrics (`couponrank_trainer_*`, EVENTS.md §6.5).
struct TrainerMetrics: Sendable {
    let joined = Counter(label: "couponrank_trainer_decisions_total", dimensions: [("outcome", "learned")])
    let excluded = Counter(label: "couponrank_trainer_decisions_total", dimensions: [("outcome", "excluded_degraded")])
    let itemUpdates = Counter(label: "couponrank_trainer_item_updates_total")
    let rewardsJoined = Counter(label: "couponrank_trainer_rewards_total", dimensions: [("outcome", "joined")])
    let rewardsLate = Counter(label: "couponrank_trainer_rewards_total", dimensions: [("outcome", "late")])
    let rewardsUnmatched = Counter(label: "couponrank_trainer_rewards_total", dimensions: [("outcome", "unmatched")])
    let rewardsOther = Counter(label: "couponrank_trainer_rewards_total", dimensions: [("outcome", "other_kind_or_not_shown")])
    let decisionLag = Gauge(label: "couponrank_trainer_lag_seconds", dimensions: [("stream", "decisions")])
    let rewardLag = Gauge(label: "couponrank_trainer_lag_seconds", dimensions: [("stream", "rewards")])
    let pending = Gauge(label: "couponrank_trainer_pending_decisions")
    let checkpoints = Counter(label: "couponrank_trainer_checkpoints_total")
    let published = Counter(label: "couponrank_trainer_publishes_total", dimensions: [("outcome", "published")])
    let refused = Counter(label: "couponrank_trainer_publishes_total", dimensions: [("outcome", "refused")])
    let failed = Counter(label: "couponrank_trainer_publishes_total", dimensions: [("outcome", "failed")])
    let lastPublish = Gauge(label: "couponrank_trainer_last_publish_timestamp_seconds")
    let explored = Counter(label: "couponrank_trainer_slots_total", dimensions: [("choice", "explored")])
    let exploited = Counter(label: "couponrank_trainer_slots_total", dimensions: [("choice", "exploited")])

    /// Impressions and target rewards by the model version that made the decision (CTR by
    /// version on the dashboard), and how many slots explored. One series per version: versions
    /// are few and published hours apart.
    func record(_ closed: ClosedDecision) {
        let version = closed.decision.modelVersion
        Counter(label: "couponrank_trainer_impressions_total", dimensions: [("model_version", version)]).increment(by: closed.rewards.count)
        Counter(label: "couponrank_trainer_clicks_total", dimensions: [("model_version", version)]).increment(by: closed.rewarded.lazy.filter { $0 }.count)
        let exploring = closed.decision.items.lazy.filter { $0.choice.contains(.explored) }.count
        explored.increment(by: exploring)
        exploited.increment(by: closed.decision.items.count - exploring)
    }
}

/// One run of the trainer's loop, with its state.
private struct Session {
    let trainer: Trainer
    var configuration: TrainerConfiguration { trainer.configuration }
    let schema: String
    var learner: OnlineLearner
    var join: RewardJoin
    var excludedDegraded = 0
    /// Set by a failed step: the next one first reads what a lost reply left pending.
    var recoverPending = false
    var decisionsPosition = StreamID.zero
    var rewardsPosition = StreamID.zero
    var publishSequence = 0
    var lastPublished = ""
    /// Entries finished since the last checkpoint: the next one holds them, then they are acknowledged.
    var finishedDecisions: [StreamID] = []
    var finishedRewards: [StreamID] = []
    /// Entries a restart read again that the checkpoint already held.
    var replayedDecisions: Set<StreamID> = []
    var replayedRewards: Set<StreamID> = []
    var dirty = false
    var lastCheckpoint = ContinuousClock.now
    var lastPublish = ContinuousClock.now
    var closedSincePublish = 0
    /// The most recent closed decisions with their candidates, for the publish guard.
    var window: [ClosedDecision] = []
    var windowHead = 0
    var reported = RewardJoin.Counters()
    /// This trainer's claim on its partition: `<consumer> pid <pid> <random>`.
    let leaseToken: String

    init(trainer: Trainer) async throws {
        self.trainer = trainer
        let configuration = trainer.configuration
        if configuration.partition.count > 1, trainer.base.kind == .logistic {
            throw TrainerError("a logistic model trains in one partition: FTRL's state does not merge (use --partition 0/1)")
        }
        self.schema = TrainerCheckpoint.schemaFingerprint(of: trainer.base)
        self.learner = try OnlineLearner(base: trainer.base)
        self.join = RewardJoin(configuration: configuration.join)
        self.leaseToken = "\(configuration.consumer) pid \(ProcessInfo.processInfo.processIdentifier) \(UInt64.random(in: 0...UInt64.max))"
        try await acquireLease()
        try await createGroups()
        let key = configuration.checkpointKey(for: configuration.partition)
        if let bytes = try await trainer.redis.command(["GET", key]).bytes {
            let checkpoint: TrainerCheckpoint
            do {
                checkpoint = try TrainerCheckpoint(decoding: bytes, base: trainer.base)
            } catch {
                throw TrainerError("the checkpoint at \(key) cannot be resumed: \(error); delete it to start over")
            }
            guard checkpoint.partition == configuration.partition else {
                throw TrainerError("the checkpoint belongs to partition \(checkpoint.partition), not \(configuration.partition)")
            }
            learner = checkpoint.learner
            join.restoreCounters(checkpoint.counters)
            excludedDegraded = checkpoint.excludedDegraded
            decisionsPosition = checkpoint.decisionsPosition
            rewardsPosition = checkpoint.rewardsPosition
            publishSequence = checkpoint.publishSequence
            lastPublished = checkpoint.lastPublished
            reported = checkpoint.counters
            replayedDecisions = Set(checkpoint.acknowledgedDecisions)
            replayedRewards = Set(checkpoint.acknowledgedRewards)
            trainer.log.info(
                "resumed from checkpoint",
                metadata: ["decisions": "\(learner.decisions)", "decisions.position": "\(decisionsPosition)", "rewards.position": "\(rewardsPosition)"]
            )
        } else {
            trainer.log.info("cold start", metadata: ["base": "\(trainer.base.version)", "kind": "\(trainer.base.kind.rawValue)", "dimension": "\(learner.schema.dimension)"])
        }
        publishStatus()
    }

    /// Takes the partition's lease, waiting for an expired holder's to lapse (a trainer killed a
    /// moment ago) and refusing after three lease lengths (a live trainer renews it).
    private func acquireLease() async throws {
        let key = configuration.leaseKey(for: configuration.partition)
        let milliseconds = "\((configuration.lease.nanoseconds / 1_000_000))"
        let end = ContinuousClock.now + configuration.lease * 3
        var announced = false
        while true {
            if try await trainer.redis.command(["SET", key, leaseToken, "NX", "PX", milliseconds]).text == "OK" { return }
            let holder = try await trainer.redis.command(["GET", key]).text ?? "?"
            guard ContinuousClock.now < end else {
                throw TrainerError("partition \(configuration.partition) of group \(configuration.group) is held by another trainer (\(holder)), which keeps renewing it; one trainer per partition")
            }
            if !announced {
                trainer.log.info("waiting for the partition's lease", metadata: ["holder": "\(holder)", "key": "\(key)"])
                announced = true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Extends the lease; a lease found in other hands stops this trainer.
    private func renewLease() async throws {
        let script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end"
        let key = configuration.leaseKey(for: configuration.partition)
        let renewed = try await trainer.redis.command(["EVAL", script, "1", key, leaseToken, "\((configuration.lease.nanoseconds / 1_000_000))"]).integer
        guard renewed == 1 else {
            let holder = try? await trainer.redis.command(["GET", key]).text
            throw Trainer.LeaseLost(description: "the lease of partition \(configuration.partition) expired and \(holder.flatMap { $0 } ?? "nobody") holds it now: stopping so that one trainer learns from it")
        }
    }

    func releaseLease() async {
        let script = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"
        _ = try? await trainer.redis.command(["EVAL", script, "1", configuration.leaseKey(for: configuration.partition), leaseToken])
    }

    private func createGroups() async throws {
        for key in [configuration.decisionsStream, configuration.rewardsStream] {
            do {
                _ = try await trainer.redis.command(["XGROUP", "CREATE", key, configuration.groupName, configuration.startFrom == .beginning ? "0" : "$", "MKSTREAM"])
            } catch {
                // BUSYGROUP: the group exists, and remembers where this trainer stopped.
                guard error.description.contains("BUSYGROUP") else { throw error }
            }
        }
    }

    mutating func run() async throws {
        // First what this consumer read before it stopped and did not acknowledge: the decisions
        // that were inside their window and the rewards not yet sealed.
        try await readPending()
        trainer.update { $0.running = true }
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await step()
                trainer.update { $0.lastError = "" }
            } catch is CancellationError {
                return
            } catch let crash as Trainer.SimulatedCrash {
                throw crash
            } catch let lost as Trainer.LeaseLost {
                trainer.update { $0.lastError = lost.description }
                trainer.log.error("stopping", metadata: ["reason": "\(lost)"])
                throw lost
            } catch {
                trainer.update { $0.lastError = "\(error)" }
                trainer.log.warning("trainer step failed; retrying", metadata: ["error": "\(error)"])
                // A read whose reply was lost delivered its entries all the same: they wait in
                // this consumer's pending list, which `>` never reads again.
                recoverPending = true
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Reads this consumer's pending list (entries delivered and not acknowledged), a page at a
    /// time, and ingests them; with `onlyNew`, only those past the positions ingested so far:
    /// what a failed step's lost reply delivered.
    private mutating func ingestPending(onlyNew: Bool) async throws {
        var decisionsCursor = "0"
        var rewardsCursor = "0"
        while true {
            let batches = try await read(after: decisionsCursor, rewardsCursor, blocking: false)
            var decisions = batches[configuration.decisionsStream] ?? []
            var rewards = batches[configuration.rewardsStream] ?? []
            if decisions.isEmpty, rewards.isEmpty { break }
            if let last = decisions.last { decisionsCursor = last.id.description }
            if let last = rewards.last { rewardsCursor = last.id.description }
            if onlyNew {
                let (decisionsSeen, rewardsSeen) = (decisionsPosition, rewardsPosition)
                decisions.removeAll { $0.id <= decisionsSeen }
                rewards.removeAll { $0.id <= rewardsSeen }
            }
            ingest(decisions: decisions, rewards: rewards)
        }
    }

    private mutating func readPending() async throws {
        try await ingestPending(onlyNew: false)
        replayedDecisions = []
        replayedRewards = []
        dirty = true
        try await checkpoint()
    }

    private mutating func step() async throws {
        try await renewLease()
        if recoverPending {
            try await ingestPending(onlyNew: true)
            recoverPending = false
        }
        // The Redis clock before the read: every entry stamped earlier than this is in the read.
        let now = try await redisMillis() - 1
        let batches = try await read(after: ">", ">", blocking: true)
        let decisions = batches[configuration.decisionsStream] ?? []
        let rewards = batches[configuration.rewardsStream] ?? []
        ingest(decisions: decisions, rewards: rewards)

        // The watermark: a stream read to its end is at the Redis server's present.
        let decisionsTime = decisions.count < configuration.readCount ? now : min(decisionsPosition.milliseconds, now)
        let rewardsTime = rewards.count < configuration.readCount ? now : min(rewardsPosition.milliseconds, now)
        let lag = ["decisions": Double(now - decisionsTime) / 1000, "rewards": Double(now - rewardsTime) / 1000]
        trainer.counters.decisionLag.record(lag["decisions"]!)
        trainer.counters.rewardLag.record(lag["rewards"]!)
        learn(join.close(upTo: min(decisionsTime, rewardsTime)))
        collectFinished()
        publishStatus(lag: lag)

        if dirty, ContinuousClock.now - lastCheckpoint >= configuration.checkpointInterval {
            try await checkpoint()
        }
        if shouldPublish() {
            try await publish()
        }
    }

    /// Adds what was read to the join. An entry the checkpoint already holds (read again after
    /// a stop between its `SET` and `XACK`), one of another partition, or one trimmed away, is
    /// only acknowledged.
    private mutating func ingest(decisions: [Entry], rewards: [Entry]) {
        for entry in decisions {
            decisionsPosition = max(decisionsPosition, entry.id)
            dirty = true
            if replayedDecisions.contains(entry.id) {
                finishedDecisions.append(entry.id)
                continue
            }
            guard let body = entry.fields["body"], let eventID = DecisionLogReader.eventID(ofBody: body), configuration.partition.owns(eventID: eventID) else {
                finishedDecisions.append(entry.id)
                continue
            }
            do {
                if let decision = try DecisionLogReader.decode(fields: entry.fields) {
                    join.add(decision, streamID: entry.id)
                } else {
                    finishedDecisions.append(entry.id)
                }
            } catch {
                finishedDecisions.append(entry.id)
                trainer.log.warning("skipping an unreadable decision entry", metadata: ["id": "\(entry.id)", "error": "\(error)"])
            }
        }
        for entry in rewards {
            rewardsPosition = max(rewardsPosition, entry.id)
            dirty = true
            if replayedRewards.contains(entry.id) {
                finishedRewards.append(entry.id)
                continue
            }
            var fields: [String: String] = [:]
            for (name, value) in entry.fields { fields[name] = String(decoding: value, as: UTF8.self) }
            guard let eventID = fields["event_id"], configuration.partition.owns(eventID: eventID) else {
                finishedRewards.append(entry.id)
                continue
            }
            do {
                join.add(try RewardRecord(fields: fields), streamID: entry.id)
            } catch {
                finishedRewards.append(entry.id)
                trainer.log.warning("skipping an unreadable reward entry", metadata: ["id": "\(entry.id)", "error": "\(error)"])
            }
        }
        collectFinished()
    }

    private mutating func collectFinished() {
        let finished = join.takeFinished()
        finishedDecisions += finished.decisions
        finishedRewards += finished.rewards
        if !finished.decisions.isEmpty || !finished.rewards.isEmpty { dirty = true }
    }

    private mutating func learn(_ closed: [ClosedDecision]) {
        let updatesBefore = learner.itemUpdates
        for decision in closed {
            if configuration.excludeDegraded, decision.decision.degraded != 0 {
                excludedDegraded += 1
                trainer.counters.excluded.increment()
                continue
            }
            learner.learn(decision)
            trainer.counters.joined.increment()
            trainer.counters.record(decision)
            closedSincePublish += 1
            if decision.decision.candidates != nil, configuration.guardWindow > 0 {
                window.append(decision)
                if window.count - windowHead > configuration.guardWindow { windowHead += 1 }
                if windowHead > 4096, windowHead * 2 > window.count {
                    window.removeFirst(windowHead)
                    windowHead = 0
                }
            }
        }
        trainer.counters.itemUpdates.increment(by: learner.itemUpdates - updatesBefore)
        let counters = join.counters
        trainer.counters.rewardsJoined.increment(by: counters.rewardsJoined - reported.rewardsJoined)
        trainer.counters.rewardsLate.increment(by: counters.rewardsLate - reported.rewardsLate)
        trainer.counters.rewardsUnmatched.increment(by: counters.rewardsUnmatched - reported.rewardsUnmatched)
        trainer.counters.rewardsOther.increment(by: (counters.rewardsOtherKind + counters.rewardsNotShown) - (reported.rewardsOtherKind + reported.rewardsNotShown))
        reported = counters
    }

    /// Saves the statistics with one `SET`, then acknowledges the entries it newly holds.
    mutating func checkpoint() async throws {
        collectFinished()
        let checkpoint = TrainerCheckpoint(
            schema: schema,
            partition: configuration.partition,
            decisionsPosition: decisionsPosition,
            rewardsPosition: rewardsPosition,
            publishSequence: publishSequence,
            lastPublished: lastPublished,
            counters: join.counters,
            excludedDegraded: excludedDegraded,
            learner: learner,
            acknowledgedDecisions: finishedDecisions,
            acknowledgedRewards: finishedRewards
        )
        let bytes = checkpoint.encode()
        _ = try await trainer.redis.command([Array("SET".utf8), Array(configuration.checkpointKey(for: configuration.partition).utf8), Array(bytes.readableBytesView)])
        lastCheckpoint = .now
        dirty = false
        trainer.counters.checkpoints.increment()
        trainer.update { $0.checkpoints += 1 }
        if let crash = configuration.crashAfterClosing, join.counters.closed >= crash, !finishedDecisions.isEmpty { throw Trainer.SimulatedCrash() }
        try await acknowledge(finishedDecisions, key: configuration.decisionsStream)
        finishedDecisions.removeAll(keepingCapacity: true)
        try await acknowledge(finishedRewards, key: configuration.rewardsStream)
        finishedRewards.removeAll(keepingCapacity: true)
    }

    private func acknowledge(_ ids: [StreamID], key: String) async throws {
        var start = 0
        while start < ids.count {
            let chunk = ids[start..<min(start + 1000, ids.count)]
            _ = try await trainer.redis.command(["XACK", key, configuration.groupName] + chunk.map(\.description))
            start += chunk.count
        }
    }

    private func shouldPublish() -> Bool {
        guard configuration.publishes, configuration.partition.index == 0, closedSincePublish > 0 else { return false }
        if let every = configuration.publishEvery, closedSincePublish >= every { return true }
        return ContinuousClock.now - lastPublish >= configuration.publishInterval
    }

    /// Makes the candidate from every partition's statistics, asks the guard, and publishes.
    /// Whatever fails on the way is counted as a failed publish; learning goes on.
    private mutating func publish() async throws {
        closedSincePublish = 0
        lastPublish = .now
        // This partition's state goes first, so the others read nothing older of it.
        try await checkpoint()
        publishSequence += 1
        var version = "\(configuration.versionPrefix)-\(publishSequence)"
        do {
            var merged = learner
            var positions = [
                "\(configuration.decisionsStream)@\(configuration.partition.tag)": decisionsPosition.description,
                "\(configuration.rewardsStream)@\(configuration.partition.tag)": rewardsPosition.description,
            ]
            for index in 1..<max(configuration.partition.count, 1) {
                let other = TrainerConfiguration.Partition(index: index, count: configuration.partition.count)
                guard let bytes = try await trainer.redis.command(["GET", configuration.checkpointKey(for: other)]).bytes else {
                    trainer.log.info("partition has no checkpoint yet; publishing without it", metadata: ["partition": "\(other)"])
                    continue
                }
                let checkpoint = try TrainerCheckpoint(decoding: bytes, base: trainer.base)
                try merged.merge(checkpoint.learner)
                positions["\(configuration.decisionsStream(for: other))@\(other.tag)"] = checkpoint.decisionsPosition.description
                positions["\(configuration.rewardsStream(for: other))@\(other.tag)"] = checkpoint.rewardsPosition.description
            }
            let serving: ScoringModel? = try? await trainer.store.loadCurrent()
            // A version taken by an earlier trainer (its checkpoint deleted since) gets a unique suffix.
            if (try? await trainer.store.list())?.contains(where: { $0.version == version }) == true {
                version += "-\(Int(Date().timeIntervalSince1970 * 1000))"
            }
            let definition = try merged.makeDefinition(
                version: version,
                createdAt: ISO8601DateFormatter().string(from: Date()),
                lineage: ModelLineage(
                    parent: serving?.version,
                    trainer: "\(configuration.group) \(configuration.partition.count) partition(s)",
                    decisions: merged.decisions,
                    itemUpdates: merged.itemUpdates,
                    rewards: merged.rewards,
                    streamPositions: positions
                )
            )
            let candidate = try ScoringModel(definition)
            if let serving, let guardian = trainer.guardian {
                let verdict = guardian.verdict(candidate: candidate, serving: serving, window: Array(window[windowHead...]))
                if verdict.allowsPublish {
                    trainer.log.info("guard allows publishing", metadata: ["version": "\(version)", "reason": "\(verdict.reason)"])
                } else if configuration.force {
                    trainer.log.warning("the guard refused the candidate; publishing anyway (--force)", metadata: ["version": "\(version)", "reason": "\(verdict.reason)"])
                } else {
                    trainer.counters.refused.increment()
                    let refusedVersion = version
                    trainer.update {
                        $0.refusals += 1
                        $0.lastPublishOutcome = "refused \(refusedVersion): \(verdict.reason)"
                    }
                    trainer.log.warning("publish refused by the guard", metadata: ["version": "\(version)", "serving": "\(serving.version)", "reason": "\(verdict.reason)"])
                    try await checkpoint()
                    return
                }
            }
            try await trainer.store.publish(try ModelFile.encode(definition))
            let engines = (try? await trainer.store.broadcastReload()) ?? 0
            lastPublished = version
            trainer.counters.published.increment()
            trainer.counters.lastPublish.record(Date().timeIntervalSince1970)
            let publishedVersion = version
            trainer.update {
                $0.publishes += 1
                $0.lastPublished = publishedVersion
                $0.lastPublishOutcome = "published \(publishedVersion)"
                $0.lastPublishUnixSeconds = Date().timeIntervalSince1970
            }
            trainer.log.info("published", metadata: ["version": "\(version)", "decisions": "\(merged.decisions)", "item_updates": "\(merged.itemUpdates)", "engines_told": "\(engines)"])
        } catch {
            trainer.counters.failed.increment()
            let failedVersion = version
            trainer.update { $0.lastPublishOutcome = "failed \(failedVersion): \(error)" }
            trainer.log.error("publish failed", metadata: ["version": "\(version)", "error": "\(error)"])
        }
        try await checkpoint()
    }

    private func publishStatus(lag: [String: Double] = [:]) {
        let counters = join.counters
        let pending = join.pendingCount
        let updates = learner.itemUpdates
        let excluded = excludedDegraded
        let decisions = decisionsPosition
        let rewards = rewardsPosition
        trainer.counters.pending.record(pending)
        trainer.update {
            $0.counters = counters
            $0.pending = pending
            $0.itemUpdates = updates
            $0.excludedDegraded = excluded
            $0.decisionsPosition = decisions
            $0.rewardsPosition = rewards
            if !lag.isEmpty { $0.lagSeconds = lag }
        }
    }

    private func redisMillis() async throws -> UInt64 {
        let parts = try await trainer.redis.command(["TIME"]).elements ?? []
        guard parts.count == 2, let seconds = parts[0].text.flatMap(UInt64.init), let micros = parts[1].text.flatMap(UInt64.init) else {
            throw TrainerError("Redis TIME gave an unexpected reply")
        }
        return seconds * 1000 + micros / 1000
    }

    struct Entry {
        var id: StreamID
        var fields: [String: [UInt8]]
    }

    /// The entries of an XREADGROUP reply, by stream key.
    /// Reads both streams of this trainer's group after the given cursors, in one `XREADGROUP`;
    /// in two when they live on different slots of a Redis Cluster, which refuses a command over
    /// keys of several slots (the second read does not block).
    private func read(after decisionsCursor: String, _ rewardsCursor: String, blocking: Bool) async throws -> [String: [Entry]] {
        let keys = (decisions: configuration.decisionsStream, rewards: configuration.rewardsStream)
        var head = ["XREADGROUP", "GROUP", configuration.groupName, configuration.consumer, "COUNT", "\(configuration.readCount)"]
        if blocking { head += ["BLOCK", "\(configuration.blockMillis)"] }
        let together = trainer.redis.url.topology != .cluster || RedisClusterSlot.of(keys.decisions) == RedisClusterSlot.of(keys.rewards)
        if together {
            return Self.entries(of: try await trainer.redis.command(head + ["STREAMS", keys.decisions, keys.rewards, decisionsCursor, rewardsCursor]))
        }
        var batches = Self.entries(of: try await trainer.redis.command(head + ["STREAMS", keys.decisions, decisionsCursor]))
        let unblocked = Array(head.prefix(6))
        batches.merge(Self.entries(of: try await trainer.redis.command(unblocked + ["STREAMS", keys.rewards, rewardsCursor]))) { first, _ in first }
        return batches
    }

    static func entries(of reply: RedisReply) -> [String: [Entry]] {
        RawStreamEntry.entriesByStream(of: reply).mapValues { entries in
            entries.compactMap { entry in StreamID(entry.id).map { Entry(id: $0, fields: entry.fields) } }
        }
    }
}
