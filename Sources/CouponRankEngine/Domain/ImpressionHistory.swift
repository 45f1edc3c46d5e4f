/// How often each coupon has been shown to a user: what a frequency cap reads (RULES.md §6).
///
/// Both calls are on the request path and must not wait: what is not known yet is `nil`, and
/// the implementation finds it out in the background; recording only queues.
public protocol ImpressionHistory: Sendable {
    /// The impressions of each coupon shown to `easyID` in the last `windowHours` whole hours,
    /// as known now; `nil` when not known yet (the cap then demotes nothing).
    func counts(easyID: String, windowHours: Int) -> [String: Int]?
    /// Notes that `shown` were shown to `easyID` now.
    func record(easyID: String, shown: [String], windowHours: Int)
}
