public import CouponRankCore

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Decodes the three bodies of UPSTREAMS.md straight from bytes into the core's types.
///
/// A general-purpose `JSONDecoder` spent three quarters of the engine's CPU on the HTTP path
/// (measured with perf): it builds a tree of the whole document, then walks it through `Codable`.
/// This reader makes one pass, keeps only the fields the contract names, and skips the rest.
public enum UpstreamJSON {
    public static func userFeatures(_ bytes: [UInt8]) throws(JSONError) -> UserFeatures {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in
            var reader = JSONReader(buffer)
            var features = UserFeatures()
            try reader.object { reader, key throws(JSONError) in
                switch key {
                case "numeric":
                    try reader.object { reader, name throws(JSONError) in
                        if try !reader.null() { features.numeric[name] = try reader.number() }
                    }
                case "categorical":
                    try reader.object { reader, name throws(JSONError) in
                        if try !reader.null() { features.categorical[name] = try reader.string() }
                    }
                default:
                    try reader.skipValue()
                }
            }
            try reader.end()
            return features
        }
    }

    public static func coupons(_ bytes: [UInt8]) throws(JSONError) -> [Coupon] {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in
            var reader = JSONReader(buffer)
            var coupons: [Coupon] = []
            var seenList = false
            try reader.object { reader, key throws(JSONError) in
                guard key == "coupons" else { return try reader.skipValue() }
                seenList = true
                try reader.array { reader throws(JSONError) in coupons.append(try coupon(&reader)) }
            }
            try reader.end()
            guard seenList else { throw JSONError("no \"coupons\" list") }
            return coupons
        }
    }

    private static let noAttributes: [String: Double] = [:]
    private static let noLabels: [String: String] = [:]

    private static func coupon(_ reader: inout JSONReader) throws(JSONError) -> Coupon {
        var id: String?
        var name: String?
        var category: String?
        var shop: String?
        var discountRate: Double?
        var minimumSpend: Double?
        var daysToExpiry: Double?
        var attributes: [String: Double]?
        var labels: [String: String]?
        try reader.object { reader, key throws(JSONError) in
            switch key {
            case "id": id = try reader.string()
            case "name": name = try reader.string()
            case "category": category = try reader.string()
            case "shop": shop = try reader.string()
            case "discount_rate": discountRate = try reader.number()
            case "min_spend": minimumSpend = try reader.number()
            case "days_to_expiry": daysToExpiry = try reader.number()
            case "attributes":
                var values: [String: Double] = [:]
                try reader.object { reader, name throws(JSONError) in
                    if try !reader.null() { values[name] = try reader.number() }
                }
                attributes = values
            case "labels":
                var values: [String: String] = [:]
                try reader.object { reader, name throws(JSONError) in
                    if try !reader.null() { values[name] = try reader.string() }
                }
                labels = values
            default: try reader.skipValue()
            }
        }
        guard let id, let name, let category, let shop, let discountRate, let minimumSpend, let daysToExpiry else {
            throw JSONError("a coupon lacks one of id, name, category, shop, discount_rate, min_spend, days_to_expiry")
        }
        return Coupon(
            id: id,
            name: name,
            category: category,
            shop: shop,
            discountRate: discountRate,
            minimumSpend: minimumSpend,
            daysToExpiry: daysToExpiry,
            numericAttributes: attributes ?? Self.noAttributes,
            labels: labels ?? Self.noLabels
        )
    }

    public static func stats(_ bytes: [UInt8]) throws(JSONError) -> CouponStatsTable {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in
            var reader = JSONReader(buffer)
            var ids: [String] = []
            var entries: [CouponStats] = []
            var seenList = false
            try reader.object { reader, key throws(JSONError) in
                guard key == "stats" else { return try reader.skipValue() }
                seenList = true
                try reader.array { reader throws(JSONError) in
                    var id: String?
                    var ctr: Double?
                    var cvr: Double?
                    try reader.object { reader, key throws(JSONError) in
                        switch key {
                        case "coupon_id": id = try reader.string()
                        case "ctr": ctr = try reader.number()
                        case "cvr": cvr = try reader.number()
                        default: try reader.skipValue()
                        }
                    }
                    guard let id, let ctr, let cvr else { throw JSONError("a stats entry lacks coupon_id, ctr or cvr") }
                    ids.append(id)
                    entries.append(CouponStats(ctr: ctr, cvr: cvr))
                }
            }
            try reader.end()
            guard seenList else { throw JSONError("no \"stats\" list") }
            return CouponStatsTable(couponIDs: ids, entries: entries)
        }
    }
}

/// A body that is not the JSON of the contract.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A forward-only reader over JSON bytes (RFC 8259), with a nesting limit.
struct JSONReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    private static let maximumDepth = 32

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private mutating func expect(_ byte: UInt8) throws(JSONError) {
        skipWhitespace()
        guard current == byte else { throw error("expected '\(Character(Unicode.Scalar(byte)))'") }
        index += 1
    }

    private func error(_ message: String) -> JSONError {
        JSONError("\(message) at byte \(index)")
    }

    /// Nothing but whitespace may follow the document.
    mutating func end() throws(JSONError) {
        skipWhitespace()
        guard index == bytes.count else { throw error("trailing bytes") }
    }

    /// Calls `member` for each key, positioned at its value; `member` must consume the value.
    mutating func object(_ member: (inout JSONReader, String) throws(JSONError) -> Void) throws(JSONError) {
        try expect(UInt8(ascii: "{"))
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nested too deeply") }
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return
            default: throw error("expected ',' or '}'")
            }
        }
    }

    /// Calls `element` for each element, positioned at it; `element` must consume it.
    mutating func array(_ element: (inout JSONReader) throws(JSONError) -> Void) throws(JSONError) {
        try expect(UInt8(ascii: "["))
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nested too deeply") }
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        while true {
            try element(&self)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return
            default: throw error("expected ',' or ']'")
            }
        }
    }

    mutating func string() throws(JSONError) -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        var ascii = true
        // Fast path: no escapes; ASCII needs no UTF-8 validation.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let text = String(validating: slice, as: UTF8.self) else { throw error("invalid UTF-8") }
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in string") }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: scalars, as: UTF8.self) else { throw error("invalid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard let escaped = current else { throw error("unterminated escape") }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escaped)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard current == UInt8(ascii: "\\") else { throw error("lone surrogate") }
                        index += 1
                        guard current == UInt8(ascii: "u") else { throw error("lone surrogate") }
                        index += 1
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("bad surrogate pair") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: throw error("invalid escape")
                }
            default:
                if byte < 0x20 { throw error("control character in string") }
                scalars.append(byte)
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("bad hex digit")
            }
            value = value << 4 | digit
        }
        return value
    }

    mutating func number() throws(JSONError) -> Double {
        skipWhitespace()
        let start = index
        while index < bytes.count, Self.isNumberByte(bytes[index]) {
            index += 1
        }
        let length = index - start
        guard length > 0 else { throw error("expected a number") }
        guard length <= Self.maximumNumberBytes else { throw error("number longer than \(Self.maximumNumberBytes) bytes") }
        guard Self.followsNumberGrammar(bytes, start, index) else { throw error("malformed number") }
        if let value = Self.simpleDecimal(bytes, start, index) { return value }
        // strtod needs a terminated copy.
        let value: Double? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
            for offset in 0..<length { buffer[offset] = CChar(bitPattern: bytes[start + offset]) }
            buffer[length] = 0
            var end: UnsafeMutablePointer<CChar>?
            let parsed = strtod(buffer.baseAddress!, &end)
            return end == buffer.baseAddress! + length ? parsed : nil
        }
        guard let value, value.isFinite else { throw error("malformed number") }
        return value
    }

    /// RFC 8259 numbers have no length limit and serializers that print exact decimals write
    /// long ones (any double's exact expansion fits in 1 100 bytes); this bounds strtod's work.
    static let maximumNumberBytes = 4096

    private static let exactPowersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    /// `-?digits(.digits)?` with at most 15 significant digits, converted exactly (the mantissa
    /// and the power of ten are both exact doubles, so one division rounds correctly); anything
    /// else goes to strtod.
    private static func simpleDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
        var position = start
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = 0
        var seenDot = false
        guard position < end else { return nil }
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: ".") {
                guard !seenDot, digits > 0 else { return nil }
                seenDot = true
            } else if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                digits += 1
                if seenDot { fraction += 1 }
                guard digits <= 15 else { return nil }
            } else {
                return nil  // exponent or sign: the general path
            }
            position += 1
        }
        guard digits > 0, !(seenDot && fraction == 0) else { return nil }
        let value = Double(mantissa) / exactPowersOfTen[fraction]
        return negative ? -value : value
    }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private static func followsNumberGrammar(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var position = start
        func isDigit(_ at: Int) -> Bool { at < end && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) }
        func digits() -> Bool {
            guard isDigit(position) else { return false }
            while isDigit(position) { position += 1 }
            return true
        }
        if position < end, bytes[position] == UInt8(ascii: "-") { position += 1 }
        if position < end, bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else if !digits() {
            return false
        }
        if position < end, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() else { return false }
        }
        if position < end, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < end, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() else { return false }
        }
        return position == end
    }

    /// Consumes a `null` if one comes next.
    mutating func null() throws(JSONError) -> Bool {
        skipWhitespace()
        guard current == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    }

    /// Skips any value.
    mutating func skipValue() throws(JSONError) {
        skipWhitespace()
        switch current {
        case UInt8(ascii: "{"): try object { reader, _ throws(JSONError) in try reader.skipValue() }
        case UInt8(ascii: "["): try array { reader throws(JSONError) in try reader.skipValue() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("truncated literal") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw error("bad literal")
        }
        index += count
    }
}
