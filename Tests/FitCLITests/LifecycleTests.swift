import FitFormats
import FitTestSupport
import Foundation
import Testing

/// The model lifecycle (issue #23), through the binary: a chosen checkpoint that predict uses
/// until `promote`, nothing deleted or renumbered, a kill during the choices never leaves them
/// half made, labels that belong, a budget that is a limit, output that streams.
@Suite(.serialized) struct LifecycleTests {
    static func csv(_ cli: CLI, _ sql: String) throws -> String {
        let result = try cli.run("sql", "--format", "csv", sql)
        #expect(result.status == 0, "\(sql): \(result.err)")
        return result.out
    }

    static func bytes(_ cli: CLI, _ name: String) -> Data {
        (try? Data(contentsOf: cli.workdir.appendingPathComponent(name))) ?? Data()
    }

    /// run chooses; tune and blend leave the choice alone (predict writes the same bytes) until
    /// promote; ids stay unique across run, tune, blend and gc --checkpoints.
    @Test func predictUsesTheChosenCheckpointUntilPromote() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let run = try cli.run("run", "--trees", "40")
        #expect(run.status == 0, "\(run.err)")
        let chosen = try Self.csv(cli, "SELECT checkpoint_id FROM chosen_checkpoint ORDER BY id DESC LIMIT 1")
        #expect(try cli.run("predict", "--out", "a.csv").status == 0)
        let afterRun = Self.bytes(cli, "a.csv")
        #expect(afterRun == Self.bytes(cli, "submission.csv"), "predict writes what run wrote")

        let tune = try cli.run("tune", "--budget", "20s", "--trials", "2")
        #expect(tune.status == 0, "\(tune.err)")
        #expect(tune.out.contains("started from the chosen checkpoint"), "\(tune.out)")
        #expect(try cli.run("predict", "--out", "b.csv").status == 0)
        #expect(Self.bytes(cli, "b.csv") == afterRun, "tune changed what predict uses")

        let ids = try Self.csv(cli, "SELECT id FROM checkpoint ORDER BY id").split(separator: "\n").dropFirst().compactMap { Int64($0) }
        let blend = try cli.run("blend", String(ids[0]), String(ids[ids.count - 1]))
        #expect(blend.status == 0, "\(blend.err)")
        #expect(try cli.run("predict", "--out", "c.csv").status == 0)
        #expect(Self.bytes(cli, "c.csv") == afterRun, "blend changed what predict uses")
        #expect(try Self.csv(cli, "SELECT checkpoint_id FROM chosen_checkpoint ORDER BY id DESC LIMIT 1") == chosen)

        // promote changes it, and says what it replaces.
        let other = ids.first { "checkpoint_id\n\($0)\n" != chosen } ?? ids[0]
        let promote = try cli.run("promote", String(other))
        #expect(promote.status == 0 && promote.out.contains("replacing"), "\(promote.out) \(promote.err)")
        let predicted = try cli.run("predict", "--out", "d.csv")
        #expect(predicted.out.contains("checkpoint \(other)"), "\(predicted.out)")
        let listed = try cli.run("checkpoints")
        #expect(listed.out.contains("chosen: checkpoint \(other)") && listed.out.contains("best CV"), "\(listed.out)")
        #expect(listed.out.split(separator: "\n").allSatisfy { $0.count <= 100 }, "checkpoints is wider than 100 columns:\n\(listed.out)")

        // Nothing was deleted to make a choice; gc --checkpoints removes on request, and the
        // ids it frees are never given again.
        let before = try Self.csv(cli, "SELECT MAX(id) FROM checkpoint")
        let gc = try cli.run("gc", "--checkpoints")
        #expect(gc.status == 0 && gc.out.contains("removed"), "\(gc.out) \(gc.err)")
        let retrain = try cli.run("train", "--trees", "7")
        #expect(retrain.status == 0, "\(retrain.err)")
        let newest = try Self.csv(cli, "SELECT MAX(id) FROM checkpoint")
        let (old, new) = (Int(before.split(separator: "\n").last ?? "") ?? 0, Int(newest.split(separator: "\n").last ?? "") ?? 0)
        #expect(new > old, "a checkpoint id was reused: \(old) then \(new)")
        #expect(try cli.run("sql", "DELETE FROM run").status != 0)

        // promote says when the CV it replaces was measured on other folds (another --seed
        // deals them), and not when the folds are the same.
        let sameFolds = try cli.run("promote", String(new))
        #expect(sameFolds.status == 0 && sameFolds.out.contains("replacing") && !sameFolds.out.contains("other folds"), "\(sameFolds.out)")
        #expect(try cli.run("train", "--trees", "7", "--seed", "7").status == 0)
        let reseeded = try Self.csv(cli, "SELECT MAX(id) FROM checkpoint").split(separator: "\n").last.map(String.init) ?? ""
        let otherFolds = try cli.run("promote", reseeded)
        #expect(otherFolds.status == 0 && otherFolds.out.contains("replacing \(new)") && otherFolds.out.contains("other folds, not comparable"),
                "\(otherFolds.out) \(otherFolds.err)")
    }

    /// A kill after the variants are trained but before the choice is recorded: no comparison,
    /// the chosen checkpoint is the data set's first (named as such), and the rerun completes
    /// the decision without training anything. Lines printed before the kill reached the pipe
    /// (stdout is line-buffered even when redirected).
    @Test(arguments: ["choice.first-variant", "run.compared", "choices.writing"])
    func aKilledRunLeavesNoHalfDecisionAndARerunCompletesIt(point: String) throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let killed = try Program.run(CLI.binary, ["run", "--trees", "40"], directory: cli.workdir, environment: ["FITSTORE_KILL_AT": point])
        #expect(killed.status == SIGKILL, "the kill point was not reached: \(killed.error)")
        #expect(killed.output.contains("[1/5] ingest") && killed.output.contains("[4/5] train"),
                "lines printed before the kill were lost (stdout not line-buffered): \(killed.output)")
        #expect(try Self.csv(cli, "SELECT COUNT(*) FROM comparison") == "COUNT(*)\n0\n")
        let first = try Self.csv(cli, "SELECT COUNT(*) FROM chosen_checkpoint WHERE reason = 'the data set''s first checkpoint'")
        #expect(first == "COUNT(*)\n1\n", "\(first)")
        let rerun = try cli.run("run", "--trees", "40")
        #expect(rerun.status == 0, "\(rerun.err)")
        // What was trained before the kill is found again, never trained twice.
        let twice = try Self.csv(cli, "SELECT COUNT(*) FROM (SELECT 1 FROM checkpoint GROUP BY config, training_digest HAVING COUNT(*) > 1)")
        #expect(twice == "COUNT(*)\n0\n", "\(point): the rerun trained again what the killed run had trained")
        #expect(try Self.csv(cli, "SELECT COUNT(*) > 0 FROM comparison") == "COUNT(*) > 0\n1\n")
        let chosen = try Self.csv(cli, "SELECT reason LIKE 'chosen by `fitstore run`%' FROM chosen_checkpoint ORDER BY id DESC LIMIT 1")
        #expect(chosen.hasSuffix("\n1\n"), "\(chosen)")
        // A third run with nothing new writes no comparison and no choice again.
        let comparisons = try Self.csv(cli, "SELECT COUNT(*), (SELECT COUNT(*) FROM chosen_checkpoint) FROM comparison")
        #expect(try cli.run("run", "--trees", "40").status == 0)
        #expect(try Self.csv(cli, "SELECT COUNT(*), (SELECT COUNT(*) FROM chosen_checkpoint) FROM comparison") == comparisons)
    }

    /// The learner's settings chosen by CV (issue #26): both trained on the same folds, the
    /// comparison recorded with fold-by-fold numbers, the kept one chosen; a kill between the
    /// two trainings leaves no comparison and the rerun trains nothing twice. Without the
    /// nested bag (--bag-folds off), for suite time: the candidates are then the fold models,
    /// compared by the same code (`TrainingChoices.asKept`), whose nested side is
    /// TrainingChoicesTests'; the nested bag's per-fold numbers are TrainPredictTests'
    /// (--bag-folds cv).
    @Test func theLearnerIsChosenOnTheSameFoldsAndAKillLeavesNoHalfChoice() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let killed = try Program.run(CLI.binary, ["run", "--trees", "40", "--learner", "cv", "--knn-blend", "off", "--bag-folds", "off"], directory: cli.workdir,
                                     environment: ["FITSTORE_KILL_AT": "choice.learner"])
        #expect(killed.status == SIGKILL, "the kill point was not reached: \(killed.error)")
        #expect(try Self.csv(cli, "SELECT COUNT(*) FROM comparison") == "COUNT(*)\n0\n")
        let run = try cli.run("run", "--trees", "40", "--learner", "cv", "--knn-blend", "off", "--bag-folds", "off")
        #expect(run.status == 0 && run.out.contains("learner: CV RMSE"), "\(run.out)\(run.err)")
        let twice = try Self.csv(cli, "SELECT COUNT(*) FROM (SELECT 1 FROM checkpoint GROUP BY config, training_digest HAVING COUNT(*) > 1)")
        #expect(twice == "COUNT(*)\n0\n", "the rerun trained again what the killed run had trained")
        let rows = try Self.csv(cli, """
            SELECT c.kept_position, cc.position, cc.checkpoint_id, json_array_length(cc.fold_rmse), cc.label
              FROM comparison c JOIN comparison_candidate cc ON cc.comparison_id = c.id WHERE c.kind = 'learner' ORDER BY cc.position
            """).split(separator: "\n").dropFirst().map { $0.split(separator: ",", maxSplits: 4).map(String.init) }
        #expect(rows.count == 2 && rows.allSatisfy { $0.count == 5 && $0[3] == "5" }, "\(rows)")
        #expect(rows.count == 2 && rows[0][4].contains("default settings") && rows[1][4].contains("leaf-wise wide"), "\(rows)")
        // The two candidates are two checkpoints, and the chosen one is the kept candidate's.
        if rows.count == 2, let kept = Int(rows[0][0]), rows.indices.contains(kept) {
            let chosen = try Self.csv(cli, "SELECT checkpoint_id FROM chosen_checkpoint ORDER BY id DESC LIMIT 1")
            #expect(chosen == "checkpoint_id\n\(rows[kept][2])\n", "\(chosen) \(rows)")
            let wide = try Self.csv(cli, "SELECT json_extract(config, '$.boosting.leaves') FROM checkpoint WHERE id = \(rows[1][2])")
            #expect(wide.hasSuffix("\n31\n"), "\(wide)")
            // The wide candidate samples the features as the default candidate does (the
            // fraction and the extras' place), so the comparison is of the trees' size and pace.
            let sampling = "json_extract(config, '$.boosting.featureFraction') || ' ' || json_extract(config, '$.boosting.fixedColumnsInEveryTree')"
            let defaultSampling = try Self.csv(cli, "SELECT \(sampling) AS s FROM checkpoint WHERE id = \(rows[0][2])")
            let wideSampling = try Self.csv(cli, "SELECT \(sampling) AS s FROM checkpoint WHERE id = \(rows[1][2])")
            #expect(defaultSampling == wideSampling && defaultSampling.hasPrefix("s\n0.3"), "\(defaultSampling) \(wideSampling)")
        }
        // Before the learner, the extra columns' place in the sample: both ways on the same
        // folds, and the learner's default candidate trained the way that comparison kept.
        #expect(run.out.contains("extra columns: CV RMSE"), "\(run.out)")
        let extras = try Self.csv(cli, """
            SELECT c.kept_position, cc.checkpoint_id, json_array_length(cc.fold_rmse)
              FROM comparison c JOIN comparison_candidate cc ON cc.comparison_id = c.id WHERE c.kind = 'extras_in_every_tree' ORDER BY cc.position
            """).split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(extras.count == 2 && extras.allSatisfy { $0.count == 3 && $0[2] == "5" && $0[0] == extras[0][0] }, "\(extras)")
        if extras.count == 2, rows.count == 2 {
            let setting = try Self.csv(cli, "SELECT json_extract(config, '$.boosting.fixedColumnsInEveryTree') FROM checkpoint WHERE id = \(rows[0][2])")
            #expect(setting.hasSuffix(extras[0][0] == "0" ? "\n1\n" : "\n0\n"), "\(setting) \(extras)")
        }
        // --learner default: no learner comparison in that run.
        let before = try Self.csv(cli, "SELECT COUNT(*) FROM comparison WHERE kind = 'learner'")
        #expect(try cli.run("run", "--trees", "40", "--learner", "default", "--knn-blend", "off", "--bag-folds", "off").status == 0)
        #expect(try Self.csv(cli, "SELECT COUNT(*) FROM comparison WHERE kind = 'learner'") == before)
    }

    /// Scores that belong: a labels file that labels under half of the test rows is refused,
    /// naming the counts, and the store is unchanged; --partial accepts it; --forget removes.
    @Test func scoresBelongToTheirDataSet() throws {
        let cli = try ReliabilityTests.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        try Data("ID,score\n1,5\n2,7\n".utf8).write(to: cli.workdir.appendingPathComponent("few.csv"))
        let refused = try cli.run("score", "few.csv")
        #expect(refused.status == 1 && refused.err.contains("labels 2 of the 10 test rows") && refused.err.contains("--partial"), "\(refused.err)")
        #expect(try Self.csv(cli, "SELECT COUNT(*) FROM checkpoint_score") == "COUNT(*)\n0\n")
        let partial = try cli.run("score", "few.csv", "--partial")
        #expect(partial.status == 0, "\(partial.err)")
        let id = try Self.csv(cli, "SELECT id FROM checkpoint_score").split(separator: "\n").last.map(String.init) ?? ""
        #expect(try cli.run("score", "--forget", id).status == 0)
        #expect(try Self.csv(cli, "SELECT COUNT(*) FROM checkpoint_score") == "COUNT(*)\n0\n")
        #expect(try cli.run("score", "--forget", "999").err.contains("no stored score 999"))
    }

    /// The budget is a limit: a trial running at it stops after its current round and is not
    /// stored, and tune ends within the budget plus one round. Here a round on 40 rows takes
    /// tens of microseconds, and reading a trial's rows (which the budget counts: the deadline
    /// is checked before each fit) under 0.1 s, so 0.5 s above the budget is five times what
    /// the rule allows. A bare number is refused.
    @Test func tuneKeepsToItsBudget() throws {
        let cli = try ReliabilityTests.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        // A chosen checkpoint whose trials take far longer than the budget (100,000 rounds).
        let chosen = try cli.run("train", "--encoder", "v", "--trees", "100000", "--cv-folds", "2", "--promote")
        #expect(chosen.status == 0, "\(chosen.err)")
        let bare = try cli.run("tune", "--budget", "3")
        #expect(bare.status != 0 && bare.err.contains("budget"), "\(bare.err)")
        let checkpoints = try Self.csv(cli, "SELECT COUNT(*) FROM checkpoint")
        let tune = try cli.run("tune", "--budget", "1s", "--trials", "3")
        #expect(tune.status == 0, "\(tune.err)")
        #expect(tune.out.contains("was stopped at it") && tune.out.contains("it stays"), "\(tune.out)")
        let seconds = tune.out.firstMatch(of: /after ([0-9.]+) s/).flatMap { Double($0.1) } ?? .infinity
        #expect(seconds < 1 + 0.5, "tune took \(seconds) s for a 1 s budget")
        #expect(try Self.csv(cli, "SELECT COUNT(*) FROM checkpoint") == checkpoints, "a stopped trial was stored")
    }
}
