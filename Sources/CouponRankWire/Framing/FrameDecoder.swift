public import NIOCore

/// Splits a byte stream into frames (PROTOCOL.md §3, §8).
///
/// Checks run as soon as their bytes have arrived, in a fixed order: the length prefix against
/// the limits (so an oversized body is never buffered), then the magic. Either failure is fatal
/// for the stream and thrown as a ``WireError``; everything inside a well-delimited frame
/// (version, type, payload) is left to the receiver, which can still answer it.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = Frame

    public let limits: WireLimits
    /// The server's bound on bytes of unfinished frames across connections, if any.
    public let budget: FrameBufferBudget?
    /// What this decoder holds of the budget for the frame it is waiting for.
    private var reservation: FrameBufferBudget.Reservation?

    public init(limits: WireLimits = .init(), budget: FrameBufferBudget? = nil) {
        self.limits = limits
        self.budget = budget
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        let start = buffer.readerIndex
        guard let length = buffer.getInteger(at: start, as: UInt32.self) else { return nil }
        guard Int(length) <= limits.maximumFrameSize else {
            if let word = Self.httpWord(length) {
                throw WireError(
                    .frameTooLarge,
                    "the peer speaks HTTP (\"\(word)…\"), not CouponRank's binary frames: is this the ops port instead of the RPC port?"
                )
            }
            throw WireError(.frameTooLarge, "frame length \(length) exceeds the limit of \(limits.maximumFrameSize) bytes")
        }
        guard Int(length) >= FrameHeader.size else {
            throw WireError(.malformedPayload, "frame length \(length) is shorter than the \(FrameHeader.size)-byte header")
        }
        guard let magic = buffer.getInteger(at: start + 4, as: UInt16.self) else { return nil }
        guard magic == FrameHeader.magic else {
            throw WireError(.badMagic, "expected magic 0x4352, got 0x\(String(magic, radix: 16))")
        }
        guard buffer.readableBytes >= 4 + Int(length) else {
            if let budget, reservation == nil, Int(length) > budget.threshold {
                guard let reserved = budget.reserve(Int(length)) else {
                    throw WireError(
                        .overloaded,
                        "the server is already buffering \(budget.inUse) bytes of unfinished frames; a \(length)-byte frame would pass its limit of \(budget.limit)"
                    )
                }
                reservation = reserved
            }
            return nil
        }
        reservation?.release()
        reservation = nil

        buffer.moveReaderIndex(forwardBy: 6)
        let version: UInt8 = buffer.readInteger()!
        let type: UInt8 = buffer.readInteger()!
        let flags: UInt16 = buffer.readInteger()!
        buffer.moveReaderIndex(forwardBy: 2)  // reserved
        let requestID: UInt64 = buffer.readInteger()!
        let budget: UInt32 = buffer.readInteger()!
        let payload = buffer.readSlice(length: Int(length) - FrameHeader.size)!
        return Frame(
            header: FrameHeader(
                version: version,
                messageType: MessageType(rawValue: type),
                flags: flags,
                requestID: requestID,
                budgetMicros: budget
            ),
            payload: payload
        )
    }

    /// The first four bytes of an HTTP request or response, read as a length prefix.
    static func httpWord(_ prefix: UInt32) -> String? {
        let bytes = withUnsafeBytes(of: prefix.bigEndian) { Array($0) }
        let word = String(decoding: bytes, as: UTF8.self)
        return ["HTTP", "GET ", "POST", "PUT ", "HEAD", "DELE", "OPTI", "PATC"].contains(word) ? word : nil
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        // A partial frame at end of stream is dropped: there is nobody left to answer.
        try decode(buffer: &buffer)
    }
}
