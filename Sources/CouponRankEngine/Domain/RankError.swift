/// Why the engine gave no decision.
///
/// The code says what kind of failure it was, the message says it to a person, and the
/// underlying error, when there is one, is kept as it was thrown.
public struct RankError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case overloaded, shuttingDown, deadlineExceeded, noCandidates, candidatesUnavailable, invalidRequest
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Admission refused the request: too many in flight, or it would wait too long.
        public static let overloaded = Code(.overloaded)
        /// The engine is draining before shutdown.
        public static let shuttingDown = Code(.shuttingDown)
        /// The request's deadline passed before the decision was made.
        public static let deadlineExceeded = Code(.deadlineExceeded)
        /// The candidate source answered with no coupons.
        public static let noCandidates = Code(.noCandidates)
        /// The candidate source failed or was late: there is nothing to rank.
        public static let candidatesUnavailable = Code(.candidatesUnavailable)
        /// The request itself is unusable.
        public static let invalidRequest = Code(.invalidRequest)

        /// Every code.
        public static let all: [Code] = [
            .overloaded, .shuttingDown, .deadlineExceeded, .noCandidates, .candidatesUnavailable, .invalidRequest,
        ]

        /// The outcome label of metrics, the same as the wire's error name (PROTOCOL.md §7).
        public var name: String {
            switch base {
            case .overloaded: "OVERLOADED"
            case .shuttingDown: "SHUTTING_DOWN"
            case .deadlineExceeded: "DEADLINE_EXCEEDED"
            case .noCandidates: "NO_CANDIDATES"
            case .candidatesUnavailable: "UPSTREAM_UNAVAILABLE"
            case .invalidRequest: "INVALID_ARGUMENT"
            }
        }

        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// What caused it, as thrown by the source or component that failed.
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
