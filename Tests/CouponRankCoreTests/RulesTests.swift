import CouponRankCore
import CouponRankModelFile
import CouponRankSources
import Foundation
import Testing

/// Eligibility rules (proto-spec/RULES.md): each operator, missing fields, type errors refused at
/// load with the rule's name, and the bit-column evaluator against a plain one.
@Suite struct RulesTests {
    static let coupons: [Coupon] = (1...6).map(offer)

    /// Offer `n` of six: even offers are travel, odd ones grocery; offer 6 has no offer_id and
    /// only offer 1 a brand.
    static func offer(_ number: Int) -> Coupon {
        let numeric: [String: Double] = number == 6 ? [:] : ["offer_id": Double(number)]
        let labels: [String: String] = number == 1 ? ["brand": "acme"] : [:]
        let category = number.isMultiple(of: 2) ? "travel" : "grocery"
        return Coupon(
            id: "C00000" + String(number),
            name: "offer " + String(number),
            category: category,
            shop: "shop-" + String(number % 3),
            discountRate: Double(number) / 10,
            minimumSpend: Double(number * 1000),
            daysToExpiry: Double(number),
            numericAttributes: numeric,
            labels: labels
        )
    }

    static func compile(_ rules: [RulesDocument.Rule], fields: [String: RuleFieldType] = [:]) throws -> CompiledRules {
        try CompiledRules(RulesDocument(version: "t1", fields: fields, rules: rules))
    }

    static func kept(_ rules: CompiledRules, user: UserFeatures = .unknown, coupons: [Coupon] = coupons) -> [String] {
        var scratch = RulesScratch()
        return rules.apply(user: user, to: coupons, scratch: &scratch).eligible.map(\.id)
    }

    static let fields: [String: RuleFieldType] = [
        "user.region": .string, "user.age": .number, "coupon.offer_id": .number, "coupon.brand": .string,
    ]

    @Test(arguments: [
        ("coupon.discount_rate == 0.3", ["C000003"]),
        ("coupon.discount_rate != 0.3", ["C000001", "C000002", "C000004", "C000005", "C000006"]),
        ("coupon.min_spend < 2000", ["C000001"]),
        ("coupon.min_spend <= 2000", ["C000001", "C000002"]),
        ("coupon.days_to_expiry > 5", ["C000006"]),
        ("coupon.days_to_expiry >= 5", ["C000005", "C000006"]),
        ("coupon.id in ['C000004', 'C000005', \"C000006\"]", ["C000004", "C000005", "C000006"]),
        ("coupon.category not in ['travel']", ["C000001", "C000003", "C000005"]),
        ("coupon.shop == 'shop-0' and coupon.category == 'travel'", ["C000006"]),
        ("coupon.shop == 'shop-0' or coupon.discount_rate < 0.15", ["C000001", "C000003", "C000006"]),
        ("not (coupon.category == 'travel')", ["C000001", "C000003", "C000005"]),
        ("coupon.offer_id in [4, 5, 6]", ["C000004", "C000005"]),
        ("coupon.offer_id != 1", ["C000002", "C000003", "C000004", "C000005"]),
        ("exists(coupon.offer_id)", ["C000001", "C000002", "C000003", "C000004", "C000005"]),
        ("not exists(coupon.brand)", ["C000002", "C000003", "C000004", "C000005", "C000006"]),
        ("coupon.brand == 'acme'", ["C000001"]),
        ("true", ["C000001", "C000002", "C000003", "C000004", "C000005", "C000006"]),
        ("false", []),
        ("coupon.id in []", []),
    ])
    func eachOperatorExcludesWhatItSays(expression: String, excluded: [String]) throws {
        let rules = try Self.compile([.init(name: "r", exclude: expression)], fields: Self.fields)
        let kept = Self.kept(rules)
        #expect(Self.coupons.map(\.id).filter { !kept.contains($0) } == excluded, "\(expression)")
    }

    @Test func theCaseStudysTwoRulesApplyToTheUsersTheyName() throws {
        let rules = try Self.compile(
            [
                .init(name: "europa-no-4-5-6", when: "user.region == 'Europa'", exclude: "coupon.id in ['C000004', 'C000005', 'C000006']"),
                .init(name: "over-65-no-1-3-4", when: "user.age > 65", exclude: "coupon.id in ['C000001', 'C000003', 'C000004']"),
            ],
            fields: Self.fields
        )
        let europeanSenior = UserFeatures(numeric: ["age": 70], categorical: ["region": "Europa"])
        var scratch = RulesScratch()
        let outcome = rules.apply(user: europeanSenior, to: Self.coupons, scratch: &scratch)
        #expect(outcome.eligible.map(\.id) == ["C000002"])
        // C000004 is excluded by both and counted for the first.
        #expect(outcome.removals == [RuleRemoval(rule: "europa-no-4-5-6", removed: 3), RuleRemoval(rule: "over-65-no-1-3-4", removed: 2)])
        #expect(Self.kept(rules, user: UserFeatures(numeric: ["age": 30], categorical: ["region": "Asia"])) == Self.coupons.map(\.id))
        #expect(Self.kept(rules, user: UserFeatures(numeric: ["age": 66])) == ["C000002", "C000005", "C000006"])
        #expect(Self.kept(rules, user: UserFeatures(categorical: ["region": "Europa"])) == ["C000001", "C000002", "C000003"])
    }

    @Test func aConditionOnAMissingUserFieldIsFalseAndExistsTellsAbsenceApart() throws {
        let openRule = try Self.compile([.init(name: "seniors", when: "user.age > 65", exclude: "true")], fields: Self.fields)
        #expect(Self.kept(openRule).count == 6, "an unknown age is not over 65")
        let negated = try Self.compile([.init(name: "not-senior", when: "user.age <= 65", exclude: "true")], fields: Self.fields)
        #expect(Self.kept(negated).count == 6, "nor 65 or under")
        let closed = try Self.compile([.init(name: "seniors-or-unknown", when: "not exists(user.age) or user.age > 65", exclude: "true")], fields: Self.fields)
        #expect(Self.kept(closed).isEmpty, "fails closed when the age is unknown")
        #expect(Self.kept(closed, user: UserFeatures(numeric: ["age": 40])).count == 6)
        let notIn = try Self.compile([.init(name: "outside", when: "user.region not in ['Europa']", exclude: "true")], fields: Self.fields)
        #expect(Self.kept(notIn).count == 6, "not in on a missing field is false too")
    }

    @Test(arguments: [
        (RulesDocument.Rule(name: "typo", when: "user.regoin == 'Europa'", exclude: "true"), "rule 'typo': unknown field 'user.regoin'"),
        (RulesDocument.Rule(name: "age-text", when: "user.age > '65'", exclude: "true"), "rule 'age-text': 'user.age > '65'': user.age is a number, compared with a string"),
        (RulesDocument.Rule(name: "shop-order", exclude: "coupon.shop < 'm'"), "rule 'shop-order': 'coupon.shop < 'm'': coupon.shop is a string; strings compare with == and != only"),
        (RulesDocument.Rule(name: "mixed-list", exclude: "coupon.id in ['a', 4]"), "rule 'mixed-list': 'coupon.id in [...]': coupon.id is a string, the list holds 4"),
        (RulesDocument.Rule(name: "coupon-in-when", when: "coupon.shop == 'x'", exclude: "true"), "rule 'coupon-in-when': when reads 'coupon.shop'"),
        (RulesDocument.Rule(name: "user-in-exclude", exclude: "user.age > 3"), "rule 'user-in-exclude': exclude reads 'user.age'"),
        (RulesDocument.Rule(name: "stats", exclude: "stats.ctr > 0.1"), "rule 'stats': unknown field 'stats.ctr'"),
        (RulesDocument.Rule(name: "syntax", exclude: "coupon.shop = 'x'"), "rule 'syntax': unexpected '='"),
        (RulesDocument.Rule(name: "open", exclude: "(coupon.shop == 'x'"), "rule 'open': expected ')'"),
        (RulesDocument.Rule(name: "trailing", exclude: "coupon.shop == 'x' coupon.id == 'y'"), "rule 'trailing': expected 'and', 'or' or the end"),
        (RulesDocument.Rule(name: "", exclude: "true"), "rule #1: a rule needs a name"),
    ])
    func aBadRuleIsRefusedAtLoadNamingTheRule(rule: RulesDocument.Rule, message: String) {
        #expect {
            _ = try Self.compile([rule], fields: Self.fields)
        } throws: { error in
            (error as? RulesError)?.description.hasPrefix(message) == true
        }
    }

    @Test func documentLevelMistakesAreRefused() throws {
        var document = RulesDocument(version: "v", rules: [.init(name: "a", exclude: "true"), .init(name: "a", exclude: "false")])
        #expect(throws: RulesError("rule 'a': the name is used twice")) { try CompiledRules(document) }
        document = RulesDocument(version: "v", fields: ["coupon.shop": .string], rules: [])
        #expect(throws: RulesError("fields: 'coupon.shop' is built in; do not declare it")) { try CompiledRules(document) }
        document = RulesDocument(version: "has space", rules: [])
        #expect(throws: RulesError.self) { try CompiledRules(document) }
        document = RulesDocument(version: "v", rules: [], diversity: DiversityCaps(maximumPerShop: -1))
        #expect(throws: RulesError("diversity.max_per_shop is -1; it must be 0 (no cap) or more")) { try CompiledRules(document) }
        let future = Data(#"{"format": "couponrank-rules", "format_version": 2, "version": "v", "rules": []}"#.utf8)
        #expect(throws: RulesError("format_version 2 is not supported (this engine reads 1)")) { try RulesFile.decode(future) }
        let notJSON = Data("rules: []".utf8)
        #expect(throws: RulesError.self) { try RulesFile.decode(notJSON) }
    }

    @Test func theWorkedExampleOfRulesMdLoads() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("proto-spec/examples/rules-case-study.json")
        let (document, rules) = try RulesFile.decode(try Data(contentsOf: url))
        #expect(document.rules.map(\.name) == rules.ruleNames)
        #expect(rules.ruleNames.count == 2)
        #expect(Self.kept(rules, user: UserFeatures(numeric: ["age": 70], categorical: ["region": "Europa"])) == ["C000002"])
    }

    /// The table-driven evaluator against a direct interpretation of each rule, coupon by coupon, over
    /// random rules, users and batches longer than one word.
    @Test func theBatchEvaluatorAgreesWithOneCouponAtATime() throws {
        var rng = SplitMix64(seed: 77)
        let generator = StubDataGenerator(configuration: .init(catalogSize: 400, candidatesPerUser: 150))
        let shops = Array(Set(generator.catalog.map(\.shop))).sorted()
        func atom() -> String {
            switch rng.next() % 5 {
            case 0: "coupon.shop in [\((0..<Int(1 + rng.next() % 20)).map { _ in "'\(shops[Int(rng.next() % UInt64(shops.count))])'" }.joined(separator: ", "))]"
            case 1: "coupon.category == '\(StubDataGenerator.categories[Int(rng.next() % 10)])'"
            case 2: "coupon.discount_rate >= \(Double(rng.next() % 10) / 20)"
            case 3: "coupon.min_spend < \(rng.next() % 6000)"
            default: "coupon.days_to_expiry not in [\(rng.next() % 60), \(rng.next() % 60)]"
            }
        }
        func expression(depth: Int) -> String {
            guard depth > 0, rng.next() % 3 != 0 else { return atom() }
            switch rng.next() % 3 {
            case 0: return "(\(expression(depth: depth - 1)) and \(expression(depth: depth - 1)))"
            case 1: return "(\(expression(depth: depth - 1)) or \(expression(depth: depth - 1)) or \(expression(depth: depth - 1)))"
            default: return "not \(expression(depth: depth - 1))"
            }
        }
        for round in 0..<40 {
            let document = RulesDocument(
                version: "r\(round)",
                fields: ["user.age": .number, "user.segment": .string],
                rules: (0..<Int(1 + rng.next() % 12)).map { index in
                    .init(name: "rule-\(index)", when: rng.next() % 2 == 0 ? "user.age > \(18 + rng.next() % 50)" : nil, exclude: expression(depth: 3))
                }
            )
            let rules = try CompiledRules(document)
            let easyID = "user-\(round)"
            let user = generator.userFeatures(for: easyID)
            let candidates = generator.candidates(for: easyID)
            var scratch = RulesScratch()
            let outcome = rules.apply(user: user, to: candidates, scratch: &scratch)
            // One coupon at a time, by a direct interpreter of the parsed expressions.
            var expected: [String] = []
            var counts: [String: Int] = [:]
            for coupon in candidates {
                let removedBy = try document.rules.first { rule in
                    try (rule.when.map { try Self.interpret(RuleExpression(parsing: $0), user: user, coupon: coupon) } ?? true)
                        && Self.interpret(RuleExpression(parsing: rule.exclude), user: user, coupon: coupon)
                }
                if let removedBy { counts[removedBy.name, default: 0] += 1 } else { expected.append(coupon.id) }
            }
            #expect(outcome.eligible.map(\.id) == expected, "round \(round)")
            #expect(Dictionary(uniqueKeysWithValues: outcome.removals.map { ($0.rule, $0.removed) }) == counts, "round \(round)")
        }
    }
}

extension RulesTests {
    /// RULES.md §4's semantics, written plainly: the test's oracle for the compiled evaluator.
    static func interpret(_ expression: RuleExpression, user: UserFeatures, coupon: Coupon) -> Bool {
        func value(_ field: String) -> RuleLiteral? {
            switch field {
            case "coupon.shop": return RuleLiteral.string(coupon.shop)
            case "coupon.category": return RuleLiteral.string(coupon.category)
            case "coupon.id": return RuleLiteral.string(coupon.id)
            case "coupon.discount_rate": return RuleLiteral.number(coupon.discountRate)
            case "coupon.min_spend": return RuleLiteral.number(coupon.minimumSpend)
            case "coupon.days_to_expiry": return RuleLiteral.number(coupon.daysToExpiry)
            default:
                guard field.hasPrefix("user.") else { return nil }
                let name = String(field.dropFirst(5))
                if let number = user.numeric[name] { return RuleLiteral.number(number) }
                return user.categorical[name].map { RuleLiteral.string($0) }
            }
        }
        func compare(_ lhs: RuleLiteral, _ op: RuleComparison, _ rhs: RuleLiteral) -> Bool {
            switch (lhs, rhs) {
            case (.number(let a), .number(let b)):
                switch op {
                case .equal: a == b
                case .notEqual: a != b
                case .less: a < b
                case .lessOrEqual: a <= b
                case .greater: a > b
                case .greaterOrEqual: a >= b
                }
            case (.string(let a), .string(let b)): op == .equal ? a == b : a != b
            default: false
            }
        }
        switch expression {
        case .constant(let constant): return constant
        case .compare(let field, let op, let literal): return value(field).map { compare($0, op, literal) } ?? false
        case .member(let field, let list, let negated): return value(field).map { list.contains($0) != negated } ?? false
        case .exists(let field): return value(field) != nil
        case .not(let inner): return !interpret(inner, user: user, coupon: coupon)
        case .and(let terms): return terms.allSatisfy { interpret($0, user: user, coupon: coupon) }
        case .or(let terms): return terms.contains { interpret($0, user: user, coupon: coupon) }
        }
    }
}

/// Diversity caps as properties over random rankings: no cap is exceeded, and the ranking is the
/// score order with the refused coupons skipped; propensities stay probabilities.
@Suite struct DiversityTests {
    static func randomOrder(_ rng: inout SplitMix64, count: Int) -> (order: [RankedCoupon], candidates: [Coupon]) {
        let candidates = (0..<count).map { index in
            Coupon(
                id: "c\(index)", name: "c\(index)", category: "cat-\(rng.next() % 4)", shop: "shop-\(rng.next() % 6)",
                discountRate: 0.1, minimumSpend: 0, daysToExpiry: 10
            )
        }
        let scores = (0..<count).map { _ in Double(rng.next() % 1000) / 100 }
        let order = candidates.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : candidates[$0].id < candidates[$1].id }
            .map { RankedCoupon(id: candidates[$0].id, name: candidates[$0].name, score: scores[$0], probability: 0.1, candidateIndex: $0) }
        return (order, candidates)
    }

    @Test func greedyKeepsScoreOrderAndSkipsOnlyWhatACapRefuses() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<300 {
            let (order, candidates) = Self.randomOrder(&rng, count: Int(1 + rng.next() % 60))
            let caps = DiversityCaps(maximumPerShop: Int(rng.next() % 3), maximumPerCategory: Int(rng.next() % 4))
            let topK = Int(1 + rng.next() % 12)
            let ranked = Explorer.rank(order, topK: topK, policy: .greedy, seed: 1, diversity: DiversityConstraint(caps: caps, candidates: candidates)).ranked
            Self.expectWithinCaps(ranked, caps: caps, candidates: candidates)
            // The reference: walk the score order, take what still fits.
            var expected: [RankedCoupon] = []
            for item in order where expected.count < topK {
                let coupon = candidates[item.candidateIndex]
                let shop = expected.filter { candidates[$0.candidateIndex].shop == coupon.shop }.count
                let category = expected.filter { candidates[$0.candidateIndex].category == coupon.category }.count
                if (caps.maximumPerShop ?? 0) > 0 && shop >= caps.maximumPerShop! { continue }
                if (caps.maximumPerCategory ?? 0) > 0 && category >= caps.maximumPerCategory! { continue }
                expected.append(item)
            }
            #expect(ranked.map(\.id) == expected.map(\.id))
            #expect(ranked.allSatisfy { $0.propensity == 1 })
        }
    }

    /// The contract check asked for `top_k=303&max_per_category=65535` over 200 candidates: a cap
    /// that binds nothing and a page longer than the candidates give every candidate once.
    @Test(arguments: [ExplorationPolicy.greedy, .epsilonGreedy(epsilon: 0.3), .softmax(temperature: 0.5)])
    func aPageLongerThanTheCandidatesUnderALooseCapShowsEveryCandidateOnce(policy: ExplorationPolicy) {
        var rng = SplitMix64(seed: 3)
        let (order, candidates) = Self.randomOrder(&rng, count: 200)
        let caps = DiversityCaps(maximumPerShop: 65535, maximumPerCategory: 65535)
        let ranked = Explorer.rank(order, topK: 303, policy: policy, seed: 8, diversity: DiversityConstraint(caps: caps, candidates: candidates)).ranked
        #expect(Set(ranked.map(\.id)) == Set(order.map(\.id)) && ranked.count == 200)
        if policy == .greedy { #expect(ranked.map(\.id) == order.map(\.id)) }
    }

    @Test(arguments: [ExplorationPolicy.epsilonGreedy(epsilon: 0.3), .softmax(temperature: 0.5)])
    func exploringPoliciesRespectTheCapsWithPropensitiesInZeroOne(policy: ExplorationPolicy) {
        var rng = SplitMix64(seed: 9)
        for seed in UInt64(0)..<200 {
            let (order, candidates) = Self.randomOrder(&rng, count: Int(2 + rng.next() % 40))
            let caps = DiversityCaps(maximumPerShop: 1, maximumPerCategory: 2)
            let ranked = Explorer.rank(order, topK: 6, policy: policy, seed: seed, diversity: DiversityConstraint(caps: caps, candidates: candidates)).ranked
            Self.expectWithinCaps(ranked, caps: caps, candidates: candidates)
            #expect(Set(ranked.map(\.id)).count == ranked.count)
            #expect(ranked.allSatisfy { $0.propensity > 0 && $0.propensity <= 1 })
        }
    }

    /// The logged propensity of a capped softmax slot is the frequency with which it is drawn.
    @Test func cappedSoftmaxPropensitiesMatchTheirFrequencies() {
        let candidates = [("A", "s1", 2.0), ("B", "s1", 1.8), ("C", "s2", 1.0), ("D", "s3", 0.5)].enumerated().map { index, value in
            (Coupon(id: value.0, name: value.0, category: "c", shop: value.1, discountRate: 0, minimumSpend: 0, daysToExpiry: 1), value.2, index)
        }
        let order = candidates.map { RankedCoupon(id: $0.0.id, name: $0.0.id, score: $0.1, probability: 0, candidateIndex: $0.2) }
        let constraint = DiversityConstraint(caps: DiversityCaps(maximumPerShop: 1), candidates: candidates.map(\.0))
        var counts: [String: Int] = [:]
        var logged: [String: Double] = [:]
        let draws = 20_000
        for seed in 0..<UInt64(draws) {
            let ranked = Explorer.rank(order, topK: 2, policy: .softmax(temperature: 1), seed: seed, diversity: constraint).ranked
            #expect(ranked.count == 2)
            // The second slot given A first: B is refused (same shop), so C or D.
            if ranked[0].id == "A" {
                counts[ranked[1].id, default: 0] += 1
                logged[ranked[1].id] = ranked[1].propensity
            }
        }
        let afterA = Double(counts.values.reduce(0, +))
        for id in ["C", "D"] {
            let frequency = Double(counts[id] ?? 0) / afterA
            #expect(abs(frequency - (logged[id] ?? -1)) < 0.02, "\(id): drawn \(frequency), logged \(logged[id] ?? -1)")
        }
        #expect(counts["B"] == nil)
    }

    static func expectWithinCaps(_ ranked: [RankedCoupon], caps: DiversityCaps, candidates: [Coupon]) {
        let shops = Dictionary(grouping: ranked) { candidates[$0.candidateIndex].shop }
        let categories = Dictionary(grouping: ranked) { candidates[$0.candidateIndex].category }
        if let cap = caps.maximumPerShop, cap > 0 { #expect(shops.values.allSatisfy { $0.count <= cap }) }
        if let cap = caps.maximumPerCategory, cap > 0 { #expect(categories.values.allSatisfy { $0.count <= cap }) }
    }
}
