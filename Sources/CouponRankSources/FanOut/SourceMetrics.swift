public import CoreMetrics
import CouponRankCore

/// Per-source metrics of the fan-out, through swift-metrics: call durations, and failures by
/// reason (`timeout` or `error`).
public struct SourceMetrics: Sendable {
    struct PerSource: Sendable {
        let duration: Timer
        let timeouts: Counter
        let errors: Counter

        init(_ name: String, factory: any MetricsFactory) {
            self.duration = Timer(label: "couponrank_source_duration_seconds", dimensions: [("source", name)], factory: factory)
            self.timeouts = Counter(
                label: "couponrank_source_failures_total",
                dimensions: [("source", name), ("reason", "timeout")],
                factory: factory
            )
            self.errors = Counter(
                label: "couponrank_source_failures_total",
                dimensions: [("source", name), ("reason", "error")],
                factory: factory
            )
        }

        func record<T>(_ result: Result<T, any Error>, since start: ContinuousClock.Instant) {
            duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
            if case .failure(let error) = result {
                (error is SourceTimeoutError ? timeouts : errors).increment()
            }
        }
    }

    let userFeatures: PerSource
    let candidates: PerSource
    let stats: PerSource

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.userFeatures = PerSource("user_features", factory: factory)
        self.candidates = PerSource("candidates", factory: factory)
        self.stats = PerSource("stats", factory: factory)
    }
}
