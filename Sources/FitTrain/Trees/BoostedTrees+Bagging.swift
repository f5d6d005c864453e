extension BoostedTrees {
    /// The mean of several additive tree models as one: the mean of their bases, and every
    /// tree of every model with its leaf values divided by the number of models. Its raw score
    /// is the mean of theirs (up to float rounding; clamped once, like any model), so a bag of the CV fold
    /// models is a checkpoint like any other: one flat buffer, predicted by the same walk.
    /// nil when `models` is empty or their inputs differ.
    public static func bagged(_ models: [BoostedTrees]) -> BoostedTrees? {
        guard let first = models.first, models.allSatisfy({ $0.inputs == first.inputs }) else { return nil }
        let share = 1 / Float(models.count)
        var trees: [RegressionTree] = []
        trees.reserveCapacity(models.reduce(0) { $0 + $1.trees.count })
        var base: Float = 0
        for m in models {
            base += m.base * share
            for var t in m.trees {
                for i in t.value.indices { t.value[i] *= share }
                trees.append(t)
            }
        }
        return BoostedTrees(base: base, trees: trees, inputs: first.inputs)
    }
}
