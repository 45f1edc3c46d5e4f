public import CouponRankCore
import CouponRankWire
import Foundation
public import NIOCore

/// Everything a trainer needs to resume exactly where it stopped (proto-spec/EVENTS.md §6.3): the
/// learned statistics and counters, and the entries they newly hold, which are acknowledged right
/// after the checkpoint's one `SET`.
///
/// Decisions inside their reward window, and rewards not yet sealed, are not in it: they stay
/// unacknowledged in the consumer's pending list, which a restarted trainer reads again. Of what it
/// reads again, the entries listed here are acknowledged without being processed (a stop between
/// the `SET` and the `XACK`); every other one was never counted. The checkpoint's size is the
/// statistics plus about a second of entry ids, whatever the reward window.
public struct TrainerCheckpoint: Sendable {
    /// The model kind and feature schema the statistics belong to (``schemaFingerprint(of:)``).
    public var schema: String
    public var partition: TrainerConfiguration.Partition
    /// The newest entry read from each stream (for lineage and status).
    public var decisionsPosition: StreamID
    public var rewardsPosition: StreamID
    public var publishSequence: Int
    public var lastPublished: String
    public var counters: RewardJoin.Counters
    public var excludedDegraded: Int
    public var learner: OnlineLearner
    /// The entries this checkpoint newly holds, acknowledged right after it is written.
    public var acknowledgedDecisions: [StreamID]
    public var acknowledgedRewards: [StreamID]

    public init(
        schema: String,
        partition: TrainerConfiguration.Partition,
        decisionsPosition: StreamID,
        rewardsPosition: StreamID,
        publishSequence: Int,
        lastPublished: String,
        counters: RewardJoin.Counters,
        excludedDegraded: Int,
        learner: OnlineLearner,
        acknowledgedDecisions: [StreamID],
        acknowledgedRewards: [StreamID]
    ) {
        self.schema = schema
        self.partition = partition
        self.decisionsPosition = decisionsPosition
        self.rewardsPosition = rewardsPosition
        self.publishSequence = publishSequence
        self.lastPublished = lastPublished
        self.counters = counters
        self.excludedDegraded = excludedDegraded
        self.learner = learner
        self.acknowledgedDecisions = acknowledgedDecisions
        self.acknowledgedRewards = acknowledgedRewards
    }

    /// The model kind, dimension and FNV-1a 64 of the feature schema's JSON: statistics of one
    /// schema cannot be resumed under another, even of the same dimension.
    public static func schemaFingerprint(of definition: ModelDefinition) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var hash = FeatureHash()
        for byte in (try? encoder.encode(definition.features)) ?? Data() { hash.combine(byte) }
        return "\(definition.kind.rawValue)/\(definition.features.dimension)/\(String(hash.value, radix: 16))"
    }

    static let format: UInt8 = 2

    public func encode() -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 1024 + 8 * learner.schema.dimension * (learner.schema.dimension + 2))
        buffer.writeInteger(Self.format)
        buffer.writeString16(schema)
        buffer.writeInteger(UInt32(partition.index))
        buffer.writeInteger(UInt32(partition.count))
        buffer.writeString16(decisionsPosition.description)
        buffer.writeString16(rewardsPosition.description)
        buffer.writeInteger(UInt64(publishSequence))
        buffer.writeString16(lastPublished)
        let counterBytes = (try? JSONEncoder().encode(counters)) ?? Data("{}".utf8)
        buffer.writeInteger(UInt32(counterBytes.count))
        buffer.writeBytes(counterBytes)
        buffer.writeInteger(UInt64(excludedDegraded))
        var learnerBytes = ByteBufferAllocator().buffer(capacity: 0)
        learner.encode(into: &learnerBytes)
        buffer.writeInteger(UInt32(learnerBytes.readableBytes))
        buffer.writeBuffer(&learnerBytes)
        for ids in [acknowledgedDecisions, acknowledgedRewards] {
            buffer.writeInteger(UInt32(ids.count))
            for id in ids {
                buffer.writeInteger(id.milliseconds)
                buffer.writeInteger(id.sequence)
            }
        }
        return buffer
    }

    /// A checkpoint written by ``encode()`` for a base model of the same kind and schema.
    public init(decoding bytes: [UInt8], base: ModelDefinition) throws {
        var buffer = ByteBuffer(bytes: bytes)
        let format = try buffer.readRequired(UInt8.self, field: "checkpoint format")
        guard format == Self.format else {
            throw TrainerError("the checkpoint's format is \(format), this trainer reads \(Self.format)")
        }
        schema = try buffer.readString16(field: "schema")
        let expected = Self.schemaFingerprint(of: base)
        guard schema == expected else {
            throw TrainerError("the checkpoint holds statistics of model schema \(schema), the base model's is \(expected)")
        }
        let index = Int(try buffer.readRequired(UInt32.self, field: "partition index"))
        let count = Int(try buffer.readRequired(UInt32.self, field: "partition count"))
        guard count >= 1, index < count else { throw TrainerError("the checkpoint's partition \(index)/\(count) is invalid") }
        partition = .init(index: index, count: count)
        guard let decisions = StreamID(try buffer.readString16(field: "decisions position")),
              let rewards = StreamID(try buffer.readString16(field: "rewards position"))
        else { throw TrainerError("the checkpoint's stream positions are not stream ids") }
        decisionsPosition = decisions
        rewardsPosition = rewards
        publishSequence = Int(try buffer.readRequired(UInt64.self, field: "publish sequence"))
        lastPublished = try buffer.readString16(field: "last published")
        let counterLength = Int(try buffer.readRequired(UInt32.self, field: "counters length"))
        guard let counterBytes = buffer.readBytes(length: counterLength) else { throw TrainerError("the checkpoint's counters are cut short") }
        counters = try JSONDecoder().decode(RewardJoin.Counters.self, from: Data(counterBytes))
        excludedDegraded = Int(try buffer.readRequired(UInt64.self, field: "excluded"))
        let learnerLength = Int(try buffer.readRequired(UInt32.self, field: "learner length"))
        guard var learnerBytes = buffer.readSlice(length: learnerLength) else { throw TrainerError("the checkpoint's statistics are cut short") }
        learner = try OnlineLearner(base: base, checkpoint: &learnerBytes)
        func ids(_ field: String) throws -> [StreamID] {
            let count = Int(try buffer.readRequired(UInt32.self, field: "\(field) count"))
            guard buffer.readableBytes >= 16 * count else { throw TrainerError("the checkpoint's \(field) are cut short") }
            return try (0..<count).map { _ in
                StreamID(milliseconds: try buffer.readRequired(UInt64.self, field: field), sequence: try buffer.readRequired(UInt64.self, field: field))
            }
        }
        acknowledgedDecisions = try ids("acknowledged decisions")
        acknowledgedRewards = try ids("acknowledged rewards")
    }
}

/// A trainer that cannot go on, and why.
public struct TrainerError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
