#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// Bounds of the admission controller.
public struct AdmissionConfiguration: Sendable, Hashable {
    /// Requests in flight on the whole engine beyond which the answer is OVERLOADED.
    public var maximumInFlight: Int
    /// Longest a request may wait between arriving and being worked on; one that waited longer,
    /// or that would, is answered OVERLOADED instead of late.
    public var maximumQueueing: Duration
    /// Budget of a request that gives none.
    public var defaultBudget: Duration
    /// Largest budget honoured; larger ones are cut to it.
    public var maximumBudget: Duration

    public init(
        maximumInFlight: Int = AdmissionConfiguration.defaultMaximumInFlight,
        maximumQueueing: Duration = .milliseconds(25),
        defaultBudget: Duration = .milliseconds(100),
        maximumBudget: Duration = .seconds(10)
    ) {
        self.maximumInFlight = maximumInFlight
        self.maximumQueueing = maximumQueueing
        self.defaultBudget = defaultBudget
        self.maximumBudget = maximumBudget
    }

    /// 256 requests in flight per core: enough to keep the cores busy while ranks wait on
    /// upstreams for several milliseconds each; what queues beyond the cores' capacity is bounded
    /// in time by ``maximumQueueing``, not by this count.
    public static var defaultMaximumInFlight: Int {
        256 * max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
