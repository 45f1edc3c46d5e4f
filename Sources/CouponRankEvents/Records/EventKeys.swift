/// Where the event streams live (proto-spec/EVENTS.md §1).
public struct EventKeys: Sendable, Hashable {
    public var prefix: String

    public init(prefix: String = "couponrank:") {
        self.prefix = prefix
    }

    /// One entry per logged decision.
    public var decisions: String { prefix + "events:decisions" }
    /// One entry per accepted reward.
    public var rewards: String { prefix + "events:rewards" }
}
