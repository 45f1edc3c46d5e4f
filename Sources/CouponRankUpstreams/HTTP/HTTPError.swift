/// Why an upstream call failed.
public struct HTTPError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case timeout, connect, transport, status, notFound, tooLarge, cancelled, overloaded, circuitOpen, malformed
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        public static let timeout = Code(.timeout)
        /// Connection refused or unreachable.
        public static let connect = Code(.connect)
        /// The connection broke mid-transfer, or another transport failure.
        public static let transport = Code(.transport)
        /// A non-2xx status other than 404.
        public static let status = Code(.status)
        /// A 404: the service does not know the user (an answer, not a failure of the service).
        public static let notFound = Code(.notFound)
        /// The body exceeded its limit.
        public static let tooLarge = Code(.tooLarge)
        public static let cancelled = Code(.cancelled)
        /// Too many calls in flight to this upstream.
        public static let overloaded = Code(.overloaded)
        /// The upstream's circuit breaker is open.
        public static let circuitOpen = Code(.circuitOpen)
        /// The body is not the JSON of the contract.
        public static let malformed = Code(.malformed)

        public var description: String {
            switch base {
            case .timeout: "timeout"
            case .connect: "connect"
            case .transport: "transport"
            case .status: "status"
            case .notFound: "not found"
            case .tooLarge: "body too large"
            case .cancelled: "cancelled"
            case .overloaded: "overloaded"
            case .circuitOpen: "circuit open"
            case .malformed: "malformed"
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// A finished HTTP exchange.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// Connections curl opened for this transfer (0 when it reused one).
    public var newConnections: Int
}
