/// Which users the load asks about.
public enum EasyIDDistribution: Sendable, Hashable {
    /// Uniform over `count` users.
    case uniform(count: Int)
    /// Zipf-like over `count` users: the user of rank `k` is drawn with weight `1 / k^exponent`,
    /// so a few hot users get most of the traffic.
    case zipf(count: Int, exponent: Double)

    public func makeSampler() -> EasyIDSampler {
        EasyIDSampler(self)
    }
}

/// Draws easy_ids; a value type, one per worker.
public struct EasyIDSampler: Sendable {
    private let count: Int
    /// Cumulative weights, for Zipf.
    private let cumulative: [Double]

    init(_ distribution: EasyIDDistribution) {
        switch distribution {
        case .uniform(let count):
            self.count = max(count, 1)
            self.cumulative = []
        case .zipf(let count, let exponent):
            // The head carries nearly all the mass; the tail beyond 100 000 users is drawn uniformly.
            let n = max(count, 1)
            let head = min(n, 100_000)
            var total = 0.0
            var cumulative = [Double](repeating: 0, count: head)
            for k in 0..<head {
                total += 1 / pow(Double(k + 1), exponent)
                cumulative[k] = total
            }
            self.count = n
            self.cumulative = cumulative.map { $0 / total }
        }
    }

    /// An index in `0..<count`.
    public func nextIndex<G: RandomNumberGenerator>(using rng: inout G) -> Int {
        guard !cumulative.isEmpty else { return Int.random(in: 0..<count, using: &rng) }
        let u = Double.random(in: 0..<1, using: &rng)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] < u { low = mid + 1 } else { high = mid }
        }
        return low
    }

    public func next<G: RandomNumberGenerator>(using rng: inout G) -> String {
        String(nextIndex(using: &rng) + 1)
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
