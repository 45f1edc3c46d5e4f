public import CouponRankCore

/// Writes the bodies of UPSTREAMS.md straight into bytes: the stub services answer thousands of
/// requests a second and should not spend the CPU the engine under test needs.
public enum StubJSON {
    public static func features(easyID: String, _ features: UserFeatures) -> [UInt8] {
        var out = JSONWriter()
        out.raw("{\"easy_id\":")
        out.string(easyID)
        out.raw(",\"numeric\":{")
        for (index, key) in features.numeric.keys.sorted().enumerated() {
            if index > 0 { out.raw(",") }
            out.string(key)
            out.raw(":")
            out.number(features.numeric[key]!)
        }
        out.raw("},\"categorical\":{")
        for (index, key) in features.categorical.keys.sorted().enumerated() {
            if index > 0 { out.raw(",") }
            out.string(key)
            out.raw(":")
            out.string(features.categorical[key]!)
        }
        out.raw("}}")
        return out.bytes
    }

    public static func coupons(easyID: String, _ coupons: [Coupon]) -> [UInt8] {
        var out = JSONWriter()
        out.bytes.reserveCapacity(coupons.count * 160)
        out.raw("{\"easy_id\":")
        out.string(easyID)
        out.raw(",\"coupons\":[")
        for (index, coupon) in coupons.enumerated() {
            if index > 0 { out.raw(",") }
            out.raw("{\"id\":")
            out.string(coupon.id)
            out.raw(",\"name\":")
            out.string(coupon.name)
            out.raw(",\"category\":")
            out.string(coupon.category)
            out.raw(",\"shop\":")
            out.string(coupon.shop)
            out.raw(",\"discount_rate\":")
            out.number(coupon.discountRate)
            out.raw(",\"min_spend\":")
            out.number(coupon.minimumSpend)
            out.raw(",\"days_to_expiry\":")
            out.number(coupon.daysToExpiry)
            out.raw("}")
        }
        out.raw("]}")
        return out.bytes
    }

    public static func stats(easyID: String, _ table: CouponStatsTable) -> [UInt8] {
        var out = JSONWriter()
        out.bytes.reserveCapacity(table.couponIDs.count * 60)
        out.raw("{\"easy_id\":")
        out.string(easyID)
        out.raw(",\"stats\":[")
        for index in table.couponIDs.indices {
            if index > 0 { out.raw(",") }
            out.raw("{\"coupon_id\":")
            out.string(table.couponIDs[index])
            out.raw(",\"ctr\":")
            out.number(table.entries[index].ctr)
            out.raw(",\"cvr\":")
            out.number(table.entries[index].cvr)
            out.raw("}")
        }
        out.raw("]}")
        return out.bytes
    }
}

struct JSONWriter {
    var bytes: [UInt8] = []

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Finite doubles in Swift's shortest round-trip form; non-finite as 0 (JSON has no NaN).
    mutating func number(_ value: Double) {
        bytes.append(contentsOf: (value.isFinite ? value.description : "0").utf8)
    }
}
