import CouponRankEngine
import Testing

@Suite struct EventIDTests {
    @Test func madeIDsAreTimeOrderedUUIDv7sThatNeverRepeat() {
        let millis: Int64 = 1_764_072_000_123
        let ids = (0..<20_000).map { _ in EventID.make(unixMillis: millis) }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            #expect(id.utf8.count == 36 && EventID.isValid(id))
            let parts = id.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
            #expect(parts[2].first == "7", "version 7")
            #expect("89ab".contains(parts[3].first!), "RFC 9562 variant")
            #expect(EventID.unixMillis(ofUUIDv7: id) == millis)
        }
        #expect(EventID.make(unixMillis: millis) < EventID.make(unixMillis: millis + 1))
    }

    @Test func callerIDsAreBoundedToTheDocumentedAlphabet() {
        #expect(EventID.isValid("page-view_42:a.b"))
        #expect(EventID.isValid(String(repeating: "x", count: 64)))
        #expect(!EventID.isValid(""))
        #expect(!EventID.isValid(String(repeating: "x", count: 65)))
        #expect(!EventID.isValid("with space"))
        #expect(!EventID.isValid("ümlaut"))
        #expect(EventID.unixMillis(ofUUIDv7: "page-view_42") == nil)
    }
}
