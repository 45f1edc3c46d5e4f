import CouponRankEngine

/// The event id of each row's decision: `<prefix>-<line>`, the same in every run over the same
/// file, so that a decision can be reproduced (its exploration seed derives from it; batch ranks
/// greedily in any case) and traced back to its row.
public struct BatchEventIDs: Sendable, Hashable {
    public static let defaultPrefix = "batch"
    /// Longest prefix: the id stays within ``EventID/maximumBytes`` for any line number.
    public static let maximumPrefixBytes = EventID.maximumBytes - 21

    public let prefix: String

    /// `nil` when `prefix` is empty, too long, or has a byte outside `A-Z a-z 0-9 . _ : -`.
    public init?(prefix: String = BatchEventIDs.defaultPrefix) {
        guard prefix.utf8.count <= Self.maximumPrefixBytes, EventID.isValid(prefix) else { return nil }
        self.prefix = prefix
    }

    public func id(line: Int) -> String {
        "\(prefix)-\(line)"
    }
}
