public import NIOCore

/// Is the server serving? (PROTOCOL.md §5.3). Empty payload.
public struct HealthRequest: WireMessage, Hashable {
    public static let messageType = MessageType.healthRequest

    public init() {}

    public func encode(into buffer: inout ByteBuffer) {}

    public init(payload: inout ByteBuffer) throws(WireError) {}
}

/// The server's state (PROTOCOL.md §5.4).
public struct HealthResponse: WireMessage, Hashable {
    public static let messageType = MessageType.healthResponse

    public struct Status: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: UInt8

        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        /// Ranking requests are answered.
        public static let serving = Status(rawValue: 0)
        /// Finishing in-flight requests before shutting down; new ranks are refused.
        public static let draining = Status(rawValue: 1)
        /// No model is loaded.
        public static let notServing = Status(rawValue: 2)

        public var description: String {
            switch self {
            case .serving: "SERVING"
            case .draining: "DRAINING"
            case .notServing: "NOT_SERVING"
            default: "STATUS_\(rawValue)"
            }
        }
    }

    public var status: Status
    public var uptimeMillis: UInt64
    public var modelVersion: String
    /// Seconds since the model was trained (its `created_at`); revision 2, 0 when absent.
    public var modelAgeSeconds: UInt64
    /// Where the model came from: `embedded`, `file` or `redis`; revision 2, "" when absent.
    public var modelOrigin: String
    /// State of each dependency, e.g. `("upstream.stats", "open")`; revision 2, empty when absent.
    public var components: [Component]

    public struct Component: Sendable, Hashable {
        public var name: String
        public var state: String

        public init(name: String, state: String) {
            self.name = name
            self.state = state
        }
    }

    public init(
        status: Status,
        uptimeMillis: UInt64,
        modelVersion: String,
        modelAgeSeconds: UInt64 = 0,
        modelOrigin: String = "",
        components: [Component] = []
    ) {
        self.status = status
        self.uptimeMillis = uptimeMillis
        self.modelVersion = modelVersion
        self.modelAgeSeconds = modelAgeSeconds
        self.modelOrigin = modelOrigin
        self.components = components
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(status.rawValue)
        buffer.writeInteger(uptimeMillis)
        buffer.writeString16(modelVersion)
        buffer.writeInteger(modelAgeSeconds)
        buffer.writeString16(modelOrigin)
        buffer.writeInteger(UInt16(components.count))
        for component in components {
            buffer.writeString16(component.name)
            buffer.writeString16(component.state)
        }
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.status = Status(rawValue: try payload.readRequired(UInt8.self, field: "status"))
        self.uptimeMillis = try payload.readRequired(UInt64.self, field: "uptime_ms")
        self.modelVersion = try payload.readString16(field: "model_version")
        // Revision 2 fields: a revision 1 sender ends the payload here (§9).
        if payload.readableBytes == 0 {
            self.modelAgeSeconds = 0
            self.modelOrigin = ""
            self.components = []
        } else {
            self.modelAgeSeconds = try payload.readRequired(UInt64.self, field: "model_age_s")
            self.modelOrigin = try payload.readString16(field: "model_origin")
            let count = Int(try payload.readRequired(UInt16.self, field: "component count"))
            var components: [Component] = []
            for _ in 0..<count {
                components.append(
                    Component(
                        name: try payload.readString16(field: "component name"),
                        state: try payload.readString16(field: "component state")
                    )
                )
            }
            self.components = components
        }
    }
}

/// A request failed (PROTOCOL.md §5.5, §7).
public struct ErrorResponse: WireMessage, Hashable {
    public static let messageType = MessageType.error

    public var code: ErrorCode
    public var retryClass: RetryClass
    public var message: String

    public init(code: ErrorCode, retryClass: RetryClass? = nil, message: String) {
        self.code = code
        self.retryClass = retryClass ?? code.retryClass
        self.message = message
    }

    public init(_ error: WireError) {
        self.init(code: error.code, message: error.message)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(code.rawValue)
        buffer.writeInteger(retryClass.rawValue)
        buffer.writeString16(message)
    }

    public init(payload: inout ByteBuffer) throws(WireError) {
        self.code = ErrorCode(rawValue: try payload.readRequired(UInt16.self, field: "code"))
        self.retryClass = RetryClass(rawValue: try payload.readRequired(UInt8.self, field: "retry_class"))
        self.message = try payload.readString16(field: "message")
    }
}
