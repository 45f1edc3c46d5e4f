/// How many candidates one rule removed from one request's batch.
public struct RuleRemoval: Sendable, Hashable {
    public var rule: String
    public var removed: Int

    public init(rule: String, removed: Int) {
        self.rule = rule
        self.removed = removed
    }
}

/// Storage reused by ``CompiledRules/apply(user:to:scratch:)`` from one request to the next.
public struct RulesScratch: Sendable {
    var numbers: [Double] = []
    var strings: [String?] = []
    var active: [Int32] = []
    var activeAtoms: [UInt64] = []
    var anyOfAtoms: [UInt64] = []
    /// Per atom: the first active any-of rule that reads it.
    var firstRule: [Int32] = []
    var others: [Int32] = []
    /// The atom tables the active rules need.
    var tables: [AtomTableView] = []
    /// One atom mask per candidate.
    var truth: [UInt64] = []
    var removed: [Bool] = []
    var counts: [Int] = []

    public init() {}

    mutating func prepare(userFields: Int, rules: Int, atoms: Int, words: Int, candidates: Int) {
        Self.size(&numbers, userFields, .nan)
        Self.size(&strings, userFields, nil)
        Self.size(&activeAtoms, words, 0)
        Self.size(&anyOfAtoms, words, 0)
        Self.size(&firstRule, atoms, .max)
        Self.size(&truth, candidates * words, 0)
        Self.size(&removed, candidates, false)
        Self.size(&counts, rules, 0)
        active.removeAll(keepingCapacity: true)
        others.removeAll(keepingCapacity: true)
        tables.removeAll(keepingCapacity: true)
    }

    private static func size<T>(_ array: inout [T], _ count: Int, _ fill: T) {
        if array.count < count { array.append(contentsOf: repeatElement(fill, count: count - array.count)) }
    }
}

/// The candidates the rules leave, and what each rule removed.
public struct RulesOutcome: Sendable {
    /// The candidates no rule removed, in their order: the same array, uncopied, when none was.
    public var eligible: [Coupon]
    /// The rules that removed at least one candidate, in document order; a candidate several
    /// rules exclude is counted for the first of them.
    public var removals: [RuleRemoval]
}

extension CompiledRules {
    /// Applies every rule whose `when` holds for `user` to the whole batch: one table lookup per
    /// candidate and field gives the mask of the atoms that hold for it, then each rule is a
    /// mask test (RULES.md §7).
    public func apply(user: UserFeatures, to candidates: [Coupon], scratch: inout RulesScratch) -> RulesOutcome {
        guard !rules.isEmpty, !candidates.isEmpty else { return RulesOutcome(eligible: candidates, removals: []) }
        let count = candidates.count
        scratch.prepare(userFields: userFields.count, rules: rules.count, atoms: atoms.count, words: words, candidates: count)
        for (slot, field) in userFields.enumerated() {
            switch field {
            case .userNumber(let name): scratch.numbers[slot] = user.numeric[name] ?? .nan
            case .userString(let name): scratch.strings[slot] = user.categorical[name]
            default: break
            }
        }
        for word in 0..<words {
            scratch.activeAtoms[word] = 0
            scratch.anyOfAtoms[word] = 0
        }
        scratch.numbers.withUnsafeBufferPointer { numbers in
            scratch.strings.withUnsafeBufferPointer { strings in
                for index in rules.indices where rules[index].when.holds(numbers: numbers, strings: strings) {
                    scratch.active.append(Int32(index))
                }
            }
        }
        guard !scratch.active.isEmpty else { return RulesOutcome(eligible: candidates, removals: []) }

        var removedTotal = 0
        let words = words
        scratch.truth.withUnsafeMutableBufferPointer { truth in
            scratch.activeAtoms.withUnsafeMutableBufferPointer { activeAtoms in
                scratch.anyOfAtoms.withUnsafeMutableBufferPointer { anyOfAtoms in
                    scratch.firstRule.withUnsafeMutableBufferPointer { firstRule in
                        // Which atoms the active rules read, and for each the first any-of rule.
                        for index in scratch.active {
                            let rule = rules[Int(index)]
                            for word in 0..<words { activeAtoms[word] |= rule.atoms[word] }
                            if rule.shape == .anyOf {
                                for word in 0..<words {
                                    anyOfAtoms[word] |= rule.atoms[word]
                                    var bits = rule.atoms[word]
                                    while bits != 0 {
                                        let atom = word << 6 | bits.trailingZeroBitCount
                                        if firstRule[atom] > index { firstRule[atom] = index }
                                        bits &= bits - 1
                                    }
                                }
                            } else {
                                scratch.others.append(index)
                            }
                        }
                        truth.baseAddress!.update(repeating: 0, count: count * words)
                        for table in tables where (0..<words).contains(where: { table.atoms[$0] & activeAtoms[$0] != 0 }) {
                            scratch.tables.append(table.view)
                        }
                        candidates.withUnsafeBufferPointer { coupons in
                            scratch.tables.withUnsafeBufferPointer { needed in
                                for index in needed.indices { needed[index].markAll(coupons, into: truth.baseAddress!) }
                            }
                        }
                        scratch.removed.withUnsafeMutableBufferPointer { removed in
                            scratch.counts.withUnsafeMutableBufferPointer { counts in
                                counts.baseAddress!.update(repeating: 0, count: rules.count)
                                scratch.others.withUnsafeBufferPointer { others in
                                  self.ruleAtoms.withUnsafeBufferPointer { ruleAtoms in
                                    let ruleAtoms = ruleAtoms.baseAddress!
                                    for row in 0..<count {
                                        let atomsOfRow = UnsafePointer(truth.baseAddress! + row * words)
                                        var best = Int32.max
                                        for word in 0..<words {
                                            var bits = atomsOfRow[word] & anyOfAtoms[word]
                                            while bits != 0 {
                                                best = min(best, firstRule[word << 6 | bits.trailingZeroBitCount])
                                                bits &= bits - 1
                                            }
                                        }
                                        for index in others {
                                            if index > best { break }
                                            let rule = Int(index)
                                            let removes = CompiledRule.removes(
                                                shapes[rule],
                                                atoms: ruleAtoms + rule * words,
                                                words: words,
                                                truth: atomsOfRow
                                            ) { rules[rule].runs(atomsOfRow) }
                                            if removes {
                                                best = index
                                                break
                                            }
                                        }
                                        removed[row] = best != .max
                                        if best != .max {
                                            counts[Int(best)] += 1
                                            removedTotal += 1
                                        }
                                    }
                                  }
                                }
                            }
                        }
                        for index in scratch.active {
                            for word in 0..<words {
                                var bits = rules[Int(index)].atoms[word]
                                while bits != 0 {
                                    firstRule[word << 6 | bits.trailingZeroBitCount] = .max
                                    bits &= bits - 1
                                }
                            }
                        }
                    }
                }
            }
        }
        guard removedTotal > 0 else { return RulesOutcome(eligible: candidates, removals: []) }
        var removals: [RuleRemoval] = []
        for index in scratch.active where scratch.counts[Int(index)] > 0 {
            removals.append(RuleRemoval(rule: ruleNames[Int(index)], removed: scratch.counts[Int(index)]))
        }
        var eligible: [Coupon] = []
        eligible.reserveCapacity(count - removedTotal)
        for index in 0..<count where !scratch.removed[index] {
            eligible.append(candidates[index])
        }
        return RulesOutcome(eligible: eligible, removals: removals)
    }
}
