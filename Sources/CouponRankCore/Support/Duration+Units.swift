extension Duration {
    /// Seconds as a floating-point number.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    /// Whole nanoseconds.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Whole microseconds, saturating at `UInt32.max`.
    public var microseconds: UInt32 {
        let value = seconds * 1e6
        guard value > 0 else { return 0 }
        return value >= Double(UInt32.max) ? .max : UInt32(value)
    }

    /// Parses `250us` (or `µs`), `5ms`, `1.5s`, `2m`.
    public init?(parsing text: String) {
        let units: [(String, Double)] = [("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number.isFinite, number >= 0 else { return nil }
            self = .nanoseconds(Int64((number * scale * 1e9).rounded()))
            return
        }
        return nil
    }
}
