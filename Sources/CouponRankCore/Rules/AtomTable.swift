/// For one coupon field, the truth of every atom on that field as a function of the field's
/// value, tabulated when the rules are compiled: one lookup per candidate gives the bit mask of
/// the atoms that hold, whatever the number of rules (RULES.md §7).
///
/// Strings: the values the atoms name are keys of an open-addressed hash table; any other value
/// gets the mask of `!=`, `not in` and `exists` atoms. Numbers: the atoms' constants
/// cut the line into points and open intervals, on each of which every atom is constant.
final class AtomTable: Sendable {
    let field: RuleField
    let words: Int
    /// Atoms on this field.
    let atoms: [UInt64]
    /// The masks (`words` each: a string table's per key, or a number table's per region), the
    /// hash table of a string field and the breakpoints of a number field.
    let storage: AtomTableStorage

    init(field: RuleField, atoms all: [CouponAtom], words: Int) {
        self.field = field
        self.words = words
        let indices = all.indices.filter { all[$0].field == field }
        var atoms = [UInt64](repeating: 0, count: words)
        for index in indices { atoms[index >> 6] |= 1 << UInt64(index & 63) }
        self.atoms = atoms
        func mask(where holds: (CouponAtom) -> Bool) -> [UInt64] {
            var mask = [UInt64](repeating: 0, count: words)
            for index in indices where holds(all[index]) { mask[index >> 6] |= 1 << UInt64(index & 63) }
            return mask
        }
        switch field.type {
        case .string:
            var keys: [String] = []
            var seen = Set<String>()
            for index in indices {
                guard case .string(let test) = all[index].test else { continue }
                for key in test.constants where seen.insert(key).inserted { keys.append(key) }
            }
            func holds(_ atom: CouponAtom, _ value: String) -> Bool {
                switch atom.test {
                case .string(let test): test.holds(value)
                case .exists: true
                case .number: false
                }
            }
            let masks = keys.flatMap { key in mask { holds($0, key) } }
            // A value no atom names: compare it with one that cannot be a key.
            let otherMask = mask { atom in
                switch atom.test {
                case .string(let test): test.holdsForUnnamedValue
                case .exists: true
                case .number: false
                }
            }
            var capacity = 8
            while capacity < 2 * keys.count { capacity <<= 1 }
            var slots = [Int32](repeating: -1, count: capacity)
            var hashes = [UInt64](repeating: 0, count: keys.count)
            for (index, key) in keys.enumerated() {
                let hash = Array(key.utf8).withUnsafeBytes { Self.hash($0) }
                hashes[index] = hash
                var slot = Int(hash & UInt64(capacity - 1))
                while slots[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
                slots[slot] = Int32(index)
            }
            self.storage = AtomTableStorage(field: field, masks: masks, otherMask: otherMask, slots: slots, hashes: hashes, keys: keys, breakpoints: [])
        case .number:
            var constants = Set<Double>()
            for index in indices {
                if case .number(let test) = all[index].test { constants.formUnion(test.constants) }
            }
            let breakpoints = constants.sorted()
            func holds(_ atom: CouponAtom, _ value: Double) -> Bool {
                switch atom.test {
                case .number(let test): test.holds(value)
                case .exists: true
                case .string: false
                }
            }
            // Region 2i: below breakpoint i (above i − 1); region 2i + 1: breakpoint i itself.
            var masks: [UInt64] = []
            for region in 0...(2 * breakpoints.count) {
                let index = region / 2
                let value: Double
                if region % 2 == 1 {
                    value = breakpoints[index]
                } else if breakpoints.isEmpty {
                    value = 0
                } else if index == 0 {
                    value = breakpoints[0] - max(1, abs(breakpoints[0]))
                } else if index == breakpoints.count {
                    value = breakpoints[index - 1] + max(1, abs(breakpoints[index - 1]))
                } else {
                    value = breakpoints[index - 1] / 2 + breakpoints[index] / 2
                }
                masks += mask { holds($0, value) }
            }
            let none = [UInt64](repeating: 0, count: words)
            self.storage = AtomTableStorage(field: field, masks: masks, otherMask: none, slots: [], hashes: [], keys: [], breakpoints: breakpoints)
        }
    }

    /// A word-at-a-time hash of UTF-8 bytes, for this table only (never stored or sent): a few
    /// multiplies for an id or a shop name, where FNV-1a takes one per byte.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let count = bytes.count
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
        @inline(__always) func mix(_ word: UInt64) {
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 29
        }
        if count >= 8 {
            var offset = 0
            while offset + 8 < count {
                mix(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            // The last word overlaps the one before when the count is not a multiple of 8.
            mix(bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
        } else if count >= 4 {
            let low = UInt64(bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            let high = UInt64(bytes.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
            mix(low | high << 32)
        } else {
            var word: UInt64 = 0
            for index in 0..<count { word |= UInt64(bytes[index]) << UInt64(8 * index) }
            mix(word)
        }
        hash = hash &* 0xC4CE_B9FE_1A85_EC53
        return hash ^ hash >> 32
    }

    /// What the request path reads: the tables' storage, as pointers that cost no reference
    /// counting. Valid while the table lives (the compiled rules hold it).
    var view: AtomTableView {
        AtomTableView(
            access: FieldAccess(field),
            attribute: storage.attribute,
            words: words,
            isString: field.type == .string,
            masks: storage.masks,
            otherMask: storage.otherMask,
            slots: storage.slots,
            slotMask: storage.slotCount - 1,
            hashes: storage.hashes,
            keyBytes: storage.keyBytes,
            keyOffsets: storage.keyOffsets,
            breakpoints: storage.breakpoints,
            breakpointCount: storage.breakpointCount
        )
    }
}

/// Copies of an ``AtomTable``'s arrays in memory it owns, freed with it.
final class AtomTableStorage: Sendable {
    nonisolated(unsafe) let masks: UnsafeMutablePointer<UInt64>
    nonisolated(unsafe) let otherMask: UnsafeMutablePointer<UInt64>
    nonisolated(unsafe) let slots: UnsafeMutablePointer<Int32>
    let slotCount: Int
    nonisolated(unsafe) let hashes: UnsafeMutablePointer<UInt64>
    /// Every key's UTF-8 bytes, one after the other; key i is `keyOffsets[i]..<keyOffsets[i + 1]`.
    nonisolated(unsafe) let keyBytes: UnsafeMutablePointer<UInt8>
    nonisolated(unsafe) let keyOffsets: UnsafeMutablePointer<Int32>
    nonisolated(unsafe) let breakpoints: UnsafeMutablePointer<Double>
    let breakpointCount: Int
    /// The attribute or label name of a `coupon.<name>` field beyond the built-in ones.
    nonisolated(unsafe) let attribute: UnsafeMutablePointer<String>

    init(field: RuleField, masks: [UInt64], otherMask: [UInt64], slots: [Int32], hashes: [UInt64], keys: [String], breakpoints: [Double]) {
        func copy<T>(_ array: [T]) -> UnsafeMutablePointer<T> {
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: max(1, array.count))
            _ = UnsafeMutableBufferPointer(start: pointer, count: array.count).initialize(from: array)
            return pointer
        }
        self.masks = copy(masks)
        self.otherMask = copy(otherMask)
        self.slots = copy(slots.isEmpty ? [-1] : slots)
        self.slotCount = max(1, slots.count)
        self.hashes = copy(hashes)
        self.keyBytes = copy(keys.flatMap { Array($0.utf8) })
        var offsets: [Int32] = [0]
        for key in keys { offsets.append(offsets.last! + Int32(key.utf8.count)) }
        self.keyOffsets = copy(offsets)
        self.breakpoints = copy(breakpoints)
        self.breakpointCount = breakpoints.count
        let attribute: String =
            switch field {
            case .couponNumber(let name), .couponLabel(let name): name
            default: ""
            }
        self.attribute = copy([attribute])
    }

    deinit {
        attribute.deinitialize(count: 1)
        for pointer in [UnsafeMutableRawPointer(attribute), UnsafeMutableRawPointer(masks), UnsafeMutableRawPointer(otherMask), UnsafeMutableRawPointer(slots),
                        UnsafeMutableRawPointer(hashes), UnsafeMutableRawPointer(keyBytes), UnsafeMutableRawPointer(keyOffsets), UnsafeMutableRawPointer(breakpoints)] {
            pointer.deallocate()
        }
    }
}

/// An ``AtomTable`` as pointers, for the per-candidate loop. Sendable because the memory it
/// points to is never written after the table is built; a view is only used during the
/// ``CompiledRules/apply(user:to:scratch:)`` that made it, while the rules hold the table.
struct AtomTableView: @unchecked Sendable {
    let access: FieldAccess
    let attribute: UnsafeMutablePointer<String>
    let words: Int
    let isString: Bool
    let masks: UnsafeMutablePointer<UInt64>
    let otherMask: UnsafeMutablePointer<UInt64>
    let slots: UnsafeMutablePointer<Int32>
    let slotMask: Int
    let hashes: UnsafeMutablePointer<UInt64>
    let keyBytes: UnsafeMutablePointer<UInt8>
    let keyOffsets: UnsafeMutablePointer<Int32>
    let breakpoints: UnsafeMutablePointer<Double>
    let breakpointCount: Int

    /// ORs into row `i` of `truth` the mask of the atoms that hold for coupon `i`: the field is
    /// chosen once, then read down the batch.
    func markAll(_ coupons: UnsafeBufferPointer<Coupon>, into truth: UnsafeMutablePointer<UInt64>) {
        @inline(__always) func strings(_ value: (UnsafePointer<Coupon>) -> String?) {
            for row in coupons.indices {
                guard let string = value(coupons.baseAddress! + row) else { continue }
                let source = string.utf8.withContiguousStorageIfAvailable { find(UnsafeRawBufferPointer($0)) } ?? find(string)
                let target = truth + row * words
                for word in 0..<words { target[word] |= source[word] }
            }
        }
        @inline(__always) func numbers(_ value: (UnsafePointer<Coupon>) -> Double?) {
            for row in coupons.indices {
                guard let number = value(coupons.baseAddress! + row), !number.isNaN else { continue }
                var below = 0
                while below < breakpointCount && breakpoints[below] < number { below += 1 }
                let region = below < breakpointCount && breakpoints[below] == number ? 2 * below + 1 : 2 * below
                let source = masks + region * words
                let target = truth + row * words
                for word in 0..<words { target[word] |= source[word] }
            }
        }
        switch access {
        case .couponID: strings { $0.pointee.id }
        case .couponName: strings { $0.pointee.name }
        case .category: strings { $0.pointee.category }
        case .shop: strings { $0.pointee.shop }
        case .label: strings { $0.pointee.labels[attribute.pointee] }
        case .discountRate: numbers { $0.pointee.discountRate }
        case .minimumSpend: numbers { $0.pointee.minimumSpend }
        case .daysToExpiry: numbers { $0.pointee.daysToExpiry }
        case .attribute: numbers { $0.pointee.numericAttributes[attribute.pointee] }
        case .user: break
        }
    }

    /// The mask for a string value: a key's, or ``otherMask``. Keys are compared by their bytes.
    @inline(__always)
    private func find(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutablePointer<UInt64> {
        let hash = AtomTable.hash(bytes)
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let key = Int(slots[slot])
            if key < 0 { return otherMask }
            if hashes[key] == hash {
                let start = Int(keyOffsets[key])
                let length = Int(keyOffsets[key + 1]) - start
                if length == bytes.count && Self.equal(UnsafeRawPointer(keyBytes + start), bytes.baseAddress, length) {
                    return masks + key * words
                }
            }
            slot = (slot + 1) & slotMask
        }
    }

    /// Byte equality, a word at a time: ids and shop names are a word or two long.
    @inline(__always)
    private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer?, _ count: Int) -> Bool {
        guard count > 0, let b else { return true }
        var offset = 0
        while offset + 8 <= count {
            if a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != b.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
            offset += 8
        }
        while offset < count {
            if a.load(fromByteOffset: offset, as: UInt8.self) != b.load(fromByteOffset: offset, as: UInt8.self) { return false }
            offset += 1
        }
        return true
    }

    private func find(_ value: String) -> UnsafeMutablePointer<UInt64> {
        Array(value.utf8).withUnsafeBytes { find($0) }
    }
}

/// A coupon field without its name: trivially copied, so the per-candidate loop copies no
/// reference-counted value.
enum FieldAccess: UInt8 {
    case couponID, couponName, category, shop, discountRate, minimumSpend, daysToExpiry, attribute, label, user

    init(_ field: RuleField) {
        switch field {
        case .couponID: self = .couponID
        case .couponName: self = .couponName
        case .category: self = .category
        case .shop: self = .shop
        case .discountRate: self = .discountRate
        case .minimumSpend: self = .minimumSpend
        case .daysToExpiry: self = .daysToExpiry
        case .couponNumber: self = .attribute
        case .couponLabel: self = .label
        case .userNumber, .userString: self = .user
        }
    }
}

extension StringTest {
    var constants: [String] {
        switch self {
        case .equal(let value, _): [value]
        case .memberList(let values, _): values
        case .memberSet(let values, _): Array(values)
        }
    }

    /// Whether the test holds for a value it does not name.
    var holdsForUnnamedValue: Bool {
        switch self {
        case .equal(_, let negated), .memberList(_, let negated), .memberSet(_, let negated): negated
        }
    }
}

extension NumberTest {
    var constants: [Double] {
        switch self {
        case .compare(_, let value): [value]
        case .member(let values, _): values
        }
    }
}
