import Synchronization

/// The model in use, swapped atomically as a whole.
///
/// A request reads ``current`` once and scores with that instance to its end, so a swap never
/// mixes two versions inside one request.
public final class ModelSlot: Sendable {
    /// Where the loaded model came from.
    public struct Origin: Sendable, Hashable, CustomStringConvertible {
        public var description: String

        public init(_ description: String) {
            self.description = description
        }

        public static let embedded = Origin("embedded")
        public static let file = Origin("file")
        public static let redis = Origin("redis")
    }

    public struct Loaded: Sendable {
        public let model: ScoringModel
        public let origin: Origin
        public let loadedAt: ContinuousClock.Instant
    }

    private let state: Mutex<Loaded>

    public init(_ model: ScoringModel, origin: Origin) {
        self.state = Mutex(Loaded(model: model, origin: origin, loadedAt: .now))
    }

    public var current: Loaded {
        state.withLock { $0 }
    }

    /// Replaces the model; returns the one it replaced.
    @discardableResult
    public func swap(to model: ScoringModel, origin: Origin) -> Loaded {
        state.withLock { loaded in
            let previous = loaded
            loaded = Loaded(model: model, origin: origin, loadedAt: .now)
            return previous
        }
    }
}
