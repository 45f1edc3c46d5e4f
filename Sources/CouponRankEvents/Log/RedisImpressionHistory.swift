public import CouponRankEngine
public import CouponRankModelStore
public import Logging
public import Metrics
public import ServiceLifecycle
import Synchronization

/// Impression counts for frequency caps (RULES.md §6), kept in Redis and cached in memory.
///
/// The request path only reads the cache and queues work: a user not in the cache is counted as
/// unknown (the cap fails open) and fetched in the background; shown coupons are added to the
/// cache at once and to Redis in the background. A Redis that is away costs nothing but stale or
/// unknown counts, and the failures are counted.
///
/// Layout: one hash per user and clock hour, `P freq:{<easy_id>}:<unix hour>`, coupon id → shows,
/// expiring when the window has passed. The braces keep a user's hours on one Redis Cluster slot.
public final class RedisImpressionHistory: ImpressionHistory, Service, Sendable {
    public struct Configuration: Sendable, Hashable {
        public var prefix: String
        /// Users whose counts are kept in memory; beyond it, a tenth of them are forgotten.
        public var cacheCapacity: Int
        /// How long fetched counts are used before they are fetched again.
        public var freshFor: Duration
        /// Pending fetches and increments; beyond it, new ones are dropped (and counted).
        public var queueCapacity: Int

        public init(prefix: String = "couponrank:", cacheCapacity: Int = 100_000, freshFor: Duration = .seconds(60), queueCapacity: Int = 10_000) {
            precondition(cacheCapacity > 0 && queueCapacity > 0 && freshFor > .zero)
            self.prefix = prefix
            self.cacheCapacity = cacheCapacity
            self.freshFor = freshFor
            self.queueCapacity = queueCapacity
        }
    }

    private enum Job: Sendable {
        case fetch(easyID: String, windowHours: Int)
        case increment(easyID: String, shown: [String], hour: Int64, windowHours: Int)
    }

    private struct Cached {
        var counts: [String: Int]
        var fetchedAt: ContinuousClock.Instant
    }

    private struct State {
        var cache: [String: Cached] = [:]
        var fetching: Set<String> = []
    }

    public let configuration: Configuration
    private let redis: RedisClient
    private let logger: Logger
    private let state = Mutex(State())
    private let jobs: AsyncStream<Job>
    private let queue: AsyncStream<Job>.Continuation
    private let dropped: Counter
    private let failures: Counter
    private let now: @Sendable () -> Int64

    /// `unixMillis` is the clock of the hour buckets (a test may move it).
    public init(
        redis: RedisClient,
        configuration: Configuration = .init(),
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        unixMillis: @escaping @Sendable () -> Int64 = { EventID.nowUnixMillis() }
    ) {
        self.redis = redis
        self.configuration = configuration
        self.logger = logger
        (jobs, queue) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .bufferingOldest(configuration.queueCapacity))
        self.dropped = Counter(label: "couponrank_impressions_dropped_total", factory: metricsFactory)
        self.failures = Counter(label: "couponrank_impressions_redis_failures_total", factory: metricsFactory)
        self.now = unixMillis
    }

    public func counts(easyID: String, windowHours: Int) -> [String: Int]? {
        let (known, fetch) = state.withLock { state -> ([String: Int]?, Bool) in
            let cached = state.cache[easyID]
            let fresh = cached.map { ContinuousClock.now - $0.fetchedAt < configuration.freshFor } ?? false
            guard !fresh, !state.fetching.contains(easyID) else { return (cached?.counts, false) }
            state.fetching.insert(easyID)
            return (cached?.counts, true)
        }
        if fetch, !enqueue(.fetch(easyID: easyID, windowHours: windowHours)) {
            _ = state.withLock { $0.fetching.remove(easyID) }
        }
        return known
    }

    public func record(easyID: String, shown: [String], windowHours: Int) {
        state.withLock { state in
            guard state.cache[easyID] != nil else { return }
            for coupon in shown { state.cache[easyID]!.counts[coupon, default: 0] += 1 }
        }
        _ = enqueue(.increment(easyID: easyID, shown: shown, hour: now() / 3_600_000, windowHours: windowHours))
    }

    private func enqueue(_ job: Job) -> Bool {
        if case .enqueued = queue.yield(job) { return true }
        dropped.increment()
        return false
    }

    public func run() async throws {
        for await job in jobs.cancelOnGracefulShutdown() {
            switch job {
            case .fetch(let easyID, let windowHours):
                await fetch(easyID: easyID, windowHours: windowHours)
            case .increment(let easyID, let shown, let hour, let windowHours):
                await increment(easyID: easyID, shown: shown, hour: hour, windowHours: windowHours)
            }
        }
    }

    /// The hash of one user and clock hour.
    public func key(easyID: String, hour: Int64) -> String {
        configuration.prefix + "freq:{" + easyID + "}:" + String(hour)
    }

    private func fetch(easyID: String, windowHours: Int) async {
        let hour = now() / 3_600_000
        let commands = (0..<Int64(windowHours)).map { back in [Array("HGETALL".utf8), Array(key(easyID: easyID, hour: hour - back).utf8)] }
        defer { _ = state.withLock { $0.fetching.remove(easyID) } }
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline(commands)
        } catch {
            failures.increment()
            logger.debug("impression counts not fetched", metadata: ["easy_id": "\(easyID)", "error": "\(error)"])
            return
        }
        var counts: [String: Int] = [:]
        for reply in replies {
            let elements = reply.elements ?? []
            var index = 0
            while index + 1 < elements.count {
                if let coupon = elements[index].text, let shows = elements[index + 1].text.flatMap({ Int($0) }) {
                    counts[coupon, default: 0] += shows
                }
                index += 2
            }
        }
        state.withLock { state in
            if state.cache.count >= configuration.cacheCapacity, state.cache[easyID] == nil {
                // Forget a tenth of the users, whichever the dictionary yields first: a bound, not
                // an LRU. Sorting by age would hold the lock the request path reads under for the
                // time of a sort of the whole cache.
                let forgotten = Array(state.cache.keys.prefix(max(1, configuration.cacheCapacity / 10)))
                for user in forgotten { state.cache[user] = nil }
            }
            state.cache[easyID] = Cached(counts: counts, fetchedAt: .now)
        }
    }

    private func increment(easyID: String, shown: [String], hour: Int64, windowHours: Int) async {
        let key = Array(key(easyID: easyID, hour: hour).utf8)
        var commands = shown.map { [Array("HINCRBY".utf8), key, Array($0.utf8), Array("1".utf8)] }
        commands.append([Array("EXPIRE".utf8), key, Array(String((windowHours + 1) * 3600).utf8)])
        do {
            _ = try await redis.pipeline(commands)
        } catch {
            failures.increment()
            logger.debug("impressions not recorded", metadata: ["easy_id": "\(easyID)", "error": "\(error)"])
        }
    }
}
