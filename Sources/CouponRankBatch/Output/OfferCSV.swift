/// The offer file's rows: `easy_id`, then `offer_<n>_id`, `offer_<n>_name`, `offer_<n>_score` for
/// n = 1…top-k (best first; empty past the last offer), then `status` (``RowOutcome/status``).
///
/// RFC 4180 fields, UTF-8, LF line ends; a field with a comma, a quote or a line break is quoted,
/// its quotes doubled. Scores are written in the shortest form that reads back as the same
/// `Double`. Formatted here rather than by CSV.swift's `CSVWriter`, which took about 110 µs per
/// row of this shape (`couponrank-bench --csv`): as long as the engine takes to rank the row.
public struct OfferCSV: Sendable, Hashable {
    public let topK: Int

    public init(topK: Int) {
        precondition(topK > 0, "top-k must be positive")
        self.topK = topK
    }

    /// The column names.
    public var header: [String] {
        ["easy_id"] + (1...topK).flatMap { ["offer_\($0)_id", "offer_\($0)_name", "offer_\($0)_score"] } + ["status"]
    }

    /// The header line.
    public func appendHeader(to bytes: inout [UInt8]) {
        appendRecord(header, to: &bytes)
    }

    /// The line of one row.
    public func append(_ row: CustomerRow, _ outcome: RowOutcome, to bytes: inout [UInt8]) {
        Self.appendField(row.easyID, to: &bytes)
        let offers = outcome.offers
        for slot in 0..<topK {
            if slot < offers.count {
                let offer = offers[slot]
                bytes.append(UInt8(ascii: ","))
                Self.appendField(offer.couponID, to: &bytes)
                bytes.append(UInt8(ascii: ","))
                Self.appendField(offer.name, to: &bytes)
                bytes.append(UInt8(ascii: ","))
                bytes.append(contentsOf: offer.score.description.utf8)
            } else {
                bytes.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: ","), UInt8(ascii: ",")])
            }
        }
        bytes.append(UInt8(ascii: ","))
        Self.appendField(outcome.status, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
    }

    func appendRecord(_ fields: [String], to bytes: inout [UInt8]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendField(field, to: &bytes)
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    /// `field`, quoted when it holds a comma, a quote, CR or LF.
    static func appendField(_ field: String, to bytes: inout [UInt8]) {
        let utf8 = field.utf8
        let needsQuotes = utf8.contains { byte in
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
        }
        guard needsQuotes else {
            bytes.append(contentsOf: utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in utf8 {
            if byte == UInt8(ascii: "\"") { bytes.append(byte) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
