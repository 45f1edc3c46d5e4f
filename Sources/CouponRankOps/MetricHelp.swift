/// `# HELP` lines for the metric families made through swift-metrics: Prometheus' factory for it
/// registers them without one. Families registered on the registry itself (the scrape-time
/// gauges) carry their own.
enum MetricHelp {
    static let texts: [String: String] = [
        // The engine (PROTOCOL.md, OPS.openapi.yaml).
        "couponrank_ranks_total": "Ranks answered, by outcome: ok, degraded, or the error code's name (overloaded, deadline_exceeded, …)",
        "couponrank_rank_duration_seconds": "Server time of a rank, from its arrival to its answer, by outcome",
        "couponrank_requests_in_flight": "Ranks admitted and not yet answered, on both ports",
        "couponrank_overload_rejections_total": "Ranks refused OVERLOADED: in-flight bound, queueing bound or connection bound",
        "couponrank_open_connections": "Open RPC connections",
        "couponrank_admin_refusals_total": "Admin messages refused, by reason: disabled (no admin token configured), missing_token, wrong_token",
        "couponrank_rewards_total": "Rewards received, by outcome: accepted, or why not (disabled, no_log, unauthenticated, invalid, dropped)",
        "couponrank_source_duration_seconds": "Time of one fetch from a source (user features, candidates, stats), by source",
        "couponrank_source_failures_total": "Fetches from a source that failed, by source and reason (timeout or error); the rank went on with defaults or failed",
        "couponrank_redis_failures_total": "Redis commands that failed or timed out (model store, rules, decision log)",
        "couponrank_model_refreshes_total": "Model refreshes from Redis, by outcome: swapped, unchanged, kept_previous (the store failed or its model was refused)",
        "couponrank_events_written_total": "Decision and reward records written to their Redis Stream, by stream",
        "couponrank_events_dropped_total": "Decision and reward records dropped instead of written, by stream and reason: queue_full, redis, shutdown",
        "couponrank_impressions_dropped_total": "Impressions for the frequency cap dropped because their queue was full",
        "couponrank_impressions_redis_failures_total": "Frequency-cap reads and writes to Redis that failed; the cap was then not applied",
        // The trainer (EVENTS.md §6.5).
        "couponrank_trainer_decisions_total": "Decisions closed by the trainer, by outcome: learned, or excluded because they were degraded",
        "couponrank_trainer_item_updates_total": "Shown items the trainer learned from",
        "couponrank_trainer_rewards_total": "Rewards read by the trainer, by outcome: joined, late, unmatched, other kind or not shown",
        "couponrank_trainer_lag_seconds": "How far the trainer's reading is behind the newest entry of each stream",
        "couponrank_trainer_pending_decisions": "Decisions read and waiting for their reward window to close",
        "couponrank_trainer_checkpoints_total": "Checkpoints of the learners' statistics written to Redis",
        "couponrank_trainer_publishes_total": "Models the trainer tried to publish, by outcome: published, refused by the guard, failed",
        "couponrank_trainer_last_publish_timestamp_seconds": "Unix time of the trainer's last published model",
        "couponrank_trainer_slots_total": "Shown slots of closed decisions, by choice: explored or exploited",
        "couponrank_trainer_impressions_total": "Shown items of closed decisions, by the model version that decided them",
        "couponrank_trainer_clicks_total": "Shown items of closed decisions that got the target reward, by model version",
    ]

    /// The exposition with a `# HELP` line before the `# TYPE` line of each family in ``texts``
    /// that has none.
    static func adding(to exposition: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(exposition.count + texts.count * 96)
        var previousLine: ArraySlice<UInt8> = []
        for line in exposition.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if line.starts(with: typePrefix) {
                let name = line.dropFirst(typePrefix.count).prefix { $0 != UInt8(ascii: " ") }
                let help = helpPrefix + Array(name)
                if let text = texts[String(decoding: name, as: UTF8.self)], !previousLine.starts(with: help) {
                    result += help
                    result += Array(" \(text)\n".utf8)
                }
            }
            result += line
            result.append(UInt8(ascii: "\n"))
            previousLine = line
        }
        // One newline per piece is one more than the exposition had.
        result.removeLast()
        return result
    }

    private static let typePrefix = Array("# TYPE ".utf8)
    private static let helpPrefix = Array("# HELP ".utf8)
}
