import NIOCore
import Synchronization

/// Bookkeeping of one connection: its in-flight bound and its drain.
final class ConnectionState: Sendable {
    let inFlight: InFlightLimiter
    private let channel: any Channel
    private let drainingFlag = Atomic<Bool>(false)

    init(channel: any Channel, maximumInFlight: Int) {
        self.channel = channel
        self.inFlight = InFlightLimiter(limit: maximumInFlight)
    }

    var isDraining: Bool { drainingFlag.load(ordering: .sequentiallyConsistent) }

    /// Stop taking requests; close once the in-flight ones are answered.
    func beginDraining() {
        drainingFlag.store(true, ordering: .sequentiallyConsistent)
        if inFlight.inFlight == 0 {
            channel.close(promise: nil)
        }
    }

    /// A request of this connection has been answered.
    func finished() {
        if inFlight.release() == 0, isDraining {
            channel.close(promise: nil)
        }
    }
}
