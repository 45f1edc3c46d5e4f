public import CouponRankClient
import Synchronization

/// The generator's connections, each replaced when it breaks: a server that restarts mid-run
/// costs the calls made while it was away, not the rest of the run.
///
/// A broken slot is reconnected by the next call that needs it, at most once per `backoff`; in
/// between, ``client(_:)`` answers `nil` after a short pause, so a closed loop does not spin on a
/// dead server. The pool keeps how long its slots were without a connection.
public final class ClientPool: Sendable {
    public let host: String
    public let port: Int
    public let backoff: Duration
    private let slots: Mutex<[Slot]>
    private let reconnections = Atomic<Int>(0)

    private struct Slot {
        var client: CouponRankClient?
        var retryAt: ContinuousClock.Instant?
        var connecting = false
        var brokenSince: ContinuousClock.Instant?
        var downtime: Duration = .zero
    }

    /// Connects `count` clients to `host:port`.
    public static func connect(host: String, port: Int, count: Int, backoff: Duration = .milliseconds(200)) async throws -> ClientPool {
        var clients: [CouponRankClient] = []
        for _ in 0..<count {
            clients.append(try await CouponRankClient.connect(host: host, port: port))
        }
        return ClientPool(host: host, port: port, clients: clients, backoff: backoff)
    }

    public init(host: String, port: Int, clients: [CouponRankClient], backoff: Duration = .milliseconds(200)) {
        precondition(!clients.isEmpty)
        self.host = host
        self.port = port
        self.backoff = backoff
        self.slots = Mutex(clients.map { Slot(client: $0) })
    }

    public var count: Int { slots.withLock { $0.count } }

    /// Connections made again after one broke.
    public var reconnectionCount: Int { reconnections.load(ordering: .relaxed) }

    /// How long, on average over its slots, the pool had no connection (so far).
    public var averageDowntime: Duration {
        let now = ContinuousClock.now
        return slots.withLock { slots in
            let total = slots.reduce(Duration.zero) { $0 + $1.downtime + ($1.brokenSince.map { now - $0 } ?? .zero) }
            return total / slots.count
        }
    }

    /// The client of `slot`, reconnected if it broke and its backoff has passed; `nil` while it is
    /// away (after a pause of a few milliseconds).
    func client(_ slot: Int) async -> CouponRankClient? {
        let index = slot % count
        enum Next { case use(CouponRankClient), connect, wait }
        let next: Next = slots.withLock { slots in
            if let client = slots[index].client { return .use(client) }
            if slots[index].connecting { return .wait }
            if let retryAt = slots[index].retryAt, ContinuousClock.now < retryAt { return .wait }
            slots[index].connecting = true
            return .connect
        }
        switch next {
        case .use(let client):
            return client
        case .wait:
            try? await Task.sleep(for: .milliseconds(5))
            return nil
        case .connect:
            let client = try? await CouponRankClient.connect(host: host, port: port, defaultTimeout: .seconds(1))
            slots.withLock { slots in
                slots[index].connecting = false
                slots[index].client = client
                slots[index].retryAt = client == nil ? .now + backoff : nil
                if client != nil, let since = slots[index].brokenSince {
                    slots[index].downtime += .now - since
                    slots[index].brokenSince = nil
                }
            }
            if client != nil { reconnections.add(1, ordering: .relaxed) }
            return client
        }
    }

    /// How long `slot` has been without a connection; zero while it has one.
    func brokenFor(_ slot: Int) -> Duration {
        let index = slot % count
        return slots.withLock { slots in slots[index].brokenSince.map { .now - $0 } ?? .zero }
    }

    /// Drops `client` from `slot` after a transport failure, so the next call reconnects.
    func broken(_ slot: Int, _ client: CouponRankClient) {
        let index = slot % count
        let dropped: Bool = slots.withLock { slots in
            guard let current = slots[index].client, current === client else { return false }
            slots[index].client = nil
            slots[index].retryAt = .now + backoff
            slots[index].brokenSince = .now
            return true
        }
        if dropped { Task { await client.close() } }
    }

    public func close() async {
        let clients = slots.withLock { slots in slots.compactMap(\.client) }
        for client in clients { await client.close() }
    }
}
