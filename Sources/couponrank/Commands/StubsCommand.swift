import ArgumentParser
import CouponRankSources
import CouponRankUpstreams
import Foundation
import Logging
import ServiceLifecycle

struct StubsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stubs",
        abstract: "Serve the three upstream APIs of proto-spec/UPSTREAMS.md from the stub data, with injected latency and errors."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (printed).")
    var port = 8081

    @Option(help: "Coupons in the catalog.")
    var catalogSize = 3000

    @Option(help: "Candidates per user.")
    var candidates = 200

    @Option(help: "Seed of the stub data (the engine's in-process stubs use the same default).")
    var seed: UInt64 = 20_261_124

    @Option(help: "σ of the stub stats' log-normal noise: observed CTR = true click probability × exp(σ·N(0,1)); 0 observes the truth.")
    var stubStatsNoise = 0.3

    @Option(help: "Fraction of the stub catalog, 0...1, that the stub stats source never lists (new coupons: the engine uses the prior CTR/CVR); chosen per coupon from the seed.")
    var stubUnseenCoupons = 0.0

    @Option(help: "Latency of /features: none, fixed:5ms, uniform:2ms-8ms, lognormal:MEDIAN,P99.")
    var userLatency = "none"

    // `--candidates-latency` as in `serve`; `--coupons-latency` kept for existing scripts.
    @Option(name: [.customLong("candidates-latency"), .customLong("coupons-latency")], help: "Latency of /coupons (the candidate service).")
    var couponsLatency = "none"

    @Option(help: "Latency of /coupon-stats.")
    var statsLatency = "none"

    @Option(help: "Fraction of /features requests answered 500.")
    var userErrorRate = 0.0

    @Option(help: "Fraction of /coupons requests answered 500.")
    var couponsErrorRate = 0.0

    @Option(help: "Fraction of /coupon-stats requests answered 500.")
    var statsErrorRate = 0.0

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        for (flag, value) in [("--user-latency", userLatency), ("--candidates-latency", couponsLatency), ("--stats-latency", statsLatency)] {
            guard LatencyDistribution(parsing: value) != nil else {
                throw ValidationError("\(flag) '\(value)' is not none, fixed:D, uniform:D-D or lognormal:MEDIAN,P99")
            }
        }
        for (flag, value) in [("--user-error-rate", userErrorRate), ("--coupons-error-rate", couponsErrorRate), ("--stats-error-rate", statsErrorRate)] {
            guard (0...1).contains(value) else { throw ValidationError("\(flag) must be in 0...1") }
        }
        guard catalogSize > 0, candidates >= 0 else { throw ValidationError("--catalog-size must be positive, --candidates non-negative") }
        guard stubStatsNoise.isFinite, stubStatsNoise >= 0 else {
            throw ValidationError("--stub-stats-noise must be a finite σ of at least 0, got \(stubStatsNoise)")
        }
        guard (0...1).contains(stubUnseenCoupons) else {
            throw ValidationError("--stub-unseen-coupons must be a fraction in 0...1, got \(stubUnseenCoupons)")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "couponrank-stubs")
        let server = StubHTTPServer(
            configuration: .init(
                host: host,
                port: port,
                userFeatures: .init(latency: LatencyDistribution(parsing: userLatency)!, errorRate: userErrorRate),
                coupons: .init(latency: LatencyDistribution(parsing: couponsLatency)!, errorRate: couponsErrorRate),
                stats: .init(latency: LatencyDistribution(parsing: statsLatency)!, errorRate: statsErrorRate)
            ),
            generator: StubDataGenerator(
                configuration: .init(
                    catalogSize: catalogSize,
                    candidatesPerUser: candidates,
                    seed: seed,
                    statsNoise: stubStatsNoise,
                    unseenCouponShare: stubUnseenCoupons
                )
            ),
            logger: logger
        ) { address in
            FileHandle.standardOutput.write(Data("couponrank stubs serving on \(address)\n".utf8))
        }
        let group = ServiceGroup(
            configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
    }
}
