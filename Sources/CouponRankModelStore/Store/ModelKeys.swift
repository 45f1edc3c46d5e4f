/// Redis key names of MODEL.md §7, under a configurable prefix.
public struct ModelKeys: Sendable, Hashable {
    public var prefix: String

    public init(prefix: String = "couponrank:") {
        self.prefix = prefix
    }

    /// String: the version engines serve.
    public var current: String { prefix + "model:current" }
    /// List, newest first: published versions kept for rollback.
    public var history: String { prefix + "model:history" }
    /// Pub/sub channel: "reload" makes every subscribed engine refresh now.
    public var reloadChannel: String { prefix + "model:reload" }
    /// String, `on` or `off`: the fleet's exploration switch, read at every refresh; a change is
    /// also announced on ``reloadChannel`` as `exploration on` / `exploration off`.
    public var exploration: String { prefix + "control:exploration" }

    /// Hash: one immutable published model.
    public func entry(_ version: String) -> String { prefix + "model:entry:" + version }

    /// String: the rules version engines apply (RULES.md §8).
    public var rulesCurrent: String { prefix + "rules:current" }
    /// List, newest first: published rules versions kept for rollback.
    public var rulesHistory: String { prefix + "rules:history" }
    /// Hash: one immutable published rules document.
    public func rulesEntry(_ version: String) -> String { prefix + "rules:entry:" + version }
}
