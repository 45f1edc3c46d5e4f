public import CouponRankCore
import CouponRankEvents
import CouponRankModelStore
public import CouponRankTraining
import Foundation

/// Whether off-policy evaluation on the ε-greedy run's logs predicts what a frozen model does
/// online: its top choice's value (slot 1) estimated from the logs, beside the same value
/// measured on fresh visitors.
public struct OffPolicyCheck: Sendable, Codable {
    /// The run whose logs were evaluated on.
    public var loggingPolicy: String
    public var target: String
    public var modelVersion: String
    public var loggedDecisions: Int
    public var rows: Int
    public var effectiveSampleSize: Double
    public var ips: OffPolicyEstimate
    public var snips: OffPolicyEstimate
    public var doublyRobust: OffPolicyEstimate
    /// The click probability of the model's top choice, averaged over fresh visitors (the truth,
    /// not drawn clicks), with its 95 % interval.
    public var online: OffPolicyEstimate

    /// Each estimate's 95 % interval holds the online value.
    public var covers: [String: Bool] {
        ["ips": ips.lower <= online.value && online.value <= ips.upper,
         "snips": snips.lower <= online.value && online.value <= snips.upper,
         "dr": doublyRobust.lower <= online.value && online.value <= doublyRobust.upper]
    }

    enum CodingKeys: String, CodingKey {
        case loggingPolicy = "logging_policy"
        case target
        case modelVersion = "model_version"
        case loggedDecisions = "logged_decisions"
        case rows
        case effectiveSampleSize = "effective_sample_size"
        case ips
        case snips
        case doublyRobust = "doubly_robust"
        case online
    }
}

extension Simulation {
    /// Every logged decision and reward under `prefix`, joined with the run's reward window.
    func loggedDecisions(prefix: String) async throws -> [ClosedDecision] {
        let redis = RedisClient(url: settings.redisURL, commandTimeout: .seconds(10), logger: logger)
        let keys = EventKeys(prefix: prefix)
        var decisions: [(StreamID, LoggedDecision)] = []
        var rewards: [(StreamID, RewardRecord)] = []
        try await page(redis, key: keys.decisions) { id, fields in
            if let decision = try DecisionLogReader.decode(fields: fields) { decisions.append((id, decision)) }
        }
        try await page(redis, key: keys.rewards) { id, fields in
            var text: [String: String] = [:]
            for (name, value) in fields { text[name] = String(decoding: value, as: UTF8.self) }
            rewards.append((id, try RewardRecord(fields: text)))
        }
        return RewardJoin.closeAll(decisions: decisions, rewards: rewards, configuration: .init(windowMillis: settings.rewardWindowMillis)).closed
    }

    private func page(_ redis: RedisClient, key: String, visit: (StreamID, [String: [UInt8]]) throws -> Void) async throws {
        var cursor = "-"
        while true {
            let reply = try await redis.command(["XRANGE", key, cursor, "+", "COUNT", "1000"])
            let entries = RawStreamEntry.entries(of: reply)
            for entry in entries {
                guard let id = StreamID(entry.id) else { continue }
                try visit(id, entry.fields)
                cursor = "(" + entry.id
            }
            if entries.count < 1000 { return }
        }
    }

    /// The mean true click probability of `model`'s top choice over fresh visitors.
    func onlineTopChoiceValue(_ model: ScoringModel, world: SimulationWorld) -> OffPolicyEstimate {
        var values: [Double] = []
        values.reserveCapacity(settings.onlineCheckVisitors)
        var batch = ContextBatch()
        var scores = BatchScores()
        for index in 0..<settings.onlineCheckVisitors {
            let visitor = world.visitor(Int(simulationUnit(settings.seed &+ 7, "online", "\(index)") * Double(world.users)))
            model.schema.makeContexts(user: visitor.user, candidates: visitor.candidates, stats: world.stubs.stats(for: visitor.easyID), into: &batch)
            model.score(batch, into: &scores)
            let s = scores.scores
            let best = visitor.candidates.indices.max { s[$0] != s[$1] ? s[$0] < s[$1] : visitor.candidates[$0].id > visitor.candidates[$1].id }!
            values.append(visitor.truth[best])
        }
        return .mean(of: values)
    }

    /// Evaluates each target on the logs under `loggingPrefix` and measures it online.
    public func offPolicyChecks(loggingPolicy: String, loggingPrefix: String, targets: [(String, ScoringModel)], world: SimulationWorld) async throws -> [OffPolicyCheck] {
        let closed = try await loggedDecisions(prefix: loggingPrefix).filter { $0.decision.candidates != nil }
        return targets.map { name, model in
            let evaluation = OffPolicyEvaluator(model: model, policy: .greedy, slots: 1).evaluate(closed)
            return OffPolicyCheck(
                loggingPolicy: loggingPolicy,
                target: name,
                modelVersion: model.version,
                loggedDecisions: closed.count,
                rows: evaluation.rowCount,
                effectiveSampleSize: evaluation.effectiveSampleSize,
                ips: evaluation.inverseProbability,
                snips: evaluation.selfNormalized,
                doublyRobust: evaluation.doublyRobust,
                online: onlineTopChoiceValue(model, world: world)
            )
        }
    }
}
