public import NIOCore

/// Fetch the published model now (PROTOCOL.md §5.6). Requires the admin token.
public struct AdminReloadRequest: WireMessage, Hashable {
    public static let messageType = MessageType.adminReloadRequest

    public struct Scope: RawRepresentable, Sendable, Hashable {
        public var rawValue: UInt8

        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        /// The engine that receives the request.
        public static let engine = Scope(rawValue: 0)
        /// Every engine subscribed to the model store's reload channel.
        public static let fleet = Scope(rawValue: 1)
    }

    public var token: String
    public var scope: Scope

    public init(token: String, scope: Scope = .engine) {
        self.token = token
        self.scope = scope
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString16(token)
        buffer.writeInteger(scope.rawValue)
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.token = try payload.readString16(field: "token", maximumBytes: 1024)
        let scope = Scope(rawValue: try payload.readRequired(UInt8.self, field: "scope"))
        guard scope == .engine || scope == .fleet else {
            throw WireError(.invalidArgument, "scope \(scope.rawValue) is neither 0 (engine) nor 1 (fleet)")
        }
        self.scope = scope
    }
}

/// What the reload did (PROTOCOL.md §5.7).
public struct AdminReloadResponse: WireMessage, Hashable {
    public static let messageType = MessageType.adminReloadResponse

    public struct Outcome: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: UInt8

        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        public static let swapped = Outcome(rawValue: 0)
        public static let unchanged = Outcome(rawValue: 1)
        public static let keptPrevious = Outcome(rawValue: 2)

        public var description: String {
            switch self {
            case .swapped: "SWAPPED"
            case .unchanged: "UNCHANGED"
            case .keptPrevious: "KEPT_PREVIOUS"
            default: "OUTCOME_\(rawValue)"
            }
        }
    }

    public var outcome: Outcome
    public var previousVersion: String
    public var currentVersion: String
    public var message: String
    /// Engines the fleet broadcast reached; 0 for scope engine.
    public var receivers: UInt32

    public init(outcome: Outcome, previousVersion: String, currentVersion: String, message: String, receivers: UInt32 = 0) {
        self.outcome = outcome
        self.previousVersion = previousVersion
        self.currentVersion = currentVersion
        self.message = message
        self.receivers = receivers
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(outcome.rawValue)
        buffer.writeString16(previousVersion)
        buffer.writeString16(currentVersion)
        buffer.writeString16(message)
        buffer.writeInteger(receivers)
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.outcome = Outcome(rawValue: try payload.readRequired(UInt8.self, field: "outcome"))
        self.previousVersion = try payload.readString16(field: "previous_version")
        self.currentVersion = try payload.readString16(field: "current_version")
        self.message = try payload.readString16(field: "message")
        self.receivers = try payload.readRequired(UInt32.self, field: "receivers")
    }
}
