// libFuzzer target: bytes → FrameDecoder → frames → each frame's message (Tests/Fuzz/fuzz.sh).
// Built with -parse-as-library, libFuzzer supplies `main`; built normally, this is a
// replayer: `FrameDecoderFuzzer FILE...` runs each file through the same checks.
import CouponRankWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    var buffer = ByteBuffer(bytes: input)
    var decoder = FrameDecoder(limits: WireLimits(maximumFrameSize: 1 << 16))
    while true {
        let start = buffer.readerIndex
        let frame: Frame?
        do {
            frame = try decoder.decode(buffer: &buffer)
        } catch {
            return 0  // a fatal stream error: fine, the connection closes
        }
        guard let frame else {
            _ = try? decoder.decodeLast(buffer: &buffer, seenEOF: true)
            return 0
        }
        // The frame re-encodes to the bytes it came from, but for the reserved field (written 0).
        var original = Array(input[start..<buffer.readerIndex])
        original[10] = 0
        original[11] = 0
        var again = ByteBuffer()
        again.writeFrame(frame.header) { $0.writeImmutableBuffer(frame.payload) }
        guard Array(again.readableBytesView) == original else {
            fatalError("frame at byte \(start) does not re-encode to its bytes")
        }
        checkMessage(frame)
    }
}

/// A payload that decodes re-encodes to a payload that decodes to the same encoding.
func checkMessage(_ frame: Frame) {
    switch frame.header.messageType {
    case .rankRequest: roundTrip(RankRequest.self, frame.payload)
    case .healthRequest: roundTrip(HealthRequest.self, frame.payload)
    case .rewardRequest: roundTrip(RewardRequest.self, frame.payload)
    case .adminReloadRequest: roundTrip(AdminReloadRequest.self, frame.payload)
    case .adminExplorationRequest: roundTrip(AdminExplorationRequest.self, frame.payload)
    case .rankResponse: roundTrip(RankResponse.self, frame.payload)
    case .healthResponse: roundTrip(HealthResponse.self, frame.payload)
    case .rewardResponse: roundTrip(RewardResponse.self, frame.payload)
    case .adminReloadResponse: roundTrip(AdminReloadResponse.self, frame.payload)
    case .adminExplorationResponse: roundTrip(AdminExplorationResponse.self, frame.payload)
    case .error: roundTrip(ErrorResponse.self, frame.payload)
    default: break
    }
}

func roundTrip<Message: WireMessage>(_ type: Message.Type, _ payload: ByteBuffer) {
    var payload = payload
    guard let message = try? Message(payload: &payload) else { return }
    var encoded = ByteBuffer()
    message.encode(into: &encoded)
    var reread = encoded
    let again: Message
    do {
        again = try Message(payload: &reread)
    } catch {
        fatalError("\(Message.self) re-encoded from a decoded payload does not decode: \(error)")
    }
    guard reread.readableBytes == 0 else {
        fatalError("\(Message.self) leaves \(reread.readableBytes) bytes of its own encoding unread")
    }
    var encodedAgain = ByteBuffer()
    again.encode(into: &encodedAgain)
    guard encodedAgain == encoded else {
        fatalError("\(Message.self) does not re-encode to the same bytes after a round trip")
    }
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

@_cdecl("FrameDecoderFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data, size) }
}
#endif
