import Synchronization

/// How many bytes of unfinished frames a server holds at once, across all its connections.
///
/// A frame of up to the maximum size is buffered whole before it is handled, so without a bound
/// many peers that each start a large frame and never finish it could hold gigabytes. A decoder
/// reserves a frame's length here as soon as the frame is known to be large and unfinished, and
/// gives it back when the frame completes or the connection goes.
public final class FrameBufferBudget: Sendable {
    public let limit: Int
    /// Frames up to this size are not counted: small frames cannot add up to much per connection.
    public let threshold: Int
    private let reserved = Atomic<Int>(0)

    public init(limit: Int, threshold: Int = 64 << 10) {
        precondition(limit > 0 && threshold >= 0)
        self.limit = limit
        self.threshold = threshold
    }

    /// Bytes reserved now.
    public var inUse: Int { reserved.load(ordering: .relaxed) }

    /// Reserves `bytes`; `nil` when that would pass the limit.
    func reserve(_ bytes: Int) -> Reservation? {
        let after = reserved.add(bytes, ordering: .relaxed).newValue
        guard after <= limit else {
            reserved.subtract(bytes, ordering: .relaxed)
            return nil
        }
        return Reservation(budget: self, bytes: bytes)
    }

    /// Bytes held for one unfinished frame, given back when released or dropped.
    final class Reservation: Sendable {
        let budget: FrameBufferBudget
        let bytes: Int
        private let released = Atomic<Bool>(false)

        init(budget: FrameBufferBudget, bytes: Int) {
            self.budget = budget
            self.bytes = bytes
        }

        func release() {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            budget.reserved.subtract(bytes, ordering: .relaxed)
        }

        deinit {
            release()
        }
    }
}
