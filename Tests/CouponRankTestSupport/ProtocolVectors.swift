public import Foundation
public import NIOCore

/// One hex test vector of proto-spec/vectors.
public struct ProtocolVector: Sendable, CustomStringConvertible {
    /// What a receiver must make of the bytes.
    public enum Expectation: Sendable, Hashable {
        case decode(message: String)
        case error(code: String, closesConnection: Bool)
    }

    public let name: String
    public let bytes: [UInt8]
    public let expectation: Expectation

    public var buffer: ByteBuffer { ByteBuffer(bytes: bytes) }
    public var description: String { name }
}

public enum ProtocolVectors {
    /// The repository's proto-spec folder.
    public static let specDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("proto-spec")

    public static func load(_ name: String) throws -> ProtocolVector {
        let url = specDirectory.appendingPathComponent("vectors").appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        var bytes: [UInt8] = []
        var expectation: ProtocolVector.Expectation?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# expect:") {
                let words = line.dropFirst("# expect:".count).split(separator: " ").map(String.init)
                switch words.first {
                case "decode" where words.count == 2:
                    expectation = .decode(message: words[1])
                case "error" where words.count == 3:
                    expectation = .error(code: words[1], closesConnection: words[2] == "close")
                default:
                    throw VectorError("\(name): unreadable expect line '\(line)'")
                }
                continue
            }
            let data = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for pair in data.split(whereSeparator: \.isWhitespace) {
                guard pair.count == 2, let byte = UInt8(pair, radix: 16) else {
                    throw VectorError("\(name): '\(pair)' is not a hex byte")
                }
                bytes.append(byte)
            }
        }
        guard let expectation else { throw VectorError("\(name): no '# expect:' line") }
        return ProtocolVector(name: name, bytes: bytes, expectation: expectation)
    }

    /// Every vector file, by name.
    public static func all() throws -> [ProtocolVector] {
        let directory = specDirectory.appendingPathComponent("vectors")
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".hex") }
            .sorted()
            .map(load)
    }

    public static func names(expecting predicate: (ProtocolVector.Expectation) -> Bool) -> [String] {
        ((try? all()) ?? []).filter { predicate($0.expectation) }.map(\.name)
    }
}

public struct VectorError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
