import CouponRankCore
import Foundation

/// Where a run is, after each chunk written.
public struct BatchProgress: Sendable, Hashable {
    /// Data rows read so far.
    public var rowsRead: Int
    /// Data rows done: written to the output or skipped.
    public var rowsDone: Int
    /// Bytes of the rows read (``CustomerFileReader/bytesParsed``).
    public var bytesRead: Int
    /// The input's size, when known.
    public var totalBytes: Int?
    public var elapsed: Duration

    public init(rowsRead: Int, rowsDone: Int, bytesRead: Int, totalBytes: Int?, elapsed: Duration) {
        self.rowsRead = rowsRead
        self.rowsDone = rowsDone
        self.bytesRead = bytesRead
        self.totalBytes = totalBytes
        self.elapsed = elapsed
    }
}

extension BatchProgress {
    /// One line for a terminal: rows done, rate, and with the input's size known, the share of it
    /// done and the time left at the rate so far. The share done is the share of the file's bytes
    /// in the rows read, times the share of those rows done (reading is ahead of writing by the
    /// chunks in flight).
    public var line: String {
        let seconds = elapsed.seconds
        let rate = seconds > 0 ? Double(rowsDone) / seconds : 0
        var parts = ["\(rowsDone) rows", "\(Int(rate.rounded())) rows/s"]
        if let totalBytes, totalBytes > 0, bytesRead > 0, rowsRead > 0 {
            let fraction = min(1, Double(bytesRead) / Double(totalBytes) * Double(rowsDone) / Double(rowsRead))
            parts.append(String(format: "%.1f %%", fraction * 100))
            if fraction > 0, seconds > 0 {
                parts.append("ETA \(Self.clock(seconds * (1 - fraction) / fraction))")
            }
        }
        return parts.joined(separator: "  ")
    }

    /// `m:ss`, or `h:mm:ss` from an hour.
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }
}
