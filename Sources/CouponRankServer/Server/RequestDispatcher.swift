import CouponRankCore
import CouponRankWire
import Logging
import NIOCore

/// Turns one inbound frame into the frame that answers it.
struct RequestDispatcher: Sendable {
    let pipeline: RankPipeline
    let configuration: ServerConfiguration
    let status: ServerStatus
    let logger: Logger

    /// The deadline of a request received at `receivedAt` with the header's budget.
    func deadline(for header: FrameHeader, receivedAt: ContinuousClock.Instant) -> ContinuousClock.Instant {
        guard header.budgetMicros > 0 else { return receivedAt + configuration.defaultBudget }
        return receivedAt + min(.microseconds(Int64(header.budgetMicros)), configuration.maximumBudget)
    }

    /// Protocol-level checks that do not need the payload: `nil` when the frame may be handled.
    func precheck(_ header: FrameHeader) -> WireError? {
        guard header.version == FrameHeader.currentVersion else {
            return WireError(.unsupportedVersion, "protocol version \(header.version) is not supported; this server speaks version 1")
        }
        switch header.messageType {
        case .rankRequest, .healthRequest:
            return nil
        default:
            return WireError(.unknownMessageType, "message type \(header.messageType) is not a request this server knows")
        }
    }

    func health(requestID: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        let uptime = ContinuousClock.now - status.startedAt
        let (seconds, attoseconds) = uptime.components
        let response = HealthResponse(
            status: status.isDraining ? .draining : .serving,
            uptimeMillis: UInt64(max(seconds, 0)) * 1000 + UInt64(max(attoseconds, 0) / 1_000_000_000_000_000),
            modelVersion: pipeline.models.current.model.version
        )
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeFrame(response, requestID: requestID)
        return buffer
    }

    func rank(_ frame: Frame, receivedAt: ContinuousClock.Instant, allocator: ByteBufferAllocator) async -> ByteBuffer {
        let requestID = frame.header.requestID
        var payload = frame.payload
        do {
            let request = try RankRequest(payload: &payload)
            let response = try await pipeline.rank(request, deadline: deadline(for: frame.header, receivedAt: receivedAt))
            logger.debug(
                "rank answered",
                metadata: [
                    "request.id": "\(requestID)",
                    "rank.items": "\(response.items.count)",
                    "rank.total_us": "\(response.timings.totalMicros)",
                ]
            )
            var buffer = allocator.buffer(capacity: 64 + response.items.count * 64)
            buffer.writeFrame(response, requestID: requestID)
            return buffer
        } catch {
            logger.debug("rank failed", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
            return Self.errorFrame(error, requestID: requestID, allocator: allocator)
        }
    }

    static func errorFrame(_ error: WireError, requestID: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 32 + error.message.utf8.count)
        buffer.writeFrame(ErrorResponse(error), requestID: requestID)
        return buffer
    }
}
