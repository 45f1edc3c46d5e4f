public import CouponRankCore
public import CouponRankEvents
import CouponRankWire
import Foundation
public import NIOCore

/// Everything a trainer needs to resume exactly where it stopped (proto-spec/EVENTS.md §6.3):
/// the learned statistics, the decisions still inside their reward window with the rewards they
/// have, and the last stream entry each stream's share of them came from. It is written with one
/// `SET`, and entries are acknowledged only once a checkpoint holds them.
public struct TrainerCheckpoint: Sendable {
    public var baseVersion: String
    public var partition: TrainerConfiguration.Partition
    /// The newest entry of each stream whose effect the checkpoint holds.
    public var decisionsPosition: StreamID
    public var rewardsPosition: StreamID
    public var publishSequence: Int
    public var lastPublished: String
    public var counters: RewardJoin.Counters
    public var excludedDegraded: Int
    public var learner: OnlineLearner
    public var pending: [(streamID: StreamID, decision: LoggedDecision, rewarded: [Bool])]

    public init(
        baseVersion: String,
        partition: TrainerConfiguration.Partition,
        decisionsPosition: StreamID,
        rewardsPosition: StreamID,
        publishSequence: Int,
        lastPublished: String,
        counters: RewardJoin.Counters,
        excludedDegraded: Int,
        learner: OnlineLearner,
        pending: [(streamID: StreamID, decision: LoggedDecision, rewarded: [Bool])]
    ) {
        self.baseVersion = baseVersion
        self.partition = partition
        self.decisionsPosition = decisionsPosition
        self.rewardsPosition = rewardsPosition
        self.publishSequence = publishSequence
        self.lastPublished = lastPublished
        self.counters = counters
        self.excludedDegraded = excludedDegraded
        self.learner = learner
        self.pending = pending
    }

    static let format: UInt8 = 1

    public func encode() -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 1024 + 8 * learner.schema.dimension * (learner.schema.dimension + 2))
        buffer.writeInteger(Self.format)
        buffer.writeString16(baseVersion)
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
        buffer.writeInteger(UInt32(pending.count))
        for entry in pending {
            buffer.writeString16(entry.streamID.description)
            var body = ByteBufferAllocator().buffer(capacity: 1024)
            entry.decision.encode(into: &body)
            buffer.writeInteger(UInt32(body.readableBytes))
            buffer.writeBuffer(&body)
            buffer.writeInteger(UInt16(entry.rewarded.count))
            for flag in entry.rewarded { buffer.writeInteger(UInt8(flag ? 1 : 0)) }
        }
        return buffer
    }

    /// A checkpoint written by ``encode()`` for the same base model.
    public init(decoding bytes: [UInt8], base: ModelDefinition) throws {
        var buffer = ByteBuffer(bytes: bytes)
        guard try buffer.readRequired(UInt8.self, field: "checkpoint format") == Self.format else {
            throw TrainerError("the checkpoint's format is not \(Self.format)")
        }
        baseVersion = try buffer.readString16(field: "base version")
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
        let pendingCount = Int(try buffer.readRequired(UInt32.self, field: "pending count"))
        var pending: [(streamID: StreamID, decision: LoggedDecision, rewarded: [Bool])] = []
        pending.reserveCapacity(pendingCount)
        for _ in 0..<pendingCount {
            guard let id = StreamID(try buffer.readString16(field: "pending stream id")) else { throw TrainerError("a pending decision's stream id is invalid") }
            let length = Int(try buffer.readRequired(UInt32.self, field: "pending length"))
            guard var body = buffer.readSlice(length: length) else { throw TrainerError("a pending decision is cut short") }
            let decision = try LoggedDecision(body: &body)
            let flags = Int(try buffer.readRequired(UInt16.self, field: "rewarded count"))
            let rewarded = try (0..<flags).map { _ in try buffer.readRequired(UInt8.self, field: "rewarded") != 0 }
            pending.append((id, decision, rewarded))
        }
        self.pending = pending
    }
}

/// A trainer that cannot go on, and why.
public struct TrainerError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
