public import Logging
public import NIOCore
public import ServiceLifecycle

/// The port a service reports once it has bound its socket.
public struct ListeningPort: Sendable {
    public let stream: AsyncStream<Int>
    /// Pass as the service's `onListening`.
    public let report: @Sendable (SocketAddress) -> Void

    public init() {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        self.stream = stream
        self.report = { address in
            continuation.yield(address.port ?? 0)
            continuation.finish()
        }
    }
}

/// Runs `service` until it reports its port, hands the port to `body`, then shuts the service
/// down gracefully — whether `body` returns or throws.
public func withListeningService<T: Sendable>(
    _ service: any Service,
    port: ListeningPort,
    logger: Logger,
    _ body: (_ port: Int, _ group: ServiceGroup) async throws -> T
) async throws -> T {
    let group = ServiceGroup(services: [service], logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = port.stream.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else {
            throw TestServerError("\(type(of: service)) did not report a port")
        }
        do {
            let result = try await body(bound, group)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
