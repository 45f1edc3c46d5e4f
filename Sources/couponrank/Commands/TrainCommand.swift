import ArgumentParser
import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import CouponRankOps
import CouponRankTraining
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Learn from the decision and reward logs and publish new model versions (runs until stopped).",
        discussion: """
            Reads <prefix>events:decisions and <prefix>events:rewards through a consumer group, joins each \
            decision's rewards within the reward window, updates the model's statistics from every shown item \
            (LinUCB: A += xxᵀ, b += r·x; logistic: FTRL-Proximal), checkpoints them to Redis and only then \
            acknowledges the entries, and publishes a new version every --publish-every closed decisions or \
            --publish-interval-s seconds, after an off-policy comparison with the serving model \
            (proto-spec/EVENTS.md §6). A killed trainer resumes from its checkpoint without losing or \
            double-counting an event. SIGTERM or SIGINT writes a last checkpoint and stops.
            """
    )

    @Option(help: "The model whose schema, kind, α and exploration the trained models keep: a model document file. Default: the store's current model, else the bundled one.")
    var baseModel: String?

    @Option(help: "The consumer group (each partition's group is <group>-<i>of<N>).")
    var group = "trainer"

    @Option(help: "This consumer's name within the group; keep it across restarts so the trainer re-reads what it had not acknowledged. Default trainer-<partition index>.")
    var consumer: String?

    @Option(help: "This trainer's share of the events, i/N (0-based): decisions and rewards whose event id hashes to i mod N. Partition 0 merges the others' statistics and publishes.")
    var partition = "0/1"

    @Option(help: "Where a new consumer group starts: beginning (every entry in the streams) or now.")
    var startFrom = "beginning"

    @Option(help: "Seconds after a decision during which its rewards count; later ones are counted as late and ignored.")
    var rewardWindowS: Double = 1800

    @Option(help: "Target of a shown item without a reward in the window.")
    var defaultReward: Double = 0

    @Option(help: "The reward kind that is the training target: click (the CTR model) or conversion.")
    var rewardKind = "click"

    @Flag(help: "Also learn from decisions built on degraded inputs (defaults instead of user features or statistics).")
    var includeDegraded = false

    @Option(help: "Publish after this many closed decisions (besides the interval).")
    var publishEvery: Int?

    @Option(help: "Publish at least this often, in seconds, when something was learned.")
    var publishIntervalS: Double = 3600

    @Flag(help: "Never publish: keep statistics and checkpoints only.")
    var noPublish = false

    @Option(help: "Published versions are <prefix>-<n>.")
    var versionPrefix = "trained"

    @Option(help: "Refuse to publish a candidate whose estimated CTR is below the serving model's by more than this (95 % confidence).")
    var guardMargin: Double = 0.005

    @Option(help: "Closed decisions (with logged candidates) the guard evaluates on.")
    var guardWindow = 20_000

    @Option(help: "Below this many evaluable decisions the guard lets a candidate through.")
    var guardMinDecisions = 500

    @Flag(help: "Publish even when the guard refuses.")
    var force = false

    @Option(help: "Milliseconds between checkpoints while there is something to save.")
    var checkpointIntervalMs = 1000

    @Option(help: "Entries read per stream per call.")
    var readCount = 500

    @Option(help: "Milliseconds a partition's lease lasts without renewal (one trainer per partition; a killed trainer's successor waits at most this long).")
    var leaseMs = 5000

    @Option(help: "Ops HTTP port (health, /v1/trainer, /metrics); 0 disables it.")
    var opsPort = 7431

    @Option(help: "Ops HTTP host.")
    var opsHost = "127.0.0.1"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "Log format on standard error: text, or json (one object per line: time, level, logger, message, source, metadata).")
    var logFormat = "text"

    @OptionGroup var store: ModelStoreOptions

    @OptionGroup var shards: EventShardOptions

    func validate() throws {
        guard let owned = TrainerConfiguration.Partition(partition) else { throw ValidationError("--partition must be i/N with 0 ≤ i < N") }
        guard shards.eventShards == 1 || owned.count == shards.eventShards else {
            throw ValidationError("the event log has \(shards.eventShards) shards (--event-shards): run \(shards.eventShards) trainers, --partition i/\(shards.eventShards), one per shard")
        }
        guard TrainerConfiguration.StartPosition(rawValue: startFrom) != nil else { throw ValidationError("--start-from must be beginning or now") }
        guard Reward.Kind(rawValue: rewardKind) != nil else { throw ValidationError("--reward-kind must be click or conversion") }
        guard rewardWindowS > 0, rewardWindowS.isFinite else { throw ValidationError("--reward-window-s must be positive") }
        guard defaultReward.isFinite else { throw ValidationError("--default-reward must be finite") }
        guard publishEvery.map({ $0 > 0 }) ?? true else { throw ValidationError("--publish-every must be positive") }
        guard publishIntervalS > 0 else { throw ValidationError("--publish-interval-s must be positive") }
        guard guardMargin >= 0, guardWindow >= 0, guardMinDecisions >= 0 else { throw ValidationError("the guard's options must not be negative") }
        guard checkpointIntervalMs > 0, readCount > 0 else { throw ValidationError("--checkpoint-interval-ms and --read-count must be positive") }
        guard leaseMs >= 1000 else { throw ValidationError("--lease-ms must be at least 1000 (a read blocks for up to 200 ms between renewals)") }
        guard (0...65535).contains(opsPort) else { throw ValidationError("--ops-port must be 0…65535") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is unknown") }
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json, got '\(logFormat)'") }
    }

    func run() async throws {
        LogFormat(rawValue: logFormat)!.bootstrap(level: Logger.Level(rawValue: logLevel)!)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "couponrank.trainer")
        let modelStore = try store.makeStore()
        let base = try await loadBase(modelStore)
        let partition = TrainerConfiguration.Partition(partition)!
        let configuration = TrainerConfiguration(
            keys: shards.keys(prefix: store.redisPrefix),
            group: group,
            consumer: consumer ?? "trainer-\(partition.index)",
            partition: partition,
            startFrom: TrainerConfiguration.StartPosition(rawValue: startFrom)!,
            join: RewardJoin.Configuration(windowMillis: UInt64(rewardWindowS * 1000), defaultReward: defaultReward, targetKind: Reward.Kind(rawValue: rewardKind)!),
            excludeDegraded: !includeDegraded,
            readCount: readCount,
            checkpointInterval: .milliseconds(checkpointIntervalMs),
            publishEvery: publishEvery,
            publishInterval: .milliseconds(Int64(publishIntervalS * 1000)),
            publishes: !noPublish,
            versionPrefix: versionPrefix,
            guardWindow: guardWindow,
            guardMargin: guardMargin,
            guardMinimumDecisions: guardMinDecisions,
            force: force,
            lease: .milliseconds(leaseMs)
        )
        // Reads block for up to 200 ms: the command deadline leaves room for that.
        let redis = RedisClient(url: modelStore.redis.url, commandTimeout: .seconds(5), logger: logger)
        let trainer = Trainer(
            configuration: configuration,
            redis: redis,
            store: modelStore,
            base: base,
            publishGuard: OffPolicyPublishGuard(margin: guardMargin, minimumDecisions: guardMinDecisions),
            logger: logger
        )
        logger.info(
            "starting",
            metadata: [
                "base": "\(base.version)", "kind": "\(base.kind.rawValue)", "group": "\(configuration.groupName)",
                "consumer": "\(configuration.consumer)", "partition": "\(partition)", "reward_window_s": "\(rewardWindowS)",
                "publish": noPublish ? "off" : "every \(publishEvery.map(String.init) ?? "–") decisions or \(publishIntervalS) s",
            ]
        )
        var services: [any Service] = [trainer]
        if opsPort != 0 {
            services.append(
                TrainerOpsServer.makeApplication(host: opsHost, port: opsPort, trainer: trainer, registry: registry, logger: logger) { port in
                    logger.info("trainer ops port listening", metadata: ["port": "\(port)"])
                }
            )
        }
        let group = ServiceGroup(
            configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        do {
            try await group.run()
        } catch {
            print("error: \(error)")
            throw ExitCode(1)
        }
    }

    private func loadBase(_ modelStore: ModelStore) async throws -> ModelDefinition {
        if let baseModel {
            do {
                return try ModelFile.load(path: baseModel).definition
            } catch {
                print("error: --base-model \(baseModel): \(error)")
                throw ExitCode(1)
            }
        }
        if let current = try? await modelStore.loadCurrent() {
            return current.definition
        }
        return try BundledModel.load().definition
    }
}
