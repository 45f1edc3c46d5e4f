import CouponRankBatch
import Foundation

/// stderr during a batch run: bad rows as they are read, and on a terminal one progress line,
/// redrawn at most four times a second and cleared before anything else is written.
final class BatchConsole {
    private let showsProgress: Bool
    private var lineShown = false
    private var lastDrawn: ContinuousClock.Instant?

    init(showsProgress: Bool) {
        self.showsProgress = showsProgress
    }

    func problem(_ problem: RowProblem) {
        write("\(problem); skipped")
    }

    func progress(_ progress: BatchProgress) {
        guard showsProgress else { return }
        let now = ContinuousClock.now
        if let lastDrawn, now - lastDrawn < .milliseconds(250) { return }
        lastDrawn = now
        FileHandle.standardError.write(Data("\r\u{1B}[K\(progress.line)".utf8))
        lineShown = true
    }

    func write(_ line: String) {
        clear()
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }

    func finish() {
        clear()
    }

    private func clear() {
        guard lineShown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        lineShown = false
    }
}
