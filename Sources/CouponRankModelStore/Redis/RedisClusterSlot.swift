/// Redis Cluster's key → slot mapping (the cluster specification, "Keys distribution model"):
/// CRC16-XMODEM of the key, or of its hash tag, modulo 16 384.
public enum RedisClusterSlot {
    public static let count = 16_384

    /// The slot of `key`. A hash tag (the bytes between the first `{` and the next `}`, when not
    /// empty) is hashed instead of the whole key, so `a:{user}:x` and `b:{user}:y` share a slot.
    public static func of(_ key: some Collection<UInt8>) -> Int {
        let bytes = Array(key)
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
            close > open + 1
        {
            return Int(crc16(bytes[(open + 1)..<close]) % UInt16(count))
        }
        return Int(crc16(bytes) % UInt16(count))
    }

    public static func of(_ key: String) -> Int { of(Array(key.utf8)) }

    /// CRC16-XMODEM (polynomial 0x1021, initial value 0).
    static func crc16(_ bytes: some Collection<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }

    /// Commands that leave Redis as they found it when sent twice: a client may send one again
    /// when its reply was lost. Others (`XADD`, `HINCRBY`, `LPUSH`, `XREADGROUP … >`, `SET … NX`)
    /// are not, and are never sent again after a lost reply.
    static func isIdempotent(_ command: [[UInt8]]) -> Bool {
        guard let name = command.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else { return false }
        switch name {
        case "GET", "MGET", "EXISTS", "HGET", "HGETALL", "HKEYS", "HLEN", "LRANGE", "LLEN", "XRANGE", "XREVRANGE", "XLEN",
            "XPENDING", "XINFO", "TTL", "PTTL", "TYPE", "TIME", "PING", "INFO", "CLUSTER", "ROLE", "DEL", "EXPIRE", "HSET", "LTRIM", "XACK":
            return true
        case "SET":
            // Plain SET only: NX, XX, GET and the like depend on what is there.
            return command.count == 3
        default:
            return false
        }
    }

    /// The key a command is routed by, or `nil` for a command any node answers (`TIME`,
    /// `PUBLISH`, which a cluster broadcasts, …). A command naming several keys is routed by the
    /// first; Redis refuses it (CROSSSLOT) unless they share its slot.
    static func routingKey(of command: [[UInt8]]) -> [UInt8]? {
        guard let name = command.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else { return nil }
        switch name {
        case "TIME", "PING", "INFO", "CLUSTER", "PUBLISH", "SCRIPT", "DBSIZE", "FLUSHALL", "FLUSHDB", "CONFIG", "ECHO", "ASKING":
            return nil
        case "EVAL", "EVALSHA", "FCALL", "EVAL_RO", "EVALSHA_RO", "FCALL_RO":
            // EVAL script numkeys key…
            guard command.count > 3, let keys = Int(String(decoding: command[2], as: UTF8.self)), keys > 0 else { return nil }
            return command[3]
        case "XREAD", "XREADGROUP":
            // After GROUP <group> <consumer>, which may themselves be named "streams".
            let options = name == "XREADGROUP" ? 4 : 1
            guard command.count > options,
                let streams = command[options...].firstIndex(where: { String(decoding: $0, as: UTF8.self).uppercased() == "STREAMS" }),
                streams + 1 < command.count
            else { return nil }
            return command[streams + 1]
        case "XGROUP", "XINFO", "OBJECT", "MEMORY":
            return command.count > 2 ? command[2] : nil
        default:
            return command.count > 1 ? command[1] : nil
        }
    }
}
