public import CouponRankCore

extension CustomerColumns {
    /// Feature columns that will not reach the model as the file intends: a column the model's
    /// schema never reads (`user.<name>`), or one read as the other kind (a categorical column
    /// the model reads as a number is a missing number to it, and the reverse). One sentence each.
    public func mismatches(with schema: FeatureSchema) -> [String] {
        var numeric = Set<String>()
        var categorical = Set<String>()
        func user(_ field: String) -> String? {
            field.hasPrefix("user.") ? String(field.dropFirst("user.".count)) : nil
        }
        for spec in schema.features {
            switch spec {
            case .bias: break
            case .numeric(let field, _, _, _):
                user(field).map { _ = numeric.insert($0) }
            case .product(let left, let right, _, _, _):
                for field in [left, right] { user(field).map { _ = numeric.insert($0) } }
            case .oneHot(let field, _), .hashed(let field, _):
                user(field).map { _ = categorical.insert($0) }
            case .cross(let left, let right, _):
                for field in [left, right] { user(field).map { _ = categorical.insert($0) } }
            }
        }
        return features.compactMap { feature in
            switch feature.kind {
            case .categorical where numeric.contains(feature.name) && !categorical.contains(feature.name):
                "column \(feature.name) is read as text, but the model reads user.\(feature.name) as a number: list it in --numeric-columns"
            case .numeric where categorical.contains(feature.name) && !numeric.contains(feature.name):
                "column \(feature.name) is read as a number, but the model reads user.\(feature.name) as a category"
            case _ where !numeric.contains(feature.name) && !categorical.contains(feature.name):
                "column \(feature.name): the model reads no user.\(feature.name), so it does not change the ranking"
            default:
                nil
            }
        }
    }
}
