import Foundation
import Synchronization

/// Says "serving" only once every port is open: a supervisor that waits for the line must not
/// see it from an engine that is about to exit because its ops port is taken.
final class StartupAnnouncer: Sendable {
    private struct State {
        var rpcLine: String?
        var opsOpen: Bool
        var announced = false
    }

    private let state: Mutex<State>

    init(waitsForOps: Bool) {
        state = Mutex(State(opsOpen: !waitsForOps))
    }

    func rpcListening(_ line: String) {
        state.withLock { $0.rpcLine = line }
        announceIfReady()
    }

    func opsListening(_ line: String) {
        write(line)
        state.withLock { $0.opsOpen = true }
        announceIfReady()
    }

    private func announceIfReady() {
        let line: String? = state.withLock { state in
            guard !state.announced, state.opsOpen, let line = state.rpcLine else { return nil }
            state.announced = true
            return line
        }
        if let line { write(line) }
    }

    /// Unbuffered, so a supervising script sees it at once.
    private func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
