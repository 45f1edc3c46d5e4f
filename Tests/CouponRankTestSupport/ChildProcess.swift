public import Foundation

/// Runs a program to its end without blocking a thread of the cooperative pool: its output goes
/// to a temporary file (so a large output cannot fill a pipe), read once it has exited.
public func runChildProcess(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
    let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("couponrank-child-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outputURL) }
    let output = try FileHandle(forWritingTo: outputURL)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = output
    process.standardError = output
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
            return
        }
        let pid = process.processIdentifier
        Task {
            try? await Task.sleep(for: timeout)
            if process.isRunning { kill(pid, SIGKILL) }
        }
    }
    try output.close()
    return (status, try String(contentsOf: outputURL, encoding: .utf8))
}
