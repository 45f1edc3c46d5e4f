/// What a reload did.
public struct ModelReloadReport: Sendable, Hashable {
    public enum Outcome: UInt8, Sendable, Hashable {
        /// A newer version is now served.
        case swapped = 0
        /// The published version is the one already served.
        case unchanged = 1
        /// The published model could not be used; the previous one is still served.
        case keptPrevious = 2
    }

    public var outcome: Outcome
    public var previousVersion: String
    public var currentVersion: String
    /// Why, in words (the failure when the previous model was kept).
    public var message: String

    public init(outcome: Outcome, previousVersion: String, currentVersion: String, message: String) {
        self.outcome = outcome
        self.previousVersion = previousVersion
        self.currentVersion = currentVersion
        self.message = message
    }
}

/// Something that can fetch the published model now: the server's admin path uses it without
/// knowing where models are stored.
public protocol ModelReloading: Sendable {
    /// Fetches and, when newer and valid, swaps in the published model.
    func reload(reason: String) async -> ModelReloadReport
    /// Asks every engine of the fleet to reload; the number of engines reached.
    func broadcastReload() async throws -> Int
    /// Turns exploration on or off for the whole fleet (kept in the store, so engines that start
    /// or refresh later follow it); the number of engines reached at once.
    func setFleetExploration(enabled: Bool) async throws -> Int
}
