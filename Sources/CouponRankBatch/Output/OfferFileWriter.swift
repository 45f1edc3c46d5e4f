import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
import Darwin
#endif

/// The offer file, written to `<path>.partial` and renamed to `path` once complete, so that a
/// file at `path` is always a whole run's output (a stopped run leaves only the partial file).
///
/// Blocking: call it on a thread that may block (``BatchRunner`` writes on NIO's thread pool).
public final class OfferFileWriter: Sendable {
    public let path: String
    public let partialPath: String
    private let descriptor: Int32
    private let isOpen = Mutex(true)

    /// Creates (or truncates) `<path>.partial`.
    public init(path: String) throws(BatchError) {
        let partialPath = path + ".partial"
        let descriptor = systemOpen(partialPath)
        guard descriptor >= 0 else {
            throw BatchError(.output, "cannot create \(partialPath): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.partialPath = partialPath
        self.descriptor = descriptor
    }

    deinit {
        if isOpen.withLock({ $0 }) { systemClose(descriptor) }
    }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(BatchError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw BatchError(.output, "cannot write \(partialPath): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Flushes the file to disk, closes it and renames it to ``path``.
    public func commit() throws(BatchError) {
        guard isOpen.withLock({ wasOpen in defer { wasOpen = false }; return wasOpen }) else { return }
        defer { systemClose(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw BatchError(.output, "cannot flush \(partialPath): \(String(cString: strerror(errno)))")
        }
        guard rename(partialPath, path) == 0 else {
            throw BatchError(.output, "cannot rename \(partialPath) to \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Closes and removes the partial file.
    public func discard() {
        guard isOpen.withLock({ wasOpen in defer { wasOpen = false }; return wasOpen }) else { return }
        systemClose(descriptor)
        unlink(partialPath)
    }
}

// Outside the class, where `open`, `write` and `close` are the C functions.
private func systemOpen(_ path: String) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

private func systemClose(_ descriptor: Int32) {
    _ = close(descriptor)
}
