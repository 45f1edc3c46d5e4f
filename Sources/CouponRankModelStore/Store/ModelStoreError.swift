/// Why a model store operation failed.
public struct ModelStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case redis, notFound, corrupt, invalid, conflict
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Redis is unreachable or failed.
        public static let redis = Code(.redis)
        /// No such version, or no current version.
        public static let notFound = Code(.notFound)
        /// The entry is incomplete or its checksum does not match.
        public static let corrupt = Code(.corrupt)
        /// The document fails validation (MODEL.md §4).
        public static let invalid = Code(.invalid)
        /// The version is already published; entries are immutable.
        public static let conflict = Code(.conflict)

        public var description: String {
            switch base {
            case .redis: "redis"
            case .notFound: "not found"
            case .corrupt: "corrupt"
            case .invalid: "invalid"
            case .conflict: "conflict"
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
