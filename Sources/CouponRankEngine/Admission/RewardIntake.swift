public import Metrics

/// The one way in for rewards, shared by every entry point: the token check, validation, the
/// hand-off to the reward log, and the counts by outcome.
///
/// A reward trains the model, so a forged one poisons it: with no token configured every reward
/// is refused, and tokens are compared in constant time.
public struct RewardIntake: Sendable {
    /// Why a reward was not accepted.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Code: String, Sendable, Hashable, CaseIterable {
            /// No reward token is configured: rewards are off.
            case disabled
            /// No reward log is configured (no Redis): rewards are off.
            case noLog = "no_log"
            case unauthenticated
            case invalid
            /// The reward log's queue is full.
            case dropped
        }

        public var code: Code
        public var message: String

        public init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        public var description: String { "\(code.rawValue): \(message)" }
    }

    public let token: String?
    public let sink: (any RewardSink)?
    private let counters: [String: Counter]

    public init(token: String?, sink: (any RewardSink)?, metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.sink = sink
        let outcomes = ["accepted"] + Refusal.Code.allCases.map(\.rawValue)
        self.counters = Dictionary(uniqueKeysWithValues: outcomes.map {
            ($0, Counter(label: "couponrank_rewards_total", dimensions: [("outcome", $0)], factory: metricsFactory))
        })
    }

    /// Whether rewards can be accepted at all.
    public var isEnabled: Bool { token != nil && sink != nil }

    /// Checks and queues one reward.
    public func accept(
        token given: String,
        eventID: String,
        couponID: String,
        kind: Reward.Kind?,
        value: Double,
        unixMillis: Int64?
    ) throws(Refusal) {
        do throws(Refusal) {
            guard let token else { throw Refusal(.disabled, "rewards are off: this server has no reward token configured") }
            // The caller proves who it is before it learns how the server is configured.
            guard !given.isEmpty else { throw Refusal(.unauthenticated, "no reward token given") }
            guard Secret.matches(given, token) else { throw Refusal(.unauthenticated, "wrong reward token") }
            guard let sink else { throw Refusal(.noLog, "rewards are off: this server has no reward log (start it with --redis-url)") }
            guard let kind else { throw Refusal(.invalid, "kind must be one of \(Reward.Kind.allCases.map(\.rawValue).joined(separator: ", "))") }
            let reward: Reward
            do {
                reward = try Reward(
                    eventID: eventID,
                    couponID: couponID,
                    kind: kind,
                    value: value,
                    unixMillis: unixMillis,
                    receivedUnixMillis: EventID.nowUnixMillis()
                )
            } catch {
                throw Refusal(.invalid, error.description)
            }
            guard sink.record(reward) else { throw Refusal(.dropped, "the reward log is full; retry later") }
            counters["accepted"]!.increment()
        } catch {
            counters[error.code.rawValue]!.increment()
            throw error
        }
    }
}
