import CouponRankWire
import NIOCore
import Testing

@Suite struct MessageRoundTripTests {
    @Test func rankRequestAtTheLimitsRoundTrips() throws {
        let request = RankRequest(
            easyID: String(repeating: "é", count: 64),  // 128 UTF-8 bytes
            topK: UInt16(WireLimits.maximumTopK),
            candidateIDs: (0..<WireLimits.maximumListEntries).map { "C\($0)" },
            excludedIDs: [String(repeating: "x", count: WireLimits.maximumCouponIDBytes)]
        )
        var buffer = ByteBuffer()
        request.encode(into: &buffer)
        #expect(try RankRequest(payload: &buffer) == request)
    }

    @Test func rankRequestOverTheLimitsIsAnInvalidArgument() throws {
        for request in [
            RankRequest(easyID: "u", topK: UInt16(WireLimits.maximumTopK + 1)),
            RankRequest(easyID: "u", candidateIDs: (0...WireLimits.maximumListEntries).map { "C\($0)" }),
            RankRequest(easyID: "u", excludedIDs: [String(repeating: "x", count: WireLimits.maximumCouponIDBytes + 1)]),
        ] {
            var buffer = ByteBuffer()
            request.encode(into: &buffer)
            #expect(throws: WireError.self) { try RankRequest(payload: &buffer) }
            buffer.moveReaderIndex(to: 0)
            do {
                _ = try RankRequest(payload: &buffer)
            } catch {
                #expect(error.code == .invalidArgument)
            }
        }
    }

    @Test func everyTruncationOfAResponseIsMalformedExceptWhereAnOlderRevisionEnds() throws {
        let response = RankResponse(
            modelVersion: "v9",
            degraded: [.userFeatures, .stats],
            timings: .init(fetchMicros: 1, contextMicros: 2, scoreMicros: 3, totalMicros: 6),
            items: [.init(couponID: "C1", score: -1.5, probability: 0, name: "ü", propensity: 0.25)],
            eventID: "evt-9",
            policy: 2,
            rulesVersion: "r1",
            ruleRemovals: [.init(rule: "no-4", removed: 3)]
        )
        var full = ByteBuffer()
        response.encode(into: &full)
        #expect(try RankResponse(payload: &full) == response)
        full.moveReaderIndex(to: 0)
        // Where a revision 3 answer ends: the revision 4 fields are 2 + 2 + 2 + (2 + 4 + 2) bytes;
        // a revision 2 answer ends 2 + 5 + 1 + 2 + 8 bytes earlier.
        let revisionThreeEnd = full.readableBytes - (2 + 2 + 2 + 2 + 4 + 2)
        let revisionTwoEnd = revisionThreeEnd - (2 + 5 + 1 + 2 + 8)
        for length in 0..<full.readableBytes {
            var truncated = full.getSlice(at: 0, length: length)!
            if length == revisionTwoEnd {
                let old = try RankResponse(payload: &truncated)
                #expect(old.eventID == "" && old.items.map(\.propensity) == [1] && old.rulesVersion == "")
            } else if length == revisionThreeEnd {
                let old = try RankResponse(payload: &truncated)
                #expect(old.eventID == "evt-9" && old.items.map(\.propensity) == [0.25] && old.rulesVersion == "" && old.ruleRemovals.isEmpty)
            } else {
                #expect(throws: WireError.self) { try RankResponse(payload: &truncated) }
            }
        }
    }

    @Test func aRequestFromARevisionTwoClientHasNoEventIDAndNoFlags() throws {
        var payload = ByteBuffer()
        RankRequest(easyID: "7", topK: 3, eventID: "dropped", flags: .noExploration).encode(into: &payload)
        var old = payload.getSlice(at: 0, length: payload.readableBytes - (2 + 7 + 2) - (2 + 2))!
        let decoded = try RankRequest(payload: &old)
        #expect(decoded.eventID == "" && decoded.flags == [])
    }

    @Test func aRequestFromARevisionThreeClientHasNoCaps() throws {
        var payload = ByteBuffer()
        RankRequest(easyID: "7", topK: 3, eventID: "kept", flags: .noExploration, maximumPerShop: 4, maximumPerCategory: 5).encode(into: &payload)
        var old = payload.getSlice(at: 0, length: payload.readableBytes - (2 + 2))!
        let decoded = try RankRequest(payload: &old)
        #expect(decoded.eventID == "kept" && decoded.flags == .noExploration && decoded.maximumPerShop == 0 && decoded.maximumPerCategory == 0)
        var half = payload.getSlice(at: 0, length: payload.readableBytes - 2)!
        #expect(throws: WireError.self) { try RankRequest(payload: &half) }
    }

    @Test func errorCodesCarryTheirDocumentedRetryClass() {
        #expect(ErrorResponse(code: .overloaded, message: "").retryClass == .overloaded)
        #expect(ErrorResponse(code: .deadlineExceeded, message: "").retryClass == .retryable)
        #expect(ErrorResponse(code: .invalidArgument, message: "").retryClass == .notRetryable)
        #expect(ErrorCode(rawValue: 999).name == "CODE_999")
    }
}

/// Issue 11: `couponrank health` pointed at the ops port answered "FRAME_TOO_LARGE: frame length 1213486160".
@Suite struct HTTPPeerTests {
    @Test(arguments: ["HTTP/1.1 400 Bad Request\r\n", "GET /healthz HTTP/1.1\r\n"])
    func anHTTPPeerIsNamedAsSuch(text: String) {
        var decoder = FrameDecoder()
        var buffer = ByteBuffer(string: text)
        do {
            _ = try decoder.decode(buffer: &buffer)
            Issue.record("HTTP decoded as a frame")
        } catch let error as WireError {
            #expect(error.code == .frameTooLarge)
            #expect(error.message.contains("HTTP") && error.message.contains("ops port"), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
