public import CouponRankEngine
import CouponRankCore
import NIOCore

/// The decision sink that logs decisions to `events:decisions` (proto-spec/EVENTS.md §2).
///
/// On the request path it only samples and queues the decision; the record is encoded on the
/// writer's thread.
public struct DecisionLog: DecisionSink {
    public let writer: EventStreamWriter<Decision>
    /// The fraction of decisions logged, chosen by event id so that a replica and a replay agree.
    public let sampleRate: Double

    public init(writer: EventStreamWriter<Decision>, sampleRate: Double = 1) {
        precondition((0...1).contains(sampleRate), "the sample rate must be in 0...1")
        self.writer = writer
        self.sampleRate = sampleRate
    }

    public func record(_ decision: Decision) {
        guard Self.isSampled(eventID: decision.eventID, rate: sampleRate) else { return }
        writer.submit(decision)
    }

    /// Whether a decision is logged at `rate`: FNV-1a 64 of its event id, as a fraction of 2⁶⁴, below the rate.
    public static func isSampled(eventID: String, rate: Double) -> Bool {
        if rate >= 1 { return true }
        if rate <= 0 { return false }
        var hash = FeatureHash()
        hash.combine(eventID)
        return Double(hash.value >> 11) * 0x1.0p-53 < rate
    }
}

extension Decision: StreamEntry {
    /// One field, `body`: the record of EVENTS.md §2.2.
    public func streamFields() -> [[UInt8]] {
        var buffer = ByteBufferAllocator().buffer(capacity: 256 + 128 * ranked.count)
        LoggedDecision(self).encode(into: &buffer)
        return [Self.bodyField, Array(buffer.readableBytesView)]
    }

    private static let bodyField = Array("body".utf8)
}

extension Reward: StreamEntry {
    public func streamFields() -> [[UInt8]] {
        fields.flatMap { [Array($0.0.utf8), Array($0.1.utf8)] }
    }
}

/// The reward sink that logs rewards to `events:rewards` (proto-spec/EVENTS.md §3).
public struct RewardLog: RewardSink {
    public let writer: EventStreamWriter<Reward>

    public init(writer: EventStreamWriter<Reward>) {
        self.writer = writer
    }

    public func record(_ reward: Reward) -> Bool {
        writer.submit(reward)
    }
}
