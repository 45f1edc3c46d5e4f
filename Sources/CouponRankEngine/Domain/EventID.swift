import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Event ids: chosen by the caller within a documented alphabet, or made by the engine as
/// UUIDv7 (RFC 9562), time-ordered so that a decision's id says when it was made.
public enum EventID {
    /// Longest caller-chosen id, in bytes.
    public static let maximumBytes = 64

    /// Whether `id` may be used: 1 to 64 bytes of `A–Z a–z 0–9 . _ : -` (PROTOCOL.md §5.1).
    public static func isValid(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard !utf8.isEmpty, utf8.count <= maximumBytes else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }

    private static let counter = Atomic<UInt64>(0)
    private static let processSeed: UInt64 = UInt64.random(in: .min ... .max)

    /// A new UUIDv7 at `unixMillis`: 48 bits of time, 12 bits of a per-process counter, 62 bits
    /// mixed from the counter and a random per-process seed, so ids never repeat within a process
    /// and collide across processes with negligible probability.
    public static func make(unixMillis: Int64) -> String {
        let count = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        let high = (UInt64(truncatingIfNeeded: unixMillis) << 16) | 0x7000 | (count & 0x0FFF)
        var state = processSeed ^ (count &* 0x9E37_79B9_7F4A_7C15)
        state = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9
        state = (state ^ (state >> 27)) &* 0x94D0_49BB_1331_11EB
        let low = ((state ^ (state >> 31)) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { buffer in
            let digits: StaticString = "0123456789abcdef"
            var position = 0
            func put(_ value: UInt64, nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    buffer[position] = digits.utf8Start[Int((value >> UInt64(shift)) & 0xF)]
                    position += 1
                }
            }
            func dash() {
                buffer[position] = UInt8(ascii: "-")
                position += 1
            }
            put(high >> 32, nibbles: 8)
            dash()
            put((high >> 16) & 0xFFFF, nibbles: 4)
            dash()
            put(high & 0xFFFF, nibbles: 4)
            dash()
            put(low >> 48, nibbles: 4)
            dash()
            put(low & 0xFFFF_FFFF_FFFF, nibbles: 12)
            return position
        }
    }

    /// The time a UUIDv7 was made, in milliseconds since the Unix epoch; `nil` for other ids.
    public static func unixMillis(ofUUIDv7 id: String) -> Int64? {
        let utf8 = Array(id.utf8)
        guard utf8.count == 36, utf8[8] == UInt8(ascii: "-"), utf8[13] == UInt8(ascii: "-"), utf8[14] == UInt8(ascii: "7") else {
            return nil
        }
        let hex = String(decoding: utf8[0..<8] + utf8[9..<13], as: UTF8.self)
        return Int64(hex, radix: 16)
    }

    /// Milliseconds since the Unix epoch, now.
    public static func nowUnixMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
