// libFuzzer target: bytes → ModelFile.decode, the model document of MODEL.md (Tests/Fuzz/fuzz.sh).
// Built with -parse-as-library, libFuzzer supplies `main`; built normally, this is a
// replayer: `ModelFileFuzzer FILE...` runs each file through the same checks.
import CouponRankCore
import CouponRankModelFile
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let document = Data(bytes: data, count: size)
    guard (try? ModelFile.decode(document)) != nil else { return 0 }
    // A valid document re-encodes to one that parses to the same definition and validates again.
    do {
        let definition = try ModelFile.decodeDefinition(document)
        let encoded = try ModelFile.encode(definition)
        let again = try ModelFile.decodeDefinition(encoded)
        guard again == definition else { fatalError("a valid model document does not round-trip") }
        _ = try ModelFile.decode(encoded)
    } catch {
        fatalError("a valid model document does not round-trip: \(error)")
    }
    return 0
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

@_cdecl("ModelFileFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data, size) }
}
#endif
