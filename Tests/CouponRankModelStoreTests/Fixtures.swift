import CouponRankCore
import CouponRankModelFile
import CouponRankModelStore
import CouponRankTestSupport
import Foundation
import Logging

/// A valid model document: the bundled model under another version, its weights scaled by
/// `scale` (a negative scale reverses the ranking).
func document(version: String, scale: Double = 1) throws -> Data {
    var definition = try BundledModel.load().definition
    definition.version = version
    definition.theta = definition.theta.map { $0 * scale }
    return try ModelFile.encode(definition)
}

func makeStore(_ redis: RedisServerFixture, historyLimit: Int = 20) -> ModelStore {
    ModelStore(redis: RedisClient(url: redis.url, connectTimeout: .milliseconds(300)), historyLimit: historyLimit)
}

var quietLogger: Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
