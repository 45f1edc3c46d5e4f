/// The deterministic draws of exploration (proto-spec/MODEL.md §3.1): every random choice of a
/// decision comes from its seed, so the same event id and model version always rank the same way.
public enum PolicyRandom {
    /// The seed of a decision: FNV-1a 64 of `utf8(event_id) ‖ 0x1F ‖ utf8(model_version)`.
    public static func seed(eventID: String, modelVersion: String) -> UInt64 {
        var hash = FeatureHash()
        hash.combine(eventID)
        hash.combine(FeatureHash.crossSeparator)
        hash.combine(modelVersion)
        return hash.value
    }

    /// SplitMix64's output function of `x`.
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` from the top 53 bits of `mix(x)`.
    @inline(__always)
    public static func unit(_ x: UInt64) -> Double {
        Double(mix(x) >> 11) * 0x1.0p-53
    }

    /// Uniform in `(0, 1)`: never 0, so its logarithm is finite.
    @inline(__always)
    public static func openUnit(_ x: UInt64) -> Double {
        (Double(mix(x) >> 11) + 0.5) * 0x1.0p-53
    }

    /// The draw that decides whether slot `slot` (1-based) explores.
    @inline(__always)
    public static func exploreDraw(seed: UInt64, slot: Int) -> Double {
        unit(seed ^ UInt64(2 * slot))
    }

    /// The draw that picks the explored coupon of slot `slot`.
    @inline(__always)
    public static func pickDraw(seed: UInt64, slot: Int) -> Double {
        unit(seed ^ UInt64(2 * slot + 1))
    }

    /// The Gumbel noise of a coupon in a softmax decision: `−ln(−ln U)`, `U` from the seed and the
    /// coupon id alone, so a shown coupon's key can be recomputed without the others.
    @inline(__always)
    public static func gumbel(seed: UInt64, couponID: String) -> Double {
        var hash = FeatureHash()
        hash.combine(couponID)
        return -log(-log(openUnit(seed ^ hash.value)))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif
