public import CouponRankCore
public import CouponRankSources

#if canImport(Glibc)
import Glibc
#endif

/// The simulated world: the stub data (users, candidates, observed statistics) and its ground
/// truth, the click probability of every (user, coupon).
public struct SimulationWorld: Sendable {
    public var name: String
    /// σ of the observed CTR's log-normal noise, and the share of coupons without statistics.
    public var statsNoise: Double
    public var unseenCouponShare: Double
    public let stubs: StubDataGenerator
    /// Distinct visitors; each rank picks one at random.
    public var users: Int

    public init(name: String, statsNoise: Double, unseenCouponShare: Double, users: Int = 10_000, catalogSize: Int = 3000, candidatesPerUser: Int = 200) {
        self.name = name
        self.statsNoise = statsNoise
        self.unseenCouponShare = unseenCouponShare
        self.users = users
        self.stubs = StubDataGenerator(
            configuration: .init(catalogSize: catalogSize, candidatesPerUser: candidatesPerUser, statsNoise: statsNoise, unseenCouponShare: unseenCouponShare)
        )
    }

    /// The world of the stub services as shipped: observed CTR = truth × exp(0.3·N(0,1)).
    public static let standard = SimulationWorld(name: "standard", statsNoise: 0.3, unseenCouponShare: 0)
    /// The cold-start world: observed CTR much noisier, and half the catalog new (no statistics).
    public static let coldStart = SimulationWorld(name: "cold-start", statsNoise: 1.5, unseenCouponShare: 0.5)

    public func easyID(_ index: Int) -> String { "sim-\(index)" }

    /// The coupon of a catalog id (`C000123`).
    public func coupon(id: String) -> Coupon? {
        guard let number = Int(id.dropFirst()), number >= 1, number <= stubs.catalog.count else { return nil }
        return stubs.catalog[number - 1]
    }

    /// One visitor's side of the truth: candidates, their click probabilities, the best `k`.
    public struct Visitor: Sendable {
        public var easyID: String
        public var user: UserFeatures
        public var candidates: [Coupon]
        public var truth: [Double]

        /// Indices of the `k` candidates with the highest click probability.
        public func oracleTop(_ k: Int) -> [Int] {
            Array(truth.indices.sorted { truth[$0] != truth[$1] ? truth[$0] > truth[$1] : candidates[$0].id < candidates[$1].id }.prefix(k))
        }

        public func truth(ofCoupon id: String) -> Double? {
            candidates.firstIndex { $0.id == id }.map { truth[$0] }
        }
    }

    public func visitor(_ index: Int) -> Visitor {
        let easyID = easyID(index)
        let user = stubs.userFeatures(for: easyID)
        let candidates = stubs.candidates(for: easyID)
        return Visitor(easyID: easyID, user: user, candidates: candidates, truth: candidates.map { stubs.clickProbability(user: user, coupon: $0) })
    }
}

/// A deterministic uniform draw in [0, 1) from a seed and two keys (SplitMix64 of FNV-1a).
func simulationUnit(_ seed: UInt64, _ first: String, _ second: String = "") -> Double {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
    for byte in first.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    hash = (hash ^ 0x1F) &* 0x100_0000_01b3
    for byte in second.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    var z = hash &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Double((z ^ (z >> 31)) >> 11) * 0x1.0p-53
}
