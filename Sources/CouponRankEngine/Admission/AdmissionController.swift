import CoreMetrics
import CouponRankCore
import Synchronization

/// The one gate every rank passes, whatever port it came in by: a bound on requests in flight,
/// a bound on queueing time, the deadline budget, and the drain before shutdown.
///
/// The drain flag and the in-flight count live in one atomic word, so a request is either
/// admitted before the drain began (and counted in flight) or refused SHUTTING_DOWN: there is no
/// window between checking the drain and taking a slot.
public final class AdmissionController: Sendable {
    /// A slot taken by an admitted request; give it back with ``finish(_:outcome:)``.
    public struct Ticket: Sendable {
        public let receivedAt: ContinuousClock.Instant
        public let deadline: ContinuousClock.Instant
    }

    public let configuration: AdmissionConfiguration
    public let metrics: EngineMetrics
    /// When this engine began to admit requests.
    public let startedAt = ContinuousClock.now
    /// In flight in the low bits, draining in ``drainingBit``.
    private let state = Atomic<Int>(0)
    private static let drainingBit = 1 << 62

    public init(configuration: AdmissionConfiguration = .init(), metrics: EngineMetrics = EngineMetrics()) {
        precondition(configuration.maximumInFlight > 0, "the in-flight bound must be positive")
        self.configuration = configuration
        self.metrics = metrics
    }

    /// The deadline of a request received at `receivedAt` that asked for `budget` (`nil` or zero:
    /// the default), cut to the maximum budget.
    public func deadline(receivedAt: ContinuousClock.Instant, budget: Duration?) -> ContinuousClock.Instant {
        guard let budget, budget > .zero else { return receivedAt + configuration.defaultBudget }
        return receivedAt + min(budget, configuration.maximumBudget)
    }

    /// Takes a slot for a request that arrived at `receivedAt`, or says why not: draining,
    /// every slot taken, or already waited past the queueing bound or its deadline by `now`.
    public func admit(
        receivedAt: ContinuousClock.Instant,
        deadline: ContinuousClock.Instant,
        now: ContinuousClock.Instant = .now
    ) throws(RankError) -> Ticket {
        var current = state.load(ordering: .relaxed)
        while true {
            if current & Self.drainingBit != 0 {
                throw refuse(RankError(.shuttingDown, "the server is shutting down"), receivedAt: receivedAt)
            }
            guard current < configuration.maximumInFlight else {
                throw refuse(
                    RankError(.overloaded, "more than \(configuration.maximumInFlight) requests in flight on this server"),
                    receivedAt: receivedAt
                )
            }
            let (exchanged, original) = state.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .acquiringAndReleasing
            )
            if exchanged { break }
            current = original
        }
        let ticket = Ticket(receivedAt: receivedAt, deadline: deadline)
        if let error = queueingError(ticket, now: now) {
            state.subtract(1, ordering: .acquiringAndReleasing)
            throw refuse(error, receivedAt: receivedAt)
        }
        metrics.inFlight.record(current + 1)
        return ticket
    }

    /// Why an admitted request should not be started now, having waited since it arrived:
    /// `nil` when it may start. Call it when work on the request begins after a queue.
    public func queueingError(_ ticket: Ticket, now: ContinuousClock.Instant) -> RankError? {
        let waited = now - ticket.receivedAt
        if waited > configuration.maximumQueueing {
            return RankError(.overloaded, "waited \(waited.microseconds) µs in queue, more than \(configuration.maximumQueueing.microseconds) µs")
        }
        if now >= ticket.deadline {
            return RankError(.overloaded, "waited \(waited.microseconds) µs in queue, past the request's deadline")
        }
        return nil
    }

    /// Gives back the slot of an answered request and records its outcome and server time.
    public func finish(_ ticket: Ticket, outcome: Result<Decision, RankError>) {
        let remaining = state.subtract(1, ordering: .acquiringAndReleasing).newValue & ~Self.drainingBit
        metrics.inFlight.record(remaining)
        record(outcome, receivedAt: ticket.receivedAt)
    }

    /// Records a request refused before it was admitted, by a bound kept elsewhere (a
    /// connection's own in-flight bound): counted like the refusals here.
    public func refuse(_ error: RankError, receivedAt: ContinuousClock.Instant) -> RankError {
        record(.failure(error), receivedAt: receivedAt)
        return error
    }

    /// Refuses every request from now on; returns how many are still in flight.
    @discardableResult
    public func beginDraining() -> Int {
        state.bitwiseOr(Self.drainingBit, ordering: .acquiringAndReleasing).newValue & ~Self.drainingBit
    }

    public var isDraining: Bool { state.load(ordering: .acquiring) & Self.drainingBit != 0 }

    /// Requests admitted and not yet finished.
    public var inFlight: Int { state.load(ordering: .relaxed) & ~Self.drainingBit }

    private func record(_ outcome: Result<Decision, RankError>, receivedAt: ContinuousClock.Instant) {
        switch outcome {
        case .success(let decision):
            metrics.recordRank(outcome: decision.degraded.isEmpty ? "ok" : "degraded", duration: .now - receivedAt)
        case .failure(let error):
            if error.code == .overloaded { metrics.overloadRejections.increment() }
            metrics.recordRank(outcome: error.code.name, duration: .now - receivedAt)
        }
    }
}

