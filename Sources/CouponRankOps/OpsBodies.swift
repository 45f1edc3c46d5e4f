import CouponRankCore
public import CouponRankWire

/// `/readyz`.
struct Readiness: Encodable {
    var ready: Bool
    var reason: String?
    var modelVersion: String?

    enum CodingKeys: String, CodingKey {
        case ready, reason
        case modelVersion = "model_version"
    }
}

/// `/v1/model`.
struct ModelSummary: Encodable {
    var version: String
    var kind: String
    var dimension: Int
    var createdAt: String
    var origin: String
    var alpha: Double?
    var features: [FeatureSummary]

    enum CodingKeys: String, CodingKey {
        case version, kind, dimension
        case createdAt = "created_at"
        case origin, alpha, features
    }
}

/// One feature of the schema, in a line: its kind, fields and width.
struct FeatureSummary: Encodable {
    var kind: String
    var fields: [String]
    var width: Int

    init(_ feature: FeatureSpec) {
        self.width = feature.width
        switch feature {
        case .bias: (kind, fields) = ("bias", [])
        case .numeric(let field, _, _, _): (kind, fields) = ("numeric", [field])
        case .oneHot(let field, _): (kind, fields) = ("onehot", [field])
        case .hashed(let field, _): (kind, fields) = ("hashed", [field])
        case .cross(let left, let right, _): (kind, fields) = ("cross", [left, right])
        case .product(let left, let right, _, _, _): (kind, fields) = ("product", [left, right])
        }
    }
}

/// `POST /v1/events/{event_id}/rewards`.
struct RewardJSON: Decodable {
    var couponID: String
    var kind: String
    var value: Double?
    var timeMillis: Int64?

    enum CodingKeys: String, CodingKey {
        case couponID = "coupon_id"
        case kind, value
        case timeMillis = "time_ms"
    }
}

/// A ranking as JSON: the body of `/v1/rank` and the output of `couponrank rank --json`
/// (proto-spec/OPS.openapi.yaml, `Ranking`).
public struct RankJSON: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var rank: Int
        var couponID: String
        var name: String
        var score: Double
        var probability: Double
        var propensity: Double

        enum CodingKeys: String, CodingKey {
            case rank
            case couponID = "coupon_id"
            case name, score, probability, propensity
        }
    }

    struct Timings: Encodable, Sendable {
        var fetch: UInt32
        var context: UInt32
        var score: UInt32
        var total: UInt32
    }

    var easyID: String
    var eventID: String
    var policy: String
    var modelVersion: String
    var degraded: [String]
    var timingsMicros: Timings
    var items: [Item]
    var rulesVersion: String
    var ruleRemovals: [Removal]

    struct Removal: Encodable, Sendable {
        var rule: String
        var removed: Int
    }

    enum CodingKeys: String, CodingKey {
        case easyID = "easy_id"
        case eventID = "event_id"
        case policy
        case modelVersion = "model_version"
        case degraded
        case timingsMicros = "timings_us"
        case items
        case rulesVersion = "rules_version"
        case ruleRemovals = "rule_removals"
    }

    public init(easyID: String, response: RankResponse) {
        self.easyID = easyID
        self.eventID = response.eventID
        self.policy = response.policyName
        self.modelVersion = response.modelVersion
        self.degraded = response.degraded.names
        self.timingsMicros = Timings(
            fetch: response.timings.fetchMicros,
            context: response.timings.contextMicros,
            score: response.timings.scoreMicros,
            total: response.timings.totalMicros
        )
        self.items = response.items.enumerated().map { index, item in
            Item(
                rank: index + 1,
                couponID: item.couponID,
                name: item.name,
                score: item.score,
                probability: item.probability,
                propensity: item.propensity
            )
        }
        self.rulesVersion = response.rulesVersion
        self.ruleRemovals = response.ruleRemovals.map { Removal(rule: $0.rule, removed: Int($0.removed)) }
    }
}
