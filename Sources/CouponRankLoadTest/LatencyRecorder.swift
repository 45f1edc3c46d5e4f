
public import CouponRankWire
import Histogram
import Synchronization

/// How a call ended.
public enum CallOutcome: Sendable, Hashable {
    case ranked(RankResponse.Timings, degraded: Bool)
    case serverError(ErrorCode)
    /// No answer in time, or the connection failed.
    case transport
    /// An HTTP peer answered with a status other than 200, or a body that is not its answer.
    case httpStatus(Int)
}

/// Collects latencies and outcomes of measured calls; safe to share.
public final class LatencyRecorder: Sendable {
    /// Microseconds, up to a minute, three significant digits.
    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    struct State {
        var corrected = LatencyRecorder.histogram()
        var uncorrected = LatencyRecorder.histogram()
        var pages = LatencyRecorder.histogram()
        var fetch = LatencyRecorder.histogram()
        var context = LatencyRecorder.histogram()
        var score = LatencyRecorder.histogram()
        var serverTotal = LatencyRecorder.histogram()
        var ok = 0
        var degraded = 0
        var errors: [String: Int] = [:]
        var pagesCompleted = 0
        var pagesFailed = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// One call: `corrected` from its intended start, `uncorrected` from when it was sent.
    public func record(corrected: Duration, uncorrected: Duration, outcome: CallOutcome) {
        let correctedMicros = Self.micros(corrected)
        let uncorrectedMicros = Self.micros(uncorrected)
        state.withLock { state in
            // Errors stay in the latency statistics: a fast failure is still a request served.
            _ = state.corrected.record(correctedMicros)
            _ = state.uncorrected.record(uncorrectedMicros)
            switch outcome {
            case .ranked(let timings, let degraded):
                state.ok += 1
                if degraded { state.degraded += 1 }
                _ = state.fetch.record(UInt64(timings.fetchMicros))
                _ = state.context.record(UInt64(timings.contextMicros))
                _ = state.score.record(UInt64(timings.scoreMicros))
                _ = state.serverTotal.record(UInt64(timings.totalMicros))
            case .serverError(let code):
                state.errors[code.name, default: 0] += 1
            case .transport:
                state.errors["TRANSPORT", default: 0] += 1
            case .httpStatus(let status):
                state.errors["HTTP_\(status)", default: 0] += 1
            }
        }
    }

    /// One page: the slowest of its calls, from the page's intended start.
    public func recordPage(latency: Duration, failed: Bool) {
        let micros = Self.micros(latency)
        state.withLock { state in
            _ = state.pages.record(micros)
            state.pagesCompleted += 1
            if failed { state.pagesFailed += 1 }
        }
    }

    public var completed: Int { state.withLock { $0.ok + $0.errors.values.reduce(0, +) } }
    public var errorCount: Int { state.withLock { $0.errors.values.reduce(0, +) } }

    public func snapshotP99() -> Duration {
        state.withLock { .microseconds(Int64($0.corrected.valueAtPercentile(99))) }
    }

    func withState<T>(_ body: (State) -> T) -> T {
        state.withLock { body($0) }
    }

    static func micros(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        let value = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return UInt64(min(max(value, 1), 60_000_000))
    }
}
