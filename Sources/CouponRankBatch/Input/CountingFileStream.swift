import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// A file descriptor as the `InputStream` CSV.swift reads from, for two things Foundation's file
/// stream does not give: the bytes read so far (progress), and the end of the file known before a
/// read returns 0. CSV.swift asks `hasBytesAvailable` before each read and records an error when
/// a read then returns nothing, so with Foundation's stream every file "fails" at its end and a
/// real read error could not be told from it.
///
/// Blocking: read it on a thread that may block.
final class CountingFileStream: InputStream {
    private let descriptor: Int32
    private var lookahead: [UInt8] = []
    private var lookaheadStart = 0
    private var reachedEnd = false
    private var status: Stream.Status = .notOpen
    private var failure: POSIXError?
    /// Bytes handed to the reader so far.
    private(set) var bytesRead = 0
    /// The file's size when it is a regular file; `nil` for a pipe or a device.
    let size: Int?

    /// Opens `path` for reading.
    init(path: String) throws(BatchError) {
        let descriptor = systemOpen(path)
        guard descriptor >= 0 else {
            throw BatchError(.input, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
            size = Int(info.st_size)
        } else {
            size = nil
        }
        self.descriptor = descriptor
        super.init(data: Data())
    }

    deinit {
        if status != .closed { systemClose(descriptor) }
    }

    override func open() {
        if status == .notOpen { status = .open }
    }

    override func close() {
        guard status != .closed else { return }
        status = .closed
        systemClose(descriptor)
    }

    override var streamStatus: Stream.Status { status }

    override var streamError: (any Error)? { failure }

    override var hasBytesAvailable: Bool {
        if lookaheadStart < lookahead.count { return true }
        guard !reachedEnd, status == .open else { return false }
        lookahead = [UInt8](unsafeUninitializedCapacity: 64 << 10) { buffer, count in
            count = max(0, readDescriptor(buffer.baseAddress!, buffer.count))
        }
        lookaheadStart = 0
        return !lookahead.isEmpty
    }

    override func read(_ buffer: UnsafeMutablePointer<UInt8>, maxLength length: Int) -> Int {
        guard length > 0 else { return 0 }
        if lookaheadStart < lookahead.count {
            let count = min(length, lookahead.count - lookaheadStart)
            lookahead.withUnsafeBufferPointer { source in
                buffer.update(from: source.baseAddress! + lookaheadStart, count: count)
            }
            lookaheadStart += count
            bytesRead += count
            return count
        }
        guard !reachedEnd else { return 0 }
        let count = readDescriptor(buffer, length)
        if count > 0 { bytesRead += count }
        return count
    }

    override func getBuffer(_ buffer: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, length: UnsafeMutablePointer<Int>) -> Bool {
        false
    }

    /// One `read(2)`, retried on EINTR; 0 marks the end, -1 a failure (kept in ``streamError``).
    private func readDescriptor(_ buffer: UnsafeMutablePointer<UInt8>, _ length: Int) -> Int {
        while true {
            let count = systemRead(descriptor, buffer, length)
            if count > 0 { return count }
            if count == 0 {
                reachedEnd = true
                return 0
            }
            if errno == EINTR { continue }
            failure = POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            status = .error
            reachedEnd = true
            return -1
        }
    }
}

// Outside the class, where `open`, `read` and `close` are the C functions, not the stream's methods.
private func systemOpen(_ path: String) -> Int32 {
    open(path, O_RDONLY | O_CLOEXEC)
}

private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutablePointer<UInt8>, _ length: Int) -> Int {
    read(descriptor, buffer, length)
}

private func systemClose(_ descriptor: Int32) {
    _ = close(descriptor)
}
