import CouponRankCore
import CouponRankWire

/// How the columns of a customer file are read, decided once from its header.
///
/// - `easy_id` (required, exactly that name): the row's id, 1 to 128 bytes, sent as is.
/// - Every other column is a user feature named after its column (`age` is the model's
///   `user.age`). Columns listed as numeric (`--numeric-columns`) go to ``UserFeatures/numeric``:
///   each value must be a finite decimal number (`42`, `-0.5`, `1e3`; spaces around it are
///   ignored). All other columns go to ``UserFeatures/categorical`` as their exact text. An empty
///   value leaves that feature out, as a user-features source that does not know it would.
/// - With no column besides `easy_id`, the engine's user-features source is asked, as online.
///
/// Header names are trimmed of spaces; they must be distinct and non-empty.
public struct CustomerColumns: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case numeric, categorical
    }

    public struct Feature: Sendable, Hashable {
        /// Position of the column in a row.
        public var index: Int
        public var name: String
        public var kind: Kind
    }

    /// The header, trimmed.
    public let names: [String]
    public let easyIDIndex: Int
    /// The feature columns, in file order.
    public let features: [Feature]

    /// Whether the rows carry their user features.
    public var hasFeatures: Bool { !features.isEmpty }

    /// Every column but `easy_id`, read or not.
    public var featureNames: [String] { names.indices.filter { $0 != easyIDIndex }.map { names[$0] } }

    /// The layout of `header`, with `numericColumns` read as numbers; with `ignoresFeatures`, no
    /// column but `easy_id` is read (each row must still have as many fields as the header).
    public init(header: [String], numericColumns: Set<String> = [], ignoresFeatures: Bool = false) throws(BatchError) {
        let names = header.map { $0.trimmingSpaces }
        var seen = Set<String>()
        for (index, name) in names.enumerated() {
            guard !name.isEmpty else {
                throw BatchError(.invalidHeader, "column \(index + 1) of the header has no name")
            }
            guard seen.insert(name).inserted else {
                throw BatchError(.invalidHeader, "the header names column '\(name)' twice")
            }
        }
        guard let easyIDIndex = names.firstIndex(of: "easy_id") else {
            throw BatchError(.invalidHeader, "the header has no easy_id column (got: \(names.joined(separator: ",")))")
        }
        let unknown = numericColumns.subtracting(names).sorted()
        guard unknown.isEmpty else {
            throw BatchError(.invalidOptions, "--numeric-columns names columns the header does not have: \(unknown.joined(separator: ","))")
        }
        guard !numericColumns.contains("easy_id") else {
            throw BatchError(.invalidOptions, "easy_id is the row id, not a numeric feature")
        }
        self.names = names
        self.easyIDIndex = easyIDIndex
        self.features = ignoresFeatures ? [] : names.indices.filter { $0 != easyIDIndex }.map { index in
            Feature(index: index, name: names[index], kind: numericColumns.contains(names[index]) ? .numeric : .categorical)
        }
    }

    /// The customer of one data row, or why it cannot be ranked.
    public func row(_ fields: [String], line: Int) -> Result<CustomerRow, RowProblem> {
        if fields.count == 1, fields[0].isEmpty {
            return .failure(RowProblem(line: line, reason: .blankLine, message: "empty line"))
        }
        guard fields.count == names.count else {
            return .failure(
                RowProblem(line: line, reason: .wrongColumnCount, message: "\(fields.count) fields where the header has \(names.count)")
            )
        }
        let easyID = fields[easyIDIndex]
        guard !easyID.isEmpty else {
            return .failure(RowProblem(line: line, reason: .emptyEasyID, message: "easy_id is empty"))
        }
        guard easyID.utf8.count <= WireLimits.maximumEasyIDBytes else {
            return .failure(
                RowProblem(
                    line: line,
                    reason: .easyIDTooLong,
                    message: "easy_id is \(easyID.utf8.count) bytes, at most \(WireLimits.maximumEasyIDBytes) are allowed"
                )
            )
        }
        guard hasFeatures else { return .success(CustomerRow(line: line, easyID: easyID)) }
        var user = UserFeatures()
        for feature in features {
            let value = fields[feature.index]
            guard !value.isEmpty else { continue }
            switch feature.kind {
            case .categorical:
                user.categorical[feature.name] = value
            case .numeric:
                guard let number = Self.number(value) else {
                    return .failure(
                        RowProblem(line: line, reason: .featureNotANumber, message: "\(feature.name) '\(value)' is not a number")
                    )
                }
                user.numeric[feature.name] = number
            }
        }
        return .success(CustomerRow(line: line, easyID: easyID, features: user))
    }

    /// A finite decimal number (digits, sign, point, exponent; no `nan`, `inf` or hex), spaces
    /// around it ignored; `nil` otherwise. An all-space value is no number either.
    static func number(_ text: String) -> Double? {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty,
            trimmed.utf8.allSatisfy({ byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
            }),
            let value = Double(trimmed), value.isFinite
        else { return nil }
        return value
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let utf8 = self.utf8
        guard let first = utf8.firstIndex(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { return "" }
        let last = utf8.lastIndex(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") })!
        if first == utf8.startIndex, last == utf8.index(before: utf8.endIndex) { return self }
        return String(self[first...last])
    }
}
