public import CouponRankWire

/// Why a call did not return a result.
public struct ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case server, timeout, connectionClosed, protocolViolation
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The server answered with an Error frame; see ``ClientError/serverError``.
        public static let server = Code(.server)
        /// No answer within the call's timeout.
        public static let timeout = Code(.timeout)
        /// The connection closed before the answer arrived.
        public static let connectionClosed = Code(.connectionClosed)
        /// The server's answer did not follow PROTOCOL.md.
        public static let protocolViolation = Code(.protocolViolation)

        public var description: String {
            switch base {
            case .server: "server error"
            case .timeout: "timeout"
            case .connectionClosed: "connection closed"
            case .protocolViolation: "protocol violation"
            }
        }
    }

    public var code: Code
    public var message: String
    /// The server's Error frame, when ``code`` is ``Code/server``.
    public var serverError: ErrorResponse?

    public init(_ code: Code, _ message: String, serverError: ErrorResponse? = nil) {
        self.code = code
        self.message = message
        self.serverError = serverError
    }

    public var description: String {
        if let serverError {
            return "\(serverError.code) (\(serverError.retryClass)): \(serverError.message)"
        }
        return "\(code): \(message)"
    }
}
