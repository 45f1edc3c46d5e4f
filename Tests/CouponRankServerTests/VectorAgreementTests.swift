import CouponRankCore
import CouponRankEngine
import CouponRankServer
import CouponRankSources
import CouponRankTestSupport
import CouponRankWire
import NIOCore
import Testing

/// The rank vectors agree with each other: what the engine answers to the request vector, with
/// the sources and model of proto-spec/examples/vector-fixture.json, is the response vector.
@Suite struct VectorAgreementTests {
    @Test func theResponseVectorIsTheEnginesAnswerToTheRequestVector() async throws {
        let request = try Self.decode(RankRequest.self, vector: "rank-request.hex")
        let expected = try Self.decode(RankResponse.self, vector: "rank-response.hex")
        let engine = RankEngine(
            sources: .fixture(try FixtureSources.vectorFixture()),
            models: ModelSlot(try FixtureSources.vectorFixtureModel(), origin: .file)
        )
        let now = ContinuousClock.now
        let decision = try await engine.rank(DecisionRequest(request, deadline: now + .seconds(5), receivedAt: now))
        let answer = RankResponse(decision)

        #expect(answer.modelVersion == expected.modelVersion)
        #expect(answer.degraded == expected.degraded)
        #expect(answer.eventID == expected.eventID)
        #expect(answer.policy == expected.policy)
        #expect(answer.items.map(\.couponID) == expected.items.map(\.couponID))
        #expect(answer.items.map(\.name) == expected.items.map(\.name))
        #expect(answer.items.map(\.propensity) == expected.items.map(\.propensity))
        // generate.py computes the scores with MODEL.md's formulas term by term; the engine
        // computes them from the batch's shared and per-row parts: equal up to rounding.
        for (ours, theirs) in zip(answer.items, expected.items) {
            #expect(abs(ours.score - theirs.score) <= 1e-12 * max(1, abs(theirs.score)))
            #expect(abs(ours.probability - theirs.probability) <= 1e-12)
        }
        #expect(!answer.items.contains { request.excludedIDs.contains($0.couponID) })
    }

    static func decode<Message: WireMessage>(_: Message.Type, vector name: String) throws -> Message {
        var buffer = try ProtocolVectors.load(name).buffer
        let length = buffer.readInteger(as: UInt32.self).map(Int.init) ?? 0
        guard var body = buffer.readSlice(length: length), length >= FrameHeader.size else {
            throw WireError(.malformedPayload, "\(name) is not one whole frame")
        }
        body.moveReaderIndex(forwardBy: FrameHeader.size)
        return try Message(payload: &body)
    }
}
