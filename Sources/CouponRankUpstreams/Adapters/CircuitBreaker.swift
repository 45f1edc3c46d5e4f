import Synchronization

/// Stops calling an upstream that keeps failing, so a dead upstream costs nothing per request
/// until it recovers: after `failureThreshold` consecutive failures the breaker opens and calls
/// fail at once; after `openDuration` one probe call is let through (half-open), whose outcome
/// closes or reopens it.
public final class CircuitBreaker: Sendable {
    public enum State: String, Sendable, Hashable {
        case closed, open, halfOpen = "half_open"
    }

    public let failureThreshold: Int
    public let openDuration: Duration
    private let machine: Mutex<Machine>

    struct Machine {
        var state: State = .closed
        var consecutiveFailures = 0
        var openedAt: ContinuousClock.Instant?
        var probeInFlight = false
    }

    public init(failureThreshold: Int = 5, openDuration: Duration = .seconds(5)) {
        precondition(failureThreshold > 0 && openDuration > .zero)
        self.failureThreshold = failureThreshold
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
            machine.state = .closed
            machine.consecutiveFailures = 0
            machine.openedAt = nil
            machine.probeInFlight = false
        }
    }

    public func recordFailure(now: ContinuousClock.Instant = .now) {
        machine.withLock { machine in
            machine.consecutiveFailures += 1
            machine.probeInFlight = false
            if machine.state == .halfOpen || machine.consecutiveFailures >= failureThreshold {
                machine.state = .open
                machine.openedAt = now
            }
        }
    }
}
