/// Why a batch run could not start or had to stop.
///
/// Bad rows are not errors: they are ``RowProblem``s, reported and skipped. An error ends the run.
public struct BatchError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case invalidHeader, invalidOptions, input, output, server, model
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The header names no `easy_id` column, names one twice, or there is no header.
        public static let invalidHeader = Code(.invalidHeader)
        /// The options do not fit the input (feature columns with `--server`, an unknown numeric column).
        public static let invalidOptions = Code(.invalidOptions)
        /// The input cannot be opened or read, or is not UTF-8.
        public static let input = Code(.input)
        /// The output cannot be created or written.
        public static let output = Code(.output)
        /// The server cannot be reached, or the connection to it was lost: every remaining row
        /// would fail.
        public static let server = Code(.server)
        /// The model to rank with in process cannot be loaded (the model store).
        public static let model = Code(.model)

        public var description: String {
            switch base {
            case .invalidHeader: "invalid header"
            case .invalidOptions: "invalid options"
            case .input: "input"
            case .output: "output"
            case .server: "server"
            case .model: "model"
            }
        }
    }

    public var code: Code
    public var message: String
    /// What caused it, as thrown.
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        guard let underlying else { return "\(code): \(message)" }
        return "\(code): \(message) (\(underlying))"
    }
}
