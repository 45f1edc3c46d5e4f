import CouponRankCore
import CouponRankEngine
import Foundation
import CouponRankWire
import Logging

/// The RPC port's answers that are not ranks: protocol prechecks, health, admin reload.
struct RequestDispatcher: Sendable {
    let models: ModelSlot
    let admission: AdmissionController
    let reloader: (any ModelReloading)?
    let componentStates: @Sendable () -> [(name: String, state: String)]
    let configuration: ServerConfiguration
    let logger: Logger

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

    func health() -> HealthResponse {
        let uptime = ContinuousClock.now - admission.startedAt
        let (seconds, attoseconds) = uptime.components
        let loaded = models.current
        return HealthResponse(
            status: admission.isDraining ? .draining : .serving,
            uptimeMillis: UInt64(max(seconds, 0)) * 1000 + UInt64(max(attoseconds, 0) / 1_000_000_000_000_000),
            modelVersion: loaded.model.version,
            modelAgeSeconds: Self.ageSeconds(createdAt: loaded.model.definition.createdAt),
            modelOrigin: loaded.origin.description,
            components: componentStates().map { HealthResponse.Component(name: $0.name, state: $0.state) }
        )
    }

    /// Seconds since an RFC 3339 timestamp; 0 when it does not parse or lies in the future.
    static func ageSeconds(createdAt: String) -> UInt64 {
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: createdAt) else { return 0 }
        return UInt64(max(0, Date().timeIntervalSince(date)))
    }

    func adminReload(_ frame: Frame) async -> RPCAnswer {
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
            return .adminReload(requestID: requestID, response)
        } catch {
            logger.notice("admin request refused", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
            return .error(requestID: requestID, error)
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
}
