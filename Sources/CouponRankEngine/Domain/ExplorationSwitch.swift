import Synchronization

/// The fleet's kill switch for exploration: while off, every decision is greedy, whatever the
/// model declares. Set from configuration at start-up and by the admin message at run time.
public final class ExplorationSwitch: Sendable {
    private let enabled: Atomic<Bool>

    public init(enabled: Bool = true) {
        self.enabled = Atomic(enabled)
    }

    public var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    /// Sets the switch; returns whether it was on before.
    @discardableResult
    public func set(enabled value: Bool) -> Bool {
        enabled.exchange(value, ordering: .relaxed)
    }
}
