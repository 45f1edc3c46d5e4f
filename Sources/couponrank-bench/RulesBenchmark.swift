import CouponRankCore
import CouponRankSources
import Foundation

/// `couponrank-bench --rules N`: what applying N eligibility rules to one request's candidates
/// costs (RULES.md §7), the way the engine applies them: one `CompiledRules.apply` per request
/// with its scratch reused. Two rule sets: every `when` true (every rule applies, the worst
/// case), and `when` conditions a typical user meets about half of.
struct RulesBenchmark {
    let rules: Int
    let candidates: Int
    let iterations: Int
    let rounds: Int

    struct Result: Codable {
        var name: String
        var rules: Int
        var candidates: Int
        var rulesRemoving: Double
        var removed: Double
        var microsecondsPerRank: Double
    }

    func run() throws -> [Result] {
        let generator = StubDataGenerator(configuration: .init(catalogSize: max(3000, candidates), candidatesPerUser: candidates))
        let users = (0..<64).map { "user-\($0)" }
        let batches = users.map { (generator.userFeatures(for: $0), generator.candidates(for: $0)) }
        var results: [Result] = []
        for (name, everyRuleApplies) in [("every rule applies", true), ("typical user", false)] {
            let compiled = try CompiledRules(document(generator: generator, everyRuleApplies: everyRuleApplies))
            var scratch = RulesScratch()
            var applying = 0
            var removed = 0
            for (user, coupons) in batches {
                let outcome = compiled.apply(user: user, to: coupons, scratch: &scratch)
                removed += coupons.count - outcome.eligible.count
                applying += outcome.removals.count
            }
            var times: [Double] = []
            var checksum = 0
            for _ in 0..<(rounds + 1) {
                let start = ContinuousClock.now
                for iteration in 0..<iterations {
                    let (user, coupons) = batches[iteration & 63]
                    checksum &+= compiled.apply(user: user, to: coupons, scratch: &scratch).eligible.count
                }
                times.append((ContinuousClock.now - start).seconds / Double(iterations) * 1e6)
            }
            let median = times.dropFirst().sorted()[rounds / 2]
            results.append(
                Result(
                    name: name,
                    rules: rules,
                    candidates: candidates,
                    rulesRemoving: Double(applying) / Double(batches.count),
                    removed: Double(removed) / Double(batches.count),
                    microsecondsPerRank: median
                )
            )
            if checksum == 42 { print("") }
        }
        return results
    }

    /// `rules` rules of the kinds marketing writes: shops, categories, id lists, discount and
    /// spend thresholds, each behind a condition on the user.
    func document(generator: StubDataGenerator, everyRuleApplies: Bool) -> RulesDocument {
        var rng = SplitMix64(seed: 50)
        let shops = Array(Set(generator.catalog.map(\.shop))).sorted()
        let ids = generator.catalog.map(\.id)
        func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }
        func quoted(_ values: [String]) -> String { values.map { "'\($0)'" }.joined(separator: ", ") }
        let made = (0..<rules).map { index -> RulesDocument.Rule in
            let when: String? =
                if everyRuleApplies {
                    nil
                } else {
                    switch index % 4 {
                    case 0: "user.age > \(18 + rng.next() % 57)"
                    case 1: "user.segment == '\(pick(StubDataGenerator.segments))'"
                    case 2: "user.region in [\(quoted((0..<3).map { _ in pick(StubDataGenerator.regions) }))]"
                    default: "user.device != '\(pick(StubDataGenerator.devices))' and user.purchases_90d >= 1"
                    }
                }
            let exclude =
                switch index % 5 {
                case 0: "coupon.shop in [\(quoted((0..<5).map { _ in pick(shops) }))]"
                case 1: "coupon.category == '\(pick(StubDataGenerator.categories))' and coupon.discount_rate < 0.\(1 + rng.next() % 3)"
                case 2: "coupon.id in [\(quoted((0..<20).map { _ in pick(ids) }))]"
                case 3: "coupon.min_spend >= \(5000 + 1000 * (rng.next() % 6))"
                default: "coupon.days_to_expiry < \(1 + rng.next() % 3) or coupon.shop == '\(pick(shops))'"
                }
            return RulesDocument.Rule(name: "rule-\(index)", when: when, exclude: exclude)
        }
        return RulesDocument(
            version: "bench",
            fields: ["user.age": .number, "user.segment": .string, "user.region": .string, "user.device": .string, "user.purchases_90d": .number],
            rules: made
        )
    }
}
