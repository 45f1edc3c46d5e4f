import CouponRankCore
import CouponRankEngine
import Foundation
import CouponRankWire
import Logging
import Metrics

/// The RPC port's answers that are not ranks: protocol prechecks, health, rewards, admin messages.
struct RequestDispatcher: Sendable {
    let models: ModelSlot
    let exploration: ExplorationSwitch
    let rewards: RewardIntake
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
        case .rankRequest, .healthRequest, .rewardRequest, .adminReloadRequest, .adminExplorationRequest:
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
            modelAgeSeconds: ModelAge.seconds(createdAt: loaded.model.definition.createdAt),
            modelOrigin: loaded.origin.description,
            components: componentStates().map { HealthResponse.Component(name: $0.name, state: $0.state) }
        )
    }

    /// Checks and queues a reward; never waits.
    func reward(_ frame: Frame) -> RPCAnswer {
        let requestID = frame.header.requestID
        var payload = frame.payload
        do throws(WireError) {
            let request = try RewardRequest(payload: &payload)
            do throws(RewardIntake.Refusal) {
                try rewards.accept(
                    token: request.token,
                    eventID: request.eventID,
                    couponID: request.couponID,
                    kind: Reward.Kind(request.kind),
                    value: request.value,
                    unixMillis: request.unixMillis == 0 ? nil : Int64(clamping: request.unixMillis)
                )
            } catch {
                throw WireError(error)
            }
            return .reward(requestID: requestID)
        } catch {
            logger.debug("reward refused", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
            return .error(requestID: requestID, error)
        }
    }

    /// Sets this engine's exploration switch, or the fleet's through the model store.
    func adminExploration(_ frame: Frame) async -> RPCAnswer {
        let requestID = frame.header.requestID
        var payload = frame.payload
        do throws(WireError) {
            let request = try AdminExplorationRequest(payload: &payload)
            try authenticateAdmin(request.token)
            // Read first: with scope fleet, this engine's own subscription may act on the
            // broadcast before this call sets the switch.
            let previous = exploration.isEnabled
            var receivers: UInt32 = 0
            if request.scope == .fleet {
                guard let reloader else {
                    throw WireError(.failedPrecondition, "this server has no model store configured (start it with --redis-url)")
                }
                do {
                    receivers = UInt32(clamping: try await reloader.setFleetExploration(enabled: request.enabled))
                } catch {
                    throw WireError(.upstreamUnavailable, "cannot set the fleet's exploration switch: \(error)")
                }
            }
            exploration.set(enabled: request.enabled)
            logger.notice(
                "exploration switched by an admin",
                metadata: ["exploration.enabled": "\(request.enabled)", "admin.scope": "\(request.scope.rawValue)"]
            )
            return .adminExploration(
                requestID: requestID,
                AdminExplorationResponse(previouslyEnabled: previous, enabled: request.enabled, receivers: receivers)
            )
        } catch {
            logger.notice("admin request refused", metadata: ["request.id": "\(requestID)", "error": "\(error)"])
            return .error(requestID: requestID, error)
        }
    }

    private func authenticateAdmin(_ token: String) throws(WireError) {
        guard let expected = configuration.adminToken, !expected.isEmpty else {
            Self.adminRefusals("disabled").increment()
            throw WireError(.unauthenticated, "admin messages are disabled: this server has no admin token configured")
        }
        guard !token.isEmpty else {
            Self.adminRefusals("missing_token").increment()
            throw WireError(.unauthenticated, "no admin token given")
        }
        guard Secret.matches(token, expected) else {
            Self.adminRefusals("wrong_token").increment()
            throw WireError(.unauthenticated, "wrong admin token")
        }
    }

    /// Admin messages refused, by reason: visible in metrics, not only in logs.
    static func adminRefusals(_ reason: String) -> Counter {
        Counter(label: "couponrank_admin_refusals_total", dimensions: [("reason", reason)])
    }

    func adminReload(_ frame: Frame) async -> RPCAnswer {
        let requestID = frame.header.requestID
        var payload = frame.payload
        do throws(WireError) {
            let request = try AdminReloadRequest(payload: &payload)
            try authenticateAdmin(request.token)
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
}

/// How old a model is, from its `created_at`.
public enum ModelAge {
    /// Seconds since an RFC 3339 timestamp; 0 when it does not parse or lies in the future.
    public static func seconds(createdAt: String) -> UInt64 {
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: createdAt) else { return 0 }
        return UInt64(max(0, Date().timeIntervalSince(date)))
    }
}
