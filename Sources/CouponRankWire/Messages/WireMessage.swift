public import NIOCore

/// A message with a payload encoding of PROTOCOL.md §5.
public protocol WireMessage: Sendable {
    static var messageType: MessageType { get }

    /// Appends the payload.
    func encode(into buffer: inout ByteBuffer)

    /// Reads the payload. Bytes after the fields known to this version are ignored (§9).
    init(payload: inout ByteBuffer) throws(WireError)
}

extension ByteBuffer {
    /// `u16` byte length, then UTF-8. Strings longer than 65 535 bytes are cut at a character boundary.
    @inlinable
    public mutating func writeString16(_ string: String) {
        var utf8 = string.utf8.count
        if utf8 <= Int(UInt16.max) {
            writeInteger(UInt16(utf8))
            writeString(string)
            return
        }
        var end = string.utf8.index(string.utf8.startIndex, offsetBy: Int(UInt16.max))
        while !string.utf8.isEmpty, end > string.startIndex, UTF8.isContinuation(string.utf8[end]) {
            end = string.utf8.index(before: end)
        }
        utf8 = string.utf8.distance(from: string.utf8.startIndex, to: end)
        writeInteger(UInt16(utf8))
        writeSubstring(string[..<end])
    }

    @inlinable
    public mutating func writeFloat64(_ value: Double) {
        writeInteger(value.bitPattern)
    }

    /// Reads a `u16`-length UTF-8 string of at most `maximumBytes`.
    public mutating func readString16(field: String, maximumBytes: Int = Int(UInt16.max)) throws(WireError) -> String {
        guard let length = readInteger(as: UInt16.self) else {
            throw WireError(.malformedPayload, "truncated payload: \(field) length missing")
        }
        guard Int(length) <= maximumBytes else {
            throw WireError(.invalidArgument, "\(field) is \(length) bytes, the limit is \(maximumBytes)")
        }
        guard let bytes = readSlice(length: Int(length)) else {
            throw WireError(.malformedPayload, "truncated payload: \(field) declares \(length) bytes")
        }
        let decoded = bytes.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) }
        guard let decoded else {
            throw WireError(.malformedPayload, "\(field) is not valid UTF-8")
        }
        return decoded
    }

    public mutating func readRequired<T: FixedWidthInteger>(_: T.Type, field: String) throws(WireError) -> T {
        guard let value = readInteger(as: T.self) else {
            throw WireError(.malformedPayload, "truncated payload: \(field) missing")
        }
        return value
    }

    public mutating func readFloat64(field: String) throws(WireError) -> Double {
        Double(bitPattern: try readRequired(UInt64.self, field: field))
    }
}
