/// A port that could not be opened, named with its address (`bind(2)`'s own message names neither).
public struct ListenError: Error, CustomStringConvertible {
    /// Which of the engine's ports: "RPC" or "ops".
    public var port: String
    public var host: String
    public var number: Int
    public var underlying: any Error

    public init(port: String, host: String, number: Int, underlying: any Error) {
        self.port = port
        self.host = host
        self.number = number
        self.underlying = underlying
    }

    public var description: String {
        let reason = "\(underlying)".contains("in use") ? "the address is already in use (another process listens there)" : "\(underlying)"
        return "cannot open the \(port) port on \(host):\(number): \(reason)"
    }
}
