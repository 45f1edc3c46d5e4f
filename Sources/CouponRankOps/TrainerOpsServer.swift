public import CouponRankTraining
import Foundation
import Hummingbird
public import Logging
public import Prometheus
public import ServiceLifecycle

/// The trainer's ops port: liveness, readiness (503 while its loop keeps failing), its status as
/// JSON, and Prometheus metrics
/// (`couponrank_trainer_*`, proto-spec/EVENTS.md §6.5).
public enum TrainerOpsServer {
    public static func makeApplication(
        host: String,
        port: Int,
        trainer: Trainer,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) -> some Service {
        let router = Router()
        router.get("/healthz") { _, _ -> Response in
            OpsServer.json(.ok, ["status": "alive"] as [String: String])
        }
        router.get("/readyz") { _, _ -> Response in
            let status = trainer.status
            if status.running, status.lastError.isEmpty {
                return OpsServer.json(.ok, ["status": "ready"] as [String: String])
            }
            if !status.running, status.lastError.isEmpty {
                return OpsServer.json(.serviceUnavailable, ["status": "starting"] as [String: String])
            }
            return OpsServer.json(.serviceUnavailable, ["status": "failing", "reason": status.lastError] as [String: String])
        }
        router.get("/v1/trainer") { _, _ -> Response in
            OpsServer.json(.ok, TrainerStatusBody(trainer.status))
        }
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: MetricHelp.adding(to: registry.emitToBuffer()))))
        }
        let application = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname(host, port: port), serverName: "couponrank-trainer"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
        return OpsService(application: application, host: host, port: port)
    }
}

/// `GET /v1/trainer`.
struct TrainerStatusBody: Encodable {
    let partition: String
    let decisionsRead: Int
    let decisionsClosed: Int
    let decisionsExcludedDegraded: Int
    let pendingDecisions: Int
    let itemUpdates: Int
    let rewardsRead: Int
    let rewardsJoined: Int
    let rewardsLate: Int
    let rewardsUnmatched: Int
    let streamPositions: [String: String]
    let lagSeconds: [String: Double]
    let checkpoints: Int
    let publishes: Int
    let refusals: Int
    let lastPublished: String
    let lastPublishOutcome: String
    let lastError: String

    init(_ status: Trainer.Status) {
        partition = status.partition.description
        decisionsRead = status.counters.decisions
        decisionsClosed = status.counters.closed
        decisionsExcludedDegraded = status.excludedDegraded
        pendingDecisions = status.pending
        itemUpdates = status.itemUpdates
        rewardsRead = status.counters.rewards
        rewardsJoined = status.counters.rewardsJoined
        rewardsLate = status.counters.rewardsLate
        rewardsUnmatched = status.counters.rewardsUnmatched
        streamPositions = ["decisions": status.decisionsPosition.description, "rewards": status.rewardsPosition.description]
        lagSeconds = status.lagSeconds
        checkpoints = status.checkpoints
        publishes = status.publishes
        refusals = status.refusals
        lastPublished = status.lastPublished
        lastPublishOutcome = status.lastPublishOutcome
        lastError = status.lastError
    }

    enum CodingKeys: String, CodingKey {
        case partition
        case decisionsRead = "decisions_read"
        case decisionsClosed = "decisions_closed"
        case decisionsExcludedDegraded = "decisions_excluded_degraded"
        case pendingDecisions = "pending_decisions"
        case itemUpdates = "item_updates"
        case rewardsRead = "rewards_read"
        case rewardsJoined = "rewards_joined"
        case rewardsLate = "rewards_late"
        case rewardsUnmatched = "rewards_unmatched"
        case streamPositions = "stream_positions"
        case lagSeconds = "lag_seconds"
        case checkpoints
        case publishes
        case refusals
        case lastPublished = "last_published"
        case lastPublishOutcome = "last_publish_outcome"
        case lastError = "last_error"
    }
}
