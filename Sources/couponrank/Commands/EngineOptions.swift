import ArgumentParser
import CouponRankCore
import CouponRankEngine
import CouponRankModelFile
import CouponRankModelStore
import CouponRankSources
import CouponRankUpstreams
import Logging

/// What `couponrank serve` and `couponrank batch` share: where the model comes from, the
/// sources (in-process stubs or HTTP upstreams) and their timeouts, and the one function that
/// builds a ``RankEngine`` from them. The options keep serve's names, defaults and help.
struct EngineOptions: ParsableArguments {
    @Option(help: "Serve this model file instead of the bundled one.")
    var model: String?

    @Option(help: "Apply this rules document (proto-spec/RULES.md) until Redis names a current rules version.")
    var rules: String?

    @Option(help: "Largest model document read, from a file or Redis, in bytes.")
    var maxModelBytes = ModelFile.defaultMaximumBytes

    @Option(help: "Coupons in the stub catalog.")
    var catalogSize = 3000

    @Option(help: "Candidates per user from the stub candidate source.")
    var candidates = 200

    @Option(help: "Seed of the stub data.")
    var seed: UInt64 = 20_261_124

    @Option(help: "σ of the stub stats' log-normal noise: observed CTR = true click probability × exp(σ·N(0,1)); 0 observes the truth.")
    var stubStatsNoise = 0.3

    @Option(help: "Fraction of the stub catalog, 0...1, that the stub stats source never lists (new coupons: the engine uses the prior CTR/CVR); chosen per coupon from the seed.")
    var stubUnseenCoupons = 0.0

    @Option(help: "Injected latency of the user-features stub: none, fixed:5ms, uniform:2ms-8ms, lognormal:5ms,40ms.")
    var userLatency = "none"

    @Option(help: "Injected latency of the candidate stub.")
    var candidatesLatency = "none"

    @Option(help: "Injected latency of the stats stub.")
    var statsLatency = "none"

    @Option(help: "Base URL of the user-features service (UPSTREAMS.md), e.g. http://127.0.0.1:8081; default: in-process stub.")
    var userFeaturesURL: String?

    @Option(help: "Base URL of the candidate coupons service; default: in-process stub.")
    var candidatesURL: String?

    @Option(help: "Base URL of the CTR/CVR stats service; default: in-process stub.")
    var statsURL: String?

    @Option(help: "Calls in flight per upstream beyond which a call fails at once (source degraded).")
    var upstreamMaxInFlight = 256

    @Option(help: "Timeout of the user-features source, in milliseconds.")
    var userTimeoutMs = 30

    @Option(help: "Timeout of the candidate source, in milliseconds.")
    var candidatesTimeoutMs = 40

    @Option(help: "Timeout of the stats source, in milliseconds.")
    var statsTimeoutMs = 30

    @Option(help: "Model store: redis://[:password@]host:port[/db], a cluster's seeds redis://h:p,h:p,…, or redis+sentinel://h:p,…/<master-name>. Without one the bundled or --model model is served.")
    var redisURL: String?

    @Option(help: "Key prefix of the model store.")
    var redisPrefix = "couponrank:"

    func validate() throws {
        guard !redisPrefix.contains("{"), !redisPrefix.contains("}") else {
            throw ValidationError("--redis-prefix must not contain { or }: they would make a Redis Cluster hash tag of it and put every key in one slot")
        }
        guard catalogSize > 0, candidates >= 0 else {
            throw ValidationError("--catalog-size must be positive and --candidates non-negative")
        }
        guard stubStatsNoise.isFinite, stubStatsNoise >= 0 else {
            throw ValidationError("--stub-stats-noise must be a finite σ of at least 0, got \(stubStatsNoise)")
        }
        guard (0...1).contains(stubUnseenCoupons) else {
            throw ValidationError("--stub-unseen-coupons must be a fraction in 0...1, got \(stubUnseenCoupons)")
        }
        for (flag, value) in [("--user-latency", userLatency), ("--candidates-latency", candidatesLatency), ("--stats-latency", statsLatency)] {
            guard LatencyDistribution(parsing: value) != nil else {
                throw ValidationError("\(flag) '\(value)' is not none, fixed:D, uniform:D-D or lognormal:MEDIAN,P99")
            }
        }
        for (flag, value) in [("--user-features-url", userFeaturesURL), ("--candidates-url", candidatesURL), ("--stats-url", statsURL)] {
            if let value, !(value.hasPrefix("http://") || value.hasPrefix("https://")) {
                throw ValidationError("\(flag) '\(value)' must start with http:// or https://")
            }
        }
        guard maxModelBytes > 0 else { throw ValidationError("--max-model-bytes must be positive") }
        guard upstreamMaxInFlight > 0 else { throw ValidationError("--upstream-max-in-flight must be positive") }
        guard userTimeoutMs > 0, candidatesTimeoutMs > 0, statsTimeoutMs > 0 else {
            throw ValidationError("source timeouts must be positive")
        }
        if let url = redisURL {
            do {
                _ = try RedisURL(parsing: url)
            } catch {
                throw ValidationError("--redis-url: \(error.message)")
            }
        }
    }

    /// The model to start from: `--model`'s file, else the bundled one. A model store
    /// (`--redis-url`) replaces it once read (``makeModelStore(logger:)``).
    func loadModel() throws -> ModelSlot {
        if let model {
            return ModelSlot(try ModelFile.load(path: model, maximumBytes: maxModelBytes), origin: .file)
        }
        return ModelSlot(try BundledModel.load(), origin: .embedded)
    }

    /// The rules to start from: `--rules`'s file, else none. A model store's current rules
    /// replace them once read.
    func loadRules() throws -> RulesSlot {
        guard let rules else { return RulesSlot() }
        do {
            return RulesSlot(try RulesFile.load(path: rules).rules, origin: "file")
        } catch {
            throw ValidationError("--rules: \(error.description)")
        }
    }

    /// The model store of `--redis-url`; `nil` without one.
    func makeModelStore(logger: Logger) throws -> ModelStore? {
        guard let redisURL else { return nil }
        return ModelStore(
            redis: RedisClient(url: try RedisURL(parsing: redisURL), logger: logger),
            keys: ModelKeys(prefix: redisPrefix),
            maximumDocumentBytes: maxModelBytes
        )
    }

    /// The HTTP client of the upstream sources (idle unless a `--…-url` is given); shut it down
    /// once no rank needs it.
    func makeUpstreams() -> UpstreamSet {
        UpstreamSet(maximumConcurrentCalls: upstreamMaxInFlight)
    }

    /// The data of the in-process stubs.
    func makeStubGenerator() -> StubDataGenerator {
        StubDataGenerator(
            configuration: .init(
                catalogSize: catalogSize,
                candidatesPerUser: candidates,
                seed: seed,
                statsNoise: stubStatsNoise,
                unseenCouponShare: stubUnseenCoupons
            )
        )
    }

    /// The three sources: each an HTTP upstream when its URL is given, else the in-process stub.
    func makeSources(upstreams: UpstreamSet) -> SourceFanOut {
        let stubs = SourceFanOut.stubs(
            makeStubGenerator(),
            latency: (
                LatencyDistribution(parsing: userLatency)!,
                LatencyDistribution(parsing: candidatesLatency)!,
                LatencyDistribution(parsing: statsLatency)!
            )
        )
        return SourceFanOut(
            userFeatures: userFeaturesURL.map { HTTPUserFeatureSource(upstream: upstreams.client("user_features", $0, .userFeatures)) }
                ?? stubs.userFeatures,
            candidates: candidatesURL.map { HTTPCandidateSource(upstream: upstreams.client("candidates", $0, .coupons)) }
                ?? stubs.candidates,
            stats: statsURL.map { HTTPStatsSource(upstream: upstreams.client("stats", $0, .stats)) } ?? stubs.stats,
            timeouts: SourceTimeouts(
                userFeatures: .milliseconds(userTimeoutMs),
                candidates: .milliseconds(candidatesTimeoutMs),
                stats: .milliseconds(statsTimeoutMs)
            )
        )
    }

    /// Where each source comes from, for the start-up log.
    var sourceMetadata: Logger.Metadata {
        [
            "source.user_features": "\(userFeaturesURL ?? "stub")",
            "source.candidates": "\(candidatesURL ?? "stub")",
            "source.stats": "\(statsURL ?? "stub")",
        ]
    }

    /// The engine over `sources` and `models`: the one place an engine is assembled, for serve
    /// and batch alike, so that anything the engine gains (eligibility rules, …) reaches both.
    func makeEngine(
        sources: SourceFanOut,
        models: ModelSlot,
        defaultTopK: Int = 20,
        sink: (any DecisionSink)? = nil,
        exploration: ExplorationSwitch = ExplorationSwitch(),
        rules: RulesSlot = RulesSlot(),
        impressions: (any ImpressionHistory)? = nil
    ) -> RankEngine {
        RankEngine(
            sources: sources,
            models: models,
            defaultTopK: defaultTopK,
            sink: sink,
            exploration: exploration,
            rules: rules,
            impressions: impressions
        )
    }
}
