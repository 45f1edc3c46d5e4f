// swift-tools-version:6.1
import PackageDescription

// The request-path benchmark: a package of its own so that `make test` and CI do not build
// ordo-one/benchmark. Run it with `make bench-path` from the repository root.
let package = Package(
    name: "CouponRankBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "CouponRank", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
    ],
    targets: [
        .executableTarget(
            name: "RequestPath",
            dependencies: [
                .product(name: "CouponRankRequestPath", package: "CouponRank"),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/RequestPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
