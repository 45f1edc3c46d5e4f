public import CouponRankEngine
import CouponRankCore
import NIOCore

/// The decision sink that logs decisions to `events:decisions` (proto-spec/EVENTS.md §2).
///
/// On the request path it only samples and queues the decision; the record (and the unshown
/// candidates, when the decision carries them) is encoded on the writer's thread.
public struct DecisionLog: DecisionSink {
    /// One entry of `events:decisions`: a decision, and whether the entry also carries its unshown
    /// eligible candidates (the `candidates` field, EVENTS.md §2.5).
    public struct Entry: StreamEntry {
        public var decision: Decision
        public var includesCandidates: Bool

        public init(_ decision: Decision, includesCandidates: Bool = false) {
            self.decision = decision
            self.includesCandidates = includesCandidates
        }

        public var eventID: String { decision.eventID }

        /// `body`, the record of EVENTS.md §2.2; then, when included, `candidates` (§2.5); then,
        /// when rules applied, `rules` (§2.6).
        public func streamFields() -> [[UInt8]] {
            let record = LoggedDecision(decision, includingCandidates: includesCandidates)
            var buffer = ByteBufferAllocator().buffer(capacity: 256 + 128 * decision.ranked.count)
            record.encode(into: &buffer)
            var fields = [Self.bodyField, Array(buffer.readableBytesView)]
            if let candidates = record.candidates {
                buffer.clear(minimumCapacity: 3 + 128 * candidates.count)
                LoggedDecision.encodeCandidates(candidates, into: &buffer)
                fields += [Self.candidatesField, Array(buffer.readableBytesView)]
            }
            if let rules = record.rules {
                buffer.clear()
                LoggedDecision.encodeRules(rules, into: &buffer)
                fields += [Self.rulesField, Array(buffer.readableBytesView)]
            }
            return fields
        }

        private static let bodyField = Array("body".utf8)
        private static let candidatesField = Array("candidates".utf8)
        private static let rulesField = Array("rules".utf8)
    }

    public let writer: EventStreamWriter<Entry>
    /// The fraction of decisions logged, chosen by event id so that a replica and a replay agree.
    public let sampleRate: Double
    /// The fraction of logged decisions whose entry also carries the unshown eligible candidates,
    /// chosen by the same hash of the event id (EVENTS.md §2.5).
    public let candidatesRate: Double

    public init(writer: EventStreamWriter<Entry>, sampleRate: Double = 1, candidatesRate: Double = 0) {
        precondition((0...1).contains(sampleRate), "the sample rate must be in 0...1")
        precondition((0...1).contains(candidatesRate), "the candidates rate must be in 0...1")
        self.writer = writer
        self.sampleRate = sampleRate
        self.candidatesRate = candidatesRate
    }

    public func record(_ decision: Decision) {
        guard Self.isSampled(eventID: decision.eventID, rate: sampleRate) else { return }
        // Below `sampleRate · candidatesRate` on the same scale as the sampling: a fraction
        // `candidatesRate` of the logged decisions, the same ones on every engine.
        let includesCandidates = Self.isSampled(eventID: decision.eventID, rate: sampleRate * candidatesRate)
        writer.submit(Entry(decision, includesCandidates: includesCandidates))
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
