/// A small read-only map from strings to integers with a cheap lookup: open addressing keyed by
/// the FNV-1a hash of the UTF-8 bytes, instead of the seeded SipHash a `Dictionary` pays per
/// lookup. Built once per model version for one-hot vocabularies.
struct StringTable: Sendable {
    private let mask: Int
    private let hashes: [UInt64]
    private let keys: [String]
    private let values: [Int]

    init(_ entries: [(String, Int)]) {
        var capacity = 4
        while capacity < entries.count * 2 { capacity *= 2 }
        var hashes = [UInt64](repeating: 0, count: capacity)
        var keys = [String](repeating: "", count: capacity)
        var values = [Int](repeating: -1, count: capacity)
        for (key, value) in entries {
            var hash = FeatureHash()
            hash.combine(key)
            var slot = Int(truncatingIfNeeded: hash.value) & (capacity - 1)
            while values[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
            hashes[slot] = hash.value
            keys[slot] = key
            values[slot] = value
        }
        self.mask = capacity - 1
        self.hashes = hashes
        self.keys = keys
        self.values = values
    }

    @inline(__always)
    func value(for key: String) -> Int? {
        var hash = FeatureHash()
        hash.combine(key)
        var slot = Int(truncatingIfNeeded: hash.value) & mask
        while values[slot] >= 0 {
            if hashes[slot] == hash.value, keys[slot] == key { return values[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }
}
