import Synchronization

/// A counter with a ceiling: the bound on requests in flight.
final class InFlightLimiter: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) {
        precondition(limit > 0)
        self.limit = limit
    }

    /// Takes a slot, or returns false when all are taken.
    func tryAcquire() -> Bool {
        var current = count.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = count.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .acquiringAndReleasing
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Returns a slot; the number still taken.
    @discardableResult
    func release() -> Int {
        count.subtract(1, ordering: .acquiringAndReleasing).newValue
    }

    var inFlight: Int { count.load(ordering: .relaxed) }
}
