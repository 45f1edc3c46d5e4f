import CouponRankCore
import CouponRankUpstreamJSON
import CouponRankUpstreams
import Foundation
import Testing

/// UpstreamJSON against Foundation's JSONSerialization on generated documents: both must accept
/// and reject the same texts and, when both accept, read the same values.
@Suite struct UpstreamJSONDifferentialTests {
    static let documents = 3000

    @Test func validDocumentsReadTheSameAsFoundationReadsThem() throws {
        var generator = DocumentGenerator(seed: 20_261_125)
        for index in 0..<Self.documents {
            let document = generator.userFeaturesDocument()
            if let disagreement = Self.compare(document.bytes, expected: document) {
                Issue.record("document \(index) (seed 20261125): \(disagreement)\n\(document.text)")
                return
            }
        }
    }

    @Test func mutatedDocumentsAreAcceptedOrRejectedAsFoundationDoes() throws {
        var generator = DocumentGenerator(seed: 7_420)
        var rejected = 0
        for index in 0..<Self.documents {
            let bytes = generator.mutate(generator.userFeaturesDocument().bytes)
            if Self.foundationContractValue(bytes) == nil { rejected += 1 }
            if let disagreement = Self.compare(bytes, expected: nil) {
                Issue.record("mutated document \(index) (seed 7420): \(disagreement)\n\(Self.show(bytes))")
                return
            }
        }
        // The mutations must mostly break the documents, or this test checks little.
        #expect(rejected > Self.documents / 2)
    }

    @Test(arguments: [
        #"{"numeric":{"a":01}}"#, #"{"numeric":{"a":1.}}"#, #"{"numeric":{"a":.5}}"#, #"{"numeric":{"a":+1}}"#,
        #"{"numeric":{"a":1e}}"#, #"{"numeric":{"a":-}}"#, #"{"numeric":{"a":1e+}}"#, #"{"numeric":{"a":NaN}}"#,
        #"{"numeric":{"a":Infinity}}"#, #"{"numeric":{"a":0x10}}"#, #"{"numeric":{"a" 1}}"#,
        #"{"categorical":{"a":"\ud800"}}"#, #"{"categorical":{"a":"\udc00"}}"#, #"{"categorical":{"a":"\ud800\u0041"}}"#,
        #"{"categorical":{"a":"\x"}}"#, #"{"categorical":{"a":'b'}}"#, #"{"categorical":{"a":"b"} /* c */}"#,
        #"{"categorical":{"a":"b"}} x"#, #"{"categorical":{"a":"b"}"#, #"{"categorical":{"a":"\u12"}}"#,
        #"{"x":tru}"#, #"{"x":nul}"#, "{\"categorical\":{\"a\":\"\t\"}}", "[]", "\"s\"", "1", "",
        #"{"numeric":{"a":-0}}"#, #"{"numeric":{"a":1E+2}}"#, #"{"numeric":{"a":0.0e-0}}"#, #"{"x":[[[[{}]]]]}"#,
        #"{"numeric":{"a":1e400}}"#, #"{"numeric":{"a":-1e400}}"#, #"{"numeric":{"a":1e-400}}"#, #"{"numeric":{"a":4.9e-324}}"#,
        #"{"numeric":{"a":0.1000000000000000055511151231257827021181583404541015625000000000001}}"#,
        #"{"numeric":{"a":123456789012345678901234567890123456789012345678901234567890123456789}}"#,
    ])
    func classicEdgeCasesAgreeWithFoundation(_ text: String) {
        if let disagreement = Self.compare(Array(text.utf8), expected: nil) {
            Issue.record("\(disagreement)\n\(text)")
        }
    }

    @Test(arguments: [[0xC3, 0x28], [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE6, 0x9D]] as [[UInt8]])
    func invalidUTF8InStringsIsRejectedLikeFoundation(_ sequence: [UInt8]) {
        let bytes = Array(#"{"categorical":{"a":"x"#.utf8) + sequence + Array(#"y"}}"#.utf8)
        if let disagreement = Self.compare(bytes, expected: nil) {
            Issue.record("\(disagreement)\n\(Self.show(bytes))")
        }
    }

    /// RFC 8259 has no trailing commas; JSONSerialization on Linux accepts them.
    @Test(arguments: [#"{"numeric":{"a":1,}}"#, #"{"x":[1,2,]}"#, #"{"x":{},}"#])
    func trailingCommasAreRejectedThoughFoundationAcceptsThem(_ text: String) {
        #expect(throws: JSONError.self) { try UpstreamJSON.userFeatures(Array(text.utf8)) }
        #expect(Self.hasTrailingComma(Array(text.utf8)))
    }

    /// Regression: numbers of 64 bytes or more were rejected ("expected a number"), though
    /// RFC 8259 sets no length and serializers that print exact decimals write them.
    @Test func longNumbersAreReadCorrectlyRounded() throws {
        let exact = "0.1000000000000000055511151231257827021181583404541015625"  // 0.1's double, exactly
        let smallest = "0." + String(repeating: "0", count: 323) + "4940656458412465441765687928682213723651"
        for token in [exact + String(repeating: "0", count: 40), "-" + exact + "1", smallest, "1" + String(repeating: "0", count: 300)] {
            let body = Array(#"{"numeric":{"a":\#(token)}}"#.utf8)
            #expect(try UpstreamJSON.userFeatures(body).numeric["a"] == Double(token)!, "\(token.count) bytes")
        }
        let tooLong = Array(#"{"numeric":{"a":1\#(String(repeating: "0", count: 5000))}}"#.utf8)
        #expect(throws: JSONError.self) { try UpstreamJSON.userFeatures(tooLong) }
    }

    // MARK: Comparison

    /// Nil when both parsers agree (and, for a generated document, read what was generated).
    static func compare(_ bytes: [UInt8], expected: GeneratedDocument?) -> String? {
        let ours = Result { try UpstreamJSON.userFeatures(bytes) }
        let theirs = foundationContractValue(bytes)
        switch (ours, theirs) {
        case (.failure(let error), nil):
            return expected == nil ? nil : "both parsers reject a valid document (UpstreamJSON: \(error))"
        case (.failure(let error), .some):
            if hasTrailingComma(bytes) { return nil }  // Foundation's leniency, see above
            return "Foundation accepts, UpstreamJSON rejects: \(error)"
        case (.success, nil):
            return "UpstreamJSON accepts, Foundation rejects"
        case (.success(let features), .some(let reference)):
            if let expected {
                if let difference = differences(features, expected.features, exact: true) {
                    return "UpstreamJSON reads other values than were generated: \(difference)"
                }
                if let difference = differences(reference, expected.features, exact: false) {
                    return "Foundation reads other values than were generated: \(difference)"
                }
            }
            // Duplicate keys (which mutations can make) are read differently by design: a later
            // null is missing to UpstreamJSON, and replaces the earlier value for Foundation.
            if expected == nil && hasDuplicateKeys(bytes) { return nil }
            return differences(features, reference, exact: false).map { "the parsers disagree: \($0)" }
        }
    }

    /// Foundation's reading of a user-features body, or nil when it rejects the text or the text
    /// is JSON but not the contract's (UPSTREAMS.md: numbers or nulls under "numeric", strings
    /// or nulls under "categorical").
    static func foundationContractValue(_ bytes: [UInt8]) -> UserFeatures? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)), let top = object as? [String: Any] else {
            return nil
        }
        var features = UserFeatures()
        if let numeric = top["numeric"] {
            guard let numeric = numeric as? [String: Any] else { return nil }
            for (key, value) in numeric where !(value is NSNull) {
                guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
                features.numeric[key] = number.doubleValue
            }
        }
        if let categorical = top["categorical"] {
            guard let categorical = categorical as? [String: Any] else { return nil }
            for (key, value) in categorical where !(value is NSNull) {
                guard let string = value as? String else { return nil }
                features.categorical[key] = string
            }
        }
        return features
    }

    static func differences(_ a: UserFeatures, _ b: UserFeatures, exact: Bool) -> String? {
        guard Set(a.numeric.keys.map(scalars)) == Set(b.numeric.keys.map(scalars)) else {
            return "numeric keys \(a.numeric.keys.sorted()) vs \(b.numeric.keys.sorted())"
        }
        for (key, x) in a.numeric {
            let y = b.numeric[key]!
            // JSONSerialization on Linux reads long or large decimals a few ulps off (8.51713615583890e+139
            // as 8.517136155838893e+139); UpstreamJSON is held to the correctly rounded value.
            let same = exact ? x == y : (x - y).magnitude <= 1e-14 * max(x.magnitude, y.magnitude)
            guard same else { return "numeric[\(key)] \(x) vs \(y)" }
        }
        guard Set(a.categorical.keys.map(scalars)) == Set(b.categorical.keys.map(scalars)) else {
            return "categorical keys \(a.categorical.keys.sorted()) vs \(b.categorical.keys.sorted())"
        }
        for (key, x) in a.categorical where scalars(x) != scalars(b.categorical[key]!) {
            return "categorical[\(key)] \(scalars(x)) vs \(scalars(b.categorical[key]!))"
        }
        return nil
    }

    /// Compared scalar by scalar: Swift's `==` on strings is canonical equivalence.
    static func scalars(_ text: String) -> [UInt32] { text.unicodeScalars.map(\.value) }

    static func hasDuplicateKeys(_ bytes: [UInt8]) -> Bool {
        guard let text = String(validating: bytes, as: UTF8.self) else { return false }
        var seen = Set<Substring>()
        for match in text.matches(of: /"[nc][0-9]{3}"/) where !seen.insert(match.output).inserted {
            return true
        }
        return false
    }

    /// A `,` followed (after whitespace) by `]` or `}`, outside strings.
    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        var inString = false
        var escaped = false
        var afterComma = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true; afterComma = false
            case UInt8(ascii: ","): afterComma = true
            case UInt8(ascii: "]"), UInt8(ascii: "}"): if afterComma { return true }
            case 0x20, 0x09, 0x0A, 0x0D: break
            default: afterComma = false
            }
        }
        return false
    }

    static func show(_ bytes: [UInt8]) -> String {
        String(validating: bytes, as: UTF8.self) ?? bytes.map { String($0, radix: 16) }.joined(separator: " ")
    }
}

/// A generated user-features body and the values it holds.
struct GeneratedDocument {
    var text: String
    var features: UserFeatures
    var bytes: [UInt8] { Array(text.utf8) }
}

/// SplitMix64, so that a failing document can be generated again from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct DocumentGenerator {
    var random: SeededGenerator

    init(seed: UInt64) {
        random = SeededGenerator(state: seed)
    }

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &random) < p }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0...choices.count - 1)] }

    mutating func space() -> String {
        guard chance(0.3) else { return "" }
        return String((0..<int(1...3)).map { _ in pick([" ", "\t", "\n", "\r"] as [Character]) })
    }

    mutating func userFeaturesDocument() -> GeneratedDocument {
        var features = UserFeatures()
        var members: [String] = []
        members.append("\"easy_id\"\(space()):\(space())\(string().text)")
        var numeric: [String] = []
        for index in 0..<int(0...6) {
            let key = String(format: "n%03d", index)
            if chance(0.15) {
                numeric.append("\"\(key)\"\(space()):\(space())null")
            } else {
                let (token, value) = number()
                numeric.append("\"\(key)\"\(space()):\(space())\(token)")
                features.numeric[key] = value
            }
        }
        if !numeric.isEmpty || chance(0.5) {
            members.append("\"numeric\"\(space()):\(space()){\(space())\(numeric.joined(separator: "\(space()),\(space())"))\(space())}")
        }
        var categorical: [String] = []
        for index in 0..<int(0...6) {
            let key = String(format: "c%03d", index)
            if chance(0.15) {
                categorical.append("\"\(key)\":null")
            } else {
                let value = string()
                categorical.append("\"\(key)\"\(space()):\(space())\(value.text)")
                features.categorical[key] = value.value
            }
        }
        if !categorical.isEmpty || chance(0.5) {
            members.append("\"categorical\"\(space()):\(space()){\(categorical.joined(separator: ","))}")
        }
        for index in 0..<int(0...3) {
            members.append("\"extra\(index)\"\(space()):\(space())\(value(depth: 0))")
        }
        members.shuffle(using: &random)
        let text = "\(space()){\(space())\(members.joined(separator: "\(space()),\(space())"))\(space())}\(space())"
        return GeneratedDocument(text: text, features: features)
    }

    /// Any value, nested at most 8 deep (UpstreamJSON's limit is 32).
    mutating func value(depth: Int) -> String {
        switch int(depth >= 8 ? 2...6 : 0...6) {
        case 0: return "[\(space())" + (0..<int(0...4)).map { _ in value(depth: depth + 1) }.joined(separator: ",\(space())") + "]"
        case 1:
            return "{" + (0..<int(0...4)).map { index in "\"k\(index)\(string().text.dropFirst())\(space()):\(value(depth: depth + 1))" }
                .joined(separator: ",") + "\(space())}"
        case 2: return number().token
        case 3: return string().text
        case 4: return "true"
        case 5: return "false"
        default: return "null"
        }
    }

    /// A number in one of RFC 8259's shapes, and its value (Swift's correctly rounded reading).
    mutating func number() -> (token: String, value: Double) {
        func digits(_ count: Int, leading: Bool) -> String {
            String((0..<count).map { index in Character(String(index == 0 && leading ? int(1...9) : int(0...9))) })
        }
        var token = chance(0.3) ? "-" : ""
        token += chance(0.15) ? "0" : digits(int(1...(chance(0.8) ? 6 : 25)), leading: true)
        if chance(0.5) { token += "." + digits(int(1...(chance(0.8) ? 6 : 25)), leading: false) }
        if chance(0.35) {
            token += pick(["e", "E"]) + pick(["", "+", "-"])
            token += chance(0.1) ? String(format: "%03d", int(0...280)) : String(int(0...(chance(0.8) ? 20 : 280)))
        }
        return (token, Double(token)!)
    }

    /// A JSON string literal with escapes and non-ASCII text, and its value.
    mutating func string() -> (text: String, value: String) {
        var text = "\""
        var value = String.UnicodeScalarView()
        for _ in 0..<int(0...(chance(0.8) ? 8 : 40)) {
            switch int(0...9) {
            case 0...3:
                let scalar = Unicode.Scalar(UInt8(int(0x20...0x7E)))
                if scalar == "\"" || scalar == "\\" { text += "\\" }
                text.unicodeScalars.append(scalar)
                value.append(scalar)
            case 4:
                let (escape, scalar): (String, Unicode.Scalar) = pick([
                    ("\\\"", "\""), ("\\\\", "\\"), ("\\/", "/"), ("\\b", "\u{8}"), ("\\f", "\u{C}"),
                    ("\\n", "\n"), ("\\r", "\r"), ("\\t", "\t"),
                ])
                text += escape
                value.append(scalar)
            case 5:
                var code = UInt32(int(0...0xFFFF))
                if (0xD800...0xDFFF).contains(code) { code = UInt32(int(0...0xD7FF)) }
                let hex = String(code, radix: 16, uppercase: chance(0.5))
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                value.append(Unicode.Scalar(code)!)
            case 6:
                let code = UInt32(int(0x10000...0x10FFFF))
                let high = 0xD800 + ((code - 0x10000) >> 10)
                let low = 0xDC00 + ((code - 0x10000) & 0x3FF)
                text += "\\u" + String(high, radix: 16) + "\\u" + String(low, radix: 16, uppercase: true)
                value.append(Unicode.Scalar(code)!)
            default:
                let scalar = pick(["é", "東", "京", "🎉", "\u{301}", "\u{7F}", "\u{A0}", "\u{2028}", "\u{FFFD}", "𝄞"] as [Unicode.Scalar])
                text.unicodeScalars.append(scalar)
                value.append(scalar)
            }
        }
        return (text + "\"", String(value))
    }

    /// One to three byte-level edits: deletions, insertions of JSON's structural and number
    /// bytes (and a few that never belong), replacements, truncation, duplication.
    mutating func mutate(_ document: [UInt8]) -> [UInt8] {
        var bytes = document
        let interesting: [UInt8] = Array("{}[],:\"\\ 0123456789.eE+-tfnu/'x".utf8) + [0x00, 0x01, 0x1F, 0x7F, 0x80, 0xC3, 0xFF]
        for _ in 0..<int(1...3) {
            guard !bytes.isEmpty else { break }
            let at = int(0...bytes.count - 1)
            switch int(0...5) {
            case 0: bytes.remove(at: at)
            case 1, 2:
                var byte = pick(interesting)
                // JSONSerialization reads a text whose first bytes hold a NUL as UTF-16 or UTF-32.
                if byte == 0x00 && at < 4 { byte = 0x01 }
                bytes.insert(byte, at: at)
            case 3:
                var byte = pick(interesting)
                if byte == 0x00 && at < 4 { byte = 0x01 }
                bytes[at] = byte
            case 4: bytes.removeSubrange(at...)
            default:
                let end = min(bytes.count, at + int(1...8))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            }
        }
        return bytes
    }
}
