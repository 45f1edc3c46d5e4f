import CouponRankCore
import Testing

@Suite struct ModelValidationTests {
    private func definition(
        kind: ModelKind = .linucb,
        theta: [Double] = [0.5, -1, 2],
        aInverse: [Double] = [2, 0.5, 0, 0.5, 1, 0, 0, 0, 0.25],
        alpha: Double = 0.5
    ) -> ModelDefinition {
        ModelDefinition(
            version: "v",
            createdAt: "2026-11-24T00:00:00Z",
            kind: kind,
            alpha: alpha,
            features: tinySchema,
            theta: theta,
            aInverse: aInverse
        )
    }

    @Test func aValidModelIsAccepted() throws {
        let model = try ScoringModel(definition())
        #expect(model.dimension == 3)
    }

    @Test(arguments: [
        ("theta length", [0.5, -1] as [Double], [2, 0.5, 0, 0.5, 1, 0, 0, 0, 0.25] as [Double]),
        ("non-finite theta", [0.5, .nan, 2], [2, 0.5, 0, 0.5, 1, 0, 0, 0, 0.25]),
        ("A⁻¹ not square", [0.5, -1, 2], [2, 0.5, 0, 0.5]),
        ("A⁻¹ asymmetric", [0.5, -1, 2], [2, 0.5, 0, 0.4, 1, 0, 0, 0, 0.25]),
        ("A⁻¹ non-finite", [0.5, -1, 2], [2, 0.5, 0, 0.5, .infinity, 0, 0, 0, 0.25]),
        ("A⁻¹ negative diagonal", [0.5, -1, 2], [-2, 0.5, 0, 0.5, 1, 0, 0, 0, 0.25]),
    ])
    func brokenLinUCBParametersAreRejected(reason: String, theta: [Double], aInverse: [Double]) {
        #expect(throws: ModelError.self, "\(reason)") { try ScoringModel(definition(theta: theta, aInverse: aInverse)) }
    }

    @Test func negativeAlphaIsRejected() {
        #expect(throws: ModelError.self) { try ScoringModel(definition(alpha: -1)) }
    }

    @Test func aLogisticModelWithACovarianceIsRejected() {
        #expect(throws: ModelError.self) { try ScoringModel(definition(kind: .logistic)) }
    }
}
