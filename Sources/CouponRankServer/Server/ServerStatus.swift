import Synchronization

/// Process-wide state the health answer reports.
final class ServerStatus: Sendable {
    let startedAt = ContinuousClock.now
    private let drainingFlag = Atomic<Bool>(false)

    var isDraining: Bool { drainingFlag.load(ordering: .acquiring) }

    func beginDraining() {
        drainingFlag.store(true, ordering: .releasing)
    }
}
