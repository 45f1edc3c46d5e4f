import CouponRankEngine
import CouponRankWire

/// One answer to write on a connection, before encoding.
enum RPCAnswer: Sendable {
    case rank(requestID: UInt64, Decision)
    case error(requestID: UInt64, WireError)
    case health(requestID: UInt64, HealthResponse)
    case adminReload(requestID: UInt64, AdminReloadResponse)
    case reward(requestID: UInt64)
    case adminExploration(requestID: UInt64, AdminExplorationResponse)
}
