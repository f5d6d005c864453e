import ArgumentParser
import FitPipeline
import Foundation

struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints",
        abstract: "List a data set's checkpoints with their CV and test RMSE, or compare two.",
        discussion: """
            One line per checkpoint: model, profile, encoders, feature columns, synthetic generators trained on, CV RMSE on real rows (and the per-metric-mean baseline's), test RMSE where `fitstore score` scored it, training time and weight size. `predict --checkpoint N` predicts with any of them.

            --compare A B shows what differs: every setting (model, boosting or network, features, origins, CV folds), whether they saw the same training rows (the training digest), and CV RMSE per metric, ordered by each metric's share of the squared error.

            Examples:
              fitstore checkpoints
              fitstore checkpoints --compare 1 3
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Data set (default: the one ingested last).") var dataset: String?
    @Option(parsing: .upToNextOption, help: ArgumentHelp("Two checkpoint ids to compare.", valueName: "id"))
    var compare: [Int64] = []
    @Option(help: "Metrics to list in a comparison (0: all).") var metrics: Int = 15
    @Flag(help: "Every column (profile, feature columns, synthetic generators, baseline, training time, size); without it the list fits 100 columns.")
    var wide = false

    func validate() throws {
        guard compare.isEmpty || compare.count == 2 else { throw ValidationError("--compare takes two checkpoint ids, got \(compare.count)") }
    }

    func run() throws {
        let store = try storeOptions.open(.readOnly)
        let dataset = try DatasetResolver.resolve(store, name: dataset)
        let list = CheckpointList(store: store)
        let f4 = { (v: Float?) in v.map { String(format: "%.4f", $0) } ?? "–" }
        if compare.count == 2 {
            let c = try list.compare(dataset: dataset, compare[0], compare[1])
            print("checkpoint \(c.a.id) vs \(c.b.id) (\(dataset))")
            TableFormatter.printTable(
                columns: ["", "\(c.a.id)", "\(c.b.id)"],
                rows: [["model", c.a.modelLabel, c.b.modelLabel], ["encoders", c.a.encoders, c.b.encoders],
                       ["feature columns", "\(c.a.featureColumns)", "\(c.b.featureColumns)"],
                       ["synthetic", c.a.synthetic.joined(separator: ",").ifEmpty("none"), c.b.synthetic.joined(separator: ",").ifEmpty("none")],
                       ["CV RMSE", f4(c.a.cvRMSE), f4(c.b.cvRMSE)],
                       ["test RMSE", c.a.test.map { String(format: "%.4f", $0.rmse) } ?? "–", c.b.test.map { String(format: "%.4f", $0.rmse) } ?? "–"]],
                rightAligned: [])
            print("")
            print(c.sameRows ? "training rows: the same (equal training digests)" : "training rows: different (training digests differ)")
            switch CheckpointList.sameFolds(c.a.folds, c.b.folds) {
            case true?: print("CV folds: the same (each row held out by the same fold): the CV RMSEs are paired")
            case false?: print("CV folds: different (another --seed, --cv-folds or --cv-groups): the CV RMSEs are not comparable")
            case nil: print("CV folds: unknown (a checkpoint kept no out-of-fold predictions)")
            }
            print("")
            if c.settings.isEmpty {
                print("settings: identical")
            } else {
                print("settings that differ:")
                TableFormatter.printTable(columns: ["setting", "\(c.a.id)", "\(c.b.id)"],
                                          rows: c.settings.map { [$0.path, $0.a ?? "(absent)", $0.b ?? "(absent)"] }, rightAligned: [])
            }
            let shown = metrics == 0 ? c.perMetric : Array(c.perMetric.prefix(metrics))
            if !shown.isEmpty {
                print("")
                print("CV RMSE per metric (\(shown.count) of \(c.perMetric.count), by share of the squared error):")
                TableFormatter.printTable(columns: ["metric", "\(c.a.id)", "\(c.b.id)", "difference"],
                                          rows: shown.map { m in
                                              let difference = m.a.flatMap { a in m.b.map { String(format: "%+.4f", $0 - a) } } ?? "–"
                                              return [m.metric, f4(m.a), f4(m.b), difference]
                                          },
                                          rightAligned: [1, 2, 3])
            }
            return
        }
        let entries = try list.entries(dataset: dataset)
        guard !entries.isEmpty else {
            print("data set \(dataset) has no checkpoint yet: `fitstore train` makes one")
            return
        }
        let comparable = CheckpointList.comparability(entries)
        let note = { (e: CheckpointList.Entry) in
            ([e.chosen ? "chosen" : e.comparisons.isEmpty ? nil : "not chosen", e.id == comparable.best ? "best CV" : nil,
              comparable.otherFolds.contains(e.id) ? "other folds" : nil].compactMap { $0 }).joined(separator: ", ")
        }
        if wide {
            TableFormatter.printTable(
                columns: ["id", "created", "model", "profile", "encoders", "columns", "synthetic", "CV RMSE", "CV per-metric mean", "test RMSE", "train s", "weights", "note"],
                rows: entries.map { e in
                    [ "\(e.id)", String(e.createdAt.prefix(19)), e.modelLabel, e.profile ?? "–", e.encoders, e.featureColumns > 0 ? "\(e.featureColumns)" : "–",
                      e.synthetic.isEmpty ? "none" : e.synthetic.joined(separator: ","), f4(e.cvRMSE), f4(e.cv?.perMetricMeanRMSE),
                      e.test.map { String(format: "%.4f (%d rows)", $0.rmse, $0.rows) } ?? "–",
                      e.seconds.map { String(format: "%.1f", $0) } ?? "–", ByteCountFormatter.string(fromByteCount: Int64(e.weightBytes), countStyle: .file),
                      note(e) + (e.comparisons.isEmpty ? "" : " (" + e.comparisons.joined(separator: "; ") + ")") ]
                },
                rightAligned: [0, 5, 7, 8, 9, 10, 11])
        } else {
            // Fits 100 columns: long encoder names and labels are cut (--wide shows them whole).
            TableFormatter.printTable(
                columns: ["id", "model", "encoders", "CV RMSE", "test RMSE", "note"],
                rows: entries.map { e in
                    ["\(e.id)", e.modelLabel, e.encoders, f4(e.cvRMSE), e.test.map { String(format: "%.4f", $0.rmse) } ?? "–", note(e)]
                },
                rightAligned: [0, 3, 4], maxWidth: 24)
        }
        if let chosen = entries.first(where: \.chosen) {
            print("chosen: checkpoint \(chosen.id)\(chosen.cvRMSE.map { String(format: " (CV %.4f)", $0) } ?? "") for predict, score, report")
        }
        if !comparable.otherFolds.isEmpty {
            // Within the list's 100 columns; the table marks which checkpoints.
            print("other folds: cross-validated in other folds than " + (entries.first(where: \.chosen)?.folds != nil ? "the chosen checkpoint" : "most checkpoints")
                  + " (another --seed,")
            print("  --cv-folds or --cv-groups), so their CV RMSE is not comparable: the fold partition alone")
            print("  moves CV by about 1% (docs/results.md). The same --seed and --cv-groups make it comparable.")
        }
        for e in entries { if let damage = e.damage { print("damaged: \(damage)") } }
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
