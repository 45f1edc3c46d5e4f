public import NIOCore

/// The ranked coupons of one user (PROTOCOL.md §5.2).
public struct RankResponse: WireMessage, Hashable {
    public static let messageType = MessageType.rankResponse

    public struct Item: Sendable, Hashable {
        public var couponID: String
        public var score: Double
        /// Expected click-through probability.
        public var probability: Double
        public var name: String
        /// Revision 3: the probability of this coupon in this slot under the policy, given the
        /// slots above it; 1 from a revision 1–2 server (which ranked greedily).
        public var propensity: Double

        public init(couponID: String, score: Double, probability: Double, name: String, propensity: Double = 1) {
            self.couponID = couponID
            self.score = score
            self.probability = probability
            self.name = name
            self.propensity = propensity
        }
    }

    /// Bit set of sources answered from defaults.
    public struct Degraded: OptionSet, Sendable, Hashable {
        public var rawValue: UInt8

        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        public static let userFeatures = Degraded(rawValue: 1 << 0)
        public static let stats = Degraded(rawValue: 1 << 1)

        public var names: [String] {
            var names: [String] = []
            if contains(.userFeatures) { names.append("user_features") }
            if contains(.stats) { names.append("stats") }
            return names
        }
    }

    /// Server-side stage durations in microseconds.
    public struct Timings: Sendable, Hashable {
        public var fetchMicros: UInt32
        public var contextMicros: UInt32
        public var scoreMicros: UInt32
        public var totalMicros: UInt32

        public init(fetchMicros: UInt32 = 0, contextMicros: UInt32 = 0, scoreMicros: UInt32 = 0, totalMicros: UInt32 = 0) {
            self.fetchMicros = fetchMicros
            self.contextMicros = contextMicros
            self.scoreMicros = scoreMicros
            self.totalMicros = totalMicros
        }
    }

    public var modelVersion: String
    public var degraded: Degraded
    public var timings: Timings
    public var items: [Item]
    /// Revision 3: the decision's event id; empty from a revision 1–2 server.
    public var eventID: String
    /// Revision 3: the policy that chose the items: 0 greedy, 1 ε-greedy, 2 softmax (MODEL.md §3.1).
    public var policy: UInt8
    /// Revision 4: the rules version that filtered the candidates; empty when none applied.
    public var rulesVersion: String
    /// Revision 4: the rules that removed candidates, with how many each removed.
    public var ruleRemovals: [RuleRemoval]

    /// How many candidates one rule removed.
    public struct RuleRemoval: Sendable, Hashable {
        public var rule: String
        public var removed: UInt16

        public init(rule: String, removed: UInt16) {
            self.rule = rule
            self.removed = removed
        }
    }

    /// ``policy`` as MODEL.md names it; `policy_N` for a code this reader does not know.
    public var policyName: String {
        switch policy {
        case 0: "greedy"
        case 1: "epsilon_greedy"
        case 2: "softmax"
        default: "policy_\(policy)"
        }
    }

    public init(
        modelVersion: String,
        degraded: Degraded = [],
        timings: Timings = .init(),
        items: [Item],
        eventID: String = "",
        policy: UInt8 = 0,
        rulesVersion: String = "",
        ruleRemovals: [RuleRemoval] = []
    ) {
        self.modelVersion = modelVersion
        self.degraded = degraded
        self.timings = timings
        self.items = items
        self.eventID = eventID
        self.policy = policy
        self.rulesVersion = rulesVersion
        self.ruleRemovals = ruleRemovals
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString16(modelVersion)
        buffer.writeInteger(degraded.rawValue)
        buffer.writeInteger(timings.fetchMicros)
        buffer.writeInteger(timings.contextMicros)
        buffer.writeInteger(timings.scoreMicros)
        buffer.writeInteger(timings.totalMicros)
        buffer.writeInteger(UInt16(items.count))
        for item in items {
            buffer.writeString16(item.couponID)
            buffer.writeFloat64(item.score)
            buffer.writeFloat64(item.probability)
            buffer.writeString16(item.name)
        }
        buffer.writeString16(eventID)
        buffer.writeInteger(policy)
        buffer.writeInteger(UInt16(items.count))
        for item in items { buffer.writeFloat64(item.propensity) }
        buffer.writeString16(rulesVersion)
        buffer.writeInteger(UInt16(ruleRemovals.count))
        for removal in ruleRemovals {
            buffer.writeString16(removal.rule)
            buffer.writeInteger(removal.removed)
        }
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.modelVersion = try payload.readString16(field: "model_version")
        self.degraded = Degraded(rawValue: try payload.readRequired(UInt8.self, field: "degraded"))
        self.timings = Timings(
            fetchMicros: try payload.readRequired(UInt32.self, field: "fetch_us"),
            contextMicros: try payload.readRequired(UInt32.self, field: "context_us"),
            scoreMicros: try payload.readRequired(UInt32.self, field: "score_us"),
            totalMicros: try payload.readRequired(UInt32.self, field: "total_us")
        )
        let count = Int(try payload.readRequired(UInt16.self, field: "item count"))
        var items: [Item] = []
        items.reserveCapacity(count)
        for _ in 0..<count {
            items.append(
                Item(
                    couponID: try payload.readString16(field: "coupon_id"),
                    score: try payload.readFloat64(field: "score"),
                    probability: try payload.readFloat64(field: "probability"),
                    name: try payload.readString16(field: "name")
                )
            )
        }
        self.items = items
        self.rulesVersion = ""
        self.ruleRemovals = []
        guard payload.readableBytes > 0 else {
            self.eventID = ""
            self.policy = 0
            return
        }
        self.eventID = try payload.readString16(field: "event_id")
        self.policy = try payload.readRequired(UInt8.self, field: "policy")
        let propensities = Int(try payload.readRequired(UInt16.self, field: "propensity count"))
        guard propensities == items.count else {
            throw WireError(.malformedPayload, "\(propensities) propensities for \(items.count) items")
        }
        for index in items.indices {
            self.items[index].propensity = try payload.readFloat64(field: "propensity")
        }
        // A revision 3 server ends the payload here.
        guard payload.readableBytes > 0 else { return }
        self.rulesVersion = try payload.readString16(field: "rules_version")
        let removals = Int(try payload.readRequired(UInt16.self, field: "rule removal count"))
        var ruleRemovals: [RuleRemoval] = []
        ruleRemovals.reserveCapacity(min(removals, 1024))
        for _ in 0..<removals {
            ruleRemovals.append(
                RuleRemoval(rule: try payload.readString16(field: "rule"), removed: try payload.readRequired(UInt16.self, field: "removed"))
            )
        }
        self.ruleRemovals = ruleRemovals
    }
}
