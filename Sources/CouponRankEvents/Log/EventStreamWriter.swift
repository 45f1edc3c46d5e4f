public import CouponRankModelStore
import Foundation
public import Logging
import Metrics
public import ServiceLifecycle

/// Something the writer can append to a stream: its field–value pairs, built on the writer's
/// thread, never on the request path.
public protocol StreamEntry: Sendable {
    /// The event the entry belongs to: it chooses the entry's shard.
    var eventID: String { get }
    func streamFields() -> [[UInt8]]
}

/// Appends entries to one Redis Stream off the request path.
///
/// ``submit(_:)`` never waits: it puts the entry in a bounded in-memory queue, or drops and counts
/// it when the queue is full. A thread of the writer's own drains the queue in batches, one
/// pipelined round trip of `XADD key MAXLEN ~ n * field value …` per batch, over a client of its
/// own (to the node of the stream's slot on a cluster, to the primary behind Sentinel). When Redis
/// is away the batch in hand is dropped and counted, the client waits out a backoff (the queue
/// meanwhile fills, then drops), and reconnects. On shutdown the queue is
/// flushed within ``Configuration/flushDeadline``; what is left then is dropped and counted.
///
/// `@unchecked Sendable`: every mutable field is guarded by `condition`'s lock.
public final class EventStreamWriter<Entry: StreamEntry>: Service, @unchecked Sendable {
    public struct Configuration: Sendable, Hashable {
        public var url: RedisURL
        /// The stream's shards, chosen per entry by ``EventKeys/shard(ofEventID:count:)``; one
        /// for an unsharded log.
        public var streams: [String]
        /// The one stream of an unsharded log (the first shard of a sharded one).
        public var stream: String { streams[0] }
        /// Entries held in memory at most; beyond it entries are dropped.
        public var queueCapacity: Int
        /// Entries written per round trip at most.
        public var batchSize: Int
        /// The stream's approximate bound (`MAXLEN ~`).
        public var maximumLength: Int
        /// How long the writer lets entries gather after waking for a short queue, so that a busy
        /// engine writes batches instead of waking (and switching threads) for every entry.
        public var linger: Duration
        /// How long shutdown may spend flushing the queue.
        public var flushDeadline: Duration
        public var connectTimeout: Duration
        public var commandTimeout: Duration

        public init(
            url: RedisURL,
            stream: String,
            queueCapacity: Int = 65_536,
            batchSize: Int = 256,
            maximumLength: Int = 1_000_000,
            linger: Duration = .milliseconds(2),
            flushDeadline: Duration = .seconds(2),
            connectTimeout: Duration = .seconds(1),
            commandTimeout: Duration = .seconds(1)
        ) {
            self.init(
                url: url, streams: [stream], queueCapacity: queueCapacity, batchSize: batchSize, maximumLength: maximumLength,
                linger: linger, flushDeadline: flushDeadline, connectTimeout: connectTimeout, commandTimeout: commandTimeout
            )
        }

        public init(
            url: RedisURL,
            streams: [String],
            queueCapacity: Int = 65_536,
            batchSize: Int = 256,
            maximumLength: Int = 1_000_000,
            linger: Duration = .milliseconds(2),
            flushDeadline: Duration = .seconds(2),
            connectTimeout: Duration = .seconds(1),
            commandTimeout: Duration = .seconds(1)
        ) {
            precondition(queueCapacity > 0 && batchSize > 0 && maximumLength > 0 && !streams.isEmpty)
            self.url = url
            self.streams = streams
            self.queueCapacity = queueCapacity
            self.batchSize = batchSize
            self.maximumLength = maximumLength
            self.linger = linger
            self.flushDeadline = flushDeadline
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
        }
    }

    /// Why an entry was dropped: the `reason` label of the drop counter.
    public enum DropReason: String, Sendable, CaseIterable {
        case queueFull = "queue_full"
        case redis
        case shutdown
    }

    /// The writer's counts since it started.
    public struct Statistics: Sendable, Hashable {
        public var submitted = 0
        /// Confirmed by Redis.
        public var written = 0
        public var dropped: [DropReason: Int] = [:]
        /// Of the dropped, entries sent in a batch whose replies never came: Redis may have
        /// written some of them.
        public var unconfirmed = 0
        public var queued = 0
        public var connected = false
        /// When the last drop happened.
        public var lastDrop: ContinuousClock.Instant?

        public var droppedTotal: Int { dropped.values.reduce(0, +) }
    }

    public let configuration: Configuration
    /// The `stream` label of the metrics.
    public let name: String
    private let logger: Logger
    private let condition = NSCondition()
    private var queue: [Entry] = []
    private var statistics = Statistics()
    private var stopping = false
    private var writerWaiting = false
    private let writtenCounter: Counter
    private let dropCounters: [DropReason: Counter]
    /// The writer's own client, used only from its drain thread: one node, a cluster's node of
    /// the stream's slot, or the primary Sentinel names.
    private let redis: RedisClient

    public init(configuration: Configuration, name: String, logger: Logger) {
        self.configuration = configuration
        self.name = name
        self.logger = logger
        self.redis = RedisClient(url: configuration.url, connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout, logger: logger)
        self.writtenCounter = Counter(label: "couponrank_events_written_total", dimensions: [("stream", name)])
        self.dropCounters = Dictionary(
            uniqueKeysWithValues: DropReason.allCases.map {
                ($0, Counter(label: "couponrank_events_dropped_total", dimensions: [("stream", name), ("reason", $0.rawValue)]))
            }
        )
        queue.reserveCapacity(min(configuration.queueCapacity, 4096))
    }

    /// Queues `entry`; `false` when the queue was full and the entry was dropped. Never blocks on I/O.
    @discardableResult
    public func submit(_ entry: Entry) -> Bool {
        condition.lock()
        statistics.submitted += 1
        guard queue.count < configuration.queueCapacity, !stopping else {
            let reason: DropReason = stopping ? .shutdown : .queueFull
            noteDrop(1, reason: reason)
            condition.unlock()
            dropCounters[reason]!.increment()
            return false
        }
        queue.append(entry)
        let wake = writerWaiting
        condition.unlock()
        if wake { condition.signal() }
        return true
    }

    public var snapshot: Statistics {
        condition.lock()
        defer { condition.unlock() }
        var copy = statistics
        copy.queued = queue.count
        return copy
    }

    /// `ok`, `dropping` (an entry was dropped in the last 10 s) or `unavailable` (no connection to Redis).
    public var healthState: String {
        let now = snapshot
        if !now.connected { return "unavailable" }
        if let lastDrop = now.lastDrop, ContinuousClock.now - lastDrop < .seconds(10) { return "dropping" }
        return "ok"
    }

    public func run() async throws {
        let finished = AsyncStream.makeStream(of: Void.self)
        let thread = Thread { [self] in
            drainLoop()
            finished.continuation.finish()
        }
        thread.name = "events-\(name)"
        thread.start()
        try? await gracefulShutdown()
        beginStopping()
        for await _ in finished.stream {}
        let final = snapshot
        logger.info(
            "event stream writer stopped",
            metadata: [
                "events.stream": "\(configuration.stream)",
                "events.written": "\(final.written)",
                "events.dropped": "\(final.droppedTotal)",
            ]
        )
    }

    /// Refuses new entries and tells the drain loop to flush what is queued, then stop.
    private func beginStopping() {
        condition.lock()
        stopping = true
        condition.unlock()
        condition.broadcast()
    }

    private func drainLoop() {
        var flushEnd: ContinuousClock.Instant?
        while true {
            condition.lock()
            var waited = false
            while queue.isEmpty, !stopping {
                writerWaiting = true
                condition.wait()
                writerWaiting = false
                waited = true
            }
            if waited, !stopping, queue.count < configuration.batchSize, configuration.linger > Duration.zero {
                condition.unlock()
                let (seconds, attoseconds) = configuration.linger.components
                Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) * 1e-18)
                condition.lock()
            }
            if stopping, flushEnd == nil { flushEnd = .now + configuration.flushDeadline }
            if queue.isEmpty || (flushEnd.map { ContinuousClock.now >= $0 } ?? false) {
                let left = queue.count
                queue.removeAll()
                if left > 0 { noteDrop(left, reason: .shutdown) }
                statistics.connected = false
                condition.unlock()
                if left > 0 { dropCounters[.shutdown]!.increment(by: left) }
                return
            }
            let batch = Array(queue.prefix(configuration.batchSize))
            queue.removeFirst(batch.count)
            condition.unlock()

            let commands = batch.map(command)
            do {
                let replies = try redis.blockingPipeline(commands)
                setConnected(true)
                var refused = 0
                var unconfirmed = 0
                for case .error(let message) in replies {
                    refused += 1
                    // A cluster node that failed after the entry was sent: Redis may have it.
                    if message.hasPrefix(RedisClient.unconfirmedReplyPrefix) { unconfirmed += 1 }
                }
                record(written: batch.count - refused)
                if refused > 0 {
                    drop(refused, reason: .redis, unconfirmed: unconfirmed)
                    logger.debug("redis refused event entries", metadata: ["events.refused": "\(refused)", "events.unconfirmed": "\(unconfirmed)"])
                }
            } catch {
                setConnected(false)
                if error.code == .unavailable {
                    // Nothing was sent: the client is waiting out its reconnect backoff.
                    drop(batch.count, reason: .redis, unconfirmed: 0)
                    Thread.sleep(forTimeInterval: 0.05)
                } else {
                    // Some of the batch may have reached Redis before the connection failed.
                    drop(batch.count, reason: .redis, unconfirmed: batch.count)
                }
                logger.debug("event stream write failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func command(_ entry: Entry) -> [[UInt8]] {
        let shard = EventKeys.shard(ofEventID: entry.eventID, count: configuration.streams.count)
        return [Array("XADD".utf8), Array(configuration.streams[shard].utf8), Array("MAXLEN".utf8), [UInt8(ascii: "~")],
                Array(String(configuration.maximumLength).utf8), [UInt8(ascii: "*")]] + entry.streamFields()
    }

    private func record(written: Int) {
        condition.lock()
        statistics.written += written
        condition.unlock()
        writtenCounter.increment(by: written)
    }

    private func drop(_ count: Int, reason: DropReason, unconfirmed: Int) {
        condition.lock()
        noteDrop(count, reason: reason)
        statistics.unconfirmed += unconfirmed
        condition.unlock()
        dropCounters[reason]!.increment(by: count)
    }

    /// Call with the lock held.
    private func noteDrop(_ count: Int, reason: DropReason) {
        statistics.dropped[reason, default: 0] += count
        statistics.lastDrop = .now
    }

    private func setConnected(_ connected: Bool) {
        condition.lock()
        statistics.connected = connected
        condition.unlock()
    }
}
