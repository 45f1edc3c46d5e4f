import Synchronization

/// Stops calling an upstream that mostly fails, so a dead upstream costs nothing per request
/// until it recovers (proto-spec/UPSTREAMS.md §5).
///
/// A state machine: every call that was let through ends in exactly one ``Event``, and every
/// (state, event) pair has one action (``Machine/apply(_:at:)``). In the closed state the breaker
/// watches the outcomes of the last `window` answered calls; once at least `minimumCalls` are in
/// the window and the share of failures reaches `failureRatio`, it opens: calls fail at once.
/// After `openDuration` one probe call is let through (half-open). The probe's answer decides:
/// success (or an answer that the user is unknown) closes the breaker with an empty window; a
/// failure or a timeout reopens it; a probe that never reached the service (cancelled, or refused
/// by the in-flight bound) gives the probe slot back, so the next call probes instead.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable, Hashable {
        case closed, open, halfOpen = "half_open"
    }

    /// How a call that was let through ended.
    public enum Event: Sendable, Hashable, CaseIterable {
        /// A 2xx answer with a valid body.
        case success
        /// A 404: the service answered that it does not know the user; the service is healthy.
        case notFound
        /// A refused or broken connection, a non-2xx status other than 404, a bad body.
        case failure
        /// No complete answer within the call's timeout.
        case timeout
        /// The call was abandoned by its rank before it ended.
        case cancelled
        /// The call never went out: too many calls in flight in this process.
        case rejected
    }

    public let window: Int
    public let minimumCalls: Int
    public let failureRatio: Double
    public let openDuration: Duration
    private let machine: Mutex<Machine>

    struct Machine {
        var state: State = .closed
        /// Outcomes of the last answered calls, newest in bit 0; 1 = failure.
        var outcomes: UInt64 = 0
        var calls = 0
        var openedAt: ContinuousClock.Instant?
        var probeInFlight = false

        var failures: Int { outcomes.nonzeroBitCount }

        mutating func note(failure: Bool, window: Int) {
            outcomes = (outcomes << 1) | (failure ? 1 : 0)
            if window < 64 { outcomes &= (1 << UInt64(window)) - 1 }
            calls = min(calls + 1, window)
        }

        mutating func open(at now: ContinuousClock.Instant) {
            state = .open
            openedAt = now
            probeInFlight = false
        }
    }

    public init(window: Int = 20, minimumCalls: Int = 10, failureRatio: Double = 0.8, openDuration: Duration = .seconds(5)) {
        precondition((1...64).contains(window) && (1...window).contains(minimumCalls))
        precondition(failureRatio > 0 && failureRatio <= 1 && openDuration > .zero)
        self.window = window
        self.minimumCalls = minimumCalls
        self.failureRatio = failureRatio
        self.openDuration = openDuration
        self.machine = Mutex(Machine())
    }

    public var state: State { machine.withLock { $0.state } }

    /// Whether a call may go out now. A call let through must end in exactly one ``record(_:at:)``.
    public func allowCall(now: ContinuousClock.Instant = .now) -> Bool {
        machine.withLock { machine in
            switch machine.state {
            case .closed:
                return true
            case .open:
                guard let openedAt = machine.openedAt, now - openedAt >= openDuration else { return false }
                machine.state = .halfOpen
                machine.probeInFlight = true
                return true
            case .halfOpen:
                guard !machine.probeInFlight else { return false }
                machine.probeInFlight = true
                return true
            }
        }
    }

    /// How a call that ``allowCall(now:)`` let through ended.
    public func record(_ event: Event, at now: ContinuousClock.Instant = .now) {
        machine.withLock { machine in
            switch (machine.state, event) {
            case (.closed, .success), (.closed, .notFound):
                machine.note(failure: false, window: window)
            case (.closed, .failure):
                machine.note(failure: true, window: window)
                if machine.calls >= minimumCalls, Double(machine.failures) >= failureRatio * Double(machine.calls) {
                    machine.open(at: now)
                }
            case (.closed, .timeout), (.closed, .cancelled), (.closed, .rejected):
                // Timeouts are bounded by their deadline already, and under overload they come
                // from our own queueing as much as from the upstream; the others never got an answer.
                break
            case (.halfOpen, .success), (.halfOpen, .notFound):
                machine = Machine()  // recovered: start from a clean window
            case (.halfOpen, .failure), (.halfOpen, .timeout):
                machine.open(at: now)
            case (.halfOpen, .cancelled), (.halfOpen, .rejected):
                machine.probeInFlight = false  // the probe never got an answer: the next call probes
            case (.open, _):
                // A call that started before the breaker opened: it does not reopen or close it.
                break
            }
        }
    }
}
