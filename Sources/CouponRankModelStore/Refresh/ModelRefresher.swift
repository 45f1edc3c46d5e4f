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
