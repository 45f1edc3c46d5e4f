/// FNV-1a, 64-bit, over UTF-8 bytes: the hash of hashed and crossed features (proto-spec/MODEL.md).
public struct FeatureHash: Sendable, Hashable {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3
    /// Separates the two values of a crossed feature.
    public static let crossSeparator: UInt8 = 0x1F

    @usableFromInline
    var state: UInt64

    public var value: UInt64 { state }

    @inlinable
    public init() {
        self.state = Self.offsetBasis
    }

    @inlinable
    public mutating func combine(_ byte: UInt8) {
        state = (state ^ UInt64(byte)) &* Self.prime
    }

    @inlinable
    public mutating func combine(_ string: String) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            var h = state
            for byte in bytes {
                h = (h ^ UInt64(byte)) &* Self.prime
            }
            state = h
        }
        if done == nil {
            for byte in string.utf8 {
                combine(byte)
            }
        }
    }

    @inlinable
    public func bucket(_ buckets: Int) -> Int {
        Int(state % UInt64(buckets))
    }

    /// Bucket of a single categorical value.
    public static func bucket(of value: String, buckets: Int) -> Int {
        var hash = FeatureHash()
        hash.combine(value)
        return hash.bucket(buckets)
    }

    /// Bucket of a crossed pair of categorical values.
    public static func bucket(crossing left: String, with right: String, buckets: Int) -> Int {
        var hash = FeatureHash()
        hash.combine(left)
        hash.combine(crossSeparator)
        hash.combine(right)
        return hash.bucket(buckets)
    }
}
