import Synchronization

/// Stops calling an upstream that mostly fails, so a dead upstream costs nothing per request
/// until it recovers.
///
/// The breaker watches the outcomes of the last `window` calls. Once at least `minimumCalls` are
/// in the window and the share of failures reaches `failureRatio`, it opens: calls fail at once.
/// After `openDuration` one probe call is let through (half-open); its success closes the breaker
/// with an empty window, its failure opens it again. The default share is four fifths: a dead or
/// hanging upstream fails nearly every call and is cut off, while a slow one that still answers,
/// say, 60% of calls in time stays in use — its answers are better than the defaults.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable, Hashable {
        case closed, open, halfOpen = "half_open"
    }

    public let window: Int
    public let minimumCalls: Int
    public let failureRatio: Double
    public let openDuration: Duration
    private let machine: Mutex<Machine>

    struct Machine {
        var state: State = .closed
        /// Outcomes of the last calls, newest in bit 0; 1 = failure.
        var outcomes: UInt64 = 0
        var calls = 0
        var openedAt: ContinuousClock.Instant?
        var probeInFlight = false

        mutating func note(failure: Bool, window: Int) {
            outcomes = (outcomes << 1) | (failure ? 1 : 0)
            if window < 64 { outcomes &= (1 << UInt64(window)) - 1 }
            calls = min(calls + 1, window)
        }

        var failures: Int { outcomes.nonzeroBitCount }
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

    /// Whether a call may go out now.
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

    public func recordSuccess() {
        machine.withLock { machine in
            if machine.state == .halfOpen {
                machine = Machine()  // recovered: start from a clean window
                return
            }
            machine.probeInFlight = false
            machine.note(failure: false, window: window)
        }
    }

    public func recordFailure(now: ContinuousClock.Instant = .now) {
        machine.withLock { machine in
            machine.probeInFlight = false
            if machine.state == .halfOpen {
                machine.state = .open
                machine.openedAt = now
                return
            }
            machine.note(failure: true, window: window)
            if machine.calls >= minimumCalls, Double(machine.failures) >= failureRatio * Double(machine.calls) {
                machine.state = .open
                machine.openedAt = now
            }
        }
    }
}
