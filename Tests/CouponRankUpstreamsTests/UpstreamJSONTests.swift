import CouponRankCore
import CouponRankTestSupport
import CouponRankUpstreamJSON
import CouponRankUpstreams
import Testing

@Suite struct UpstreamJSONTests {
    @Test func whatTheStubsWriteDecodesToTheGeneratorsData() throws {
        let generator = TestServer.generator
        for id in ["1", "12345", "ä \"quoted\" user"] {
            #expect(try UpstreamJSON.userFeatures(StubJSON.features(easyID: id, generator.userFeatures(for: id))) == generator.userFeatures(for: id))
            #expect(try UpstreamJSON.coupons(StubJSON.coupons(easyID: id, generator.candidates(for: id))) == generator.candidates(for: id))
            let stats = try UpstreamJSON.stats(StubJSON.stats(easyID: id, generator.stats(for: id)))
            #expect(stats.byCouponID == generator.stats(for: id).byCouponID)
        }
    }

    @Test func escapesUnicodeUnknownFieldsAndWhitespaceAreHandled() throws {
        let body = #"""
            { "easy_id" : "u", "extra": {"nested": [1, 2.5e3, true, null, "x"]},
              "coupons": [ { "id": "C\u00e91", "name": "\ud83c\udf89 sale\n\"big\"", "category": "b\/c", "shop": "s",
                             "discount_rate": 0.25, "min_spend": 1E3, "days_to_expiry": -0.5,
                             "attributes": {"stock": 12}, "labels": {"campaign": "w"}, "future": {"a": [[]]} } ] }
            """#
        let coupons = try UpstreamJSON.coupons(Array(body.utf8))
        #expect(coupons.count == 1)
        #expect(coupons[0].id == "Cé1")
        #expect(coupons[0].name == "🎉 sale\n\"big\"")
        #expect(coupons[0].category == "b/c")
        #expect(coupons[0].minimumSpend == 1000)
        #expect(coupons[0].daysToExpiry == -0.5)
        #expect(coupons[0].numericAttributes == ["stock": 12])
        #expect(coupons[0].labels == ["campaign": "w"])
    }

    @Test(arguments: [
        "",
        "{",
        #"{"coupons": [}"#,
        #"{"coupons": []} trailing"#,
        #"{"other": 1}"#,
        #"{"coupons": [{"id": "C1"}]}"#,
        #"{"coupons": [{"id": "C1", "name": "n", "category": "c", "shop": "s", "discount_rate": "0.1", "min_spend": 1, "days_to_expiry": 1}]}"#,
        #"{"coupons": [{"id": "C1\u12"}]}"#,
        #"{"coupons": [{"id": "\ud800"}]}"#,
        #"{"coupons": [], "x": tru}"#,
        #"{"coupons": [], "x": 1e999}"#,
        "{\"coupons\": [], \"x\": \"\u{01}\"}",
        String(repeating: "[", count: 100),
        // Issue 11: numbers outside RFC 8259's grammar were accepted.
        #"{"coupons": [], "x": +63}"#,
        #"{"coupons": [], "x": 007}"#,
        #"{"coupons": [], "x": +0.5}"#,
        #"{"coupons": [], "x": .5}"#,
        #"{"coupons": [], "x": 5.}"#,
        #"{"coupons": [], "x": 1e}"#,
        #"{"coupons": [], "x": -}"#,
        #"{"coupons": [], "x": 1-2}"#,
    ])
    func malformedBodiesAreRejected(body: String) {
        #expect(throws: JSONError.self) { try UpstreamJSON.coupons(Array(body.utf8)) }
    }

    /// Issue 11: a null label or attribute failed the whole rank (and counted against the breaker).
    @Test func nullValuesInOpenObjectsAreMissingFields() throws {
        let body = #"""
            {"coupons": [{"id": "C1", "name": "n", "category": "c", "shop": "s", "discount_rate": 0.1, "min_spend": 1,
              "days_to_expiry": 1, "attributes": {"stock": null, "weight": 2}, "labels": {"campaign": null, "tier": "gold"}}]}
            """#
        let coupons = try UpstreamJSON.coupons(Array(body.utf8))
        #expect(coupons[0].numericAttributes == ["weight": 2])
        #expect(coupons[0].labels == ["tier": "gold"])
        let features = try UpstreamJSON.userFeatures(Array(#"{"numeric": {"age": null, "x": 1}, "categorical": {"segment": null}}"#.utf8))
        #expect(features == UserFeatures(numeric: ["x": 1], categorical: [:]))
    }

    @Test(arguments: ["0", "-0", "10", "0.5", "-1.25e3", "1E+2", "2e-3", "123456789012345678"])
    func everyNumberOfTheJSONGrammarIsRead(text: String) throws {
        let features = try UpstreamJSON.userFeatures(Array(#"{"numeric": {"x": \#(text)}}"#.utf8))
        #expect(features.numeric["x"] == Double(text))
    }

    @Test func invalidUTF8IsRejected() {
        let body: [UInt8] = Array(#"{"coupons": [{"id": ""#.utf8) + [0xFF, 0xFE] + Array(#""}]}"#.utf8)
        #expect(throws: JSONError.self) { try UpstreamJSON.coupons(body) }
    }
}
