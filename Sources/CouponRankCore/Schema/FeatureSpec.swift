/// One feature of a model's schema: how a block of context columns is filled.
///
/// The JSON shape of each case is specified in proto-spec/MODEL.md; a field is named
/// `user.<name>`, `coupon.<attribute>` or `stats.ctr` / `stats.cvr`.
public enum FeatureSpec: Sendable, Hashable {
    /// A constant 1.
    case bias
    /// `(transform(value) - mean) / std`, 0 when the value is missing.
    case numeric(field: String, transform: NumericTransform, mean: Double, std: Double)
    /// One column per vocabulary entry; a value outside the vocabulary, or missing, sets none.
    case oneHot(field: String, vocabulary: [String])
    /// `buckets` columns; the value's FNV-1a 64 hash modulo `buckets` selects one.
    case hashed(field: String, buckets: Int)
    /// Two categorical fields hashed together (`a`, 0x1F, `b`) into `buckets` columns.
    case cross(left: String, right: String, buckets: Int)
    /// `(transform(left × right) - mean) / std`, 0 when either value is missing.
    case product(left: String, right: String, transform: NumericTransform, mean: Double, std: Double)

    /// Number of context columns this feature owns.
    public var width: Int {
        switch self {
        case .bias, .numeric, .product: 1
        case .oneHot(_, let vocabulary): vocabulary.count
        case .hashed(_, let buckets), .cross(_, _, let buckets): buckets
        }
    }
}

/// Applied to a raw numeric value before standardisation.
public enum NumericTransform: String, Sendable, Hashable, Codable {
    case identity
    /// `log(1 + max(value, 0))`, for heavy-tailed counts and amounts.
    case log1p

    @inlinable
    func apply(_ value: Double) -> Double {
        switch self {
        case .identity: value
        case .log1p: (max(value, 0) + 1).log()
        }
    }
}

extension Double {
    @usableFromInline
    func log() -> Double { _log(self) }
}

@usableFromInline
func _log(_ x: Double) -> Double {
    // Natural logarithm without pulling Foundation into the core's hot path.
    #if canImport(Glibc)
    return Glibc.log(x)
    #elseif canImport(Musl)
    return Musl.log(x)
    #else
    return Darwin.log(x)
    #endif
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif
