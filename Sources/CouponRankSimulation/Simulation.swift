public import CouponRankCore
import CouponRankClient
import CouponRankEvents
public import CouponRankModelStore
import CouponRankModelFile
import CouponRankTraining
import CouponRankWire
import Foundation
public import Logging
import ServiceLifecycle
import Synchronization

/// How a simulation runs (`couponrank simulate`, loadtest/SIMULATION.md).
public struct SimulationSettings: Sendable {
    /// Impressions per policy: ranks × top k.
    public var impressions: Int
    public var topK: Int
    /// Ranks per second sent to each engine, and how many are in flight at once.
    public var rate: Double
    public var concurrency: Int
    /// The trainer publishes after this many closed decisions.
    public var publishEvery: Int
    public var rewardWindowMillis: UInt64
    /// The share of the ε-greedy run's decisions logged with their candidates (for the OPE check).
    public var candidateLogRate: Double
    /// LinUCB's α values compared.
    public var alphas: [Double]
    /// Visitors scored in process to measure a frozen model's value online (the OPE check).
    public var onlineCheckVisitors: Int
    public var seed: UInt64
    /// The `couponrank` executable that serves.
    public var binary: String
    public var redisURL: RedisURL
    /// Keys of this run start `sim-<run id>:`, so runs never share state.
    public var runID: String

    public init(
        impressions: Int = 200_000, topK: Int = 5, rate: Double = 2500, concurrency: Int = 16, publishEvery: Int = 1000,
        rewardWindowMillis: UInt64 = 500, candidateLogRate: Double = 0.4, alphas: [Double] = [0.05, 0.15, 0.5],
        onlineCheckVisitors: Int = 20_000, seed: UInt64 = 1, binary: String, redisURL: RedisURL, runID: String
    ) {
        self.impressions = impressions
        self.topK = topK
        self.rate = rate
        self.concurrency = concurrency
        self.publishEvery = publishEvery
        self.rewardWindowMillis = rewardWindowMillis
        self.candidateLogRate = candidateLogRate
        self.alphas = alphas
        self.onlineCheckVisitors = onlineCheckVisitors
        self.seed = seed
        self.binary = binary
        self.redisURL = redisURL
        self.runID = runID
    }

    var ranks: Int { max(impressions / topK, 1) }
}

/// A policy the engine serves, learning from its own logs.
public struct EnginePolicy: Sendable {
    public var name: String
    public var description: String
    public var base: ModelDefinition
    /// Whether its run logs candidates for the off-policy check.
    public var logsCandidates: Bool
}

/// The closed loop: baselines in process, then each learning policy through a real engine and a
/// trainer over a real redis-server, from a cold start.
public struct Simulation: Sendable {
    public let settings: SimulationSettings
    public let logger: Logger

    public init(settings: SimulationSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// The schema every learning policy uses: the bundled model's, with the user's preferred
    /// category crossed with the coupon's category over 128 buckets instead of 15, so that the
    /// 100 combinations hardly collide.
    public static func schema(from bundled: ModelDefinition) -> FeatureSchema {
        FeatureSchema(features: bundled.features.features.map { feature in
            if case .cross(let left, let right, _) = feature, left == "user.preferred_category" {
                return .cross(left: left, right: right, buckets: 128)
            }
            return feature
        })
    }

    public func enginePolicies(bundled: ModelDefinition) -> [EnginePolicy] {
        func base(_ kind: ModelKind, alpha: Double = 0, exploration: ExplorationPolicy = .greedy) -> ModelDefinition {
            let schema = Self.schema(from: bundled)
            return ModelDefinition(
                version: "cold", createdAt: "2026-11-25T00:00:00Z", kind: kind, alpha: alpha, features: schema,
                theta: Array(repeating: 0, count: schema.dimension), exploration: exploration
            )
        }
        var policies = [
            EnginePolicy(name: "greedy-logistic", description: "logistic CTR model (FTRL), greedy", base: base(.logistic), logsCandidates: false),
            EnginePolicy(name: "epsilon-greedy", description: "logistic CTR model (FTRL), ε-greedy ε = 0.1", base: base(.logistic, exploration: .epsilonGreedy(epsilon: 0.1)), logsCandidates: true),
            EnginePolicy(name: "softmax", description: "logistic CTR model (FTRL), softmax T = 0.05 (Plackett–Luce)", base: base(.logistic, exploration: .softmax(temperature: 0.05)), logsCandidates: true),
        ]
        for alpha in settings.alphas {
            policies.append(EnginePolicy(name: "linucb-\(alpha)", description: "LinUCB α = \(alpha)", base: base(.linucb, alpha: alpha), logsCandidates: false))
        }
        return policies
    }

    // MARK: Baselines

    public enum Baseline: String, CaseIterable, Sendable {
        case random
        case mostPopular = "most-popular"
        case statsCTR = "stats-ctr"
        case oracle

        var description: String {
            switch self {
            case .random: "k candidates at random"
            case .mostPopular: "most clicked so far: (clicks + 1) / (impressions + 50) per coupon, learned in the run"
            case .statsCTR: "the stats service's observed CTR (the prior 0.02 for coupons it does not list)"
            case .oracle: "the true click probability (unknowable: the upper bound)"
            }
        }
    }

    /// The visitor of rank `index`: the same sequence for every policy.
    func visitorIndex(_ index: Int, world: SimulationWorld) -> Int {
        Int(simulationUnit(settings.seed, "visitor", "\(index)") * Double(world.users))
    }

    public func runBaseline(_ baseline: Baseline, world: SimulationWorld) -> PolicyResult {
        let started = ContinuousClock.now
        let recorder = PolicyRecorder(plannedImpressions: settings.ranks * settings.topK)
        var popularity: [String: (clicks: Double, impressions: Double)] = [:]
        let k = settings.topK
        for index in 0..<settings.ranks {
            let visitor = world.visitor(visitorIndex(index, world: world))
            let order: [Int]
            switch baseline {
            case .random:
                // A partial Fisher–Yates shuffle: the first k of a uniform permutation.
                var positions = Array(visitor.candidates.indices)
                for slot in 0..<min(k, positions.count) {
                    let pick = slot + Int(simulationUnit(settings.seed, "random-\(index)", "\(slot)") * Double(positions.count - slot))
                    positions.swapAt(slot, pick)
                }
                order = Array(positions.prefix(k))
            case .mostPopular:
                let score = visitor.candidates.map { coupon in popularity[coupon.id].map { ($0.clicks + 1) / ($0.impressions + 50) } ?? 1.0 / 50 }
                order = Array(visitor.candidates.indices.sorted { score[$0] != score[$1] ? score[$0] > score[$1] : visitor.candidates[$0].id < visitor.candidates[$1].id }.prefix(k))
            case .statsCTR:
                let stats = world.stubs.stats(for: visitor.easyID)
                let ctr = stats.aligned(with: visitor.candidates).map(\.ctr)
                order = Array(visitor.candidates.indices.sorted { ctr[$0] != ctr[$1] ? ctr[$0] > ctr[$1] : visitor.candidates[$0].id < visitor.candidates[$1].id }.prefix(k))
            case .oracle:
                order = visitor.oracleTop(k)
            }
            let eventID = "\(baseline.rawValue)-\(index)"
            var clicked = 0
            for position in order {
                let coupon = visitor.candidates[position].id
                let click = simulationUnit(settings.seed, eventID, coupon) < visitor.truth[position]
                if click { clicked += 1 }
                var entry = popularity[coupon] ?? (0, 0)
                entry.impressions += 1
                if click { entry.clicks += 1 }
                popularity[coupon] = entry
            }
            record(visitor: visitor, shown: order, clicked: clicked, into: recorder)
        }
        return recorder.result(policy: baseline.rawValue, description: baseline.description, seconds: (ContinuousClock.now - started).seconds)
    }

    private func record(visitor: SimulationWorld.Visitor, shown: [Int], clicked: Int, modelVersion: String? = nil, into recorder: PolicyRecorder) {
        let best = visitor.oracleTop(settings.topK)
        let bestSet = Set(best)
        recorder.record(
            shown: shown.map { visitor.truth[$0] },
            clicked: clicked,
            oracle: best.map { visitor.truth[$0] },
            hits: shown.lazy.filter { bestSet.contains($0) }.count,
            modelVersion: modelVersion
        )
    }

    // MARK: Learning policies

    public struct EngineRun: Sendable {
        public var result: PolicyResult
        public var prefix: String
        public var finalModel: ScoringModel?
    }

    public func runEngine(_ policy: EnginePolicy, world: SimulationWorld) async throws -> EngineRun {
        let prefix = "sim-\(settings.runID):\(world.name):\(policy.name):"
        let redis = RedisClient(url: settings.redisURL, commandTimeout: .seconds(5), logger: logger)
        let store = ModelStore(redis: redis, keys: ModelKeys(prefix: prefix))
        let learner = try OnlineLearner(base: policy.base)
        let cold = try learner.makeDefinition(version: "\(policy.name)-cold", createdAt: ISO8601DateFormatter().string(from: Date()), lineage: nil)
        do {
            try await store.publish(try ModelFile.encode(cold))
        } catch {
            throw SimulationError("cannot publish the cold-start model to \(settings.redisURL): \(error)")
        }
        let token = "simulation-\(settings.runID)"
        let engine = try await EngineProcess.start(
            binary: settings.binary,
            arguments: [
                "--redis-url", settings.redisURL.description, "--redis-prefix", prefix, "--reward-token", token,
                "--decision-log-candidates", policy.logsCandidates ? "\(settings.candidateLogRate)" : "0",
                "--catalog-size", "\(world.stubs.configuration.catalogSize)", "--candidates", "\(world.stubs.configuration.candidatesPerUser)",
                "--seed", "\(world.stubs.configuration.seed)",
                "--stub-stats-noise", "\(world.statsNoise)", "--stub-unseen-coupons", "\(world.unseenCouponShare)",
            ]
        )
        defer { engine.stop() }
        let trainer = Trainer(
            configuration: TrainerConfiguration(
                keys: EventKeys(prefix: prefix),
                group: "simulation",
                join: .init(windowMillis: settings.rewardWindowMillis),
                blockMillis: 100,
                checkpointInterval: .milliseconds(250),
                publishEvery: settings.publishEvery,
                versionPrefix: policy.name,
                guardWindow: 0
            ),
            redis: RedisClient(url: settings.redisURL, commandTimeout: .seconds(5), logger: logger),
            store: store,
            base: policy.base,
            publishGuard: nil,
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [.init(service: trainer)], logger: logger))
        let training = Task { try await group.run() }

        let started = ContinuousClock.now
        let recorder = PolicyRecorder(plannedImpressions: settings.ranks * settings.topK)
        let client = try await CouponRankClient.connect(host: "127.0.0.1", port: engine.port, defaultTimeout: .seconds(5))
        let next = TicketCounter()
        let ranks = settings.ranks
        let interval = 1.0 / settings.rate
        let progressEvery = max(ranks / 10, 1)
        await withTaskGroup(of: Void.self) { tasks in
            for _ in 0..<settings.concurrency {
                tasks.addTask {
                    while true {
                        let index = next.take()
                        guard index < ranks else { return }
                        let due = started + .seconds(Double(index) * interval)
                        if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
                        await self.rankOnce(index: index, world: world, client: client, token: token, recorder: recorder)
                        if (index + 1) % progressEvery == 0 {
                            self.logger.notice(
                                "progress",
                                metadata: ["policy": "\(policy.name)", "world": "\(world.name)", "ranks": "\(index + 1)/\(ranks)", "publishes": "\(trainer.status.publishes)"]
                            )
                        }
                    }
                }
            }
        }
        await client.close()
        // Let the last window close so the trainer's counts are complete, then stop it.
        try? await Task.sleep(for: .milliseconds(Int64(settings.rewardWindowMillis) + 500))
        await group.triggerGracefulShutdown()
        _ = try? await training.value
        let seconds = (ContinuousClock.now - started).seconds
        let finalModel = try? await store.loadCurrent()
        var result = recorder.result(policy: policy.name, description: policy.description, seconds: seconds)
        result.lastModelVersion = finalModel?.version ?? result.lastModelVersion
        return EngineRun(result: result, prefix: prefix, finalModel: finalModel)
    }

    private func rankOnce(index: Int, world: SimulationWorld, client: CouponRankClient, token: String, recorder: PolicyRecorder) async {
        let visitor = world.visitor(visitorIndex(index, world: world))
        let response: RankResponse
        do {
            response = try await client.rank(RankRequest(easyID: visitor.easyID, topK: UInt16(settings.topK)))
        } catch {
            recorder.recordFailure(error)
            return
        }
        var shown: [Int] = []
        var clicked = 0
        for item in response.items {
            guard let position = visitor.candidates.firstIndex(where: { $0.id == item.couponID }) else { continue }
            shown.append(position)
            guard simulationUnit(settings.seed, response.eventID, item.couponID) < visitor.truth[position] else { continue }
            clicked += 1
            // A lost reward is a lost click for the learner, as in production; the run counts ranks, not rewards.
            try? await client.reward(RewardRequest(token: token, eventID: response.eventID, couponID: item.couponID, kind: .click))
        }
        record(visitor: visitor, shown: shown, clicked: clicked, modelVersion: response.modelVersion, into: recorder)
    }
}


/// Hands out 0, 1, 2, … to concurrent workers.
final class TicketCounter: Sendable {
    private let value = Atomic<Int>(0)

    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}
