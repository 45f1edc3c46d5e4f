import ArgumentParser
import Foundation
import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelFile
import CouponRankModelStore
import CouponRankOps
import Metrics
import Prometheus
import CouponRankServer
import CouponRankSources
import CouponRankUpstreams
import CouponRankWire
import Logging
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve Rank and Health over the binary protocol (in-process stub sources)."
    )

    @Option(help: "Configuration file of `key = value` lines (env COUPONRANK_CONFIG); every option also reads COUPONRANK_<KEY>; flags win over the environment, which wins over --secrets-dir, which wins over the file.")
    var config: String?

    @Option(help: "Directory of one file per setting, named by its key (e.g. admin-token, redis-url), as a mounted Kubernetes Secret (env COUPONRANK_SECRETS_DIR).")
    var secretsDir: String?

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 7420

    @Option(help: "Largest accepted frame, in bytes after the length prefix.")
    var maxFrameBytes = 1 << 20

    @Option(help: "Bytes of unfinished large frames held at once across every connection; a frame that would pass it is answered OVERLOADED and its connection closed.")
    var maxBufferedFrameBytes = 64 << 20

    @Option(help: "Requests in flight on the whole engine (both ports) before OVERLOADED; default 256 per core.")
    var maxInFlight = AdmissionConfiguration.defaultMaximumInFlight

    @Option(help: "Longest a request may wait, from its arrival until work on it starts, before it is answered OVERLOADED, in milliseconds.")
    var maxQueueingMs = 25.0

    @Option(help: "Requests in flight on one connection before OVERLOADED.")
    var maxInFlightPerConnection = 256

    @Option(help: "Budget of a request that sends none, in milliseconds.")
    var defaultBudgetMs = 100

    @Option(help: "Largest request budget honoured, in milliseconds.")
    var maxBudgetMs = 10_000

    @Option(help: "Coupons returned when a request asks for top_k 0.")
    var defaultTopK = 20

    /// The model, the sources and their timeouts (shared with `couponrank batch`).
    @OptionGroup var engineOptions: EngineOptions

    /// How the decision and reward streams are split.
    @OptionGroup var eventShards: EventShardOptions

    @Option(help: "Seconds between model refreshes from Redis (jittered ±10%).")
    var refreshIntervalS = 3600

    @Option(help: "Shared secret of admin messages (visible in the process list: prefer --admin-token-file or COUPONRANK_ADMIN_TOKEN). Without one, admin messages are refused.")
    var adminToken: String?

    @Option(help: "Read the admin token from this file (its first line); wins over --admin-token.")
    var adminTokenFile: String?

    @Option(help: "Shared secret of reward messages (RPC Reward, POST /v1/events/{id}/rewards). Without one, rewards are refused and the ops route is off.")
    var rewardToken: String?

    @Option(help: "Read the reward token from this file (its first line); wins over --reward-token.")
    var rewardTokenFile: String?

    @Option(help: "Exploration at start-up: on (the model's policy) or off (greedy for every request). The fleet switch in Redis, once set, wins at each refresh.")
    var exploration = "on"

    @Flag(help: "Do not log decisions to Redis (they are logged by default when --redis-url is given).")
    var noDecisionLog = false

    @Option(help: "Fraction of decisions logged, 0...1, chosen by event id.")
    var decisionLogSampleRate = 1.0

    @Option(help: "Fraction of logged decisions, 0...1, whose entry also carries every unshown eligible candidate (for off-policy evaluation), chosen by event id.")
    var decisionLogCandidates = 0.0

    @Option(help: "Events held in memory per stream before new ones are dropped (and counted).")
    var eventQueueCapacity = 65_536

    @Option(help: "Approximate bound of each event stream (XADD MAXLEN ~).")
    var eventStreamMaxlen = 1_000_000

    @Option(help: "Address of the ops HTTP port (/healthz, /readyz, /metrics, /v1/rank, /v1/model).")
    var opsHost = "127.0.0.1"

    @Option(help: "Ops HTTP port; 0 picks a free one (printed).")
    var opsPort = 7421

    @Flag(help: "Do not open the ops HTTP port.")
    var noOps = false

    @Option(help: "Close an ops HTTP connection that sends nothing for this many seconds.")
    var opsIdleTimeoutS = 30

    @Option(help: "Close a connection that completes no frame for this many seconds.")
    var idleTimeoutS = 300

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "Log format on standard error: text, or json (one object per line: time, level, logger, message, source, metadata).")
    var logFormat = "text"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxFrameBytes >= FrameHeader.size, maxFrameBytes <= 64 << 20 else {
            throw ValidationError("--max-frame-bytes must be in \(FrameHeader.size)...\(64 << 20)")
        }
        guard maxInFlight > 0, maxInFlightPerConnection > 0 else {
            throw ValidationError("--max-in-flight and --max-in-flight-per-connection must be positive")
        }
        guard maxQueueingMs > 0, maxQueueingMs.isFinite else { throw ValidationError("--max-queueing-ms must be positive") }
        guard defaultBudgetMs > 0, maxBudgetMs >= defaultBudgetMs else {
            throw ValidationError("--default-budget-ms must be positive and at most --max-budget-ms")
        }
        guard (1...WireLimits.maximumTopK).contains(defaultTopK) else {
            throw ValidationError("--default-top-k must be in 1...\(WireLimits.maximumTopK)")
        }
        guard maxBufferedFrameBytes >= maxFrameBytes else {
            throw ValidationError("--max-buffered-frame-bytes must be at least --max-frame-bytes")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level '\(logLevel)' is unknown") }
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json, got '\(logFormat)'") }
        guard (0...65535).contains(opsPort) else { throw ValidationError("--ops-port must be in 0...65535") }
        guard refreshIntervalS > 0 else { throw ValidationError("--refresh-interval-s must be positive") }
        guard idleTimeoutS > 0, opsIdleTimeoutS > 0 else { throw ValidationError("--idle-timeout-s and --ops-idle-timeout-s must be positive") }
        _ = try secret(adminToken, file: adminTokenFile, option: "--admin-token-file")
        _ = try effectiveRewardToken()
        guard exploration == "on" || exploration == "off" else { throw ValidationError("--exploration must be on or off, got '\(exploration)'") }
        guard (0...1).contains(decisionLogSampleRate) else { throw ValidationError("--decision-log-sample-rate must be in 0...1") }
        guard (0...1).contains(decisionLogCandidates) else {
            throw ValidationError("--decision-log-candidates must be in 0...1 (the fraction of logged decisions that carry their candidates), got \(decisionLogCandidates)")
        }
        guard eventQueueCapacity > 0, eventStreamMaxlen > 0 else {
            throw ValidationError("--event-queue-capacity and --event-stream-maxlen must be positive")
        }
    }

    private var effectiveAdminToken: String? { (try? secret(adminToken, file: adminTokenFile, option: "--admin-token-file")) ?? nil }

    private func effectiveRewardToken() throws -> String? {
        try secret(rewardToken, file: rewardTokenFile, option: "--reward-token-file")
    }

    /// A secret from its file (first line) when one is given, else from its value; `nil` when empty.
    private func secret(_ value: String?, file: String?, option: String) throws -> String? {
        guard let file else { return value.flatMap { $0.isEmpty ? nil : $0 } }
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ValidationError("\(option): cannot read \(file): \(error.localizedDescription)")
        }
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !token.isEmpty else { throw ValidationError("\(option): \(file) holds no token") }
        return token
    }

    /// Every setting in force, secrets masked, for the start-up log.
    private func effectiveConfiguration() -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "config.host": "\(host)", "config.port": "\(port)",
            "config.ops": "\(noOps ? "off" : "\(opsHost):\(opsPort)")",
            "config.max_frame_bytes": "\(maxFrameBytes)", "config.max_in_flight": "\(maxInFlight)",
            "config.max_in_flight_per_connection": "\(maxInFlightPerConnection)",
            "config.max_queueing_ms": "\(maxQueueingMs)",
            "config.default_budget_ms": "\(defaultBudgetMs)", "config.max_budget_ms": "\(maxBudgetMs)",
            "config.default_top_k": "\(defaultTopK)", "config.idle_timeout_s": "\(idleTimeoutS)",
            "config.model": "\(engineOptions.model ?? "bundled")",
            "config.rules": "\(engineOptions.rules ?? "none")",
            "config.redis_url": "\(engineOptions.redisURL.flatMap { try? RedisURL(parsing: $0).description } ?? "none")",
            "config.redis_prefix": "\(engineOptions.redisPrefix)", "config.refresh_interval_s": "\(refreshIntervalS)",
            "config.admin_token": "\(effectiveAdminToken == nil ? "none" : "***")",
            "config.reward_token": "\(rewardToken == nil && rewardTokenFile == nil ? "none" : "***")",
            "config.exploration": "\(exploration)",
            "config.decision_log": "\(noDecisionLog || engineOptions.redisURL == nil ? "off" : "sample rate \(decisionLogSampleRate), candidates \(decisionLogCandidates)")",
            "config.event_queue_capacity": "\(eventQueueCapacity)", "config.event_stream_maxlen": "\(eventStreamMaxlen)",
            "config.timeouts_ms": "user \(engineOptions.userTimeoutMs), candidates \(engineOptions.candidatesTimeoutMs), stats \(engineOptions.statsTimeoutMs)",
            "config.upstream_max_in_flight": "\(engineOptions.upstreamMaxInFlight)",
        ]
        metadata["config.sources"] = "user \(engineOptions.userFeaturesURL ?? "stub"), candidates \(engineOptions.candidatesURL ?? "stub"), stats \(engineOptions.statsURL ?? "stub")"
        metadata["config.stubs"] = "catalog \(engineOptions.catalogSize), candidates \(engineOptions.candidates), seed \(engineOptions.seed), stats noise \(engineOptions.stubStatsNoise), unseen coupons \(engineOptions.stubUnseenCoupons)"
        return metadata
    }

    func run() async throws {
        LogFormat(rawValue: logFormat)!.bootstrap(level: Logger.Level(rawValue: logLevel)!)
        let logger = Logger(label: "couponrank")
        logger.info("starting", metadata: effectiveConfiguration())
        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        // A rank takes about 0.1–1 ms in process and tens of ms over HTTP: buckets from 50 µs,
        // not the library's default from 5 ms.
        metricsFactory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
        ]
        MetricsSystem.bootstrap(metricsFactory)

        let models = try engineOptions.loadModel()
        let origin = models.current.origin
        let upstreams = engineOptions.makeUpstreams()
        let sources = engineOptions.makeSources(upstreams: upstreams)
        logger.info("sources configured", metadata: engineOptions.sourceMetadata)
        let rulesSlot = try engineOptions.loadRules()
        let explorationSwitch = ExplorationSwitch(enabled: exploration == "on")
        let rewardToken = try effectiveRewardToken()
        var decisionWriter: EventStreamWriter<DecisionLog.Entry>?
        var rewardWriter: EventStreamWriter<Reward>?
        if let url = engineOptions.redisURL {
            let redisURL = try RedisURL(parsing: url)
            let keys = eventShards.keys(prefix: engineOptions.redisPrefix)
            if !noDecisionLog {
                decisionWriter = EventStreamWriter(
                    configuration: .init(url: redisURL, streams: keys.allDecisions, queueCapacity: eventQueueCapacity, maximumLength: eventStreamMaxlen),
                    name: "decisions",
                    logger: logger
                )
            }
            rewardWriter = EventStreamWriter(
                configuration: .init(url: redisURL, streams: keys.allRewards, queueCapacity: eventQueueCapacity, maximumLength: eventStreamMaxlen),
                name: "rewards",
                logger: logger
            )
        }
        // Impression counts for a rules document's frequency cap (RULES.md §6): read and written
        // only while the applied rules have one.
        let impressions = try engineOptions.redisURL.map { url in
            RedisImpressionHistory(
                redis: RedisClient(url: try RedisURL(parsing: url), logger: logger),
                configuration: .init(prefix: engineOptions.redisPrefix),
                logger: logger
            )
        }
        let engine = engineOptions.makeEngine(
            sources: sources,
            models: models,
            defaultTopK: defaultTopK,
            sink: decisionWriter.map { DecisionLog(writer: $0, sampleRate: decisionLogSampleRate, candidatesRate: decisionLogCandidates) },
            exploration: explorationSwitch,
            rules: rulesSlot,
            impressions: impressions
        )
        let rewardLog = rewardWriter.map(RewardLog.init(writer:))
        let modelStore = try engineOptions.makeModelStore(logger: logger)
        let componentStates: @Sendable () -> [(name: String, state: String)] = { [decisionWriter, rewardWriter, modelStore] in
            var states = upstreams.breakerStates
            if let decisionWriter { states.append((name: "event_log.decisions", state: decisionWriter.healthState)) }
            if let rewardWriter { states.append((name: "event_log.rewards", state: rewardWriter.healthState)) }
            states.append((name: "exploration", state: explorationSwitch.isEnabled ? "on" : "off"))
            // A Sentinel-managed primary moves on a failover: say which one the engine uses.
            if let redis = modelStore?.redis, case .sentinel = redis.url.topology {
                states.append((name: "redis.primary", state: redis.currentNode?.description ?? "unknown"))
            }
            return states
        }
        let admission = AdmissionController(
            configuration: AdmissionConfiguration(
                maximumInFlight: maxInFlight,
                maximumQueueing: .microseconds(Int64(maxQueueingMs * 1000)),
                defaultBudget: .milliseconds(defaultBudgetMs),
                maximumBudget: .milliseconds(maxBudgetMs)
            )
        )
        var refresher: ModelRefresher?
        if let store = modelStore {
            let modelRefresher = ModelRefresher(
                store: store,
                slot: models,
                interval: .seconds(refreshIntervalS),
                rules: (RulesStore(redis: store.redis, keys: store.keys), rulesSlot),
                logger: logger,
                onExploration: { explorationSwitch.set(enabled: $0) }
            )
            let report = await modelRefresher.reload(reason: "startup")
            if report.outcome != .swapped {
                logger.warning(
                    "no model loaded from redis; serving the \(origin) model",
                    metadata: ["redis.url": "\(store.redis.url)", "model.refresh.message": "\(report.message)"]
                )
            }
            refresher = modelRefresher
        }
        let configuration = ServerConfiguration(
            host: host,
            port: port,
            limits: WireLimits(maximumFrameSize: maxFrameBytes),
            maximumInFlightPerConnection: maxInFlightPerConnection,
            idleTimeout: .seconds(idleTimeoutS),
            adminToken: effectiveAdminToken,
            rewardToken: rewardToken,
            maximumBufferedFrameBytes: maxBufferedFrameBytes
        )
        let served = models.current
        logger.info(
            "model loaded",
            metadata: [
                "model.version": "\(served.model.version)",
                "model.kind": "\(served.model.kind.rawValue)",
                "model.dimension": "\(served.model.dimension)",
                "model.origin": "\(served.origin)",
            ]
        )
        let announcer = StartupAnnouncer(waitsForOps: !noOps)
        let server = RPCServer(
            configuration: configuration,
            engine: engine,
            admission: admission,
            reloader: refresher,
            rewards: rewardLog,
            componentStates: componentStates,
            logger: logger
        ) { address in
            announcer.rpcListening("couponrank serving on \(address) with model \(served.model.version) (\(served.origin))")
        }
        // Shut down in reverse order: the refresher first, then the RPC server drains, the ops
        // port after it, so /readyz answers "draining" while requests finish, then the event
        // writers flush what the last decisions and rewards queued, and the upstream client's
        // curl thread last, once no rank needs it.
        var services: [any Service] = [upstreams.http]
        if let decisionWriter { services.append(decisionWriter) }
        if let rewardWriter { services.append(rewardWriter) }
        if let impressions { services.append(impressions) }
        if !noOps {
            services.append(
                OpsServer.makeApplication(
                    configuration: OpsConfiguration(
                        host: opsHost,
                        port: opsPort,
                        rankBudget: .milliseconds(defaultBudgetMs),
                        idleTimeout: .seconds(opsIdleTimeoutS),
                        buildVersion: CouponRankCommand.version
                    ),
                    engine: engine,
                    admission: admission,
                    rewards: RewardIntake(token: rewardToken, sink: rewardLog),
                    registry: registry,
                    componentStates: componentStates,
                    logger: logger
                ) { port in
                    announcer.opsListening("couponrank ops port on \(opsHost):\(port)")
                }
            )
        }
        services.append(server)
        if let refresher { services.append(refresher) }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
