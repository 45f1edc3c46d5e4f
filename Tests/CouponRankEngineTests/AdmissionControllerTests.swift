import CouponRankCore
import CouponRankEngine
import Dispatch
import Foundation
import MetricsTestKit
import Synchronization
import Testing

/// The one admission path every port uses.
@Suite struct AdmissionControllerTests {
    private let metrics = TestMetrics()

    private func controller(maximumInFlight: Int = 3, maximumQueueing: Duration = .seconds(10)) -> AdmissionController {
        AdmissionController(
            configuration: AdmissionConfiguration(
                maximumInFlight: maximumInFlight,
                maximumQueueing: maximumQueueing,
                defaultBudget: .milliseconds(100),
                maximumBudget: .seconds(1)
            ),
            metrics: EngineMetrics(factory: metrics)
        )
    }

    private func ranks(_ outcome: String) -> Int64 {
        metrics.counterTotal(label: "couponrank_ranks_total", dimensions: [("outcome", outcome)])
    }

    private func decision() -> Decision {
        Decision(
            eventID: "e",
            easyID: "1",
            modelVersion: "v",
            degraded: [],
            candidates: [],
            scores: BatchScores(),
            exploration: Exploration(policy: .greedy, seed: 0, ranked: [], eligible: 0),
            timings: .init()
        )
    }

    @Test func beyondTheBoundRequestsAreOverloadedAndAFinishedOneFreesItsSlot() throws {
        let admission = controller(maximumInFlight: 2)
        let now = ContinuousClock.now
        let first = try admission.admit(receivedAt: now, deadline: now + .seconds(1))
        _ = try admission.admit(receivedAt: now, deadline: now + .seconds(1))
        let refused = #expect(throws: RankError.self) { try admission.admit(receivedAt: now, deadline: now + .seconds(1)) }
        #expect(refused?.code == .overloaded)
        #expect(admission.inFlight == 2)

        admission.finish(first, outcome: .success(decision()))
        #expect(admission.inFlight == 1)
        _ = try admission.admit(receivedAt: .now, deadline: .now + .seconds(1))

        #expect(ranks("ok") == 1)
        #expect(ranks("OVERLOADED") == 1)
        #expect(metrics.counterTotal(label: "couponrank_overload_rejections_total") == 1)
    }

    @Test func afterTheDrainBeginsEveryRequestIsShuttingDownAndTheCountIsExact() throws {
        let admission = controller(maximumInFlight: 100)
        let now = ContinuousClock.now
        let ticket = try admission.admit(receivedAt: now, deadline: now + .seconds(1))
        #expect(admission.beginDraining() == 1)
        #expect(admission.isDraining)
        let refused = #expect(throws: RankError.self) { try admission.admit(receivedAt: .now, deadline: .now + .seconds(1)) }
        #expect(refused?.code == .shuttingDown)
        admission.finish(ticket, outcome: .failure(RankError(.noCandidates, "none")))
        #expect(admission.inFlight == 0)
        #expect(ranks("SHUTTING_DOWN") == 1)
        #expect(ranks("NO_CANDIDATES") == 1)
    }

    @Test func noRequestSlipsInBetweenTheDrainAndItsCount() throws {
        // Threads admit as fast as they can while the drain begins: whatever was admitted before
        // it is exactly the count the drain returns; nothing is admitted after it.
        for _ in 0..<5 {
            let admission = controller(maximumInFlight: 1_000_000)
            let admitted = Atomic<Int>(0)
            let afterDrain = Atomic<Int>(0)
            let drained = Atomic<Bool>(false)
            let counted = Atomic<Int>(-1)
            DispatchQueue.concurrentPerform(iterations: 3) { worker in
                if worker == 0 {
                    for _ in 0..<200 { _ = admission.inFlight }
                    counted.store(admission.beginDraining(), ordering: .sequentiallyConsistent)
                    drained.store(true, ordering: .sequentiallyConsistent)
                    return
                }
                for _ in 0..<2_000 {
                    let wasDrained = drained.load(ordering: .sequentiallyConsistent)
                    if (try? admission.admit(receivedAt: .now, deadline: .now + .seconds(10))) != nil {
                        admitted.add(1, ordering: .relaxed)
                        if wasDrained { afterDrain.add(1, ordering: .relaxed) }
                    }
                }
            }
            #expect(afterDrain.load(ordering: .relaxed) == 0)
            #expect(counted.load(ordering: .relaxed) == admitted.load(ordering: .relaxed))
            #expect(admission.inFlight == admitted.load(ordering: .relaxed))
        }
    }

    @Test func aRequestThatWaitedPastTheQueueingBoundOrItsDeadlineIsOverloaded() throws {
        let admission = controller(maximumQueueing: .milliseconds(2))
        let now = ContinuousClock.now
        let stale = #expect(throws: RankError.self) {
            try admission.admit(receivedAt: now - .milliseconds(5), deadline: now + .seconds(1), now: now)
        }
        #expect(stale?.code == .overloaded)
        #expect(stale?.message.contains("in queue") == true)
        let late = #expect(throws: RankError.self) {
            try admission.admit(receivedAt: now - .microseconds(100), deadline: now - .microseconds(1), now: now)
        }
        #expect(late?.code == .overloaded)
        #expect(admission.inFlight == 0)

        let ticket = try admission.admit(receivedAt: now, deadline: now + .seconds(1), now: now)
        #expect(admission.queueingError(ticket, now: now + .milliseconds(1)) == nil)
        #expect(admission.queueingError(ticket, now: now + .milliseconds(3))?.code == .overloaded)
    }

    @Test func budgetsDefaultAndAreCut() {
        let admission = controller()
        let now = ContinuousClock.now
        #expect(admission.deadline(receivedAt: now, budget: nil) == now + .milliseconds(100))
        #expect(admission.deadline(receivedAt: now, budget: .zero) == now + .milliseconds(100))
        #expect(admission.deadline(receivedAt: now, budget: .milliseconds(30)) == now + .milliseconds(30))
        #expect(admission.deadline(receivedAt: now, budget: .seconds(60)) == now + .seconds(1))
    }

    @Test func theDefaultBoundFollowsTheCores() {
        #expect(AdmissionConfiguration.defaultMaximumInFlight == 256 * ProcessInfo.processInfo.activeProcessorCount)
    }
}
