/// A protocol error, carrying the wire error code that reports it (PROTOCOL.md §7).
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// Error codes of PROTOCOL.md §7. Unknown codes from a newer peer keep their raw value.
public struct ErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let malformedPayload = ErrorCode(rawValue: 1)
    public static let badMagic = ErrorCode(rawValue: 2)
    public static let unsupportedVersion = ErrorCode(rawValue: 3)
    public static let unknownMessageType = ErrorCode(rawValue: 4)
    public static let frameTooLarge = ErrorCode(rawValue: 5)
    public static let invalidArgument = ErrorCode(rawValue: 6)
    public static let overloaded = ErrorCode(rawValue: 7)
    public static let deadlineExceeded = ErrorCode(rawValue: 8)
    public static let noCandidates = ErrorCode(rawValue: 9)
    public static let upstreamUnavailable = ErrorCode(rawValue: 10)
    public static let modelUnavailable = ErrorCode(rawValue: 11)
    public static let shuttingDown = ErrorCode(rawValue: 12)
    public static let unauthenticated = ErrorCode(rawValue: 13)
    public static let `internal` = ErrorCode(rawValue: 14)
    public static let failedPrecondition = ErrorCode(rawValue: 15)

    public var name: String {
        switch self {
        case .malformedPayload: "MALFORMED_PAYLOAD"
        case .badMagic: "BAD_MAGIC"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .unknownMessageType: "UNKNOWN_MESSAGE_TYPE"
        case .frameTooLarge: "FRAME_TOO_LARGE"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .overloaded: "OVERLOADED"
        case .deadlineExceeded: "DEADLINE_EXCEEDED"
        case .noCandidates: "NO_CANDIDATES"
        case .upstreamUnavailable: "UPSTREAM_UNAVAILABLE"
        case .modelUnavailable: "MODEL_UNAVAILABLE"
        case .shuttingDown: "SHUTTING_DOWN"
        case .unauthenticated: "UNAUTHENTICATED"
        case .internal: "INTERNAL"
        case .failedPrecondition: "FAILED_PRECONDITION"
        default: "CODE_\(rawValue)"
        }
    }

    /// The retry class a server sends with this code.
    public var retryClass: RetryClass {
        switch self {
        case .overloaded: .overloaded
        case .deadlineExceeded, .upstreamUnavailable, .modelUnavailable, .shuttingDown, .internal: .retryable
        default: .notRetryable
        }
    }

    public var description: String { name }
}

/// Whether and how a client may retry (PROTOCOL.md §7).
public struct RetryClass: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The same request will fail again.
    public static let notRetryable = RetryClass(rawValue: 0)
    /// Another attempt, here or on another replica, may succeed.
    public static let retryable = RetryClass(rawValue: 1)
    /// The server shed load: back off before retrying, preferably elsewhere.
    public static let overloaded = RetryClass(rawValue: 2)

    public var description: String {
        switch self {
        case .notRetryable: "not_retryable"
        case .retryable: "retryable"
        case .overloaded: "overloaded"
        default: "retry_\(rawValue)"
        }
    }
}
