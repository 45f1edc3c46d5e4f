/// A literal of a rule expression.
public enum RuleLiteral: Sendable, Hashable, CustomStringConvertible {
    case number(Double)
    case string(String)

    var type: RuleFieldType {
        switch self {
        case .number: .number
        case .string: .string
        }
    }

    public var description: String {
        switch self {
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): "'" + value + "'"
        }
    }
}

/// A comparison operator of RULES.md §4.
public enum RuleComparison: String, Sendable, Hashable {
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    var isOrdering: Bool { self != .equal && self != .notEqual }

    @inline(__always)
    func holds<T: Comparable>(_ lhs: T, _ rhs: T) -> Bool {
        switch self {
        case .equal: lhs == rhs
        case .notEqual: lhs != rhs
        case .less: lhs < rhs
        case .lessOrEqual: lhs <= rhs
        case .greater: lhs > rhs
        case .greaterOrEqual: lhs >= rhs
        }
    }
}

/// A parsed rule condition, fields still named (RULES.md §4).
public indirect enum RuleExpression: Sendable, Hashable {
    case constant(Bool)
    case compare(field: String, RuleComparison, RuleLiteral)
    case member(field: String, [RuleLiteral], negated: Bool)
    case exists(field: String)
    case not(RuleExpression)
    case and([RuleExpression])
    case or([RuleExpression])

    /// The longest expression text accepted.
    public static let maximumLength = 16_384

    /// Parses the text form of RULES.md §4.
    public init(parsing text: String) throws(RulesError) {
        guard text.utf8.count <= Self.maximumLength else {
            throw RulesError("the expression is \(text.utf8.count) bytes, more than the limit of \(Self.maximumLength)")
        }
        var parser = RuleParser(tokens: try RuleLexer.tokens(of: text))
        self = try parser.parseExpression()
        try parser.expectEnd()
    }

    /// Every field the expression names, in order of appearance.
    var fieldNames: [String] {
        switch self {
        case .constant: []
        case .compare(let field, _, _), .member(let field, _, _), .exists(let field): [field]
        case .not(let inner): inner.fieldNames
        case .and(let terms), .or(let terms): terms.flatMap(\.fieldNames)
        }
    }
}

enum RuleToken: Sendable, Hashable {
    case identifier(String)
    case number(Double)
    case string(String)
    case comparison(RuleComparison)
    case openParenthesis, closeParenthesis, openBracket, closeBracket, comma
    case end

    var text: String {
        switch self {
        case .identifier(let name): "'\(name)'"
        case .number(let value): RuleLiteral.number(value).description
        case .string(let value): "the string '\(value)'"
        case .comparison(let op): "'\(op.rawValue)'"
        case .openParenthesis: "'('"
        case .closeParenthesis: "')'"
        case .openBracket: "'['"
        case .closeBracket: "']'"
        case .comma: "','"
        case .end: "the end of the expression"
        }
    }
}

enum RuleLexer {
    static func tokens(of text: String) throws(RulesError) -> [(RuleToken, Int)] {
        let bytes = Array(text.utf8)
        var tokens: [(RuleToken, Int)] = []
        var index = 0
        func isIdentifierByte(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F || byte == 0x2E
        }
        while index < bytes.count {
            let byte = bytes[index]
            let start = index
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D:
                index += 1
            case 0x28: tokens.append((.openParenthesis, start)); index += 1
            case 0x29: tokens.append((.closeParenthesis, start)); index += 1
            case 0x5B: tokens.append((.openBracket, start)); index += 1
            case 0x5D: tokens.append((.closeBracket, start)); index += 1
            case 0x2C: tokens.append((.comma, start)); index += 1
            case 0x3D, 0x21, 0x3C, 0x3E:  // = ! < >
                let next = index + 1 < bytes.count ? bytes[index + 1] : 0
                let op: RuleComparison
                switch (byte, next) {
                case (0x3D, 0x3D): op = .equal; index += 2
                case (0x21, 0x3D): op = .notEqual; index += 2
                case (0x3C, 0x3D): op = .lessOrEqual; index += 2
                case (0x3E, 0x3D): op = .greaterOrEqual; index += 2
                case (0x3C, _): op = .less; index += 1
                case (0x3E, _): op = .greater; index += 1
                default: throw RulesError("unexpected '\(Character(UnicodeScalar(byte)))' at offset \(start) (comparisons are == != < <= > >=; negation is 'not')")
                }
                tokens.append((.comparison(op), start))
            case 0x27, 0x22:  // ' or "
                var value: [UInt8] = []
                index += 1
                var closed = false
                while index < bytes.count {
                    if bytes[index] == 0x5C, index + 1 < bytes.count, bytes[index + 1] == byte || bytes[index + 1] == 0x5C {
                        value.append(bytes[index + 1])
                        index += 2
                    } else if bytes[index] == byte {
                        closed = true
                        index += 1
                        break
                    } else {
                        value.append(bytes[index])
                        index += 1
                    }
                }
                guard closed else { throw RulesError("the string at offset \(start) is not closed") }
                tokens.append((.string(String(decoding: value, as: UTF8.self)), start))
            case 0x2D, 0x30...0x39:
                index += 1
                while index < bytes.count, (bytes[index] >= 0x30 && bytes[index] <= 0x39) || bytes[index] == 0x2E || bytes[index] == 0x65
                    || bytes[index] == 0x45 || ((bytes[index] == 0x2B || bytes[index] == 0x2D) && (bytes[index - 1] == 0x65 || bytes[index - 1] == 0x45))
                {
                    index += 1
                }
                let literal = String(decoding: bytes[start..<index], as: UTF8.self)
                guard let value = Double(literal), value.isFinite else { throw RulesError("'\(literal)' at offset \(start) is not a number") }
                tokens.append((.number(value), start))
            default:
                guard isIdentifierByte(byte) else {
                    throw RulesError("unexpected character at offset \(start)")
                }
                while index < bytes.count, isIdentifierByte(bytes[index]) { index += 1 }
                tokens.append((.identifier(String(decoding: bytes[start..<index], as: UTF8.self)), start))
            }
        }
        tokens.append((.end, bytes.count))
        return tokens
    }
}

/// Recursive descent over RULES.md §4's grammar.
struct RuleParser {
    private let tokens: [(RuleToken, Int)]
    private var position = 0
    private var depth = 0
    static let maximumDepth = 64

    init(tokens: [(RuleToken, Int)]) {
        self.tokens = tokens
    }

    private var current: RuleToken { tokens[position].0 }
    private var offset: Int { tokens[position].1 }

    private mutating func advance() { position = min(position + 1, tokens.count - 1) }

    private func unexpected(_ wanted: String) -> RulesError {
        RulesError("expected \(wanted) at offset \(offset), found \(current.text)")
    }

    private func isKeyword(_ word: String) -> Bool {
        if case .identifier(word) = current { return true }
        return false
    }

    mutating func expectEnd() throws(RulesError) {
        guard current == .end else { throw unexpected("'and', 'or' or the end of the expression") }
    }

    mutating func parseExpression() throws(RulesError) -> RuleExpression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw RulesError("the expression nests deeper than \(Self.maximumDepth) levels") }
        var terms = [try parseConjunction()]
        while isKeyword("or") {
            advance()
            terms.append(try parseConjunction())
        }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func parseConjunction() throws(RulesError) -> RuleExpression {
        var terms = [try parseUnary()]
        while isKeyword("and") {
            advance()
            terms.append(try parseUnary())
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private mutating func parseUnary() throws(RulesError) -> RuleExpression {
        if isKeyword("not") {
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { throw RulesError("the expression nests deeper than \(Self.maximumDepth) levels") }
            advance()
            return .not(try parseUnary())
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(RulesError) -> RuleExpression {
        switch current {
        case .openParenthesis:
            advance()
            let inner = try parseExpression()
            guard current == .closeParenthesis else { throw unexpected("')'") }
            advance()
            return inner
        case .identifier("true"):
            advance()
            return .constant(true)
        case .identifier("false"):
            advance()
            return .constant(false)
        case .identifier("exists"):
            advance()
            guard current == .openParenthesis else { throw unexpected("'(' after exists") }
            advance()
            let field = try parseField()
            guard current == .closeParenthesis else { throw unexpected("')'") }
            advance()
            return .exists(field: field)
        case .identifier:
            let field = try parseField()
            switch current {
            case .comparison(let op):
                advance()
                return .compare(field: field, op, try parseLiteral())
            case .identifier("in"):
                advance()
                return .member(field: field, try parseList(), negated: false)
            case .identifier("not"):
                advance()
                guard isKeyword("in") else { throw unexpected("'in' after 'not'") }
                advance()
                return .member(field: field, try parseList(), negated: true)
            default:
                throw unexpected("a comparison or 'in' after \(field)")
            }
        default:
            throw unexpected("a field, 'not', 'exists', '(' or true/false")
        }
    }

    private mutating func parseField() throws(RulesError) -> String {
        guard case .identifier(let name) = current else { throw unexpected("a field") }
        guard name.contains("."), !["and", "or", "not", "in", "exists", "true", "false"].contains(name) else {
            throw RulesError("'\(name)' at offset \(offset) is not a field: fields are named scope.name (user.age, coupon.shop)")
        }
        advance()
        return name
    }

    private mutating func parseLiteral() throws(RulesError) -> RuleLiteral {
        switch current {
        case .number(let value):
            advance()
            return .number(value)
        case .string(let value):
            advance()
            return .string(value)
        default:
            throw unexpected("a number or a quoted string")
        }
    }

    private mutating func parseList() throws(RulesError) -> [RuleLiteral] {
        guard current == .openBracket else { throw unexpected("'['") }
        advance()
        var values: [RuleLiteral] = []
        if current == .closeBracket {
            advance()
            return values
        }
        while true {
            values.append(try parseLiteral())
            if current == .comma {
                advance()
                continue
            }
            guard current == .closeBracket else { throw unexpected("',' or ']'") }
            advance()
            return values
        }
    }
}
