import Synchronization
public import CouponRankCore

/// Per-source time limits, each applied inside the request's own deadline.
public struct SourceTimeouts: Sendable, Hashable {
    public var userFeatures: Duration
    public var candidates: Duration
    public var stats: Duration

    public init(
        userFeatures: Duration = .milliseconds(30),
        candidates: Duration = .milliseconds(40),
        stats: Duration = .milliseconds(30)
    ) {
        self.userFeatures = userFeatures
        self.candidates = candidates
        self.stats = stats
    }
}

/// Everything the ranking needs about one user, and how it was obtained.
public struct RankInputs: Sendable {
    public var user: UserFeatures
    public var candidates: [Coupon]
    public var stats: CouponStatsTable
    public var degraded: DegradedSources

    public init(user: UserFeatures, candidates: [Coupon], stats: CouponStatsTable, degraded: DegradedSources) {
        self.user = user
        self.candidates = candidates
        self.stats = stats
        self.degraded = degraded
    }
}

/// Why the inputs of a rank could not be gathered.
public struct SourceError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case candidatesUnavailable, noCandidates, deadlineExceeded
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The candidate source failed or timed out: there is nothing to rank.
        public static let candidatesUnavailable = Code(.candidatesUnavailable)
        /// The candidate source answered with no coupons.
        public static let noCandidates = Code(.noCandidates)
        /// The request's own deadline passed while fetching.
        public static let deadlineExceeded = Code(.deadlineExceeded)

        public var description: String {
            switch base {
            case .candidatesUnavailable: "candidates unavailable"
            case .noCandidates: "no candidates"
            case .deadlineExceeded: "deadline exceeded"
            }
        }
    }

    public var code: Code
    public var message: String
    /// The failure of the candidate source, as it threw it.
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { "\(code): \(message)" }
}

/// Fetches the three inputs of a rank concurrently, each under its own timeout, and substitutes
/// defaults for the optional ones when they fail.
public struct SourceFanOut: Sendable {
    public let userFeatures: any UserFeatureSource
    public let candidates: any CandidateSource
    public let stats: any CouponStatsSource
    public let timeouts: SourceTimeouts
    public let metrics: SourceMetrics

    public init(
        userFeatures: any UserFeatureSource,
        candidates: any CandidateSource,
        stats: any CouponStatsSource,
        timeouts: SourceTimeouts = .init(),
        metrics: SourceMetrics = SourceMetrics()
    ) {
        self.userFeatures = userFeatures
        self.candidates = candidates
        self.stats = stats
        self.timeouts = timeouts
        self.metrics = metrics
    }

    /// Whether every source answers from memory without suspending (in-process stubs without
    /// injected latency): a rank then never waits.
    public var answersImmediately: Bool {
        userFeatures.answersImmediately && candidates.answersImmediately && stats.answersImmediately
    }

    /// In-process stubs over one generator.
    public static func stubs(
        _ generator: StubDataGenerator,
        latency: (user: LatencyDistribution, candidates: LatencyDistribution, stats: LatencyDistribution) = (.none, .none, .none),
        timeouts: SourceTimeouts = .init(),
        metrics: SourceMetrics = SourceMetrics()
    ) -> SourceFanOut {
        SourceFanOut(
            userFeatures: StubUserFeatureSource(generator: generator, latency: latency.user),
            candidates: StubCandidateSource(generator: generator, latency: latency.candidates),
            stats: StubStatsSource(generator: generator, latency: latency.stats),
            timeouts: timeouts,
            metrics: metrics
        )
    }

    /// The user's inputs, or an error when there is nothing to rank.
    ///
    /// A failed or late user-features or stats source yields ``UserFeatures/unknown`` or
    /// ``CouponStatsTable/empty`` (every coupon at ``CouponStats/prior``) and a degraded flag.
    public func fetch(easyID: String, deadline: ContinuousClock.Instant) async throws(SourceError) -> RankInputs {
        let now = ContinuousClock.now
        let userDeadline = min(deadline, now + timeouts.userFeatures)
        let candidateDeadline = min(deadline, now + timeouts.candidates)
        let statsDeadline = min(deadline, now + timeouts.stats)
        let userFeatures = self.userFeatures
        let candidates = self.candidates
        let stats = self.stats

        let metrics = self.metrics
        if answersImmediately, let inputs = try fetchFromMemory(easyID: easyID) {
            return inputs
        }
        async let user = Self.call(by: userDeadline, metrics.userFeatures) {
            try await userFeatures.userFeatures(for: easyID, deadline: userDeadline)
        }
        async let table = Self.call(by: statsDeadline, metrics.stats) {
            try await stats.stats(for: easyID, deadline: statsDeadline)
        }
        // The candidates are fetched by this task itself: one child task fewer per request.
        let fetchedCoupons = await Self.call(by: candidateDeadline, metrics.candidates) {
            try await candidates.candidates(for: easyID, deadline: candidateDeadline)
        }
        let fetchedUser = await user
        let fetchedStats = await table

        let couponList: [Coupon]
        switch fetchedCoupons {
        case .success(let list):
            couponList = list
        case .failure(let error):
            if ContinuousClock.now >= deadline {
                throw SourceError(.deadlineExceeded, "request deadline passed while fetching candidates", underlying: error)
            }
            throw SourceError(.candidatesUnavailable, "candidate source failed: \(error)", underlying: error)
        }
        guard !couponList.isEmpty else {
            throw SourceError(.noCandidates, "the candidate source has no coupons for this user")
        }

        var degraded: DegradedSources = []
        let resolvedUser: UserFeatures
        switch fetchedUser {
        case .success(let features): resolvedUser = features
        case .failure:
            resolvedUser = .unknown
            degraded.insert(.userFeatures)
        }
        let resolvedStats: CouponStatsTable
        switch fetchedStats {
        case .success(let fetched): resolvedStats = fetched
        case .failure:
            resolvedStats = .empty
            degraded.insert(.stats)
        }
        return RankInputs(user: resolvedUser, candidates: couponList, stats: resolvedStats, degraded: degraded)
    }

    /// The user's inputs without suspending, when every source ``answersImmediately``: `nil`
    /// when one of them cannot answer from memory. Nothing here waits, so no deadline applies.
    public func fetchFromMemory(easyID: String) throws(SourceError) -> RankInputs? {
        let start = ContinuousClock.now
        guard let coupons = candidates.candidatesFromMemory(for: easyID) else { return nil }
        let fetchedCoupons = ContinuousClock.now
        guard let user = userFeatures.userFeaturesFromMemory(for: easyID) else { return nil }
        let fetchedUser = ContinuousClock.now
        guard let table = stats.statsFromMemory(for: easyID) else { return nil }
        let fetchedStats = ContinuousClock.now
        metrics.candidates.duration.recordNanoseconds((fetchedCoupons - start).nanoseconds)
        metrics.userFeatures.duration.recordNanoseconds((fetchedUser - fetchedCoupons).nanoseconds)
        metrics.stats.duration.recordNanoseconds((fetchedStats - fetchedUser).nanoseconds)
        guard !coupons.isEmpty else {
            throw SourceError(.noCandidates, "the candidate source has no coupons for this user")
        }
        return RankInputs(user: user, candidates: coupons, stats: table, degraded: [])
    }
}

extension SourceFanOut {
    /// Calls a source and returns by `deadline` whatever the source does: one that hangs is
    /// abandoned (and cancelled) at the deadline.
    static func call<T: Sendable>(
        by deadline: ContinuousClock.Instant,
        _ metrics: SourceMetrics.PerSource,
        _ operation: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error> {
        let start = ContinuousClock.now
        let result = await withDeadline(deadline, operation)
        metrics.record(result, since: start)
        return result
    }
}

/// A source call that did not finish by its deadline.
public struct SourceTimeoutError: Error, Sendable, Hashable {}

/// Runs `operation` until `deadline`: its result, its error, or ``SourceTimeoutError`` when the
/// deadline comes first. Returns at the deadline even if the operation ignores cancellation: the
/// operation runs in a task of its own, which is cancelled and left to finish by itself.
public func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant,
    _ operation: @escaping @Sendable () async throws -> T
) async -> Result<T, any Error> {
    guard ContinuousClock.now < deadline else { return .failure(SourceTimeoutError()) }
    let race = DeadlineRace<T>()
    return await withTaskCancellationHandler {
        await withCheckedContinuation { continuation in
            race.start(
                continuation,
                work: Task {
                    let result: Result<T, any Error>
                    do {
                        result = .success(try await operation())
                    } catch {
                        result = .failure(error)
                    }
                    race.finish(result)
                },
                timer: Task {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    race.finish(.failure(SourceTimeoutError()))
                }
            )
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first of an operation, its timer and a cancellation to finish resumes the waiting call;
/// the others are cancelled and ignored.
final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Result<T, any Error>, Never>?
        var tasks: [Task<Void, Never>] = []
        /// A result that arrived before the continuation was stored.
        var early: Result<T, any Error>?
        var finished = false
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<Result<T, any Error>, Never>, work: Task<Void, Never>, timer: Task<Void, Never>) {
        let early: Result<T, any Error>? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            state.tasks = [work, timer]
            return nil
        }
        if let early {
            work.cancel()
            timer.cancel()
            continuation.resume(returning: early)
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks): (CheckedContinuation<Result<T, any Error>, Never>?, [Task<Void, Never>]) = state.withLock { state in
            guard !state.finished else { return (nil, []) }
            state.finished = true
            guard let continuation = state.continuation else {
                state.early = result
                return (nil, [])
            }
            state.continuation = nil
            defer { state.tasks = [] }
            return (continuation, state.tasks)
        }
        tasks.forEach { $0.cancel() }
        continuation?.resume(returning: result)
    }
}
