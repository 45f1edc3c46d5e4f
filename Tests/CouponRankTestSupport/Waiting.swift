public import CouponRankEngine
import Synchronization

/// Closed until a test opens it: a scripted source can wait at it (`.waitUntil { gate.isOpen }`),
/// so requests stay in flight for as long as the test needs, however busy the machine is.
public final class Gate: Sendable {
    private let opened = Atomic<Bool>(false)

    public init() {}

    public var isOpen: Bool { opened.load(ordering: .acquiring) }

    public func open() { opened.store(true, ordering: .releasing) }
}

extension AdmissionController {
    /// Waits until at least `count` requests are in flight, for at most `timeout`; whether they are.
    public func waitForInFlight(_ count: Int, timeout: Duration = .seconds(5)) async throws -> Bool {
        let end = ContinuousClock.now + timeout
        while inFlight < count, ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(5))
        }
        return inFlight >= count
    }
}
