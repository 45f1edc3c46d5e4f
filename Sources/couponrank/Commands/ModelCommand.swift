import ArgumentParser
import CouponRankCore
import CouponRankModelFile
import CouponRankModelStore
import CouponRankSources
import Foundation

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Work with model documents.",
        subcommands: [
            PublishModelCommand.self, ListModelsCommand.self, ShowModelCommand.self, ActivateModelCommand.self,
            ValidateModelCommand.self, SynthesizeModelCommand.self,
        ]
    )
}

struct ValidateModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a model document as the engine would before serving it."
    )

    @Argument(help: "Path of the model JSON document.")
    var file: String

    func run() throws {
        do {
            let model = try ModelFile.load(path: file)
            print("valid: version \(model.version), \(model.kind.rawValue), d=\(model.dimension), \(model.definition.features.features.count) features")
        } catch {
            print("invalid: \(error)")
            throw ExitCode(1)
        }
    }
}

struct SynthesizeModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthesize",
        abstract: "Fit a LinUCB model on simulated impressions of the stub data (how the bundled model was made)."
    )

    @Option(help: "Where to write the model document.")
    var out: String

    @Option(help: "Simulated users.")
    var users = 4000

    @Option(help: "Impressions per simulated user.")
    var impressions = 25

    @Option(help: "LinUCB exploration weight α.")
    var alpha = 0.25

    @Option(help: "Ridge λ of A = λI + Σxxᵀ.")
    var ridge = 1.0

    @Option(help: "Seed of the simulation.")
    var seed: UInt64 = 7

    @Option(help: "Version id of the new model.")
    var version = "bundled-linucb-2026-11-24"

    func run() throws {
        let generator = StubDataGenerator()
        let schema = try CompiledSchema(BundledModel.schema)
        var accumulator = LinUCBAccumulator(dimension: schema.dimension, ridge: ridge)
        var rng = SplitMix64(seed: seed)
        var clicks = 0
        for _ in 0..<users {
            let easyID = String(rng.next() % 10_000_000)
            let user = generator.userFeatures(for: easyID)
            let candidates = generator.candidates(for: easyID)
            guard !candidates.isEmpty else { continue }
            let stats = generator.stats(for: easyID)
            let shown = (0..<impressions).map { _ in candidates[Int(rng.next() % UInt64(candidates.count))] }
            let contexts = schema.makeContexts(user: user, candidates: shown, stats: stats)
            for (row, coupon) in shown.enumerated() {
                let clicked = rng.unit() < generator.clickProbability(user: user, coupon: coupon)
                clicks += clicked ? 1 : 0
                accumulator.observe(contexts.denseRow(row), reward: clicked ? 1 : 0)
            }
        }
        let (theta, aInverse) = try accumulator.solve()
        let definition = ModelDefinition(
            version: version,
            createdAt: "2026-11-24T00:00:00Z",
            kind: .linucb,
            alpha: alpha,
            features: BundledModel.schema,
            theta: theta,
            aInverse: aInverse
        )
        _ = try ScoringModel(definition)
        try ModelFile.encode(definition).write(to: URL(fileURLWithPath: out))
        print("wrote \(out): \(accumulator.observations) impressions, \(clicks) clicks, d=\(schema.dimension)")
    }
}
