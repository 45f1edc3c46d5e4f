import CouponRankClient
import CouponRankServer
import CouponRankTestSupport
import CouponRankWire
import NIOCore
import Testing

@Suite struct MalformedInputTests {
    private static let errorVectors = ProtocolVectors.names { if case .error = $0 { true } else { false } }

    private func healthFrame(_ requestID: UInt64) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(HealthRequest(), requestID: requestID)
        return buffer
    }

    /// Every malformed vector gets its documented error; the connection closes or stays usable as
    /// documented; another connection is never disturbed.
    @Test(arguments: errorVectors)
    func malformedVectorsGetTheirDocumentedErrorAndDisturbNoOneElse(name: String) async throws {
        let vector = try ProtocolVectors.load(name)
        guard case .error(let codeName, let closes) = vector.expectation else { return }
        try await TestServer.with { server in
            let bystander = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            let connection = try await RawConnection.connect(port: server.port)
            try await connection.send(vector.bytes)
            let answer = try #require(try await connection.readFrame(), "no Error frame for \(name)")
            #expect(answer.header.messageType == .error)
            var payload = answer.payload
            let error = try ErrorResponse(payload: &payload)
            #expect(error.code.name == codeName)
            if closes {
                #expect(answer.header.requestID == 0)
                #expect(try await connection.closesWithin(.seconds(2)))
            } else {
                #expect(answer.header.requestID != 0)
                try await connection.send(healthFrame(77))
                let health = try #require(try await connection.readFrame())
                #expect(health.header.messageType == .healthResponse)
                #expect(health.header.requestID == 77)
            }
            await connection.close()
            let response = try await bystander.rank(RankRequest(easyID: "bystander", topK: 1))
            #expect(response.items.count == 1)
            await bystander.close()
        }
    }

    @Test func bytesFedOneAtATimeAreAnsweredLikeAWholeFrame() async throws {
        try await TestServer.with { server in
            let connection = try await RawConnection.connect(port: server.port)
            var frame = ByteBuffer()
            frame.writeFrame(RankRequest(easyID: "dribble", topK: 4), requestID: 5, budgetMicros: 5_000_000)
            for byte in frame.readableBytesView {
                try await connection.send([byte])
                try await Task.sleep(for: .milliseconds(3))
            }
            let answer = try #require(try await connection.readFrame())
            #expect(answer.header.requestID == 5)
            var payload = answer.payload
            #expect(try RankResponse(payload: &payload).items.count == 4)
            await connection.close()
        }
    }

    @Test func randomGarbageClosesOnlyThatConnection() async throws {
        try await TestServer.with { server in
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<20 {
                let connection = try await RawConnection.connect(port: server.port)
                try await connection.send((0..<512).map { _ in UInt8.random(in: 0...255, using: &rng) })
                #expect(try await connection.closesWithin(.seconds(2)))
                await connection.close()
            }
            let client = try await CouponRankClient.connectForTesting(host: server.host, port: server.port)
            #expect(try await client.health().status == .serving)
            await client.close()
        }
    }

    @Test func anOversizedLengthIsRejectedWithoutWaitingForTheBody() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.limits = WireLimits(maximumFrameSize: 1024)
        try await TestServer.with(configuration: configuration) { server in
            let connection = try await RawConnection.connect(port: server.port)
            try await connection.send([0x00, 0x00, 0x04, 0x01])  // 1025: only the prefix is sent
            let answer = try #require(try await connection.readFrame())
            var payload = answer.payload
            #expect(try ErrorResponse(payload: &payload).code == .frameTooLarge)
            #expect(try await connection.closesWithin(.seconds(2)))
        }
    }

    @Test func aConnectionThatCompletesNoFrameWithinTheIdleTimeoutIsClosed() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.idleTimeout = .milliseconds(800)
        try await TestServer.with(configuration: configuration) { server in
            let connection = try await RawConnection.connect(port: server.port)
            // Dribble a frame far more slowly than the timeout allows (sends may find it closed).
            try? await connection.send([0x00, 0x00, 0x00])
            try await Task.sleep(for: .milliseconds(500))
            try? await connection.send([0x14])
            #expect(try await connection.closesWithin(.seconds(4)))
        }
    }
}

/// Issue 11: 300 unfinished 1 MiB frames on the RPC port held 370 MB of RSS.
@Suite struct FrameBufferBudgetTests {
    /// The start of a RankRequest frame that announces `length` bytes and sends `sent` of them.
    static func unfinishedFrame(length: Int, sent: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(length).bigEndian) { bytes += $0 }
        bytes += [0x43, 0x52, 0x01, 0x01, 0, 0, 0, 0] + [0, 0, 0, 0, 0, 0, 0, 9] + [0, 0, 0, 0]
        bytes += [UInt8](repeating: 0x41, count: sent)
        return bytes
    }

    @Test func unfinishedLargeFramesBeyondTheServersBudgetCloseTheirConnectionAndNoOtherOne() async throws {
        let configuration = ServerConfiguration(maximumBufferedFrameBytes: (5 << 20) / 2)  // room for two 1 MiB frames
        try await TestServer.with(configuration: configuration) { server in
            var connections: [RawConnection] = []
            for _ in 0..<3 {
                let connection = try await RawConnection.connect(port: server.port)
                try await connection.send(Self.unfinishedFrame(length: 1 << 20, sent: 100_000))
                connections.append(connection)
            }
            // Whichever the server read last is over the budget: answered OVERLOADED and closed.
            var refused: RawConnection?
            let deadline = ContinuousClock.now + .seconds(20)
            while refused == nil, ContinuousClock.now < deadline {
                for connection in connections where try await connection.closesWithin(.milliseconds(20)) {
                    refused = connection
                }
            }
            let closed = try #require(refused, "no connection was refused")
            let answer = try #require(try await closed.readFrame(timeout: .seconds(1)))
            var payload = answer.payload
            #expect(try ErrorResponse(payload: &payload).code == .overloaded)
            let others = connections.filter { $0 !== closed }
            for connection in others { #expect(try await !connection.closesWithin(.milliseconds(100))) }

            // A connection that goes gives its share back.
            await others[0].close()
            var admitted: RawConnection?
            for _ in 0..<20 where admitted == nil {
                try await Task.sleep(for: .milliseconds(100))
                let fourth = try await RawConnection.connect(port: server.port)
                try await fourth.send(Self.unfinishedFrame(length: 1 << 20, sent: 100_000))
                if try await fourth.closesWithin(.milliseconds(300)) { continue }  // the close not yet seen
                admitted = fourth
            }
            #expect(admitted != nil, "the closed connection's share was given back")
            await others[1].close()
            await admitted?.close()
        }
    }
}
