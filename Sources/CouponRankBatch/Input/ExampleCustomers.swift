public import CouponRankSources
import Foundation

/// Example customer files: easy_ids `1000000`, `1000001`, …, and optionally the stub users'
/// features as columns (the same values the stub user-features source gives, so ranking the file
/// with or without its feature columns gives the same offers).
public enum ExampleCustomers {
    /// The columns read as numbers in a file with features.
    public static let numericColumns = ["age", "tenure_days", "purchases_90d", "avg_order_value"]
    public static let categoricalColumns = ["segment", "preferred_category", "device", "region"]

    public static func easyID(_ index: Int) -> String { String(1_000_000 + index) }

    /// Writes `rows` customers to `path`; with `features`, the user features of `features`' users.
    public static func write(rows: Int, features: StubDataGenerator?, to path: String) throws(BatchError) {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw BatchError(.output, "cannot create \(path)")
        }
        defer { try? handle.close() }
        var bytes: [UInt8] = []
        let header = features == nil ? ["easy_id"] : ["easy_id"] + numericColumns + categoricalColumns
        bytes.append(contentsOf: header.joined(separator: ",").utf8)
        bytes.append(UInt8(ascii: "\n"))
        do {
            for index in 0..<rows {
                let easyID = easyID(index)
                bytes.append(contentsOf: easyID.utf8)
                if let features {
                    let user = features.userFeatures(for: easyID)
                    for name in numericColumns {
                        bytes.append(UInt8(ascii: ","))
                        if let value = user.numeric[name] { bytes.append(contentsOf: value.description.utf8) }
                    }
                    for name in categoricalColumns {
                        bytes.append(UInt8(ascii: ","))
                        if let value = user.categorical[name] { OfferCSV.appendField(value, to: &bytes) }
                    }
                }
                bytes.append(UInt8(ascii: "\n"))
                if bytes.count >= 1 << 20 {
                    try handle.write(contentsOf: bytes)
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            try handle.write(contentsOf: bytes)
        } catch {
            throw BatchError(.output, "cannot write \(path)", underlying: error)
        }
    }
}
