// libFuzzer target: bytes → the three upstream bodies of UPSTREAMS.md (Tests/Fuzz/fuzz.sh).
// Built with -parse-as-library, libFuzzer supplies `main`; built normally, this is a
// replayer: `UpstreamJSONFuzzer FILE...` runs each file through the same checks.
import CouponRankCore
import CouponRankUpstreamJSON

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Whatever parses re-encodes to a body that parses to the same values.
    if let features = try? UpstreamJSON.userFeatures(bytes) {
        let again = reparse("user features") { try UpstreamJSON.userFeatures(StubJSON.features(easyID: "u", features)) }
        guard again == features else { fatalError("user features do not round-trip: \(features) vs \(again)") }
    }
    if let coupons = try? UpstreamJSON.coupons(bytes) {
        let again = reparse("coupons") { try UpstreamJSON.coupons(write(coupons)) }
        guard again == coupons else { fatalError("coupons do not round-trip: \(coupons) vs \(again)") }
    }
    if let stats = try? UpstreamJSON.stats(bytes) {
        let again = reparse("stats") { try UpstreamJSON.stats(StubJSON.stats(easyID: "u", stats)) }
        guard again.couponIDs == stats.couponIDs, again.entries == stats.entries else {
            fatalError("stats do not round-trip: \(stats.couponIDs) \(stats.entries) vs \(again.couponIDs) \(again.entries)")
        }
    }
    return 0
}

func reparse<T>(_ what: String, _ body: () throws -> T) -> T {
    do {
        return try body()
    } catch {
        fatalError("\(what) re-encoded from a parsed body do not parse: \(error)")
    }
}

/// The coupons body with every field, attributes and labels included (StubJSON leaves those out).
func write(_ coupons: [Coupon]) -> [UInt8] {
    var out = "{\"coupons\":["
    for (index, coupon) in coupons.enumerated() {
        if index > 0 { out += "," }
        out += "{\"id\":\(quote(coupon.id)),\"name\":\(quote(coupon.name)),\"category\":\(quote(coupon.category))"
        out += ",\"shop\":\(quote(coupon.shop)),\"discount_rate\":\(coupon.discountRate)"
        out += ",\"min_spend\":\(coupon.minimumSpend),\"days_to_expiry\":\(coupon.daysToExpiry)"
        out += ",\"attributes\":{" + coupon.numericAttributes.map { "\(quote($0.key)):\($0.value)" }.joined(separator: ",") + "}"
        out += ",\"labels\":{" + coupon.labels.map { "\(quote($0.key)):\(quote($0.value))" }.joined(separator: ",") + "}}"
    }
    return Array((out + "]}").utf8)
}

func quote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// The replayer. With -parse-as-library this global is lazy and never read, so nothing runs;
/// in a normal build it is top-level code, run at start.
let replayed: Void = {
    for path in CommandLine.arguments.dropFirst() {
        guard let file = fopen(path, "rb") else { fatalError("cannot open \(path)") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        fclose(file)
        bytes.append(0)  // a valid pointer for an empty input
        _ = bytes.withUnsafeBufferPointer { fuzz($0.baseAddress!, $0.count - 1) }
        print("\(path): ok")
    }
}()

#if FUZZING
// SwiftPM compiles an executable's entry point as `<module>_main` and links `main` to that name;
// -parse-as-library leaves no entry point, so this one hands the process to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("UpstreamJSONFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data, size) }
}
#endif
