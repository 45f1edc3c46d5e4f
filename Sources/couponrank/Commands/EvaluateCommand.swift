import ArgumentParser
import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import CouponRankTraining
import Foundation

struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Estimate, from the decision and reward logs, the click-through rate models would have had (off-policy).",
        discussion: """
            Reads the newest --limit decisions of <prefix>events:decisions and the rewards of \
            <prefix>events:rewards, joins them within the reward window, and for each model estimates, shown \
            slot by shown slot, the value its policy would have had had it chosen the slot's coupon from the \
            eligible coupons the slots above left (proto-spec/MODEL.md §8): IPS, SNIPS and doubly robust, with \
            95 % confidence intervals and effective sample sizes, beside the logging policy's observed value. \
            Decisions need their unshown candidates logged; decisions whose reward window has not ended yet are \
            left out. With two or more models, each is compared with the first on the same decisions (paired). \
            Exits 1 when the logs cannot be read, a model cannot be loaded, or no decision can be evaluated.
            """
    )

    @Argument(help: "Model versions from the model store (the bundled model's version is served from the executable).")
    var versions: [String] = []

    @Option(name: .customLong("model-file"), help: "A model document to evaluate (repeatable).")
    var modelFiles: [String] = []

    @Option(help: "Rewards up to this long after a decision count: 250ms, 90s, 30m, 2h, 1d.")
    var window = "30m"

    @Option(help: "Target of a shown coupon without a reward of --reward-kind in the window.")
    var defaultReward: Double = 0

    @Option(help: "The reward kind that makes a shown coupon's target 1: click or conversion.")
    var rewardKind = "click"

    @Option(help: "Evaluate on the newest N decisions of the log.")
    var limit = 100_000

    @Option(help: "Target policy over each model's scores: own (the model's exploration) or greedy.")
    var policy = "own"

    @Option(help: "Only the first N slots of each decision are rows (1: the value of the top choice from the whole eligible set).")
    var slots: Int?

    @Flag(help: "Also evaluate on decisions made with degraded sources.")
    var includeDegraded = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Write the rows as Open Bandit Pipeline bandit feedback (JSON) to FILE; with several models, to FILE with the model's version before its extension.")
    var exportRows: String?

    @OptionGroup var store: ModelStoreOptions

    @OptionGroup var shards: EventShardOptions

    @Option(help: "On a sharded log (--event-shards S), the shard to evaluate: a 1/S sample of the decisions by event id, rewards included.")
    var shard = 0

    func validate() throws {
        guard !versions.isEmpty || !modelFiles.isEmpty else { throw ValidationError("name at least one model version or --model-file") }
        guard Self.windowMillis(window) != nil else { throw ValidationError("--window must be a duration such as 90s, 30m or 2h, got '\(window)'") }
        guard defaultReward.isFinite else { throw ValidationError("--default-reward must be finite") }
        guard Reward.Kind(rawValue: rewardKind) != nil else { throw ValidationError("--reward-kind must be click or conversion") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
        guard ["own", "greedy"].contains(policy) else { throw ValidationError("--policy must be own or greedy") }
        guard slots.map({ $0 > 0 }) ?? true else { throw ValidationError("--slots must be positive") }
        guard (0..<shards.eventShards).contains(shard) else { throw ValidationError("--shard must be in 0..<\(shards.eventShards) (--event-shards)") }
    }

    func run() async throws {
        let modelStore = try store.makeStore()
        let keys = shards.keys(prefix: store.redisPrefix)
        let streams = (decisions: keys.decisions(shard: shard), rewards: keys.rewards(shard: shard))
        let models = try await loadModels(modelStore)
        let evaluators = models.map {
            OffPolicyEvaluator(model: $0, policy: policy == "greedy" ? .greedy : .own, includeDegraded: includeDegraded, slots: slots)
        }
        var exports = try openExports(models)
        let join = RewardJoin.Configuration(
            windowMillis: Self.windowMillis(window)!,
            defaultReward: defaultReward,
            targetKind: Reward.Kind(rawValue: rewardKind)!
        )
        let reader = EvaluationLogReader(redis: modelStore.redis, streams: streams, join: join, limit: limit)
        var accumulators = evaluators.map { $0.makeAccumulator() }
        var evaluationTime = Duration.zero
        let clock = ContinuousClock()
        let started = clock.now
        let read: EvaluationLogReader.Outcome
        do {
            read = try await reader.read { closed in
                let start = clock.now
                for index in accumulators.indices {
                    if exports[index] != nil {
                        for decision in closed {
                            try accumulators[index].add(decision) { row, distribution in try exports[index]!.writer.append(row, distribution) }
                        }
                    } else {
                        for decision in closed { accumulators[index].add(decision) }
                    }
                }
                evaluationTime += clock.now - start
            }
        } catch let error as EvaluationLogReader.ReadError {
            print("error: \(error.message)")
            throw ExitCode(1)
        } catch {
            print("error: cannot write the rows: \(error)")
            throw ExitCode(1)
        }
        let totalTime = clock.now - started
        let evaluations = accumulators.map { $0.finish() }
        for index in exports.indices {
            guard var export = exports[index] else { continue }
            do {
                try export.writer.finish(evaluations[index])
                try export.handle.close()
            } catch {
                print("error: cannot write \(export.path): \(error)")
                throw ExitCode(1)
            }
            exports[index] = export
        }
        let comparisons = evaluations.dropFirst().map { OffPolicyComparison(candidate: $0, serving: evaluations[0]) }
        let report = EvaluationReport(
            stream: streams.decisions,
            windowMillis: join.windowMillis,
            rewardKind: rewardKind,
            defaultReward: defaultReward,
            targetPolicy: policy,
            slots: slots,
            includeDegraded: includeDegraded,
            decisions: read.decisions,
            join: read.counters,
            models: evaluations.map(\.summary),
            comparisons: comparisons,
            exports: exports.compactMap { $0?.path },
            timings: .init(totalSeconds: totalTime.seconds, evaluateSeconds: evaluationTime.seconds)
        )
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.table(evaluations: evaluations))
        }
        guard evaluations.contains(where: { $0.rowCount > 0 }) else {
            FileHandle.standardError.write(Data("error: no decision could be evaluated (see the skipped decisions above)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `Duration(parsing:)`'s units, and hours and days.
    static func windowMillis(_ text: String) -> UInt64? {
        var seconds: Double?
        for (suffix, scale) in [("h", 3600.0), ("d", 86_400.0)] where text.hasSuffix(suffix) {
            seconds = Double(text.dropLast()).map { $0 * scale }
        }
        if seconds == nil, let duration = Duration(parsing: text) { seconds = duration.seconds }
        guard let seconds, seconds.isFinite, seconds > 0, seconds < 1e12 else { return nil }
        return UInt64((seconds * 1000).rounded())
    }

    private func loadModels(_ modelStore: ModelStore) async throws -> [ScoringModel] {
        var models: [ScoringModel] = []
        let bundled = try? BundledModel.load()
        for version in versions {
            if let bundled, bundled.version == version {
                models.append(bundled)
            } else {
                models.append(try await storeOperation { () async throws(ModelStoreError) in try await modelStore.load(version: version) })
            }
        }
        for path in modelFiles {
            do {
                models.append(try ModelFile.load(path: path))
            } catch {
                print("error: --model-file \(path): \(error)")
                throw ExitCode(1)
            }
        }
        return models
    }

    private struct Export {
        var path: String
        var handle: FileHandle
        var writer: BanditFeedbackWriter
    }

    private func openExports(_ models: [ScoringModel]) throws -> [Export?] {
        guard let exportRows else { return models.map { _ in nil } }
        return try models.map { model in
            var path = exportRows
            if models.count > 1 {
                let url = URL(fileURLWithPath: exportRows)
                let ext = url.pathExtension
                let stem = url.deletingPathExtension().path
                path = ext.isEmpty ? "\(stem).\(model.version)" : "\(stem).\(model.version).\(ext)"
            }
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                print("error: cannot create \(path)")
                throw ExitCode(1)
            }
            let writer = try BanditFeedbackWriter { text in try handle.write(contentsOf: Data(text.utf8)) }
            return Export(path: path, handle: handle, writer: writer)
        }
    }
}

/// Reads the newest decisions and the rewards after them, merged in stream order, through a
/// ``RewardJoin``, handing each batch of closed decisions on and dropping it: memory holds one
/// reward window of decisions, not the whole log.
struct EvaluationLogReader {
    struct ReadError: Error {
        var message: String
    }

    struct DecisionCounts: Codable {
        /// Entries of the decision log read.
        var read = 0
        /// Entries that could not be decoded.
        var unreadable = 0
        /// Decisions whose reward window had ended, evaluated.
        var closed = 0
        /// Decisions still in their reward window at the time of reading, left out.
        var open = 0
        /// Entries in the log when it was read.
        var logLength = 0
        var firstError: String?

        enum CodingKeys: String, CodingKey {
            case read, unreadable, closed, open
            case logLength = "log_length"
            case firstError = "first_error"
        }
    }

    struct Outcome {
        var decisions: DecisionCounts
        var counters: RewardJoin.Counters
    }

    let redis: RedisClient
    let streams: (decisions: String, rewards: String)
    let join: RewardJoin.Configuration
    let limit: Int
    let pageSize = 500

    private struct Entry {
        var id: StreamID
        var fields: [String: [UInt8]]
    }

    /// Streams through the log; `closed` gets each batch of decisions whose window ended.
    func read(_ closed: ([ClosedDecision]) throws -> Void) async throws -> Outcome {
        var counts = DecisionCounts()
        let now = try await redisMillis()
        counts.logLength = Int(try await command(["XLEN", streams.decisions]).integer ?? 0)
        let start = try await startOfNewest(length: counts.logLength)
        var joiner = RewardJoin(configuration: join)
        var decisions = Cursor(key: streams.decisions, start: start, remaining: limit)
        // Rewards are never older than their decision: those before the first one join nothing read.
        var rewards = Cursor(key: streams.rewards, start: start.map { "\($0.milliseconds)-0" } ?? "-", remaining: start == nil ? 0 : .max)
        var lastDecisionMillis: UInt64 = 0
        var decisionEntry = try await next(&decisions)
        var rewardEntry = try await next(&rewards)
        while decisionEntry != nil || rewardEntry != nil {
            let position: StreamID
            if let decision = decisionEntry, rewardEntry.map({ decision.id <= $0.id }) ?? true {
                position = decision.id
                counts.read += 1
                lastDecisionMillis = decision.id.milliseconds
                do {
                    if let logged = try DecisionLogReader.decode(fields: decision.fields) {
                        joiner.add(logged, streamID: decision.id)
                    } else {
                        counts.unreadable += 1
                        counts.firstError = counts.firstError ?? "entry \(decision.id) has no body"
                    }
                } catch {
                    counts.unreadable += 1
                    counts.firstError = counts.firstError ?? "entry \(decision.id): \(error)"
                }
                decisionEntry = try await next(&decisions)
            } else if let reward = rewardEntry {
                position = reward.id
                // A reward later than the last decision's window can join nothing read.
                if decisionEntry == nil, reward.id.milliseconds > lastDecisionMillis &+ join.windowMillis { break }
                let text = reward.fields.mapValues { String(decoding: $0, as: UTF8.self) }
                if let record = try? RewardRecord(fields: text) {
                    joiner.add(record, streamID: reward.id)
                }
                rewardEntry = try await next(&rewards)
            } else {
                break
            }
            // Entries come in stream order: nothing read later is older than `position`.
            let batch = joiner.close(upTo: min(position.milliseconds, now))
            // Nothing is acknowledged here: drop the ids the join keeps for a consumer group.
            _ = joiner.takeFinished()
            counts.closed += batch.count
            if !batch.isEmpty { try closed(batch) }
        }
        let batch = joiner.close(upTo: now)
        counts.closed += batch.count
        if !batch.isEmpty { try closed(batch) }
        counts.open = joiner.pendingCount
        return Outcome(decisions: counts, counters: joiner.counters)
    }

    private struct Cursor {
        var key: String
        var start: String
        var remaining: Int
        var page: [Entry] = []
        var index = 0
        var exhausted = false
        var exclusive = false

        init(key: String, start: String, remaining: Int) {
            self.key = key
            self.start = start
            self.remaining = remaining
        }

        init(key: String, start: StreamID?, remaining: Int) {
            self.init(key: key, start: start.map(\.description) ?? "-", remaining: remaining)
            exhausted = start == nil
        }
    }

    private func next(_ cursor: inout Cursor) async throws -> Entry? {
        if cursor.index == cursor.page.count {
            guard !cursor.exhausted, cursor.remaining > 0 else { return nil }
            let count = min(cursor.remaining, pageSize)
            let reply = try await command(["XRANGE", cursor.key, cursor.exclusive ? "(" + cursor.start : cursor.start, "+", "COUNT", "\(count)"])
            cursor.page = Self.entries(of: reply)
            cursor.index = 0
            cursor.exclusive = true
            if let last = cursor.page.last { cursor.start = last.id.description }
            if cursor.page.count < count { cursor.exhausted = true }
            guard !cursor.page.isEmpty else { return nil }
        }
        cursor.remaining -= 1
        cursor.index += 1
        return cursor.page[cursor.index - 1]
    }

    /// The id of the oldest of the newest `limit` decisions (`nil` for an empty log): found from
    /// whichever end of the log is nearer.
    private func startOfNewest(length: Int) async throws -> StreamID? {
        guard length > 0 else { return nil }
        guard length > limit else { return .zero }
        let fromNewest = limit <= length - limit
        var skip = fromNewest ? limit : length - limit + 1
        var cursor = fromNewest ? "+" : "-"
        var exclusive = false
        var last: StreamID?
        while skip > 0 {
            let count = min(skip, 1000)
            let from = exclusive ? "(" + cursor : cursor
            let reply = try await command(fromNewest ? ["XREVRANGE", streams.decisions, from, "-", "COUNT", "\(count)"] : ["XRANGE", streams.decisions, from, "+", "COUNT", "\(count)"])
            let entries = Self.entries(of: reply)
            guard let end = entries.last else { break }
            last = end.id
            skip -= entries.count
            cursor = end.id.description
            exclusive = true
            if entries.count < count { break }
        }
        return last ?? .zero
    }

    private func redisMillis() async throws -> UInt64 {
        let parts = try await command(["TIME"]).elements ?? []
        guard parts.count == 2, let seconds = parts[0].text.flatMap(UInt64.init), let micros = parts[1].text.flatMap(UInt64.init) else {
            throw ReadError(message: "Redis TIME gave an unexpected reply")
        }
        return seconds * 1000 + micros / 1000
    }

    private func command(_ arguments: [String]) async throws -> RedisReply {
        do {
            return try await redis.command(arguments)
        } catch {
            throw ReadError(message: "cannot read the event logs (\(arguments[0]) \(arguments.count > 1 ? arguments[1] : "")): \(error)")
        }
    }

    private static func entries(of reply: RedisReply) -> [Entry] {
        RawStreamEntry.entries(of: reply).compactMap { entry in StreamID(entry.id).map { Entry(id: $0, fields: entry.fields) } }
    }
}

/// What `couponrank evaluate` prints.
struct EvaluationReport: Encodable {
    struct Timings: Encodable {
        var totalSeconds: Double
        var evaluateSeconds: Double

        enum CodingKeys: String, CodingKey {
            case totalSeconds = "total_seconds"
            case evaluateSeconds = "evaluate_seconds"
        }
    }

    var stream: String
    var windowMillis: UInt64
    var rewardKind: String
    var defaultReward: Double
    var targetPolicy: String
    var slots: Int?
    var includeDegraded: Bool
    var decisions: EvaluationLogReader.DecisionCounts
    var join: RewardJoin.Counters
    var models: [OffPolicyEvaluation.Summary]
    var comparisons: [OffPolicyComparison]
    var exports: [String]
    var timings: Timings

    enum CodingKeys: String, CodingKey {
        case stream
        case windowMillis = "window_ms"
        case rewardKind = "reward_kind"
        case defaultReward = "default_reward"
        case targetPolicy = "target_policy"
        case slots
        case includeDegraded = "include_degraded"
        case decisions, join, models, comparisons, exports, timings
    }

    func table(evaluations: [OffPolicyEvaluation]) -> String {
        var lines: [String] = []
        let first = models[0]
        lines.append(
            "decisions: \(decisions.read) read of \(decisions.logLength) in \(stream), \(decisions.closed) with their reward window ended, "
                + "\(decisions.open) still open (left out)\(decisions.unreadable > 0 ? ", \(decisions.unreadable) unreadable" : "")"
        )
        if let error = decisions.firstError { lines.append("  first unreadable entry: \(error)") }
        lines.append(
            "rewards: \(join.rewardsJoined) \(rewardKind) joined in a \(Self.format(window: windowMillis)) window, \(join.rewardsOtherKind) of another kind, "
                + "\(join.rewardsLate) late, \(join.rewardsNotShown) for a coupon not shown, \(join.rewardsUnmatched) for an unread decision; default reward \(defaultReward)"
        )
        let skipped = OffPolicyEvaluator.SkipReason.allCases.map { "\($0) \(first.skipped[$0.rawValue] ?? 0)" }.joined(separator: ", ")
        lines.append("used: \(first.decisionsUsed) decisions, \(first.rows) rows (shown slots\(slots.map { " 1–\($0)" } ?? "")); skipped: \(skipped)")
        lines.append("")
        let header = [Self.pad("estimator", 11), Self.pad("model", 34), Self.pad("value", 10), Self.pad("95% CI", 24), "ESS"].joined()
        lines.append(header)
        lines.append(Self.pad("observed", 11) + Self.pad("logging policy", 34) + Self.row(first.observed, ess: Double(first.rows)))
        for (model, evaluation) in zip(models, evaluations) {
            let name = "\(model.modelVersion) (\(Self.describe(evaluation.policy)))"
            for (estimator, estimate) in [("IPS", model.ips), ("SNIPS", model.snips), ("DR", model.dr), ("DM", model.direct)] {
                let ess = estimator == "DM" ? Double(model.rows) : model.effectiveSampleSize
                lines.append(Self.pad(estimator, 11) + Self.pad(name, 34) + Self.row(estimate, ess: ess))
            }
        }
        lines.append("")
        lines.append("ESS = (Σw)²/Σw² of the importance weights w = π(c|R)/p; DM (the model's own q̂) is for reference, biased when q̂ is.")
        for model in models where model.unsupportedMass > 0.01 {
            lines.append(
                "warning: \(model.modelVersion) puts \(Self.percent(model.unsupportedMass)) of its mass on coupons a deterministic (greedy) logging policy "
                    + "could not show: IPS and SNIPS miss their reward, DR fills it with the model's own q̂"
            )
        }
        for comparison in comparisons {
            let d = comparison.difference
            lines.append(
                "paired \(comparison.estimator): \(comparison.candidateVersion) − \(comparison.servingVersion) = \(Self.signed(d.value)) "
                    + "[\(Self.signed(d.lower)), \(Self.signed(d.upper))] over \(comparison.decisions) decisions"
            )
        }
        if !exports.isEmpty { lines.append("rows written to \(exports.joined(separator: ", "))") }
        let rows = models.reduce(0) { $0 + $1.rows }
        let rate = timings.evaluateSeconds > 0 ? Double(rows) / timings.evaluateSeconds : 0
        lines.append(
            "evaluated \(rows) rows in \(Self.fixed(timings.evaluateSeconds, 2)) s (\(Int(rate.rounded())) rows/s); "
                + "\(Self.fixed(timings.totalSeconds, 2)) s with reading and joining"
        )
        return lines.joined(separator: "\n")
    }

    private static func row(_ estimate: OffPolicyEstimate, ess: Double) -> String {
        pad(fixed(estimate.value, 5), 10) + pad("[\(fixed(estimate.lower, 5)), \(fixed(estimate.upper, 5))]", 24) + fixed(ess, 1)
    }

    private static func describe(_ policy: ExplorationPolicy) -> String {
        switch policy {
        case .greedy: "greedy"
        case .epsilonGreedy(let epsilon): "ε-greedy \(epsilon)"
        case .softmax(let temperature): "softmax T=\(temperature)"
        }
    }

    private static func format(window millis: UInt64) -> String {
        if millis % 86_400_000 == 0 { return "\(millis / 86_400_000)d" }
        if millis % 3_600_000 == 0 { return "\(millis / 3_600_000)h" }
        if millis % 60_000 == 0 { return "\(millis / 60_000)m" }
        if millis % 1000 == 0 { return "\(millis / 1000)s" }
        return "\(millis)ms"
    }

    private static func fixed(_ value: Double, _ digits: Int) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "n/a"
    }

    private static func signed(_ value: Double) -> String {
        value.isFinite ? String(format: "%+.5f", value) : "n/a"
    }

    private static func percent(_ value: Double) -> String {
        String(format: "%.1f%%", value * 100)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
