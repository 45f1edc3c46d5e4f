public import CouponRankCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Deterministic synthetic data keyed by easy_id: a coupon catalog, user features, each user's
/// candidates and their CTR/CVR statistics.
///
/// Backs the in-process stub sources and the HTTP stub services alike, so both serve the same
/// data for the same easy_id and configuration.
public final class StubDataGenerator: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Coupons in the catalog.
        public var catalogSize: Int
        /// Candidates per user (at most the catalog size).
        public var candidatesPerUser: Int
        /// Changes every generated value.
        public var seed: UInt64
        /// σ of the log-normal noise between a coupon's true click probability and its observed
        /// CTR: observed = truth · exp(σ · N(0, 1)), clamped to 0.0005…0.95. 0 observes the truth.
        public var statsNoise: Double
        /// The fraction of the catalog the stats source does not list at all, chosen per coupon
        /// from the seed (the same coupons for every user): new coupons, for which the engine
        /// uses the prior (``CouponStats/prior``).
        public var unseenCouponShare: Double

        public init(
            catalogSize: Int = 3000,
            candidatesPerUser: Int = 200,
            seed: UInt64 = 20_261_124,
            statsNoise: Double = 0.3,
            unseenCouponShare: Double = 0
        ) {
            self.catalogSize = catalogSize
            self.candidatesPerUser = candidatesPerUser
            self.seed = seed
            self.statsNoise = statsNoise
            self.unseenCouponShare = unseenCouponShare
        }
    }

    public static let categories = [
        "fashion", "electronics", "grocery", "beauty", "travel",
        "home", "sports", "books", "kids", "pets",
    ]
    public static let segments = ["new", "regular", "vip", "dormant"]
    public static let devices = ["ios", "android", "web"]
    public static let regions = ["kanto", "kansai", "chubu", "kyushu", "hokkaido", "tohoku"]
    static let minimumSpends: [Double] = [0, 1000, 2000, 3000, 5000, 10000]
    static let shopCount = 300

    public let configuration: Configuration
    public let catalog: [Coupon]
    /// The catalog's fields the ground truth reads, as plain arrays: reading them from many
    /// threads at once touches no reference count.
    private let columns: CatalogColumns

    private struct CatalogColumns: Sendable {
        let ids: [String]
        let categories: [String]
        let discountRates: [Double]
        let logMinimumSpends: [Double]
        let daysToExpiry: [Double]
        /// Per catalog index, whether the stats source leaves the coupon out; empty when none is.
        let unseen: [Bool]
    }

    public init(configuration: Configuration = .init()) {
        precondition(configuration.catalogSize > 0, "catalog must not be empty")
        precondition(configuration.candidatesPerUser >= 0, "candidate count must not be negative")
        precondition(configuration.statsNoise.isFinite && configuration.statsNoise >= 0, "stats noise must be finite and not negative")
        precondition((0...1).contains(configuration.unseenCouponShare), "the unseen coupon share must be in 0...1")
        self.configuration = configuration
        var rng = SplitMix64(seed: configuration.seed)
        let catalog = (0..<configuration.catalogSize).map { index in
            Self.makeCoupon(index: index, rng: &rng)
        }
        self.catalog = catalog
        self.columns = CatalogColumns(
            ids: catalog.map(\.id),
            categories: catalog.map(\.category),
            discountRates: catalog.map(\.discountRate),
            logMinimumSpends: catalog.map { log($0.minimumSpend + 1) },
            daysToExpiry: catalog.map(\.daysToExpiry),
            unseen: Self.unseenCoupons(count: catalog.count, share: configuration.unseenCouponShare, seed: configuration.seed)
        )
    }

    /// One draw per catalog index from a stream of its own (so the catalog's and the users' draws
    /// are unchanged): the coupon is unseen when the draw is below `share`.
    private static func unseenCoupons(count: Int, share: Double, seed: UInt64) -> [Bool] {
        guard share > 0 else { return [] }
        var rng = SplitMix64(seed: seed ^ 0x756E_7365_656E_2D63)  // "unseen-c"
        return (0..<count).map { _ in rng.unit() < share }
    }

    /// The ids of the catalog coupons the stats source never lists (``Configuration/unseenCouponShare``).
    public var unseenCouponIDs: Set<String> {
        Set(zip(columns.ids, columns.unseen).lazy.filter(\.1).map(\.0))
    }

    private static func makeCoupon(index: Int, rng: inout SplitMix64) -> Coupon {
        let category = categories[Int(rng.next() % UInt64(categories.count))]
        let shopNumber = Int(rng.next() % UInt64(shopCount)) + 1
        let shop = "shop-" + zeroPadded(shopNumber, width: 4)
        let percent = 5 * (1 + Int(rng.next() % 10))
        return Coupon(
            id: "C" + zeroPadded(index + 1, width: 6),
            name: "\(percent)% off \(category) at \(shop)",
            category: category,
            shop: shop,
            discountRate: Double(percent) / 100,
            minimumSpend: minimumSpends[Int(rng.next() % UInt64(minimumSpends.count))],
            daysToExpiry: Double(1 + Int(rng.next() % 60))
        )
    }

    private static func zeroPadded(_ value: Int, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// A generator seeded by `easyID` (and the configuration's seed) and a purpose, so the three
    /// kinds of data do not share random draws.
    private func rng(for easyID: String, purpose: UInt8) -> SplitMix64 {
        var hash = FeatureHash()
        hash.combine(easyID)
        hash.combine(purpose)
        return SplitMix64(seed: hash.value ^ configuration.seed)
    }

    /// The raw draws behind one user's features, without the dictionaries of ``UserFeatures``.
    private struct UserDraw {
        var segment: String
        var age: Double
        var tenureDays: Double
        var purchases: Double
        var averageOrderValue: Double
        var preferredCategory: String
        var device: String
        var region: String
    }

    private func userDraw(for easyID: String) -> UserDraw {
        var rng = rng(for: easyID, purpose: 1)
        let segment = Self.segments[Int(rng.next() % UInt64(Self.segments.count))]
        let purchases: Double =
            switch segment {
            case "vip": Double(8 + rng.next() % 30)
            case "regular": Double(1 + rng.next() % 8)
            case "new": Double(rng.next() % 2)
            default: 0
            }
        let age = Double(18 + rng.next() % 58)
        let tenureDays = segment == "new" ? Double(rng.next() % 30) : Double(30 + rng.next() % 3000)
        let averageOrderValue = (3000 * exp(0.6 * gaussian(&rng))).rounded()
        return UserDraw(
            segment: segment,
            age: age,
            tenureDays: tenureDays,
            purchases: purchases,
            averageOrderValue: averageOrderValue,
            preferredCategory: Self.categories[Int(rng.next() % UInt64(Self.categories.count))],
            device: Self.devices[Int(rng.next() % UInt64(Self.devices.count))],
            region: Self.regions[Int(rng.next() % UInt64(Self.regions.count))]
        )
    }

    public func userFeatures(for easyID: String) -> UserFeatures {
        let draw = userDraw(for: easyID)
        return UserFeatures(
            numeric: [
                "age": draw.age,
                "tenure_days": draw.tenureDays,
                "purchases_90d": draw.purchases,
                "avg_order_value": draw.averageOrderValue,
            ],
            categorical: [
                "segment": draw.segment,
                "preferred_category": draw.preferredCategory,
                "device": draw.device,
                "region": draw.region,
            ]
        )
    }

    /// The user's candidates: distinct catalog coupons, a user-specific walk over the catalog.
    public func candidates(for easyID: String) -> [Coupon] {
        candidateIndices(for: easyID).map { catalog[$0] }
    }

    private func candidateIndices(for easyID: String) -> [Int] {
        let size = catalog.count
        let count = min(configuration.candidatesPerUser, size)
        var rng = rng(for: easyID, purpose: 2)
        let start = Int(rng.next() % UInt64(size))
        var step = 1 + Int(rng.next() % UInt64(max(size - 1, 1)))
        while gcd(step, size) != 1 { step += 1 }
        return (0..<count).map { (start + $0 * step) % size }
    }

    /// Observed CTR/CVR of each of the user's candidates: the true click probability of
    /// ``clickProbability(user:coupon:)`` with log-normal noise of σ ``Configuration/statsNoise``,
    /// as a tracker would have measured it. Unseen coupons (``Configuration/unseenCouponShare``)
    /// are left out.
    public func stats(for easyID: String) -> CouponStatsTable {
        let draw = userDraw(for: easyID)
        let clickModel = ClickModel(segment: draw.segment, purchases: draw.purchases, preferredCategory: draw.preferredCategory, averageOrderValue: draw.averageOrderValue)
        var rng = rng(for: easyID, purpose: 3)
        let indices = candidateIndices(for: easyID)
        let noise = configuration.statsNoise
        let unseen = columns.unseen
        var ids: [String] = []
        var entries: [CouponStats] = []
        ids.reserveCapacity(indices.count)
        entries.reserveCapacity(indices.count)
        for index in indices {
            let truth = clickModel.probability(
                discountRate: columns.discountRates[index],
                category: columns.categories[index],
                logMinimumSpend: columns.logMinimumSpends[index],
                daysToExpiry: columns.daysToExpiry[index]
            )
            // The draws are made for unseen coupons too, so the others' do not depend on the share.
            let ctr = min(max(truth * exp(noise * gaussian(&rng)), 0.0005), 0.95)
            let cvr = ctr * (0.05 + 0.15 * rng.unit())
            if !unseen.isEmpty, unseen[index] { continue }
            ids.append(columns.ids[index])
            entries.append(CouponStats(ctr: ctr, cvr: cvr))
        }
        return CouponStatsTable(couponIDs: ids, entries: entries)
    }

    /// The synthetic ground truth: how likely `user` clicks `coupon`. Larger discounts, the
    /// user's preferred category, active users and soon-expiring coupons attract clicks; a high
    /// minimum spend relative to the user's usual basket repels them.
    public func clickProbability(user: UserFeatures, coupon: Coupon) -> Double {
        ClickModel(user).probability(of: coupon)
    }

    /// The user's side of the ground truth, read once for many coupons.
    struct ClickModel {
        let preferredCategory: String?
        let base: Double
        let logBasket: Double

        init(_ user: UserFeatures) {
            self.init(
                segment: user.categorical["segment"],
                purchases: user.numeric["purchases_90d"] ?? 0,
                preferredCategory: user.categorical["preferred_category"],
                averageOrderValue: user.numeric["avg_order_value"] ?? 3000
            )
        }

        init(segment: String?, purchases: Double, preferredCategory: String?, averageOrderValue: Double) {
            var base = -3.6 + 0.04 * min(purchases, 20)
            switch segment {
            case "vip": base += 0.5
            case "dormant": base -= 0.6
            default: break
            }
            self.base = base
            self.preferredCategory = preferredCategory
            self.logBasket = log(averageOrderValue + 1)
        }

        func probability(of coupon: Coupon) -> Double {
            probability(
                discountRate: coupon.discountRate,
                category: coupon.category,
                logMinimumSpend: log(coupon.minimumSpend + 1),
                daysToExpiry: coupon.daysToExpiry
            )
        }

        func probability(discountRate: Double, category: String, logMinimumSpend: Double, daysToExpiry: Double) -> Double {
            var logit = base + 3.0 * discountRate - 0.01 * daysToExpiry
            if preferredCategory == category { logit += 1.1 }
            logit -= 0.5 * max(0, logMinimumSpend - logBasket)
            return 1 / (1 + exp(-logit))
        }
    }
}

private func gcd(_ a: Int, _ b: Int) -> Int {
    b == 0 ? a : gcd(b, a % b)
}

/// A standard normal draw (Box–Muller).
func gaussian(_ rng: inout SplitMix64) -> Double {
    let u1 = max(rng.unit(), .leastNonzeroMagnitude)
    let u2 = rng.unit()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
}
