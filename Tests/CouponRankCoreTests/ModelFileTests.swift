import CouponRankCore
import CouponRankModelFile
import Foundation
import Testing

@Suite struct ModelFileTests {
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("proto-spec/examples")

    @Test func theWorkedExampleOfModelMDScoresAsTheDocumentSays() throws {
        let model = try ModelFile.load(path: Self.examples.appendingPathComponent("tiny-model.json").path)
        #expect(model.version == "tiny-1")
        let batch = model.schema.makeContexts(
            user: UserFeatures(numeric: ["x": 5]),
            candidates: [coupon("C1", discount: 0.5)],
            stats: .empty
        )
        #expect(batch.denseRow(0) == [1, 2, 0.5])
        let scored = model.score(batch)
        #expect(abs(scored.scores[0] - 0.91972708645) < 1e-10)
        #expect(scored.probabilities[0] == 0)
    }

    @Test func theBundledModelIsAValidLinUCBModelOverSixtyFourColumns() throws {
        let model = try BundledModel.load()
        #expect(model.kind == .linucb)
        #expect(model.dimension == 64)
        #expect(model.definition.features == BundledModel.schema)
    }

    @Test(arguments: [
        ("not json", "missing"),
        (#"{"version":"v","created_at":"t","kind":"forest","features":[],"theta":[]}"#, "kind"),
        (#"{"version":"v","created_at":"t","kind":"logistic","features":[{"kind":"bias"}],"theta":[1,2]}"#, "theta"),
        (#"{"version":"v","created_at":"t","kind":"logistic","features":[{"kind":"magic"}],"theta":[1]}"#, "features"),
        (#"{"version":"v","created_at":"t","kind":"linucb","features":[{"kind":"bias"}],"theta":[1]}"#, "a_inverse"),
    ])
    func brokenDocumentsAreRefusedWithAMessage(document: String, mentions: String) {
        do {
            _ = try ModelFile.decode(Data(document.utf8))
            Issue.record("accepted a broken document")
        } catch {
            #expect(!error.description.isEmpty)
            if mentions != "missing" { #expect(error.description.contains(mentions), "\(error)") }
        }
    }
}
