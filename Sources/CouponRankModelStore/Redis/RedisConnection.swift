import CHiredis

/// One hiredis context: the only owner of its C pointer, freed in `deinit`.
///
/// Every call blocks (up to the timeouts given) and must not run on an event loop or the
/// cooperative pool; ``RedisClient`` runs them on a thread pool, one at a time.
///
/// `@unchecked Sendable`: owners serialise every call under their lock; only ``interrupt()``
/// is called from another thread, and `shutdown(2)` on the socket is thread-safe.
public final class RedisConnection: @unchecked Sendable {
    private let pointer: UnsafeMutablePointer<redisContext>

    private init(pointer: UnsafeMutablePointer<redisContext>) {
        self.pointer = pointer
    }

    deinit {
        redisFree(pointer)
    }

    /// Connects, authenticates and selects the database.
    public static func connect(url: RedisURL, connectTimeout: Duration, commandTimeout: Duration?) throws(RedisError) -> RedisConnection {
        guard let context = crh_connect(url.host, Int32(url.port), milliseconds(connectTimeout)) else {
            throw RedisError(.io, "cannot allocate a hiredis context")
        }
        let connection = RedisConnection(pointer: context)
        if crh_error(context) != 0 {
            throw RedisError(.io, "connect to \(url): \(String(cString: crh_error_string(context)))")
        }
        if crh_set_timeout(context, commandTimeout.map(milliseconds) ?? 0) != 0 {
            throw RedisError(.io, "cannot set the command timeout: \(String(cString: crh_error_string(context)))")
        }
        if let password = url.password {
            let arguments = url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            _ = try connection.command(arguments.map { Array($0.utf8) }).checked()
        }
        if url.database != 0 {
            _ = try connection.command(["SELECT", String(url.database)].map { Array($0.utf8) }).checked()
        }
        return connection
    }

    /// Whether the context has failed; a failed context must be replaced.
    public var isBroken: Bool { crh_error(pointer) != 0 }

    /// Whether the server closed (or broke) this connection while it sat idle. Only meaningful
    /// with no reply outstanding.
    var peerClosed: Bool { crh_peer_closed(pointer) != 0 }

    /// Sends every command, then reads their replies in order: one round trip for the lot.
    /// Replies that are Redis errors are returned, not thrown; a connection failure throws.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [RedisReply] {
        try send(commands)
        return try receive(commands.count)
    }

    /// The first half of ``pipeline(_:)``: writes every command, reads nothing. A cluster client
    /// sends each node its share before reading any reply, so the nodes work at once.
    func send(_ commands: [[[UInt8]]]) throws(RedisError) {
        for arguments in commands {
            let status = Self.withArgv(arguments) { argc, argv, lengths in
                crh_append_command_argv(pointer, argc, argv, lengths)
            }
            guard status == REDIS_OK else {
                throw RedisError(.io, "cannot queue a command: \(String(cString: crh_error_string(pointer)))")
            }
        }
        guard crh_flush(pointer) == REDIS_OK else {
            throw RedisError(.io, "cannot send: \(String(cString: crh_error_string(pointer)))")
        }
    }

    /// The second half of ``pipeline(_:)``: the next `count` replies, in order.
    func receive(_ count: Int) throws(RedisError) -> [RedisReply] {
        var replies: [RedisReply] = []
        replies.reserveCapacity(count)
        for _ in 0..<count {
            replies.append(try nextReply())
        }
        return replies
    }

    /// Sends one command, waits for its reply.
    public func command(_ arguments: [[UInt8]]) throws(RedisError) -> RedisReply {
        let reply = Self.withArgv(arguments) { argc, argv, lengths in
            crh_command_argv(pointer, argc, argv, lengths)
        }
        return try take(reply)
    }

    /// Waits for the next pushed reply (pub/sub messages).
    func nextReply() throws(RedisError) -> RedisReply {
        var reply: UnsafeMutablePointer<redisReply>?
        _ = crh_get_reply(pointer, &reply)
        return try take(reply)
    }

    /// Changes the send/receive timeout; `nil` blocks without limit.
    func setCommandTimeout(_ timeout: Duration?) {
        _ = crh_set_timeout(pointer, timeout.map(Self.milliseconds) ?? 0)
    }

    /// Unblocks a thread waiting in ``nextReply()``; safe to call from another thread.
    func interrupt() {
        crh_shutdown(pointer)
    }

    private func take(_ reply: UnsafeMutablePointer<redisReply>?) throws(RedisError) -> RedisReply {
        guard let reply else {
            let message = crh_error(pointer) != 0 ? String(cString: crh_error_string(pointer)) : "no reply"
            throw RedisError(.io, message)
        }
        defer { freeReplyObject(reply) }
        return Self.copy(reply)
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        func bytes() -> [UInt8] {
            guard let str = value.str else { return [] }
            return str.withMemoryRebound(to: UInt8.self, capacity: Int(value.len)) {
                Array(UnsafeBufferPointer(start: $0, count: Int(value.len)))
            }
        }
        switch value.type {
        case REDIS_REPLY_STRING: return .string(bytes())
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int64(value.integer))
        case REDIS_REPLY_ARRAY:
            guard let elements = value.element else { return .array([]) }
            return .array((0..<Int(value.elements)).compactMap { elements[$0].map(copy) })
        default: return .null
        }
    }

    private static func withArgv<R>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        let count = arguments.count
        let pointers = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: count)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: count)
        var buffers: [UnsafeMutableBufferPointer<CChar>] = []
        buffers.reserveCapacity(count)
        defer {
            buffers.forEach { $0.deallocate() }
            pointers.deallocate()
            lengths.deallocate()
        }
        for (index, argument) in arguments.enumerated() {
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(argument.count, 1))
            argument.withUnsafeBytes { raw in
                if let base = raw.baseAddress, !raw.isEmpty {
                    UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: base, byteCount: raw.count)
                }
            }
            buffers.append(buffer)
            pointers[index] = UnsafePointer(buffer.baseAddress)
            lengths[index] = argument.count
        }
        return body(Int32(count), pointers, lengths)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

extension RedisReply {
    /// The reply, or a ``RedisError`` when Redis answered with an error.
    func checked() throws(RedisError) -> RedisReply {
        if case .error(let message) = self { throw RedisError(.server, message) }
        return self
    }
}
