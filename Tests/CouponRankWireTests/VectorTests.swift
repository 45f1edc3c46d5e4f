import CouponRankTestSupport
import CouponRankWire
import NIOCore
import NIOTestUtils
import Testing

/// The codec against every vector of proto-spec/vectors, so spec and code cannot drift apart.
@Suite struct VectorTests {
    /// What each decodable vector must decode to, as PROTOCOL.md §10 and the vector comments say.
    static let expectedMessages: [String: any WireMessage & Sendable] = [
        "rank-request.hex": RankRequest(easyID: "12345", topK: 5, excludedIDs: ["C000202"], eventID: "evt-0001"),
        "rank-request-rev1.hex": RankRequest(easyID: "12345", topK: 5, excludedIDs: ["C000202"]),
        "rank-request-rev3.hex": RankRequest(easyID: "12345", topK: 5, excludedIDs: ["C000202"], eventID: "evt-0001"),
        "rank-request-extra-field.hex": RankRequest(easyID: "12345", topK: 5, excludedIDs: ["C000202"], eventID: "evt-0001"),
        "rank-request-filters.hex": RankRequest(
            easyID: "user-ä",
            topK: 0,
            candidateIDs: ["C000001", "C000002"],
            flags: .noExploration,
            maximumPerShop: 1,
            maximumPerCategory: 2
        ),
        "rank-response.hex": RankResponse(
            modelVersion: "tiny-1",
            degraded: [],
            timings: .init(fetchMicros: 120, contextMicros: 35, scoreMicros: 18, totalMicros: 180),
            items: [
                .init(couponID: "C000303", score: 1.4325412902673356, probability: 0.6, name: "30% off travel"),
                .init(couponID: "C000001", score: 1.0295330011518529, probability: 0.2, name: "10% off books"),
            ],
            eventID: "evt-0001",
            policy: 0
        ),
        "rank-response-rev3.hex": RankResponse(
            modelVersion: "tiny-1",
            degraded: [],
            timings: .init(fetchMicros: 120, contextMicros: 35, scoreMicros: 18, totalMicros: 180),
            items: [
                .init(couponID: "C000303", score: 1.4325412902673356, probability: 0.6, name: "30% off travel"),
                .init(couponID: "C000001", score: 1.0295330011518529, probability: 0.2, name: "10% off books"),
            ],
            eventID: "evt-0001",
            policy: 0
        ),
        "rank-response-rules.hex": RankResponse(
            modelVersion: "tiny-1",
            degraded: [],
            timings: .init(fetchMicros: 120, contextMicros: 35, scoreMicros: 18, totalMicros: 180),
            items: [
                .init(couponID: "C000303", score: 1.4325412902673356, probability: 0.6, name: "30% off travel"),
                .init(couponID: "C000001", score: 1.0295330011518529, probability: 0.2, name: "10% off books"),
            ],
            eventID: "evt-0001",
            policy: 0,
            rulesVersion: "case-study-1",
            ruleRemovals: [.init(rule: "europa-no-offers-4-5-6", removed: 3)]
        ),
        "reward-request.hex": RewardRequest(token: "r3ward", eventID: "evt-0001", couponID: "C000303", kind: .click, value: 1),
        "reward-response.hex": RewardResponse(),
        "admin-exploration-request.hex": AdminExplorationRequest(token: "s3cret", enabled: false, scope: .fleet),
        "admin-exploration-response.hex": AdminExplorationResponse(previouslyEnabled: true, enabled: false, receivers: 3),
        "rank-response-rev2.hex": RankResponse(
            modelVersion: "v1",
            degraded: .stats,
            timings: .init(fetchMicros: 120, contextMicros: 35, scoreMicros: 18, totalMicros: 180),
            items: [
                .init(couponID: "C000202", score: 0.5, probability: 0.25, name: "45% off beauty"),
                .init(couponID: "C000001", score: 0.125, probability: 0.0625, name: "10% off books"),
            ]
        ),
        "health-request.hex": HealthRequest(),
        "health-response.hex": HealthResponse(
            status: .serving,
            uptimeMillis: 123_456,
            modelVersion: "v1",
            modelAgeSeconds: 3600,
            modelOrigin: "redis",
            components: [.init(name: "upstream.stats", state: "open")]
        ),
        "health-response-rev1.hex": HealthResponse(status: .serving, uptimeMillis: 123_456, modelVersion: "v1"),
        "admin-reload-request.hex": AdminReloadRequest(token: "s3cret", scope: .fleet),
        "admin-reload-response.hex": AdminReloadResponse(
            outcome: .swapped,
            previousVersion: "v1",
            currentVersion: "v2",
            message: "now serving v2",
            receivers: 3
        ),
        "error-overloaded.hex": ErrorResponse(code: .overloaded, retryClass: .overloaded, message: "too many requests in flight"),
    ]

    static let expectedHeaders: [String: (UInt64, UInt32)] = [
        "rank-request.hex": (1, 50_000),
        "rank-request-rev1.hex": (1, 50_000),
        "rank-request-rev3.hex": (1, 50_000),
        "rank-response-rev3.hex": (1, 0),
        "rank-response-rules.hex": (1, 0),
        "rank-response-rev2.hex": (1, 0),
        "reward-request.hex": (30, 0),
        "reward-response.hex": (30, 0),
        "admin-exploration-request.hex": (40, 10_000_000),
        "admin-exploration-response.hex": (40, 0),
        "rank-request-extra-field.hex": (1, 50_000),
        "rank-request-filters.hex": (2, 0),
        "rank-response.hex": (1, 0),
        "health-request.hex": (7, 0),
        "health-response.hex": (7, 0),
        "health-response-rev1.hex": (7, 0),
        "admin-reload-request.hex": (20, 10_000_000),
        "admin-reload-response.hex": (20, 0),
        "error-overloaded.hex": (9, 0),
    ]

    @Test func everyVectorIsCovered() throws {
        let names = try ProtocolVectors.all().map(\.name)
        #expect(names.count >= 20)
        for name in names {
            let vector = try ProtocolVectors.load(name)
            if case .decode = vector.expectation {
                #expect(Self.expectedMessages[name] != nil, "no expectation for \(name)")
            }
        }
    }

    @Test(arguments: ProtocolVectors.names { if case .decode = $0 { true } else { false } })
    func decodableVectorsDecodeToTheDocumentedMessage(name: String) throws {
        let vector = try ProtocolVectors.load(name)
        let frame = try decodeSingleFrame(vector.buffer)
        let (requestID, budget) = try #require(Self.expectedHeaders[name])
        #expect(frame.header.version == 1)
        #expect(frame.header.flags == 0)
        #expect(frame.header.requestID == requestID)
        #expect(frame.header.budgetMicros == budget)

        let expected = try #require(Self.expectedMessages[name])
        #expect(frame.header.messageType == type(of: expected).messageType)
        try expectDecodes(frame, to: expected)

        // Encoding the message gives the vector's bytes back.
        // Vectors from another revision re-encode differently: one carries fields from the
        // future, which the decoder skipped; the others lack fields today's encoder writes.
        if !["rank-request-extra-field.hex", "health-response-rev1.hex", "rank-request-rev1.hex", "rank-response-rev2.hex", "rank-request-rev3.hex", "rank-response-rev3.hex"]
            .contains(name) {
            var encoded = ByteBuffer()
            writeFrame(expected, into: &encoded, requestID: requestID, budget: budget)
            #expect(Array(encoded.readableBytesView) == vector.bytes)
        }
    }

    @Test(arguments: ProtocolVectors.names { if case .decode = $0 { true } else { false } })
    func decodingIsTheSameWhateverTheChunking(name: String) throws {
        let vector = try ProtocolVectors.load(name)
        let frame = try decodeSingleFrame(vector.buffer)
        // The verifier feeds the bytes whole, then one at a time, then in other chunkings.
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(vector.buffer, [frame])],
            decoderFactory: { FrameDecoder() }
        )
        // Two frames back to back are two frames.
        var twice = vector.buffer
        twice.writeBytes(vector.bytes)
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(twice, [frame, frame])],
            decoderFactory: { FrameDecoder() }
        )
    }

    @Test(arguments: ProtocolVectors.names { if case .error(_, true) = $0 { true } else { false } })
    func streamBreakingVectorsAreRejectedByTheFramer(name: String) throws {
        let vector = try ProtocolVectors.load(name)
        guard case .error(let codeName, _) = vector.expectation else { return }
        for chunkSize in [vector.bytes.count, 1] {
            var decoder = FrameDecoder()
            var buffer = ByteBuffer()
            var thrown: WireError?
            for chunk in vector.bytes.chunks(of: chunkSize) {
                buffer.writeBytes(chunk)
                do {
                    while try decoder.decode(buffer: &buffer) != nil {}
                } catch let error as WireError {
                    thrown = error
                    break
                }
            }
            #expect(thrown?.code.name == codeName, "\(name) fed in chunks of \(chunkSize)")
        }
    }

    @Test(arguments: ProtocolVectors.names { if case .error(_, false) = $0 { true } else { false } })
    func answerableVectorsAreFramedButRejectedInside(name: String) throws {
        let vector = try ProtocolVectors.load(name)
        guard case .error(let codeName, _) = vector.expectation else { return }
        let frame = try decodeSingleFrame(vector.buffer)
        switch codeName {
        case "UNSUPPORTED_VERSION":
            #expect(frame.header.version != FrameHeader.currentVersion)
        case "UNKNOWN_MESSAGE_TYPE":
            #expect(
                ![MessageType.rankRequest, .healthRequest, .rewardRequest, .adminReloadRequest, .adminExplorationRequest]
                    .contains(frame.header.messageType)
            )
        case _ where frame.header.messageType == .adminReloadRequest:
            var payload = frame.payload
            #expect(throws: WireError.self) { try AdminReloadRequest(payload: &payload) }
        case _ where frame.header.messageType == .rewardRequest:
            var payload = frame.payload
            #expect(throws: WireError(.invalidArgument, "reward kind 9 is unknown (1 click, 2 conversion)")) {
                try RewardRequest(payload: &payload)
            }
        default:
            #expect(frame.header.messageType == .rankRequest)
            var payload = frame.payload
            #expect(throws: WireError.self) { try RankRequest(payload: &payload) }
            payload = frame.payload
            do {
                _ = try RankRequest(payload: &payload)
            } catch {
                #expect(error.code.name == codeName)
            }
        }
    }

    @Test func aLengthPrefixAboveTheLimitIsRejectedBeforeTheBodyArrives() throws {
        var decoder = FrameDecoder(limits: WireLimits(maximumFrameSize: 64))
        var buffer = ByteBuffer(bytes: [0, 0, 0, 65])  // only the prefix: no body buffered
        #expect(throws: WireError(.frameTooLarge, "frame length 65 exceeds the limit of 64 bytes")) {
            _ = try decoder.decode(buffer: &buffer)
        }
    }

    // MARK: helpers

    private func decodeSingleFrame(_ buffer: ByteBuffer) throws -> Frame {
        var buffer = buffer
        var decoder = FrameDecoder()
        let frame = try #require(try decoder.decode(buffer: &buffer))
        #expect(buffer.readableBytes == 0)
        return frame
    }

    private func expectDecodes(_ frame: Frame, to expected: any WireMessage) throws {
        var payload = frame.payload
        switch expected {
        case let message as RankRequest: #expect(try RankRequest(payload: &payload) == message)
        case let message as RankResponse: #expect(try RankResponse(payload: &payload) == message)
        case let message as HealthRequest: #expect(try HealthRequest(payload: &payload) == message)
        case let message as HealthResponse: #expect(try HealthResponse(payload: &payload) == message)
        case let message as ErrorResponse: #expect(try ErrorResponse(payload: &payload) == message)
        case let message as AdminReloadRequest: #expect(try AdminReloadRequest(payload: &payload) == message)
        case let message as AdminReloadResponse: #expect(try AdminReloadResponse(payload: &payload) == message)
        case let message as RewardRequest: #expect(try RewardRequest(payload: &payload) == message)
        case let message as RewardResponse: #expect(try RewardResponse(payload: &payload) == message)
        case let message as AdminExplorationRequest: #expect(try AdminExplorationRequest(payload: &payload) == message)
        case let message as AdminExplorationResponse: #expect(try AdminExplorationResponse(payload: &payload) == message)
        default: Issue.record("no decoder for \(type(of: expected))")
        }
    }

    private func writeFrame(_ message: some WireMessage, into buffer: inout ByteBuffer, requestID: UInt64, budget: UInt32) {
        buffer.writeFrame(message, requestID: requestID, budgetMicros: budget)
    }
}

extension Array {
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
