/// A Redis operation that failed.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case invalidURL, unavailable, io, server, protocolViolation
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        public static let invalidURL = Code(.invalidURL)
        /// Not connected, and the reconnect backoff has not elapsed yet.
        public static let unavailable = Code(.unavailable)
        /// Connecting, sending or receiving failed or timed out.
        public static let io = Code(.io)
        /// Redis answered with an error reply.
        public static let server = Code(.server)
        /// The reply did not have the expected shape.
        public static let protocolViolation = Code(.protocolViolation)

        public var description: String {
            switch base {
            case .invalidURL: "invalid URL"
            case .unavailable: "unavailable"
            case .io: "I/O error"
            case .server: "server error"
            case .protocolViolation: "unexpected reply"
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "redis \(code): \(message)" }
}
