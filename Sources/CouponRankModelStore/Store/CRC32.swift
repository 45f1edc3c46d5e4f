/// CRC-32 as zlib, gzip and PNG compute it (IEEE 802.3, reflected, polynomial 0xEDB88320):
/// the integrity checksum of a model entry (MODEL.md §7). `python3 -c "import zlib; ..."`
/// gives the same number.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
        return crc
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// Eight lowercase hex digits.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let value = String(checksum(bytes), radix: 16)
        return String(repeating: "0", count: 8 - value.count) + value
    }
}
