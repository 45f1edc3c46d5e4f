public import CoreMetrics
public import CouponRankCore
public import Logging
public import ServiceLifecycle
import Synchronization

/// Keeps the served model in step with Redis: on start, every `interval` (jittered, so a fleet
/// does not refresh in step), on a pub/sub broadcast, and on an admin reload.
///
/// A refresh fetches only when `current` names another version than the one served; it validates
/// before swapping and keeps the last good model on any failure.
public final class ModelRefresher: Service, ModelReloading, Sendable {
    public let store: ModelStore
    public let slot: ModelSlot
    public let interval: Duration
    /// Each wait is `interval × (1 ± jitter)`.
    public let jitter: Double
    public let subscribe: Bool
    /// The rules refreshed with the model, when the engine applies rules from Redis.
    public let rules: (store: RulesStore, slot: RulesSlot)?
    /// Called with the fleet's exploration switch when a refresh reads it or a broadcast changes it.
    private let onExploration: (@Sendable (Bool) -> Void)?
    private let logger: Logger
    private let refreshes: [ModelReloadReport.Outcome: Counter]
    private let last = Mutex<ModelReloadReport?>(nil)
    /// The latest reload; each new one runs after it, so reloads never interleave.
    private let tail = Mutex<Task<ModelReloadReport, Never>?>(nil)

    public init(
        store: ModelStore,
        slot: ModelSlot,
        interval: Duration = .seconds(3600),
        jitter: Double = 0.1,
        subscribe: Bool = true,
        rules: (store: RulesStore, slot: RulesSlot)? = nil,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        logger: Logger,
        onExploration: (@Sendable (Bool) -> Void)? = nil
    ) {
        self.onExploration = onExploration
        precondition(interval > .zero && (0..<1).contains(jitter))
        self.store = store
        self.slot = slot
        self.interval = interval
        self.jitter = jitter
        self.subscribe = subscribe
        self.rules = rules
        self.logger = logger
        let outcomes: [(ModelReloadReport.Outcome, String)] = [(.swapped, "swapped"), (.unchanged, "unchanged"), (.keptPrevious, "kept_previous")]
        self.refreshes = Dictionary(uniqueKeysWithValues: outcomes.map { outcome, name in
            (outcome, Counter(label: "couponrank_model_refreshes_total", dimensions: [("outcome", name)], factory: metricsFactory))
        })
    }

    /// The outcome of the latest refresh, if any.
    public var lastReport: ModelReloadReport? { last.withLock { $0 } }

    public func run() async throws {
        let (broadcasts, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let subscriber = subscribe
            ? RedisSubscriber(
                url: store.redis.url,
                channel: store.keys.reloadChannel,
                logger: logger,
                // A broadcast sent while the subscription was down is lost: read `current` again.
                onSubscribed: { continuation.yield() }
            ) { [onExploration, logger] payload in
                switch payload {
                case "exploration on", "exploration off":
                    let enabled = payload == "exploration on"
                    logger.notice("fleet exploration switched by broadcast", metadata: ["exploration.enabled": "\(enabled)"])
                    onExploration?(enabled)
                default:
                    continuation.yield()
                }
            }
            : nil
        subscriber?.start()
        defer {
            subscriber?.stop()
            continuation.finish()
        }
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in broadcasts.cancelOnGracefulShutdown() {
                    _ = await self.reload(reason: "broadcast")
                }
            }
            group.addTask {
                var rng = SystemRandomNumberGenerator()
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    let wait = self.interval * (1 + Double.random(in: -self.jitter...self.jitter, using: &rng))
                    do {
                        try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                    } catch {
                        return
                    }
                    _ = await self.reload(reason: "scheduled")
                }
            }
        }
    }

    public func reload(reason: String) async -> ModelReloadReport {
        let task = tail.withLock { tail in
            let previous = tail
            let next = Task {
                _ = await previous?.value
                return await self.reloadNow(reason: reason)
            }
            tail = next
            return next
        }
        return await task.value
    }

    private func reloadNow(reason: String) async -> ModelReloadReport {
        if let onExploration, let enabled = try? await store.fleetExploration() {
            onExploration(enabled)
        }
        var report = await reloadModel(reason: reason)
        if let rules {
            report.message += "; rules: " + (await reloadRules(rules.store, into: rules.slot, reason: reason))
        }
        return report
    }

    /// Swaps in the rules `current` names; says what it did. Rules removed from Redis stop
    /// applying; rules from a file stay until Redis names others.
    private func reloadRules(_ store: RulesStore, into slot: RulesSlot, reason: String) async -> String {
        let served = slot.current
        let metadata: Logger.Metadata = ["rules.refresh.reason": "\(reason)", "rules.version.previous": "\(served.rules.version)"]
        do {
            guard let version = try await store.currentVersion() else {
                guard served.origin == "redis" else {
                    return served.rules.isEmpty && served.rules.version.isEmpty ? "none published" : "none published; applying \(served.rules.version) (\(served.origin))"
                }
                slot.swap(to: .none, origin: "none")
                logger.info("rules withdrawn from redis; no rules apply", metadata: metadata)
                return "withdrawn; no rules apply"
            }
            guard version != served.rules.version else { return "\(version) already applied" }
            let compiled = try await store.load(version: version)
            slot.swap(to: compiled, origin: "redis")
            logger.info("rules swapped", metadata: metadata.merging(["rules.version.current": "\(version)"]) { $1 })
            return "now applying \(version) (\(compiled.ruleNames.count) rules)"
        } catch {
            logger.warning("rules refresh failed; previous rules kept", metadata: metadata.merging(["rules.refresh.message": "\(error.description)"]) { $1 })
            return "kept \(served.rules.version.isEmpty ? "no rules" : served.rules.version): \(error.description)"
        }
    }

    private func reloadModel(reason: String) async -> ModelReloadReport {
        let served = slot.current
        let report: ModelReloadReport
        do {
            guard let version = try await store.currentVersion() else {
                report = ModelReloadReport(
                    outcome: .unchanged,
                    previousVersion: served.model.version,
                    currentVersion: served.model.version,
                    message: "no model is published in Redis; serving \(served.model.version) (\(served.origin))"
                )
                return record(report, reason: reason)
            }
            if version == served.model.version {
                report = ModelReloadReport(
                    outcome: .unchanged,
                    previousVersion: version,
                    currentVersion: version,
                    message: "version \(version) is already served"
                )
                return record(report, reason: reason)
            }
            let model = try await store.load(version: version)
            slot.swap(to: model, origin: .redis)
            report = ModelReloadReport(
                outcome: .swapped,
                previousVersion: served.model.version,
                currentVersion: model.version,
                message: "now serving \(model.version) (\(model.kind.rawValue), d=\(model.dimension))"
            )
        } catch {
            report = ModelReloadReport(
                outcome: .keptPrevious,
                previousVersion: served.model.version,
                currentVersion: served.model.version,
                message: "kept \(served.model.version): \(error.description)"
            )
        }
        return record(report, reason: reason)
    }

    public func broadcastReload() async throws -> Int {
        try await store.broadcastReload()
    }

    public func setFleetExploration(enabled: Bool) async throws -> Int {
        try await store.setFleetExploration(enabled: enabled)
    }

    private func record(_ report: ModelReloadReport, reason: String) -> ModelReloadReport {
        last.withLock { $0 = report }
        refreshes[report.outcome]?.increment()
        let metadata: Logger.Metadata = [
            "model.refresh.reason": "\(reason)",
            "model.version.previous": "\(report.previousVersion)",
            "model.version.current": "\(report.currentVersion)",
            "model.refresh.message": "\(report.message)",
        ]
        switch report.outcome {
        case .swapped: logger.info("model swapped", metadata: metadata)
        case .unchanged: logger.debug("model unchanged", metadata: metadata)
        case .keptPrevious: logger.warning("model refresh failed; previous model kept", metadata: metadata)
        }
        return report
    }
}
