import Synchronization

/// The rules in use, swapped atomically as a whole, like ``ModelSlot``: a request reads
/// ``current`` once, so one request sees one rules version.
public final class RulesSlot: Sendable {
    public struct Loaded: Sendable {
        public let rules: CompiledRules
        /// Where they came from: `none`, `file` or `redis`.
        public let origin: String
        public let loadedAt: ContinuousClock.Instant
    }

    private let state: Mutex<Loaded>

    public init(_ rules: CompiledRules = .none, origin: String = "none") {
        self.state = Mutex(Loaded(rules: rules, origin: origin, loadedAt: .now))
    }

    public var current: Loaded {
        state.withLock { $0 }
    }

    /// Replaces the rules; returns the ones replaced.
    @discardableResult
    public func swap(to rules: CompiledRules, origin: String) -> Loaded {
        state.withLock { loaded in
            let previous = loaded
            loaded = Loaded(rules: rules, origin: origin, loadedAt: .now)
            return previous
        }
    }
}
