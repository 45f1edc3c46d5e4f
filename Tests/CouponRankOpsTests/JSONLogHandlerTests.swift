@testable import CouponRankOps
import Foundation
import Logging
import Testing

@Suite struct JSONLogHandlerTests {
    /// Writes `body`'s log lines into a pipe and returns them, one parsed object per line.
    private func logged(_ body: (inout Logger) -> Void) throws -> [[String: Any]] {
        var descriptors: [Int32] = [0, 0]
        try #require(pipe(&descriptors) == 0)
        var handler = JSONLogHandler(label: "test", fileDescriptor: descriptors[1], metadataProvider: nil)
        handler.logLevel = .debug
        var logger = Logger(label: "test") { _ in handler }
        body(&logger)
        close(descriptors[1])
        let data = FileHandle(fileDescriptor: descriptors[0], closeOnDealloc: true).readDataToEndOfFile()
        let text = try #require(String(data: data, encoding: .utf8))
        #expect(text.hasSuffix("\n"))
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    @Test func eachEventIsOneJSONObjectWithItsMetadataNestedAndEveryCharacterEscaped() throws {
        let awkward = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} ✓ 日本"
        let lines = try logged { logger in
            logger[metadataKey: "engine"] = "e1"
            logger.info("first \(awkward)", metadata: ["count": "3", "nested": ["list": ["a", .stringConvertible(42)], "key": "\(awkward)"]])
            logger.trace("below the level")
            logger.warning("second")
        }
        #expect(lines.count == 2)
        #expect(lines[0]["message"] as? String == "first \(awkward)")
        #expect(lines[0]["level"] as? String == "info")
        #expect(lines[0]["logger"] as? String == "test")
        let metadata = try #require(lines[0]["metadata"] as? [String: Any])
        #expect(metadata["engine"] as? String == "e1")
        #expect(metadata["count"] as? String == "3")
        let nested = try #require(metadata["nested"] as? [String: Any])
        #expect(nested["list"] as? [String] == ["a", "42"])
        #expect(nested["key"] as? String == awkward)
        #expect(lines[1]["level"] as? String == "warning")
        let time = try #require(lines[1]["time"] as? String)
        #expect(time.count == 24 && time.hasSuffix("Z"), "\(time)")
        #expect(ISO8601DateFormatter.withMilliseconds.date(from: time) != nil, "\(time)")
    }
}

extension ISO8601DateFormatter {
    fileprivate static var withMilliseconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
