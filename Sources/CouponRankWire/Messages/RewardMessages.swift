public import NIOCore

/// What a user did with a shown coupon, joined to its decision by event id (PROTOCOL.md §5.8).
public struct RewardRequest: WireMessage, Hashable {
    public static let messageType = MessageType.rewardRequest

    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: UInt8

        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        public static let click = Kind(rawValue: 1)
        /// The coupon was redeemed (a conversion).
        public static let conversion = Kind(rawValue: 2)

        public static let known: [Kind] = [.click, .conversion]

        public init?(name: String) {
            guard let kind = Self.known.first(where: { $0.description == name }) else { return nil }
            self = kind
        }

        public var description: String {
            switch self {
            case .click: "click"
            case .conversion: "conversion"
            default: "kind_\(rawValue)"
            }
        }
    }

    /// The server's reward token.
    public var token: String
    public var eventID: String
    public var couponID: String
    public var kind: Kind
    public var value: Double
    /// When it happened, in milliseconds since the Unix epoch; 0 for "when the server received it".
    public var unixMillis: UInt64

    public init(token: String, eventID: String, couponID: String, kind: Kind, value: Double = 1, unixMillis: UInt64 = 0) {
        self.token = token
        self.eventID = eventID
        self.couponID = couponID
        self.kind = kind
        self.value = value
        self.unixMillis = unixMillis
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString16(token)
        buffer.writeString16(eventID)
        buffer.writeString16(couponID)
        buffer.writeInteger(kind.rawValue)
        buffer.writeFloat64(value)
        buffer.writeInteger(unixMillis)
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.token = try payload.readString16(field: "token", maximumBytes: 1024)
        self.eventID = try payload.readString16(field: "event_id", maximumBytes: WireLimits.maximumEventIDBytes)
        self.couponID = try payload.readString16(field: "coupon_id", maximumBytes: WireLimits.maximumCouponIDBytes)
        self.kind = Kind(rawValue: try payload.readRequired(UInt8.self, field: "kind"))
        guard Kind.known.contains(kind) else {
            throw WireError(.invalidArgument, "reward kind \(kind.rawValue) is unknown (1 click, 2 conversion)")
        }
        self.value = try payload.readFloat64(field: "value")
        self.unixMillis = try payload.readRequired(UInt64.self, field: "time_ms")
    }
}

/// The reward was accepted into the reward log (PROTOCOL.md §5.9). Empty payload.
public struct RewardResponse: WireMessage, Hashable {
    public static let messageType = MessageType.rewardResponse

    public init() {}

    public func encode(into buffer: inout ByteBuffer) {}

    public init(payload: inout ByteBuffer) throws(WireError) {}
}

/// Turn exploration on or off, on this engine or the fleet (PROTOCOL.md §5.10). Requires the
/// admin token.
public struct AdminExplorationRequest: WireMessage, Hashable {
    public static let messageType = MessageType.adminExplorationRequest

    public var token: String
    public var enabled: Bool
    public var scope: AdminReloadRequest.Scope

    public init(token: String, enabled: Bool, scope: AdminReloadRequest.Scope = .engine) {
        self.token = token
        self.enabled = enabled
        self.scope = scope
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString16(token)
        buffer.writeInteger(UInt8(enabled ? 1 : 0))
        buffer.writeInteger(scope.rawValue)
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.token = try payload.readString16(field: "token", maximumBytes: 1024)
        let enabled = try payload.readRequired(UInt8.self, field: "enabled")
        guard enabled <= 1 else { throw WireError(.invalidArgument, "enabled \(enabled) is neither 0 nor 1") }
        self.enabled = enabled == 1
        let scope = AdminReloadRequest.Scope(rawValue: try payload.readRequired(UInt8.self, field: "scope"))
        guard scope == .engine || scope == .fleet else {
            throw WireError(.invalidArgument, "scope \(scope.rawValue) is neither 0 (engine) nor 1 (fleet)")
        }
        self.scope = scope
    }
}

/// The exploration switch after the change (PROTOCOL.md §5.11).
public struct AdminExplorationResponse: WireMessage, Hashable {
    public static let messageType = MessageType.adminExplorationResponse

    public var previouslyEnabled: Bool
    public var enabled: Bool
    /// Scope fleet: engines the broadcast reached; 0 for scope engine.
    public var receivers: UInt32

    public init(previouslyEnabled: Bool, enabled: Bool, receivers: UInt32 = 0) {
        self.previouslyEnabled = previouslyEnabled
        self.enabled = enabled
        self.receivers = receivers
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(previouslyEnabled ? 1 : 0))
        buffer.writeInteger(UInt8(enabled ? 1 : 0))
        buffer.writeInteger(receivers)
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.previouslyEnabled = try payload.readRequired(UInt8.self, field: "previous") == 1
        self.enabled = try payload.readRequired(UInt8.self, field: "enabled") == 1
        self.receivers = try payload.readRequired(UInt32.self, field: "receivers")
    }
}
