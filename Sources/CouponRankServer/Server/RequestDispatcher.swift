import CouponRankCore
import Foundation
import CouponRankWire
import Logging
import NIOCore

/// Turns one inbound frame into the frame that answers it.
struct RequestDispatcher: Sendable {
    let pipeline: RankPipeline
    let reloader: (any ModelReloading)?
    let componentStates: @Sendable () -> [(name: String, state: String)]
    let configuration: ServerConfiguration
    let status: EngineStatus
    let metrics: EngineMetrics
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
        case .rankRequest, .healthRequest, .adminReloadRequest:
            return nil
        default:
            return WireError(.unknownMessageType, "message type \(header.messageType) is not a request this server knows")
        }
    }

    func health(requestID: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        let uptime = ContinuousClock.now - status.startedAt
        let (seconds, attoseconds) = uptime.components
        let loaded = pipeline.models.current
        let response = HealthResponse(
            status: status.isDraining ? .draining : .serving,
            uptimeMillis: UInt64(max(seconds, 0)) * 1000 + UInt64(max(attoseconds, 0) / 1_000_000_000_000_000),
            modelVersion: loaded.model.version,
            modelAgeSeconds: Self.ageSeconds(createdAt: loaded.model.definition.createdAt),
            modelOrigin: loaded.origin.description,
            components: componentStates().map { HealthResponse.Component(name: $0.name, state: $0.state) }
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
            metrics.recordRank(outcome: response.degraded.isEmpty ? "ok" : "degraded", duration: .now - receivedAt)
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
            metrics.recordRank(outcome: error.code.name, duration: .now - receivedAt)
            logger.debug("rank failed", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
            return Self.errorFrame(error, requestID: requestID, allocator: allocator)
        }
    }

    /// Seconds since an RFC 3339 timestamp; 0 when it does not parse or lies in the future.
    static func ageSeconds(createdAt: String) -> UInt64 {
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: createdAt) else { return 0 }
        return UInt64(max(0, Date().timeIntervalSince(date)))
    }

    func adminReload(_ frame: Frame, allocator: ByteBufferAllocator) async -> ByteBuffer {
        let requestID = frame.header.requestID
        var payload = frame.payload
        do throws(WireError) {
            let request = try AdminReloadRequest(payload: &payload)
            guard let expected = configuration.adminToken, !expected.isEmpty else {
                throw WireError(.unauthenticated, "admin messages are disabled: this server has no admin token configured")
            }
            guard Self.tokensMatch(request.token, expected) else {
                throw WireError(.unauthenticated, "wrong admin token")
            }
            guard let reloader else {
                throw WireError(.failedPrecondition, "this server has no model store configured (start it with --redis-url)")
            }
            var receivers: UInt32 = 0
            if request.scope == .fleet {
                do {
                    receivers = UInt32(clamping: try await reloader.broadcastReload())
                } catch {
                    throw WireError(.upstreamUnavailable, "cannot broadcast the reload: \(error)")
                }
            }
            let report = await reloader.reload(reason: "admin")
            logger.info(
                "admin model reload",
                metadata: [
                    "model.version.previous": "\(report.previousVersion)",
                    "model.version.current": "\(report.currentVersion)",
                    "admin.scope": "\(request.scope.rawValue)",
                ]
            )
            let response = AdminReloadResponse(
                outcome: AdminReloadResponse.Outcome(rawValue: report.outcome.rawValue),
                previousVersion: report.previousVersion,
                currentVersion: report.currentVersion,
                message: report.message,
                receivers: receivers
            )
            var buffer = allocator.buffer(capacity: 128)
            buffer.writeFrame(response, requestID: requestID)
            return buffer
        } catch {
            logger.notice("admin request refused", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
            return Self.errorFrame(error, requestID: requestID, allocator: allocator)
        }
    }

    /// Compares in time that depends on the lengths only, never on where the bytes differ.
    static func tokensMatch(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8)
        let b = Array(expected.utf8)
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    static func errorFrame(_ error: WireError, requestID: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 32 + error.message.utf8.count)
        buffer.writeFrame(ErrorResponse(error), requestID: requestID)
        return buffer
    }
}
