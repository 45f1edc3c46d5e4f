// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "CouponRank",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "couponrank", targets: ["couponrank"]),
        .executable(name: "couponrank-loadtest", targets: ["couponrank-loadtest"]),
        .library(name: "CouponRankClient", targets: ["CouponRankClient"]),
        // For the request-path benchmark in loadtest/benchmarks, a package of its own.
        .library(
            name: "CouponRankRequestPath",
            targets: ["CouponRankCore", "CouponRankWire", "CouponRankSources", "CouponRankModelFile", "CouponRankEngine", "CouponRankServer"]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/yaslab/CSV.swift", exact: "2.5.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
    ],
    targets: [
        // Pure domain: feature schema, contexts, models, batch scoring, ranking. No I/O.
        .target(
            name: "CouponRankCore",
            swiftSettings: swiftSettings
        ),
        // proto-spec/PROTOCOL.md: frames, messages, error codes, limits.
        .target(
            name: "CouponRankWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio")
            ],
            swiftSettings: swiftSettings
        ),
        // The JSON model document of proto-spec/MODEL.md and the bundled default model.
        .target(
            name: "CouponRankModelFile",
            dependencies: ["CouponRankCore"],
            resources: [.copy("Resources/default-model.json")],
            swiftSettings: swiftSettings
        ),
        // libhiredis, for the model store.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // Redis over hiredis, the model layout of proto-spec/MODEL.md §7, the refresher.
        .target(
            name: "CouponRankModelStore",
            dependencies: [
                "CHiredis",
                "CouponRankCore",
                "CouponRankModelFile",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // libcurl, for the upstream HTTP services.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // The three bodies of proto-spec/UPSTREAMS.md, read and written straight from bytes: no
        // dependency but the core, so that its fuzzer builds quickly.
        .target(
            name: "CouponRankUpstreamJSON",
            dependencies: ["CouponRankCore"],
            swiftSettings: swiftSettings
        ),
        // proto-spec/UPSTREAMS.md: a curl-multi HTTP client, the HTTP source adapters with circuit
        // breakers, and the stub services that serve the same contract.
        .target(
            name: "CouponRankUpstreams",
            dependencies: [
                "CCurl",
                "CouponRankCore",
                "CouponRankUpstreamJSON",
                "CouponRankSources",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The three source protocols, deterministic stubs, fan-out with deadlines and defaults.
        .target(
            name: "CouponRankSources",
            dependencies: [
                "CouponRankCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The rank engine, transport-free: query → fetch → decide → decision; one admission
        // controller for every entry point; the decision-sink hook.
        .target(
            name: "CouponRankEngine",
            dependencies: [
                "CouponRankCore",
                "CouponRankSources",
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The learning loop's logs: decision and reward records (proto-spec/EVENTS.md), the
        // bounded off-path writer to Redis Streams, the decision sink, replay.
        .target(
            name: "CouponRankEvents",
            dependencies: [
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankWire",
                "CouponRankModelStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The learning loop, part 2: joining rewards to decisions, online learners with
        // checkpointed sufficient statistics, off-policy evaluation, the trainer service.
        .target(
            name: "CouponRankTraining",
            dependencies: [
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankEvents",
                "CouponRankModelFile",
                "CouponRankModelStore",
                "CouponRankWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // `couponrank simulate`: a closed loop of simulated users, real engines, a real
        // redis-server and the trainer, against the stub data's ground truth.
        .target(
            name: "CouponRankSimulation",
            dependencies: [
                "CouponRankCore",
                "CouponRankClient",
                "CouponRankEvents",
                "CouponRankModelFile",
                "CouponRankModelStore",
                "CouponRankSources",
                "CouponRankTraining",
                "CouponRankWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The binary RPC port: NIO bootstrap, channel handlers (decode, admit, answer, encode), drain.
        .target(
            name: "CouponRankServer",
            dependencies: [
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankWire",
                "CouponRankSources",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The ops HTTP port: health, readiness, Prometheus metrics, JSON rank and model endpoints.
        .target(
            name: "CouponRankOps",
            dependencies: [
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankServer",
                "CouponRankTraining",
                "CouponRankWire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Multiplexed client over one connection.
        .target(
            name: "CouponRankClient",
            dependencies: [
                "CouponRankWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // `couponrank batch`: a customer CSV in, an offer CSV out, ranked by the engine in
        // process or by a running server; streaming, ordered, bounded in memory.
        .target(
            name: "CouponRankBatch",
            dependencies: [
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankSources",
                "CouponRankClient",
                "CouponRankWire",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "couponrank",
            dependencies: [
                "CouponRankOps",
                "CouponRankEngine",
                "CouponRankEvents",
                "CouponRankTraining",
                "CouponRankSimulation",
                "CouponRankBatch",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                "CouponRankCore",
                "CouponRankModelFile",
                "CouponRankModelStore",
                "CouponRankUpstreams",
                "CouponRankSources",
                "CouponRankServer",
                "CouponRankClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The load generator's logic: pacing, recording, SLOs, the find-max search, reports.
        .target(
            name: "CouponRankLoadTest",
            dependencies: [
                "CouponRankCore",
                "CouponRankClient",
                "CouponRankUpstreams",
                "CouponRankWire",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "couponrank-loadtest",
            dependencies: [
                "CouponRankCore",
                "CouponRankLoadTest",
                "CouponRankClient",
                "CouponRankWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // `make bench`: context build + batch scoring for one request, n candidates × d features.
        .executableTarget(
            name: "couponrank-bench",
            dependencies: [
                "CouponRankBatch",
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankModelFile",
                "CouponRankSources",
                "CouponRankTraining",
                "CouponRankEvents",
                "CouponRankModelStore",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // libFuzzer targets (Tests/Fuzz/fuzz.sh builds them with -sanitize=fuzzer); built
        // normally, each replays the inputs named on its command line.
        .executableTarget(
            name: "FrameDecoderFuzzer",
            dependencies: ["CouponRankWire", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/Fuzz/FrameDecoderFuzzer",
            exclude: ["corpus"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "UpstreamJSONFuzzer",
            dependencies: ["CouponRankCore", "CouponRankUpstreamJSON"],
            path: "Tests/Fuzz/UpstreamJSONFuzzer",
            exclude: ["corpus"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ModelFileFuzzer",
            dependencies: ["CouponRankCore", "CouponRankModelFile"],
            path: "Tests/Fuzz/ModelFileFuzzer",
            exclude: ["corpus"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CouponRankTestSupport",
            dependencies: [
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankModelFile",
                "CouponRankModelStore",
                "CouponRankUpstreams",
                "CouponRankSources",
                "CouponRankServer",
                "CouponRankClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/CouponRankTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankCoreTests",
            dependencies: ["CouponRankCore", "CouponRankSources", "CouponRankModelFile"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankWireTests",
            dependencies: [
                "CouponRankWire",
                "CouponRankTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankEngineTests",
            dependencies: [
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankSources",
                "CouponRankTestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankSourcesTests",
            dependencies: ["CouponRankCore", "CouponRankSources"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankServerTests",
            dependencies: [
                "CouponRankCore",
                "CouponRankSources",
                "CouponRankEngine",
                "CouponRankServer",
                "CouponRankClient",
                "CouponRankWire",
                "CouponRankTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankModelStoreTests",
            dependencies: [
                "CouponRankCore",
                "CouponRankModelFile",
                "CouponRankSources",
                "CouponRankEngine",
                "CouponRankModelStore",
                "CouponRankServer",
                "CouponRankClient",
                "CouponRankWire",
                "CouponRankTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankUpstreamsTests",
            dependencies: [
                "CouponRankCore",
                "CouponRankSources",
                "CouponRankEngine",
                "CouponRankUpstreamJSON",
                "CouponRankUpstreams",
                "CouponRankServer",
                "CouponRankClient",
                "CouponRankWire",
                "CouponRankTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankLoadTestTests",
            dependencies: [
                "CouponRankLoadTest",
                "CouponRankTestSupport",
                "CouponRankWire",
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankEventsTests",
            dependencies: [
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankEvents",
                "CouponRankModelStore",
                "CouponRankServer",
                "CouponRankClient",
                "CouponRankWire",
                "CouponRankTestSupport",
                "CouponRankSources",
                "CouponRankModelFile",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankTrainingTests",
            dependencies: [
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankEvents",
                "CouponRankModelFile",
                "CouponRankModelStore",
                "CouponRankSources",
                "CouponRankTraining",
                "CouponRankWire",
                "CouponRankTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Reference"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankOpsTests",
            dependencies: [
                "CouponRankCore",
                "CouponRankSources",
                "CouponRankEngine",
                "CouponRankOps",
                "CouponRankServer",
                "CouponRankClient",
                "CouponRankWire",
                "CouponRankTestSupport",
                "CouponRankUpstreams",
                "CouponRankTraining",
                "CouponRankModelFile",
                "CouponRankModelStore",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CouponRankBatchTests",
            dependencies: [
                "CouponRankBatch",
                "CouponRankCore",
                "CouponRankEngine",
                "CouponRankSources",
                "CouponRankClient",
                "CouponRankTestSupport",
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
