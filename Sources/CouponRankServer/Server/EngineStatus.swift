import Synchronization

/// What the engine's servers share about its state: when it started, and whether it is
/// draining. The RPC server sets draining on graceful shutdown; health and readiness read it.
public final class EngineStatus: Sendable {
    public let startedAt = ContinuousClock.now
    private let drainingFlag = Atomic<Bool>(false)

    public init() {}

    public var isDraining: Bool { drainingFlag.load(ordering: .acquiring) }

    public func beginDraining() {
        drainingFlag.store(true, ordering: .releasing)
    }
}
