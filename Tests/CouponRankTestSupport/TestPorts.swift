import Foundation
import Synchronization

/// Loopback ports for the servers tests start, never handed out twice in one test process.
///
/// Tests run in parallel in one process, and a port that was free when it was checked can be
/// taken before its server binds it. Every fixture takes its ports from here, so two fixtures never
/// race for one. Cluster nodes also need their bus port (port + 10 000) free; both lie below the
/// kernel's ephemeral range (32768 and up), so no outgoing connection's local port can take them.
public enum TestPorts {
    private static let reserved = Mutex<Set<Int>>([])

    /// A port that is free now and that no other fixture in this process has been given.
    public static func reserve() throws -> Int {
        try reserve(in: 10_000..<20_000, alsoFree: [])
    }

    /// A port for a cluster node: it and its bus port are free and unreserved.
    public static func reserveClusterNode() throws -> Int {
        try reserve(in: 10_000..<22_000, alsoFree: [10_000])
    }

    private static func reserve(in range: Range<Int>, alsoFree offsets: [Int]) throws -> Int {
        try reserved.withLock { reserved in
            for _ in 0..<500 {
                let port = Int.random(in: range)
                let ports = [port] + offsets.map { port + $0 }
                guard ports.allSatisfy({ !reserved.contains($0) && isFree($0) }) else { continue }
                reserved.formUnion(ports)
                return port
            }
            throw TestServerError("no free loopback port in \(range)")
        }
    }

    private static func isFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
