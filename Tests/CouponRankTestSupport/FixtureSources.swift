public import CouponRankCore
public import CouponRankSources
import Foundation

/// Sources that answer from fixed in-memory tables, such as proto-spec/examples/vector-fixture.json.
public struct FixtureSources: UserFeatureSource, CandidateSource, CouponStatsSource {
    public var users: [String: UserFeatures]
    public var coupons: [String: [Coupon]]
    public var stats: [String: CouponStatsTable]

    public init(users: [String: UserFeatures], coupons: [String: [Coupon]], stats: [String: CouponStatsTable] = [:]) {
        self.users = users
        self.coupons = coupons
        self.stats = stats
    }

    /// The sources of proto-spec/examples/vector-fixture.json.
    public static func vectorFixture() throws -> FixtureSources {
        let url = ProtocolVectors.specDirectory.appendingPathComponent("examples/vector-fixture.json")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var users: [String: UserFeatures] = [:]
        for (easyID, value) in json["users"] as! [String: [String: Any]] {
            users[easyID] = UserFeatures(
                numeric: (value["numeric"] as! [String: NSNumber]).mapValues(\.doubleValue),
                categorical: value["categorical"] as! [String: String]
            )
        }
        var coupons: [String: [Coupon]] = [:]
        for (easyID, list) in json["candidates"] as! [String: [[String: Any]]] {
            coupons[easyID] = list.map { entry in
                Coupon(
                    id: entry["id"] as! String,
                    name: entry["name"] as! String,
                    category: entry["category"] as! String,
                    shop: entry["shop"] as! String,
                    discountRate: (entry["discount_rate"] as! NSNumber).doubleValue,
                    minimumSpend: (entry["min_spend"] as! NSNumber).doubleValue,
                    daysToExpiry: (entry["days_to_expiry"] as! NSNumber).doubleValue
                )
            }
        }
        return FixtureSources(users: users, coupons: coupons)
    }

    /// The model the fixture names, proto-spec/examples/tiny-model.json.
    public static func vectorFixtureModel() throws -> ScoringModel {
        let url = ProtocolVectors.specDirectory.appendingPathComponent("examples/tiny-model.json")
        return try ScoringModel(try JSONDecoder().decode(ModelDefinition.self, from: Data(contentsOf: url)))
    }

    public var answersImmediately: Bool { true }

    public func userFeatures(for easyID: String, deadline: ContinuousClock.Instant) async throws -> UserFeatures {
        users[easyID] ?? .unknown
    }

    public func userFeaturesFromMemory(for easyID: String) -> UserFeatures? { users[easyID] ?? .unknown }

    public func candidates(for easyID: String, deadline: ContinuousClock.Instant) async throws -> [Coupon] {
        coupons[easyID] ?? []
    }

    public func candidatesFromMemory(for easyID: String) -> [Coupon]? { coupons[easyID] ?? [] }

    public func stats(for easyID: String, deadline: ContinuousClock.Instant) async throws -> CouponStatsTable {
        stats[easyID] ?? .empty
    }

    public func statsFromMemory(for easyID: String) -> CouponStatsTable? { stats[easyID] ?? .empty }
}

extension SourceFanOut {
    /// All three sources from one fixture.
    public static func fixture(_ sources: FixtureSources) -> SourceFanOut {
        SourceFanOut(
            userFeatures: sources,
            candidates: sources,
            stats: sources,
            timeouts: SourceTimeouts(userFeatures: .seconds(5), candidates: .seconds(5), stats: .seconds(5))
        )
    }
}
