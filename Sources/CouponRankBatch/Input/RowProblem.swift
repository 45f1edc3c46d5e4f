/// A data row of the customer file that cannot be ranked: reported by its line and skipped.
public struct RowProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the row was skipped; ``name`` is the key of the summary's counts.
    public struct Reason: Sendable, Hashable, Comparable, CustomStringConvertible {
        private enum Base: Int, Sendable, Hashable {
            case wrongColumnCount, emptyEasyID, easyIDTooLong, featureNotANumber, blankLine
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// More or fewer fields than the header has columns.
        public static let wrongColumnCount = Reason(.wrongColumnCount)
        /// The `easy_id` field is empty.
        public static let emptyEasyID = Reason(.emptyEasyID)
        /// The `easy_id` is longer than the protocol's 128 bytes.
        public static let easyIDTooLong = Reason(.easyIDTooLong)
        /// A value of a numeric column is neither empty nor a finite decimal number.
        public static let featureNotANumber = Reason(.featureNotANumber)
        /// An empty line.
        public static let blankLine = Reason(.blankLine)

        public static let all: [Reason] = [.wrongColumnCount, .emptyEasyID, .easyIDTooLong, .featureNotANumber, .blankLine]

        public var name: String {
            switch base {
            case .wrongColumnCount: "wrong_column_count"
            case .emptyEasyID: "empty_easy_id"
            case .easyIDTooLong: "easy_id_too_long"
            case .featureNotANumber: "feature_not_a_number"
            case .blankLine: "blank_line"
            }
        }

        public var description: String { name }

        public static func < (lhs: Reason, rhs: Reason) -> Bool { lhs.base.rawValue < rhs.base.rawValue }
    }

    /// The line of the input where the row starts (the header is line 1).
    public var line: Int
    public var reason: Reason
    /// What was wrong, for a person.
    public var message: String

    public init(line: Int, reason: Reason, message: String) {
        self.line = line
        self.reason = reason
        self.message = message
    }

    public var description: String { "line \(line): \(reason.name): \(message)" }
}
