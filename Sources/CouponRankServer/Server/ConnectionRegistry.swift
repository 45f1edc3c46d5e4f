import NIOCore
import Synchronization

/// The open connections of the RPC port, so that a drain reaches each of them and shutdown can
/// wait until the last one has closed.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var draining = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Adds a new connection; a connection accepted after the drain began is drained at once.
    func register(_ channel: any Channel) -> (count: Int, draining: Bool) {
        state.withLock { state in
            state.channels[ObjectIdentifier(channel)] = channel
            return (state.channels.count, state.draining)
        }
    }

    /// Removes a closed connection; the number still open.
    func unregister(_ channel: any Channel) -> Int {
        let (count, waiters) = state.withLock { state in
            state.channels[ObjectIdentifier(channel)] = nil
            guard state.channels.isEmpty else { return (state.channels.count, [CheckedContinuation<Void, Never>]()) }
            defer { state.idleWaiters.removeAll() }
            return (0, state.idleWaiters)
        }
        for waiter in waiters { waiter.resume() }
        return count
    }

    /// Sends `event` to every open connection and marks the registry draining.
    func drainAll(with event: some Sendable) {
        let channels = state.withLock { state in
            state.draining = true
            return Array(state.channels.values)
        }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(event)
        }
    }

    /// Closes every open connection now.
    func closeAll() {
        let channels = state.withLock { Array($0.channels.values) }
        for channel in channels {
            channel.close(promise: nil)
        }
    }

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { continuation in
            let empty = state.withLock { state in
                if state.channels.isEmpty { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if empty { continuation.resume() }
        }
    }
}
