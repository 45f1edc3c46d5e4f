/// A rules document compiled for the request path: fields resolved, types checked, every coupon
/// condition turned into a program over bit columns of the candidate batch (RULES.md §7).
public struct CompiledRules: Sendable {
    public let version: String
    /// Rule names, in document order; a removal names its rule by index here.
    public let ruleNames: [String]
    /// The document's caps; a request may override them.
    public let diversity: DiversityCaps
    public let frequencyCap: FrequencyCap?
    let userFields: [RuleField]
    let rules: [CompiledRule]
    let atoms: [CouponAtom]
    /// Words of an atom bit mask.
    let words: Int
    /// One per coupon field the atoms read.
    let tables: [AtomTable]
    /// Every rule's atom mask, `words` words each, rule after rule: read by the per-candidate
    /// loop without copying a rule.
    let ruleAtoms: [UInt64]
    let shapes: [CompiledRule.Shape]

    /// No rules: every candidate is eligible.
    public static let none = CompiledRules(version: "", ruleNames: [], diversity: .none, frequencyCap: nil, userFields: [], programs: [], atoms: [])

    init(
        version: String,
        ruleNames: [String],
        diversity: DiversityCaps,
        frequencyCap: FrequencyCap?,
        userFields: [RuleField],
        programs: [(when: UserCondition, exclude: [CouponStep])],
        atoms: [CouponAtom]
    ) {
        self.version = version
        self.ruleNames = ruleNames
        self.diversity = diversity
        self.frequencyCap = frequencyCap
        self.userFields = userFields
        self.atoms = atoms
        let words = max(1, (atoms.count + 63) / 64)
        self.words = words
        let rules = programs.map { CompiledRule(when: $0.when, exclude: $0.exclude, words: words) }
        self.rules = rules
        self.ruleAtoms = rules.flatMap(\.atoms)
        self.shapes = rules.map(\.shape)
        var fields: [RuleField] = []
        for atom in atoms where !fields.contains(atom.field) { fields.append(atom.field) }
        self.tables = fields.map { AtomTable(field: $0, atoms: atoms, words: words) }
    }

    /// Checks and compiles `document`; the error names the rule at fault.
    public init(_ document: RulesDocument) throws(RulesError) {
        guard document.format == RulesDocument.formatName else {
            throw RulesError("format is '\(document.format)', expected '\(RulesDocument.formatName)'")
        }
        guard document.formatVersion == RulesDocument.currentFormatVersion else {
            throw RulesError("format_version \(document.formatVersion) is not supported (this engine reads \(RulesDocument.currentFormatVersion))")
        }
        guard !document.version.isEmpty, document.version.utf8.count <= 128,
            document.version.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw RulesError("version must be 1 to 128 printable ASCII characters without spaces")
        }
        guard document.rules.count <= RulesDocument.maximumRules else {
            throw RulesError("\(document.rules.count) rules, more than the limit of \(RulesDocument.maximumRules)")
        }
        for name in document.fields.keys {
            guard name.hasPrefix("user.") || name.hasPrefix("coupon."), name.split(separator: ".", omittingEmptySubsequences: false).count >= 2,
                !name.hasSuffix(".")
            else {
                throw RulesError("fields: '\(name)' must be named user.<name> or coupon.<name>")
            }
            guard RuleField.builtIn[name] == nil else {
                throw RulesError("fields: '\(name)' is built in; do not declare it")
            }
        }
        if let caps = document.diversity {
            for (name, value) in [("max_per_shop", caps.maximumPerShop), ("max_per_category", caps.maximumPerCategory)] {
                if let value, value < 0 { throw RulesError("diversity.\(name) is \(value); it must be 0 (no cap) or more") }
            }
        }
        if let cap = document.frequencyCap {
            guard cap.maximumImpressions >= 1 else { throw RulesError("frequency_cap.max_impressions must be 1 or more") }
            guard (1...24 * 90).contains(cap.windowHours) else {
                throw RulesError("frequency_cap.window_hours must be 1 to 2160 (90 days)")
            }
        }
        var builder = Builder(declared: document.fields)
        var names = Set<String>()
        var rules: [(when: UserCondition, exclude: [CouponStep])] = []
        for (index, rule) in document.rules.enumerated() {
            let label = rule.name.isEmpty ? "rule #\(index + 1)" : "rule '\(rule.name)'"
            guard !rule.name.isEmpty, rule.name.utf8.count <= 128 else {
                throw RulesError("\(label): a rule needs a name of 1 to 128 bytes")
            }
            guard names.insert(rule.name).inserted else { throw RulesError("\(label): the name is used twice") }
            do throws(RulesError) {
                let when = try rule.when.map { (text) throws(RulesError) in try RuleExpression(parsing: text) } ?? .constant(true)
                let exclude = try RuleExpression(parsing: rule.exclude)
                let program = try builder.couponProgram(exclude)
                guard CompiledRule.stackDepth(of: program) <= 64 else {
                    throw RulesError("exclude combines more than 64 terms at one level; split the rule")
                }
                rules.append((try builder.userCondition(when, clause: "when"), program))
            } catch {
                throw RulesError("\(label): \(error.description)")
            }
        }
        self.init(
            version: document.version,
            ruleNames: document.rules.map(\.name),
            diversity: document.diversity ?? .none,
            frequencyCap: document.frequencyCap,
            userFields: builder.userFields,
            programs: rules,
            atoms: builder.atoms
        )
    }

    public var isEmpty: Bool { rules.isEmpty }
}

/// One rule: a condition on the user, then a test of each candidate's atom mask.
struct CompiledRule: Sendable {
    /// How a candidate's atom mask decides whether the rule removes it.
    enum Shape: Sendable {
        /// Removed when any of these atoms holds (one atom, or atoms joined by `or`).
        case anyOf
        /// Removed when all of these atoms hold (atoms joined by `and`; none: always).
        case allOf
        /// Anything else: the postfix program over the atoms' bits.
        case program
    }

    var when: UserCondition
    var exclude: [CouponStep]
    var shape: Shape
    /// The atoms the rule reads, `words` words.
    var atoms: [UInt64]

    init(when: UserCondition, exclude: [CouponStep], words: Int) {
        self.when = when
        self.exclude = exclude
        var atoms = [UInt64](repeating: 0, count: words)
        for case .atom(let index) in exclude { atoms[index >> 6] |= 1 << UInt64(index & 63) }
        self.atoms = atoms
        let onlyAtoms = exclude.dropLast().allSatisfy { if case .atom = $0 { true } else { false } }
        switch (exclude.last, exclude.count) {
        case (.atom, 1): self.shape = .anyOf
        case (.constant(false), 1): self.shape = .anyOf
        case (.constant(true), 1): self.shape = .allOf
        case (.or, _) where onlyAtoms: self.shape = .anyOf
        case (.and, _) where onlyAtoms: self.shape = .allOf
        default: self.shape = .program
        }
    }

    static func stackDepth(of program: [CouponStep]) -> Int {
        var depth = 0
        var deepest = 0
        for step in program {
            switch step {
            case .atom, .constant: depth += 1
            case .not: break
            case .and(let count), .or(let count): depth -= count - 1
            }
            deepest = max(deepest, depth)
        }
        return deepest
    }

    /// Whether the rule removes a candidate whose atom mask is `truth`; `atoms` is the rule's
    /// own mask (``atoms``, from ``CompiledRules/ruleAtoms``).
    @inline(__always)
    static func removes(_ shape: Shape, atoms: UnsafePointer<UInt64>, words: Int, truth: UnsafePointer<UInt64>, program: () -> Bool) -> Bool {
        switch shape {
        case .anyOf:
            for word in 0..<words where truth[word] & atoms[word] != 0 { return true }
            return false
        case .allOf:
            for word in 0..<words where truth[word] & atoms[word] != atoms[word] { return false }
            return true
        case .program:
            return program()
        }
    }

    /// Runs the postfix program over the atoms' bits of one candidate.
    func runs(_ truth: UnsafePointer<UInt64>) -> Bool {
        // A stack of bits, the top in bit 0.
        var stack: UInt64 = 0
        for step in exclude {
            switch step {
            case .atom(let index): stack = stack << 1 | (truth[index >> 6] >> UInt64(index & 63) & 1)
            case .constant(let value): stack = stack << 1 | (value ? 1 : 0)
            case .not: stack ^= 1
            case .and(let count):
                let mask: UInt64 = count >= 64 ? ~0 : (1 << UInt64(count)) - 1
                let all: UInt64 = stack & mask == mask ? 1 : 0
                stack = (count >= 64 ? 0 : stack >> UInt64(count)) << 1 | all
            case .or(let count):
                let mask: UInt64 = count >= 64 ? ~0 : (1 << UInt64(count)) - 1
                let any: UInt64 = stack & mask != 0 ? 1 : 0
                stack = (count >= 64 ? 0 : stack >> UInt64(count)) << 1 | any
            }
        }
        return stack & 1 == 1
    }
}

/// A `when` condition over the request's user-field slots.
indirect enum UserCondition: Sendable {
    case constant(Bool)
    case number(slot: Int, NumberTest)
    case string(slot: Int, StringTest)
    case existsNumber(slot: Int)
    case existsString(slot: Int)
    case not(UserCondition)
    case and([UserCondition])
    case or([UserCondition])

    func holds(numbers: UnsafeBufferPointer<Double>, strings: UnsafeBufferPointer<String?>) -> Bool {
        switch self {
        case .constant(let value): value
        case .number(let slot, let test): test.holds(numbers[slot])
        case .string(let slot, let test): strings[slot].map(test.holds) ?? false
        case .existsNumber(let slot): !numbers[slot].isNaN
        case .existsString(let slot): strings[slot] != nil
        case .not(let inner): !inner.holds(numbers: numbers, strings: strings)
        case .and(let terms): terms.allSatisfy { $0.holds(numbers: numbers, strings: strings) }
        case .or(let terms): terms.contains { $0.holds(numbers: numbers, strings: strings) }
        }
    }
}

/// A test of a number; false for a missing one (NaN).
enum NumberTest: Sendable, Hashable {
    case compare(RuleComparison, Double)
    case member([Double], negated: Bool)

    @inline(__always)
    func holds(_ value: Double) -> Bool {
        guard !value.isNaN else { return false }
        switch self {
        case .compare(let op, let constant): return op.holds(value, constant)
        case .member(let values, let negated): return values.contains(value) != negated
        }
    }
}

/// A test of a string, present.
enum StringTest: Sendable, Hashable {
    case equal(String, negated: Bool)
    /// Short lists are scanned; long ones hashed.
    case memberList([String], negated: Bool)
    case memberSet(Set<String>, negated: Bool)

    static let longestScannedList = 8

    @inline(__always)
    func holds(_ value: String) -> Bool {
        switch self {
        case .equal(let constant, let negated): (value == constant) != negated
        case .memberList(let values, let negated): values.contains(value) != negated
        case .memberSet(let values, let negated): values.contains(value) != negated
        }
    }
}

/// One test of one coupon field, evaluated over the whole batch into a bit column.
struct CouponAtom: Sendable, Hashable {
    enum Test: Sendable, Hashable {
        case number(NumberTest)
        case string(StringTest)
        case exists
    }

    var field: RuleField
    var test: Test
}

/// A step of a coupon condition in postfix order, over a stack of bit columns.
enum CouponStep: Sendable, Hashable {
    case atom(Int)
    case constant(Bool)
    case not
    case and(Int)
    case or(Int)
}

/// Resolves fields and type-checks while compiling; collects the user-field slots and the
/// distinct coupon atoms shared by every rule.
private struct Builder {
    let declared: [String: RuleFieldType]
    var userFields: [RuleField] = []
    var atoms: [CouponAtom] = []
    var atomIndex: [CouponAtom: Int] = [:]

    init(declared: [String: RuleFieldType]) {
        self.declared = declared
    }

    func field(_ name: String) throws(RulesError) -> RuleField {
        guard let field = try RuleField.resolve(name, declared: declared) else {
            if name.hasPrefix("stats.") {
                throw RulesError("unknown field '\(name)': rules read user fields and coupon attributes, not statistics")
            }
            throw RulesError(
                "unknown field '\(name)': declare it under \"fields\" with its type, or use a built-in coupon field (\(RuleField.builtIn.keys.sorted().joined(separator: ", ")))"
            )
        }
        return field
    }

    mutating func userSlot(_ field: RuleField) -> Int {
        if let slot = userFields.firstIndex(of: field) { return slot }
        userFields.append(field)
        return userFields.count - 1
    }

    mutating func userCondition(_ expression: RuleExpression, clause: String) throws(RulesError) -> UserCondition {
        switch expression {
        case .constant(let value):
            return .constant(value)
        case .compare(let name, let op, let literal):
            let field = try userField(name, clause: clause)
            let slot = userSlot(field)
            switch try Self.test(field, op, literal) {
            case .number(let test): return .number(slot: slot, test)
            case .string(let test): return .string(slot: slot, test)
            case .exists: return .constant(false)
            }
        case .member(let name, let literals, let negated):
            let field = try userField(name, clause: clause)
            let slot = userSlot(field)
            switch try Self.membership(field, literals, negated: negated) {
            case .number(let test): return .number(slot: slot, test)
            case .string(let test): return .string(slot: slot, test)
            case .exists: return .constant(false)
            }
        case .exists(let name):
            let field = try userField(name, clause: clause)
            let slot = userSlot(field)
            return field.type == .number ? .existsNumber(slot: slot) : .existsString(slot: slot)
        case .not(let inner):
            return .not(try userCondition(inner, clause: clause))
        case .and(let terms):
            var conditions: [UserCondition] = []
            for term in terms { conditions.append(try userCondition(term, clause: clause)) }
            return .and(conditions)
        case .or(let terms):
            var conditions: [UserCondition] = []
            for term in terms { conditions.append(try userCondition(term, clause: clause)) }
            return .or(conditions)
        }
    }

    private func userField(_ name: String, clause: String) throws(RulesError) -> RuleField {
        let field = try field(name)
        guard field.isUserField else {
            throw RulesError("\(clause) reads '\(name)': a when condition reads user fields only; put coupon conditions in exclude")
        }
        return field
    }

    mutating func couponProgram(_ expression: RuleExpression) throws(RulesError) -> [CouponStep] {
        var steps: [CouponStep] = []
        try emit(expression, into: &steps)
        return steps
    }

    private mutating func emit(_ expression: RuleExpression, into steps: inout [CouponStep]) throws(RulesError) {
        switch expression {
        case .constant(let value):
            steps.append(.constant(value))
        case .compare(let name, let op, let literal):
            let field = try couponField(name)
            steps.append(.atom(atom(CouponAtom(field: field, test: try Self.test(field, op, literal)))))
        case .member(let name, let literals, let negated):
            let field = try couponField(name)
            steps.append(.atom(atom(CouponAtom(field: field, test: try Self.membership(field, literals, negated: negated)))))
        case .exists(let name):
            steps.append(.atom(atom(CouponAtom(field: try couponField(name), test: .exists))))
        case .not(let inner):
            try emit(inner, into: &steps)
            steps.append(.not)
        case .and(let terms):
            for term in terms { try emit(term, into: &steps) }
            steps.append(.and(terms.count))
        case .or(let terms):
            for term in terms { try emit(term, into: &steps) }
            steps.append(.or(terms.count))
        }
    }

    private func couponField(_ name: String) throws(RulesError) -> RuleField {
        let field = try field(name)
        guard !field.isUserField else {
            throw RulesError("exclude reads '\(name)': an exclude condition reads coupon fields only; put user conditions in when")
        }
        return field
    }

    private mutating func atom(_ atom: CouponAtom) -> Int {
        if let index = atomIndex[atom] { return index }
        atoms.append(atom)
        atomIndex[atom] = atoms.count - 1
        return atoms.count - 1
    }

    static func test(_ field: RuleField, _ op: RuleComparison, _ literal: RuleLiteral) throws(RulesError) -> CouponAtom.Test {
        switch (field.type, literal) {
        case (.number, .number(let value)):
            return .number(.compare(op, value))
        case (.string, .string(let value)):
            guard !op.isOrdering else {
                throw RulesError("'\(field) \(op.rawValue) \(literal)': \(field) is a string; strings compare with == and != only")
            }
            return .string(.equal(value, negated: op == .notEqual))
        default:
            throw RulesError("'\(field) \(op.rawValue) \(literal)': \(field) is a \(field.type.rawValue), compared with a \(literal.type.rawValue)")
        }
    }

    static func membership(_ field: RuleField, _ literals: [RuleLiteral], negated: Bool) throws(RulesError) -> CouponAtom.Test {
        guard literals.count <= RulesDocument.maximumListValues else {
            throw RulesError("the list for \(field) has \(literals.count) values, more than the limit of \(RulesDocument.maximumListValues)")
        }
        for literal in literals where literal.type != field.type {
            throw RulesError("'\(field) in [...]': \(field) is a \(field.type.rawValue), the list holds \(literal)")
        }
        switch field.type {
        case .number:
            return .number(.member(literals.compactMap { if case .number(let value) = $0 { value } else { nil } }, negated: negated))
        case .string:
            let values = literals.compactMap { if case .string(let value) = $0 { value } else { nil } }
            return .string(
                values.count <= StringTest.longestScannedList ? .memberList(values, negated: negated) : .memberSet(Set(values), negated: negated)
            )
        }
    }
}
