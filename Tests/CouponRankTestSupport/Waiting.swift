public import CouponRankClient
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

extension CouponRankClient {
    /// A client whose calls wait up to 10 s unless they say otherwise: tests check answers, not
    /// speed, and a busy CI machine running a debug build may take far longer than production.
    public static func connectForTesting(host: String, port: Int) async throws -> CouponRankClient {
        try await connect(host: host, port: port, defaultTimeout: .seconds(10))
    }
}
