import CouponRankCore
import CouponRankEngine
import CouponRankEvents
import CouponRankModelStore
import CouponRankTestSupport
import Foundation
import Logging
import ServiceLifecycle

/// The bundled model with an exploration policy, under a version of its own.
func exploringModel(_ policy: ExplorationPolicy) throws -> ScoringModel {
    var definition = try TestServer.bundledModel().definition
    definition.format = 2
    definition.version = "bundled-\(policy.name)"
    definition.exploration = policy
    return try ScoringModel(definition)
}

/// A decision writer and a reward writer on `redis`, running as services while `body` runs,
/// then shut down gracefully (their queues flushed).
func withEventWriters<T: Sendable>(
    _ redis: RedisServerFixture,
    queueCapacity: Int = 65_536,
    commandTimeout: Duration = .seconds(5),
    keys: EventKeys = EventKeys(),
    _ body: @Sendable (EventStreamWriter<DecisionLog.Entry>, EventStreamWriter<Reward>) async throws -> T
) async throws -> T {
    var logger = Logger(label: "events-test")
    logger.logLevel = .warning
    let decisions = EventStreamWriter<DecisionLog.Entry>(
        configuration: .init(url: redis.url, streams: keys.allDecisions, queueCapacity: queueCapacity, commandTimeout: commandTimeout),
        name: "decisions",
        logger: logger
    )
    let rewards = EventStreamWriter<Reward>(
        configuration: .init(url: redis.url, streams: keys.allRewards, queueCapacity: queueCapacity, commandTimeout: commandTimeout),
        name: "rewards",
        logger: logger
    )
    let group = ServiceGroup(configuration: .init(services: [decisions, rewards], logger: logger))
    let running = Task { try await group.run() }
    do {
        let result = try await body(decisions, rewards)
        await group.triggerGracefulShutdown()
        try await running.value
        return result
    } catch {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        throw error
    }
}

/// The one-line hex file of proto-spec/examples, comments stripped.
func exampleHex(_ name: String) throws -> [UInt8] {
    let text = try String(contentsOf: ProtocolVectors.specDirectory.appendingPathComponent("examples/\(name)"), encoding: .utf8)
    let hex = text.split(separator: "\n").map { $0.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
        .joined(separator: " ").split(whereSeparator: \.isWhitespace)
    return hex.map { UInt8($0, radix: 16)! }
}

let pythonReader = ProtocolVectors.specDirectory.appendingPathComponent("examples/read_events.py").path

/// Every number written as `"key": number` in `json`, parsed with `Double(_:)`: Foundation's JSON
/// parser on Linux can be one ulp off for some decimals, and these checks are bit for bit.
func jsonNumbers(_ key: String, in json: some StringProtocol) -> [Double] {
    var numbers: [Double] = []
    var rest = json[...]
    let marker = "\"\(key)\": "
    while let range = rest.range(of: marker) {
        let tail = rest[range.upperBound...]
        let end = tail.firstIndex { !($0.isNumber || $0 == "." || $0 == "-" || $0 == "e" || $0 == "E" || $0 == "+") } ?? tail.endIndex
        if let value = Double(String(tail[..<end])) { numbers.append(value) }
        rest = tail[end...]
    }
    return numbers
}
