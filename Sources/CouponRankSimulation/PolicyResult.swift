import Synchronization

/// What one policy achieved in one world (SIMULATION.md's table and curve).
public struct PolicyResult: Sendable, Codable {
    public struct CurvePoint: Sendable, Codable {
        /// Impressions shown so far, at the end of the bucket.
        public var impressions: Int
        /// Expected CTR@k of the bucket: the mean true click probability of the shown coupons.
        public var ctr: Double
    }

    public var policy: String
    public var description: String
    public var ranks: Int
    public var impressions: Int
    public var clicks: Int
    /// Mean true click probability of every shown coupon (expected CTR@k), the whole run.
    public var expectedCTR: Double
    /// The same over the last fifth of the impressions: where the policy ends.
    public var finalCTR: Double
    /// The oracle's expected CTR@k for the same visitors, last fifth.
    public var oracleFinalCTR: Double
    /// Shown coupons that are among the visitor's true top k, last fifth.
    public var finalPrecision: Double
    /// Σ over ranks of (oracle's expected clicks − the policy's), the whole run.
    public var cumulativeRegret: Double
    public var curve: [CurvePoint]
    /// Model versions the engine served (engine policies), and the trainer's publishes.
    public var modelVersions: Int
    public var lastModelVersion: String?
    public var failedRanks: Int
    /// Why ranks failed: the error, by count.
    public var failures: [String: Int]
    public var seconds: Double

    public var finalRatioToOracle: Double { oracleFinalCTR > 0 ? finalCTR / oracleFinalCTR : 0 }
}

/// Collects one policy's impressions as ranks complete.
final class PolicyRecorder: Sendable {
    private struct State {
        var ranks = 0
        var impressions = 0
        var clicks = 0
        var expectedSum = 0.0
        var oracleSum = 0.0
        var regret = 0.0
        var bucketExpected = 0.0
        var bucketImpressions = 0
        var curve: [PolicyResult.CurvePoint] = []
        var tailExpected = 0.0
        var tailOracle = 0.0
        var tailHits = 0
        var tailImpressions = 0
        var failed = 0
        var failures: [String: Int] = [:]
        var versions: Set<String> = []
        var lastVersion: String?
    }

    let bucket: Int
    let tailStart: Int
    private let state = Mutex(State())

    init(plannedImpressions: Int, buckets: Int = 40) {
        self.bucket = max(plannedImpressions / buckets, 1)
        self.tailStart = plannedImpressions * 4 / 5
    }

    /// One rank: the true probabilities of the shown coupons, whether each was clicked, the
    /// oracle's best `k` probabilities, and how many shown coupons are among them.
    func record(shown: [Double], clicked: Int, oracle: [Double], hits: Int, modelVersion: String? = nil) {
        state.withLock { s in
            s.ranks += 1
            let before = s.impressions
            s.impressions += shown.count
            s.clicks += clicked
            let expected = shown.reduce(0, +)
            let best = oracle.prefix(shown.count).reduce(0, +)
            s.expectedSum += expected
            s.oracleSum += best
            s.regret += best - expected
            if before >= tailStart {
                s.tailExpected += expected
                s.tailOracle += best
                s.tailHits += hits
                s.tailImpressions += shown.count
            }
            s.bucketExpected += expected
            s.bucketImpressions += shown.count
            if s.bucketImpressions >= bucket {
                s.curve.append(.init(impressions: s.impressions, ctr: s.bucketExpected / Double(s.bucketImpressions)))
                s.bucketExpected = 0
                s.bucketImpressions = 0
            }
            if let modelVersion {
                s.versions.insert(modelVersion)
                s.lastVersion = modelVersion
            }
        }
    }

    func recordFailure(_ error: any Error) {
        // Figures vary per failure ("waited 26651 µs"): counted by their shape.
        let reason = String("\(error)".prefix(120).replacing(/[0-9]+/, with: "N"))
        state.withLock {
            $0.failed += 1
            $0.failures[reason, default: 0] += 1
        }
    }

    var impressions: Int { state.withLock { $0.impressions } }

    func result(policy: String, description: String, seconds: Double) -> PolicyResult {
        state.withLock { s in
            PolicyResult(
                policy: policy,
                description: description,
                ranks: s.ranks,
                impressions: s.impressions,
                clicks: s.clicks,
                expectedCTR: s.impressions > 0 ? s.expectedSum / Double(s.impressions) : 0,
                finalCTR: s.tailImpressions > 0 ? s.tailExpected / Double(s.tailImpressions) : 0,
                oracleFinalCTR: s.tailImpressions > 0 ? s.tailOracle / Double(s.tailImpressions) : 0,
                finalPrecision: s.tailImpressions > 0 ? Double(s.tailHits) / Double(s.tailImpressions) : 0,
                cumulativeRegret: s.regret,
                curve: s.curve,
                modelVersions: s.versions.count,
                lastModelVersion: s.lastVersion,
                failedRanks: s.failed,
                failures: s.failures,
                seconds: seconds
            )
        }
    }
}
