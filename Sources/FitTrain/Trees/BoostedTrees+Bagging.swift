extension BoostedTrees {
    /// The mean of several additive tree models as one: the mean of their bases, and every
    /// tree of every model with its leaf values divided by the number of models. Its raw score
    /// is the mean of theirs (up to float rounding; clamped once, like any model), so a bag of the CV fold
    /// models is a checkpoint like any other: one flat buffer, predicted by the same walk.
    /// Each member's encodings come along, and its trees' splits on them are renumbered to
    /// the bag's columns for them.
    /// nil when `models` is empty or their inputs differ.
    public static func bagged(_ models: [BoostedTrees]) -> BoostedTrees? {
        guard let first = models.first, models.allSatisfy({ $0.inputs == first.inputs }) else { return nil }
        let share = 1 / Float(models.count)
        let inputs = first.inputs
        var trees: [RegressionTree] = []
        trees.reserveCapacity(models.reduce(0) { $0 + $1.trees.count })
        var encodings: [GroupMeanEncoding] = []
        var base: Float = 0
        for m in models {
            base += m.base * share
            let offset = Int32(encodings.count)
            for var t in m.trees {
                for i in t.value.indices { t.value[i] *= share }
                for i in t.feature.indices {
                    if t.feature[i] >= Int32(inputs) { t.feature[i] += offset }
                    if t.feature[i] < -1, RegressionTree.categoricalColumn(t.feature[i]) >= inputs {
                        t.feature[i] = RegressionTree.categoricalFeature(column: RegressionTree.categoricalColumn(t.feature[i]) + Int(offset))
                    }
                }
                trees.append(t)
            }
            encodings += m.encodings
        }
        return BoostedTrees(base: base, trees: trees, inputs: inputs, encodings: encodings)
    }
}
