/// Why a pipeline step cannot go on, each case with what to do about it. (Failures of the
/// store itself are `StoreError`s; bad input files are the format errors that name file,
/// record and field.)
public enum PipelineError: Error, CustomStringConvertible, Sendable {
    /// Texts need vectors and the model that makes them is not on this machine.
    case modelMissing(path: String, textsWithoutVectors: Int, encoder: String)
    /// The store holds no data set yet.
    case noDataset
    case unknownDataset(name: String, known: [String])
    case tooFewTrainingRows(dataset: String, rows: Int, needed: Int)
    case noCheckpoint(dataset: String)
    case unknownCheckpoint(id: Int64, dataset: String, known: [Int64])
    /// A checkpoint whose stored settings or weights cannot make its model.
    case checkpointDamaged(id: Int64, reason: String)
    case featureWidthMismatch(checkpoint: Int64, expected: Int, got: Int)
    /// No vector under this encoder at all.
    case noVectors(encoder: String)
    /// `tune` cannot run with these settings.
    case badTune(reason: String)
    /// `predict --input`: texts of the file have no stored vector and cannot be embedded here.
    case inputCannotBeEmbedded(file: String, texts: Int, encoder: String, reason: String)
    /// The model cannot be trained on these features, and why.
    case badModel(model: String, reason: String)
    /// Checkpoints that cannot be blended, and why.
    case badBlend(reason: String)
    /// A labels or metadata file for `score` that cannot be used.
    case badLabels(path: String, line: Int?, reason: String)
    /// `score` has nothing to compare.
    case nothingToScore(dataset: String, reason: String)
    /// No checkpoint of the data set was trained on exactly these encoders.
    case noCheckpointForEncoders(dataset: String, encoders: [String])
    /// Some of the rows a step needs have no vector under the encoder.
    case missingVectors(count: Int, encoder: String, example: String)
    /// Suggesting substitutes needs vectors for at least two metrics.
    case tooFewMetricVectors(dataset: String, count: Int)
    /// A re-ingest that would retire much of a split, without --replace.
    case ingestWouldRetire(dataset: String, file: String, split: String, retiring: Int, active: Int, records: Int)
    /// `--encoder NAME` that the store does not have.
    case unknownEncoder(name: String, known: [String])
    /// Texts lack vectors of an encoder whose vectors are imported.
    case vectorsToImport(encoder: String, texts: Int)
    /// Vectors can be imported only under an encoder that holds imported vectors.
    case encoderNotImported(name: String, source: String)
    /// `encoders add NAME DIR` with a NAME the store already uses for other vectors.
    case encoderNameTaken(name: String, source: String, path: String?)
    /// A folder encoder's files changed since `encoders add`: its vectors would not be the same.
    case folderChanged(name: String, path: String)
    /// A folder encoder's stored settings cannot be read.
    case encoderDamaged(name: String, reason: String)
    /// `--precision` asked of an encoder whose precision is fixed otherwise (a folder encoder's
    /// at `encoders add`, imported vectors').
    case precisionFixed(name: String, has: String, asked: String)
    /// `augment --drop NAME` with a NAME that has no rows.
    case unknownGenerator(name: String, dataset: String, present: [String])
    /// Checkpoints exist on these encoders, but concatenated in another order.
    case encoderOrder(dataset: String, encoders: [String])
    /// A training stopped at its deadline (`tune`'s budget); nothing was stored.
    case budgetReached
    /// `score --forget` with an id that is not a stored score.
    case unknownScore(id: Int64, known: [Int64])
    /// An `--encoder` list that cannot be used here.
    case badEncoderList(list: String, reason: String)
    /// An output path that is the store, one of its companion files, or a link to one.
    case outputIsStore(option: String, output: String, store: String, role: String, file: String)

    public var description: String {
        switch self {
        case .modelMissing(let path, let count, let encoder):
            "\(count) text(s) in use have no vector under encoder \(encoder), and the model file \(path) is missing: "
                + "run tools/setup (it fetches the model), or point --model-file at a copy"
        case .noDataset:
            "the store holds no data set: run `fitstore ingest DIR` (or `fitstore demo`) first"
        case .unknownDataset(let name, let known):
            "no data set '\(name)' in the store" + (known.isEmpty ? " (it has none: run `fitstore ingest DIR`)" : " (it has: \(known.joined(separator: ", ")))")
        case .tooFewTrainingRows(let dataset, let rows, let needed):
            "data set '\(dataset)' has \(rows) training row(s); training needs at least \(needed): ingest a train_data.json with more records"
        case .noCheckpoint(let dataset):
            "no checkpoint for data set '\(dataset)': run `fitstore train` first"
        case .unknownCheckpoint(let id, let dataset, let known):
            "no checkpoint \(id) for data set '\(dataset)'"
                + (known.isEmpty ? " (it has none: run `fitstore train`)" : " (its checkpoints: \(known.map(String.init).joined(separator: ", ")))")
        case .checkpointDamaged(let id, let reason):
            "checkpoint \(id) is damaged: \(reason); train a new one with `fitstore train`"
        case .featureWidthMismatch(let checkpoint, let expected, let got):
            "checkpoint \(checkpoint) expects \(expected) features per row; the store gives \(got) (another encoder or feature set?): train a new checkpoint"
        case .noCheckpointForEncoders(let dataset, let encoders):
            "data set '\(dataset)' has no checkpoint trained on the vectors of \(encoders.joined(separator: " + ")): "
                + "run `fitstore train` with that --encoder first, or give --checkpoint"
        case .badLabels(let path, let line, let reason):
            "\(path)\(line.map { ", line \($0)" } ?? ""): \(reason); nothing was stored"
        case .nothingToScore(let dataset, let reason):
            "cannot score data set '\(dataset)': \(reason)"
        case .badModel(let model, let reason):
            "cannot train model \(model): \(reason)"
        case .badBlend(let reason):
            "cannot blend: \(reason)"
        case .inputCannotBeEmbedded(let file, let texts, let encoder, let reason):
            "\(file): \(texts) text(s) have no vector under encoder '\(encoder)' and cannot be embedded here: \(reason). "
                + "Ingest the records as a data set's test_data.json and bring their vectors in, or predict with a checkpoint of another encoder"
        case .badTune(let reason):
            "cannot tune: \(reason)"
        case .noVectors(let encoder):
            "no vectors under encoder \(encoder): run `fitstore embed` first"
        case .missingVectors(let count, let encoder, let example):
            "\(count) of the samples or metrics this needs have no vector under encoder '\(encoder)' (first: \(example)): run "
                + "`fitstore embed --encoder \(encoder)` first (for imported vectors: `fitstore texts --missing --encoder \(encoder)`, "
                + "then `fitstore vectors import`)"
        case .ingestWouldRetire(let dataset, let file, let split, let retiring, let active, let records):
            "\(file) would retire \(retiring) of the \(active) active \(split) rows of data set '\(dataset)' (it holds \(records) records): "
                + "nothing was written. If that is what you mean, run the ingest again with --replace; --dry-run shows what an ingest would do"
        case .unknownEncoder(let name, let known):
            "no encoder '\(name)' in the store (it has: \((["e5-small (built in)"] + known.filter { $0 != "e5-small" }).joined(separator: ", "))); "
                + "`fitstore vectors import --encoder \(name) ...` creates one from vectors made elsewhere"
        case .vectorsToImport(let encoder, let texts):
            "\(texts) text(s) in use have no vector under encoder \(encoder), whose vectors are made elsewhere: "
                + "`fitstore texts --missing --encoder \(encoder) --out texts.jsonl`, embed them, then `fitstore vectors import --encoder \(encoder) --keys texts.jsonl vectors.npy`"
        case .encoderNotImported(let name, let source):
            "encoder '\(name)' is a \(source) encoder: its vectors are computed here, not imported; import under another name"
        case .encoderNameTaken(let name, let source, let path):
            "the store already has an encoder named '\(name)' (\(source)\(path.map { ", from \($0)" } ?? "")) whose vectors differ from what this folder and these settings make: "
                + "add the folder under another name (a changed folder is another encoder; its vectors must not mix with the old ones)"
        case .folderChanged(let name, let path):
            "the files of encoder '\(name)' at \(path) changed since `fitstore encoders add` (their digest differs): its stored vectors came from the old files. "
                + "Restore the folder, or add the new one under another name"
        case .encoderDamaged(let name, let reason):
            "encoder '\(name)' is damaged in the store: \(reason)"
        case .precisionFixed(let name, let has, let asked):
            "encoder '\(name)' makes \(has) vectors, not --precision \(asked): a folder's precision is fixed when it is added "
                + "(`fitstore encoders add OTHER-NAME DIR --precision \(asked)` adds it again with \(asked) vectors under another name)"
        case .tooFewMetricVectors(let dataset, let count):
            "data set '\(dataset)' has vectors for \(count) metric(s): ingest given vectors or run `fitstore embed` first"
        case .encoderOrder(let dataset, let encoders):
            "data set '\(dataset)' has checkpoints on the vectors of \(encoders.joined(separator: " + ")) concatenated in another order: "
                + "the order makes other feature columns, so give --encoder in the order they were trained with (`fitstore checkpoints` lists it)"
        case .budgetReached:
            "the time budget ran out during a training; it was stopped after its current round and nothing of it was stored"
        case .unknownScore(let id, let known):
            "no stored score \(id)" + (known.isEmpty ? " (the store has none)" : " (stored scores: \(known.map(String.init).joined(separator: ", ")); `SELECT * FROM checkpoint_score`)")
        case .badEncoderList(let list, let reason):
            "--encoder '\(list)': \(reason)"
        case .outputIsStore(let option, let output, let store, let role, let file):
            "\(option) \(output) \(file == output ? "is" : "leads to") \(role) \(file)\(role == "the store" ? "" : " (of the store \(store))"): "
                + "writing there would destroy the store; nothing was written, choose another path"
        case .unknownGenerator(let name, let dataset, let present):
            "\(dataset) has no rows of generator \(name); nothing removed (generators present: \(present.isEmpty ? "none" : present.joined(separator: ", ")))"
        }
    }
}
