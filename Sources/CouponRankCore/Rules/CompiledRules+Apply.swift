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
    /// One bit column per atom, `words` words each.
    var columns: [UInt64] = []
    var ready: [Bool] = []
    var stack: [UInt64] = []
    var removed: [UInt64] = []

    public init() {}

    mutating func prepare(userFields: Int, atoms: Int, words: Int, stackDepth: Int) {
        Self.size(&numbers, userFields, .nan)
        Self.size(&strings, userFields, nil)
        Self.size(&columns, atoms * words, 0)
        Self.size(&ready, atoms, false)
        ready.withUnsafeMutableBufferPointer { $0.update(repeating: false) }
        Self.size(&stack, stackDepth * words, 0)
        Self.size(&removed, words, 0)
        removed.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
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
    /// The deepest stack any rule's program needs.
    var stackDepth: Int {
        var deepest = 1
        for rule in rules {
            var depth = 0
            for step in rule.exclude {
                switch step {
                case .atom, .constant: depth += 1
                case .not: break
                case .and(let count), .or(let count): depth -= count - 1
                }
                deepest = max(deepest, depth)
            }
        }
        return deepest
    }

    /// Applies every rule whose `when` holds for `user` to the whole batch at once: each coupon
    /// condition is evaluated as bit columns over the candidates, each atom once per request.
    public func apply(user: UserFeatures, to candidates: [Coupon], scratch: inout RulesScratch) -> RulesOutcome {
        guard !rules.isEmpty, !candidates.isEmpty else { return RulesOutcome(eligible: candidates, removals: []) }
        let count = candidates.count
        let words = (count + 63) >> 6
        let lastMask: UInt64 = count & 63 == 0 ? ~0 : (1 << UInt64(count & 63)) - 1
        scratch.prepare(userFields: userFields.count, atoms: atoms.count, words: words, stackDepth: stackDepth)
        for (slot, field) in userFields.enumerated() {
            switch field {
            case .userNumber(let name): scratch.numbers[slot] = user.numeric[name] ?? .nan
            case .userString(let name): scratch.strings[slot] = user.categorical[name]
            default: break
            }
        }
        var removals: [RuleRemoval] = []
        var removedTotal = 0
        scratch.numbers.withUnsafeBufferPointer { numbers in
            scratch.strings.withUnsafeBufferPointer { strings in
                scratch.columns.withUnsafeMutableBufferPointer { columns in
                    scratch.ready.withUnsafeMutableBufferPointer { ready in
                        scratch.stack.withUnsafeMutableBufferPointer { stack in
                            scratch.removed.withUnsafeMutableBufferPointer { removed in
                                candidates.withUnsafeBufferPointer { coupons in
                                    for (index, rule) in rules.enumerated() where rule.when.holds(numbers: numbers, strings: strings) {
                                        var top = 0
                                        for step in rule.exclude {
                                            let base = stack.baseAddress! + top * words
                                            switch step {
                                            case .atom(let atom):
                                                let column = columns.baseAddress! + atom * words
                                                if !ready[atom] {
                                                    atoms[atom].fill(column, words: words, coupons: coupons)
                                                    ready[atom] = true
                                                }
                                                base.update(from: column, count: words)
                                                top += 1
                                            case .constant(let value):
                                                base.update(repeating: value ? ~0 : 0, count: words)
                                                base[words - 1] &= lastMask
                                                top += 1
                                            case .not:
                                                let operand = base - words
                                                for word in 0..<words { operand[word] = ~operand[word] }
                                                operand[words - 1] &= lastMask
                                            case .and(let terms):
                                                let first = base - terms * words
                                                for term in 1..<terms {
                                                    let other = first + term * words
                                                    for word in 0..<words { first[word] &= other[word] }
                                                }
                                                top -= terms - 1
                                            case .or(let terms):
                                                let first = base - terms * words
                                                for term in 1..<terms {
                                                    let other = first + term * words
                                                    for word in 0..<words { first[word] |= other[word] }
                                                }
                                                top -= terms - 1
                                            }
                                        }
                                        var newlyRemoved = 0
                                        for word in 0..<words {
                                            let fresh = stack[word] & ~removed[word]
                                            newlyRemoved += fresh.nonzeroBitCount
                                            removed[word] |= fresh
                                        }
                                        if newlyRemoved > 0 {
                                            removals.append(RuleRemoval(rule: ruleNames[index], removed: newlyRemoved))
                                            removedTotal += newlyRemoved
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        guard removedTotal > 0 else { return RulesOutcome(eligible: candidates, removals: []) }
        var eligible: [Coupon] = []
        eligible.reserveCapacity(count - removedTotal)
        scratch.removed.withUnsafeBufferPointer { removed in
            for index in 0..<count where removed[index >> 6] & (1 << UInt64(index & 63)) == 0 {
                eligible.append(candidates[index])
            }
        }
        return RulesOutcome(eligible: eligible, removals: removals)
    }
}

extension CouponAtom {
    /// Sets bit `i` of `column` when the atom holds for coupon `i`.
    @inline(__always)
    func fill(_ column: UnsafeMutablePointer<UInt64>, words: Int, coupons: UnsafeBufferPointer<Coupon>) {
        column.update(repeating: 0, count: words)
        switch test {
        case .number(let test):
            for index in coupons.indices {
                if let value = field.number(of: coupons[index]), test.holds(value) {
                    column[index >> 6] |= 1 << UInt64(index & 63)
                }
            }
        case .string(let test):
            for index in coupons.indices {
                if let value = field.string(of: coupons[index]), test.holds(value) {
                    column[index >> 6] |= 1 << UInt64(index & 63)
                }
            }
        case .exists:
            for index in coupons.indices {
                let present = field.type == .number ? field.number(of: coupons[index]) != nil : field.string(of: coupons[index]) != nil
                if present { column[index >> 6] |= 1 << UInt64(index & 63) }
            }
        }
    }
}
