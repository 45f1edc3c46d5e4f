#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Injected latency of a stub source or service.
public enum LatencyDistribution: Sendable, Hashable {
    case none
    case fixed(Duration)
    case uniform(Duration, Duration)
    /// Log-normal with the given median and 99th percentile.
    case logNormal(median: Duration, p99: Duration)

    /// One delay.
    public func sample<G: RandomNumberGenerator>(using rng: inout G) -> Duration {
        switch self {
        case .none:
            return .zero
        case .fixed(let delay):
            return delay
        case .uniform(let low, let high):
            let lo = low.seconds
            let hi = max(high.seconds, lo)
            return .seconds(lo + (hi - lo) * Double.random(in: 0..<1, using: &rng))
        case .logNormal(let median, let p99):
            let m = max(median.seconds, 1e-9)
            // z(0.99) = 2.3263
            let sigma = max(log(max(p99.seconds, m) / m), 0) / 2.3263
            let u1 = max(Double.random(in: 0..<1, using: &rng), .leastNonzeroMagnitude)
            let u2 = Double.random(in: 0..<1, using: &rng)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            return .seconds(m * exp(sigma * z))
        }
    }

    public var isNone: Bool { self == .none }

    /// Parses `none`, `fixed:5ms`, `uniform:2ms-8ms` or `lognormal:5ms,40ms` (median, p99).
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("none", 1):
            self = .none
        case ("fixed", 2):
            guard let delay = Duration(parsing: parts[1]) else { return nil }
            self = .fixed(delay)
        case ("uniform", 2):
            let bounds = parts[1].split(separator: "-").map(String.init)
            guard bounds.count == 2, let low = Duration(parsing: bounds[0]), let high = Duration(parsing: bounds[1]),
                low <= high
            else { return nil }
            self = .uniform(low, high)
        case ("lognormal", 2):
            let bounds = parts[1].split(separator: ",").map(String.init)
            guard bounds.count == 2, let median = Duration(parsing: bounds[0]), let p99 = Duration(parsing: bounds[1]),
                median <= p99
            else { return nil }
            self = .logNormal(median: median, p99: p99)
        default:
            return nil
        }
    }
}
