import ArgumentParser
import CouponRankCore
import CouponRankModelFile
import CouponRankModelStore
import Foundation

struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Work with eligibility rules documents (proto-spec/RULES.md).",
        subcommands: [
            ValidateRulesCommand.self, PublishRulesCommand.self, ListRulesCommand.self, ShowRulesCommand.self,
            ActivateRulesCommand.self, DeactivateRulesCommand.self,
        ]
    )
}

struct ValidateRulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check a rules document as the engine would before applying it.")

    @Argument(help: "Path of the rules JSON document.")
    var file: String

    func run() throws {
        do {
            let (document, rules) = try RulesFile.load(path: file)
            let caps = document.diversity.map { " diversity max_per_shop=\($0.maximumPerShop ?? 0) max_per_category=\($0.maximumPerCategory ?? 0)" } ?? ""
            print("valid: version \(rules.version), \(rules.ruleNames.count) rules\(caps)")
        } catch {
            print("invalid: \(error)")
            throw ExitCode(1)
        }
    }
}

struct PublishRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Validate a rules document and publish it to Redis (entry first, current pointer last); engines apply it at their next refresh or an admin reload."
    )

    @Argument(help: "Path of the rules JSON document.")
    var file: String

    @Flag(help: "Store the version without making it current.")
    var noActivate = false

    @OptionGroup var store: ModelStoreOptions

    func run() async throws {
        let document = try readDocument(file)
        let rulesStore = try store.makeRulesStore()
        let info = try await storeOperation { () async throws(ModelStoreError) in try await rulesStore.publish(document, activate: !noActivate) }
        print("published rules \(info.version) (\(info.rules) rules, crc32 \(info.crc32))\(info.isCurrent ? "; now current" : "")")
    }
}

struct ListRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List published rules versions, newest first.")

    @OptionGroup var store: ModelStoreOptions

    func run() async throws {
        let rulesStore = try store.makeRulesStore()
        let infos = try await storeOperation { () async throws(ModelStoreError) in try await rulesStore.list() }
        guard !infos.isEmpty else {
            print("no rules published")
            return
        }
        print("  " + [pad("VERSION", 32), pad("RULES", 7), pad("CREATED", 22), "PUBLISHED"].joined())
        for info in infos {
            print((info.isCurrent ? "* " : "  ") + [pad(info.version, 32), pad(String(info.rules), 7), pad(info.createdAt, 22), info.publishedAt].joined())
        }
    }
}

struct ShowRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print one published rules document (the current one by default).")

    @Argument(help: "Version to show.")
    var version: String?

    @OptionGroup var store: ModelStoreOptions

    func run() async throws {
        let rulesStore = try store.makeRulesStore()
        let document = try await storeOperation { () async throws(ModelStoreError) in try await rulesStore.document(version: version) }
        print(String(decoding: document, as: UTF8.self))
    }
}

struct ActivateRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activate",
        abstract: "Make a published rules version current (rollback or roll forward); engines apply it at their next refresh or an admin reload."
    )

    @Argument(help: "Version to make current.")
    var version: String

    @OptionGroup var store: ModelStoreOptions

    func run() async throws {
        let rulesStore = try store.makeRulesStore()
        let previous = try await storeOperation { () async throws(ModelStoreError) in try await rulesStore.currentVersion() }
        try await storeOperation { () async throws(ModelStoreError) in try await rulesStore.activate(version) }
        print("current rules: \(previous ?? "none") → \(version)")
    }
}

struct DeactivateRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deactivate",
        abstract: "Stop applying rules fleet-wide (the published versions are kept for a later activate)."
    )

    @OptionGroup var store: ModelStoreOptions

    func run() async throws {
        let rulesStore = try store.makeRulesStore()
        let previous = try await storeOperation { () async throws(ModelStoreError) in try await rulesStore.currentVersion() }
        try await storeOperation { () async throws(ModelStoreError) in try await rulesStore.deactivate() }
        print("current rules: \(previous ?? "none") → none")
    }
}
