public import NIOCore

/// The fixed 20-byte header that follows every length prefix (PROTOCOL.md §3).
public struct FrameHeader: Sendable, Hashable {
    /// `"CR"`.
    public static let magic: UInt16 = 0x4352
    public static let currentVersion: UInt8 = 1
    /// Bytes of header after the 4-byte length prefix.
    public static let size = 20

    public var version: UInt8
    public var messageType: MessageType
    /// No flag is defined in version 1: senders write 0, receivers ignore them.
    public var flags: UInt16
    /// Chosen by the client; echoed in the response.
    public var requestID: UInt64
    /// In requests: the caller's time budget in microseconds, 0 for "none given". 0 in responses.
    public var budgetMicros: UInt32

    public init(
        version: UInt8 = FrameHeader.currentVersion,
        messageType: MessageType,
        flags: UInt16 = 0,
        requestID: UInt64,
        budgetMicros: UInt32 = 0
    ) {
        self.version = version
        self.messageType = messageType
        self.flags = flags
        self.requestID = requestID
        self.budgetMicros = budgetMicros
    }
}

/// One decoded frame: its header and its payload, not yet interpreted.
public struct Frame: Sendable, Hashable {
    public var header: FrameHeader
    public var payload: ByteBuffer

    public init(header: FrameHeader, payload: ByteBuffer) {
        self.header = header
        self.payload = payload
    }
}

/// The message type byte. Requests have the high bit clear, responses set.
public struct MessageType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let rankRequest = MessageType(rawValue: 0x01)
    public static let healthRequest = MessageType(rawValue: 0x02)
    public static let rewardRequest = MessageType(rawValue: 0x03)
    public static let adminReloadRequest = MessageType(rawValue: 0x10)
    public static let adminExplorationRequest = MessageType(rawValue: 0x11)
    public static let rankResponse = MessageType(rawValue: 0x81)
    public static let healthResponse = MessageType(rawValue: 0x82)
    public static let rewardResponse = MessageType(rawValue: 0x83)
    public static let adminReloadResponse = MessageType(rawValue: 0x90)
    public static let adminExplorationResponse = MessageType(rawValue: 0x91)
    public static let error = MessageType(rawValue: 0xFF)

    public var isResponse: Bool { rawValue & 0x80 != 0 }

    public var description: String {
        switch self {
        case .rankRequest: "RankRequest"
        case .healthRequest: "HealthRequest"
        case .rankResponse: "RankResponse"
        case .healthResponse: "HealthResponse"
        case .adminReloadRequest: "AdminReloadRequest"
        case .adminReloadResponse: "AdminReloadResponse"
        case .rewardRequest: "RewardRequest"
        case .rewardResponse: "RewardResponse"
        case .adminExplorationRequest: "AdminExplorationRequest"
        case .adminExplorationResponse: "AdminExplorationResponse"
        case .error: "Error"
        default: "0x" + String(rawValue, radix: 16)
        }
    }
}

extension ByteBuffer {
    /// Writes one whole frame: length prefix, header, and the payload `body` writes.
    @inlinable
    public mutating func writeFrame(_ header: FrameHeader, body: (inout ByteBuffer) -> Void) {
        let lengthIndex = writerIndex
        writeInteger(UInt32(0))
        writeInteger(FrameHeader.magic)
        writeInteger(header.version)
        writeInteger(header.messageType.rawValue)
        writeInteger(header.flags)
        writeInteger(UInt16(0))
        writeInteger(header.requestID)
        writeInteger(header.budgetMicros)
        body(&self)
        setInteger(UInt32(writerIndex - lengthIndex - 4), at: lengthIndex)
    }

    /// Writes `message` as one frame.
    @inlinable
    public mutating func writeFrame<Message: WireMessage>(
        _ message: Message,
        requestID: UInt64,
        budgetMicros: UInt32 = 0
    ) {
        writeFrame(FrameHeader(messageType: Message.messageType, requestID: requestID, budgetMicros: budgetMicros)) {
            message.encode(into: &$0)
        }
    }
}
