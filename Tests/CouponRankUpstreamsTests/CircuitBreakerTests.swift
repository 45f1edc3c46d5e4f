import CouponRankUpstreams
import Testing

/// The breaker as a state machine: every (state, event) pair, with an injected clock.
@Suite struct CircuitBreakerTests {
    typealias Event = CircuitBreaker.Event

    static let start = ContinuousClock.now

    /// A breaker driven to `state` at `start`: window 10, at least 4 calls, half failing opens, 100 ms open.
    static func breaker(in state: CircuitBreaker.State) -> CircuitBreaker {
        let breaker = CircuitBreaker(window: 10, minimumCalls: 4, failureRatio: 0.5, openDuration: .milliseconds(100))
        guard state != .closed else { return breaker }
        for _ in 0..<4 {
            _ = breaker.allowCall(now: start)
            breaker.record(.failure, at: start)
        }
        if state == .halfOpen { _ = breaker.allowCall(now: start + .milliseconds(100)) }
        #expect(breaker.state == state)
        return breaker
    }

    @Test func opensWhenMostRecentCallsFailAndProbesAfterTheOpenDuration() {
        let breaker = CircuitBreaker(window: 10, minimumCalls: 4, failureRatio: 0.5, openDuration: .milliseconds(100))
        let start = Self.start
        for _ in 0..<3 { breaker.record(.failure, at: start) }
        #expect(breaker.state == .closed)  // fewer calls than the minimum
        breaker.record(.failure, at: start)
        #expect(breaker.state == .open)
        #expect(!breaker.allowCall(now: start + .milliseconds(50)))
        #expect(breaker.allowCall(now: start + .milliseconds(100)))  // the probe
        #expect(breaker.state == .halfOpen)
        #expect(!breaker.allowCall(now: start + .milliseconds(101)))  // one probe at a time
        breaker.record(.failure, at: start + .milliseconds(110))
        #expect(breaker.state == .open)
        #expect(breaker.allowCall(now: start + .milliseconds(210)))
        breaker.record(.success, at: start + .milliseconds(211))
        #expect(breaker.state == .closed)
    }

    @Test(arguments: Event.allCases)
    func everyEventInTheClosedStateKeepsItClosedUntilFailuresReachTheRatio(event: Event) {
        let breaker = Self.breaker(in: .closed)
        for _ in 0..<10 where breaker.allowCall(now: Self.start) {
            breaker.record(event, at: Self.start)
        }
        // Only failures count towards opening; 404s are answers, timeouts, cancellations and
        // rejections are not counted at all.
        #expect(breaker.state == (event == .failure ? .open : .closed))
    }

    @Test(arguments: Event.allCases)
    func theHalfOpenProbesOutcomeDecidesTheNextState(event: Event) {
        let breaker = Self.breaker(in: .halfOpen)
        let now = Self.start + .milliseconds(120)
        breaker.record(event, at: now)
        switch event {
        case .success, .notFound:
            #expect(breaker.state == .closed)
            #expect(breaker.allowCall(now: now))
        case .failure, .timeout:
            #expect(breaker.state == .open)
            #expect(!breaker.allowCall(now: now + .milliseconds(99)))
            #expect(breaker.allowCall(now: now + .milliseconds(100)), "probes again after the open duration")
        case .cancelled, .rejected:
            // The probe never got an answer: its slot is free and the next call probes.
            #expect(breaker.state == .halfOpen)
            #expect(breaker.allowCall(now: now))
            #expect(!breaker.allowCall(now: now), "still one probe at a time")
        }
    }

    @Test(arguments: Event.allCases)
    func aLateOutcomeOfACallFromBeforeTheOpeningChangesNothing(event: Event) {
        let breaker = Self.breaker(in: .open)
        breaker.record(event, at: Self.start + .milliseconds(10))
        #expect(breaker.state == .open)
        #expect(!breaker.allowCall(now: Self.start + .milliseconds(50)))
        #expect(breaker.allowCall(now: Self.start + .milliseconds(100)))
    }

    @Test func aTimedOutProbeNoLongerLeavesTheUpstreamCutOffForGood() {
        let breaker = Self.breaker(in: .halfOpen)
        breaker.record(.timeout, at: Self.start + .milliseconds(150))
        #expect(breaker.allowCall(now: Self.start + .milliseconds(250)))
        breaker.record(.success, at: Self.start + .milliseconds(251))
        #expect(breaker.state == .closed)
    }

    @Test func aSlowButMostlyWorkingUpstreamStaysInUse() {
        let breaker = CircuitBreaker(window: 20, minimumCalls: 10, failureRatio: 0.5)
        // A third of the calls fail, in runs of four: at most 8 of any 20 consecutive calls.
        #expect(CircuitBreaker().failureRatio == 0.8)
        let pattern = [false, false, false, false, false, false, false, false, true, true, true, true]
        for _ in 0..<20 {
            for failed in pattern {
                breaker.record(failed ? .failure : .success)
                #expect(breaker.state == .closed)
            }
        }
    }
}
