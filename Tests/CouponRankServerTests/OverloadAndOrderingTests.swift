import CouponRankServer
import CouponRankSources
import CouponRankTestSupport
import CouponRankWire
import NIOCore
import Testing

@Suite struct OverloadAndOrderingTests {
    private func rankFrame(_ requestID: UInt64, easyID: String, budget: UInt32 = 5_000_000) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(RankRequest(easyID: easyID, topK: 3), requestID: requestID, budgetMicros: budget)
        return buffer
    }

    /// Rank frames with these request ids, back to back in one buffer.
    private func burst(_ ids: ClosedRange<UInt64>) -> ByteBuffer {
        var burst = ByteBuffer()
        for id in ids {
            var frame = rankFrame(id, easyID: "u\(id)")
            burst.writeBuffer(&frame)
        }
        return burst
    }

    @Test func pipelinedRequestsAreAnsweredAsTheyFinishNotInOrder() async throws {
        // The slow one is held until the fast one's answer has come, however slow this machine.
        let gate = Gate()
        let sources = SourceFanOut.scripted(
            candidates: ScriptedSource { $0.hasPrefix("slow") ? .waitUntil { gate.isOpen } : .answer }
        )
        try await TestServer.with(sources: sources) { server in
            let connection = try await RawConnection.connect(port: server.port)
            var both = rankFrame(1, easyID: "slow-user")
            var fast = rankFrame(2, easyID: "fast-user")
            both.writeBuffer(&fast)
            try await connection.send(both)  // one write: slow first, then fast
            let first = try #require(try await connection.readFrame())
            gate.open()
            let second = try #require(try await connection.readFrame())
            #expect(first.header.requestID == 2)
            #expect(second.header.requestID == 1)
            #expect(first.header.messageType == .rankResponse)
            #expect(second.header.messageType == .rankResponse)
            await connection.close()
        }
    }

    @Test func requestsBeyondThePerConnectionBoundAreRejectedOverloadedAtOnce() async throws {
        let sources = SourceFanOut.scripted(candidates: ScriptedSource { _ in .delay(.milliseconds(400)) })
        var configuration = ServerConfiguration(port: 0)
        configuration.maximumInFlightPerConnection = 2
        try await TestServer.with(configuration: configuration, sources: sources) { server in
            let connection = try await RawConnection.connect(port: server.port)
            try await connection.send(burst(1...5))
            var overloaded: [UInt64] = []
            var ranked: [UInt64] = []
            for _ in 1...5 {
                let frame = try #require(try await connection.readFrame())
                if frame.header.messageType == .error {
                    var payload = frame.payload
                    let error = try ErrorResponse(payload: &payload)
                    #expect(error.code == .overloaded)
                    #expect(error.retryClass == .overloaded)
                    // Rejections come before the slow answers: nothing was queued.
                    #expect(ranked.isEmpty)
                    overloaded.append(frame.header.requestID)
                } else {
                    ranked.append(frame.header.requestID)
                }
            }
            #expect(overloaded.sorted() == [3, 4, 5])
            #expect(ranked.sorted() == [1, 2])
            await connection.close()
        }
    }

    @Test func requestsBeyondTheServerWideBoundAreRejectedOverloaded() async throws {
        // Ranks wait at a gate, so the first three stay in flight however busy the machine is.
        let gate = Gate()
        let sources = SourceFanOut.scripted(candidates: ScriptedSource { _ in .waitUntil { gate.isOpen } })
        var admission = TestServer.relaxedAdmission
        admission.maximumInFlight = 3
        try await TestServer.with(admission: admission, sources: sources) { server in
            let first = try await RawConnection.connect(port: server.port)
            let second = try await RawConnection.connect(port: server.port)
            try await first.send(burst(1...2))
            try #require(try await server.admission.waitForInFlight(2))
            try await second.send(burst(11...12))
            let refused = try #require(try await second.readFrame())
            #expect(refused.header.requestID == 12)
            #expect(refused.header.messageType == .error)
            gate.open()
            var codes: [MessageType] = [try #require(try await second.readFrame()).header.messageType]
            for _ in 1...2 {
                codes.append(try #require(try await first.readFrame()).header.messageType)
            }
            #expect(codes == [.rankResponse, .rankResponse, .rankResponse])
            await first.close()
            await second.close()
        }
    }
}
