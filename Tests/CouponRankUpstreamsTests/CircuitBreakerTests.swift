import CouponRankUpstreams
import Testing

@Suite struct CircuitBreakerTests {
    @Test func opensWhenMostRecentCallsFailAndProbesAfterTheOpenDuration() {
        let breaker = CircuitBreaker(window: 10, minimumCalls: 4, failureRatio: 0.5, openDuration: .milliseconds(100))
        let start = ContinuousClock.now
        for _ in 0..<3 { breaker.recordFailure(now: start) }
        #expect(breaker.state == .closed)  // fewer calls than the minimum
        breaker.recordFailure(now: start)
        #expect(breaker.state == .open)
        #expect(!breaker.allowCall(now: start + .milliseconds(50)))
        #expect(breaker.allowCall(now: start + .milliseconds(100)))  // the probe
        #expect(breaker.state == .halfOpen)
        #expect(!breaker.allowCall(now: start + .milliseconds(101)))  // one probe at a time
        breaker.recordFailure(now: start + .milliseconds(110))
        #expect(breaker.state == .open)
        #expect(breaker.allowCall(now: start + .milliseconds(210)))
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
    }

    @Test func aSlowButMostlyWorkingUpstreamStaysInUse() {
        let breaker = CircuitBreaker(window: 20, minimumCalls: 10, failureRatio: 0.5)
        // A third of the calls fail, in runs of four: at most 8 of any 20 consecutive calls.
        #expect(CircuitBreaker().failureRatio == 0.8)
        let pattern = [false, false, false, false, false, false, false, false, true, true, true, true]
        for _ in 0..<20 {
            for failed in pattern {
                if failed { breaker.recordFailure() } else { breaker.recordSuccess() }
                #expect(breaker.state == .closed)
            }
        }
    }
}
