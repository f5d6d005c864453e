import ArgumentParser
import FitFormats
import FitStore
import Foundation

struct CodecsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codecs",
        abstract: "Measure every vector encoding (float32/float16, byte-shuffle, LZ4) on the rows of a .npy file.",
        discussion: """
            Prints, per encoding, the stored bytes per vector (header included), the ratio to raw float32, the largest absolute error and the largest 1 - cosine to the original, and the encode/decode time per vector. docs/storage.md holds this table for DA5401's official metric embeddings and explains the defaults chosen from it.
            """)

    @Argument(help: ArgumentHelp("A 2-d float32 .npy file.", valueName: "npy"))
    var file: String

    func run() throws {
        let matrix = try NpyMatrix.read(contentsOf: URL(fileURLWithPath: file))
        let vectors = (0..<matrix.rows).map { Array(matrix.row($0)) }
        let survey: VectorEncodingSurvey
        do {
            survey = try VectorEncodingSurvey(vectors: vectors) { Date().timeIntervalSinceReferenceDate }
        } catch let error as VectorEncodingSurvey.Unmeasurable {
            throw ValidationError("\(file): \(error)")
        }
        print("\(survey.vectors) vectors x \(survey.dims) dims from \(file); raw float32 = \(survey.dims * 4) bytes/vector\n")
        print("| encoding | bytes/vector | vs raw f32 | max abs error | max 1 - cosine | encode µs | decode µs |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for row in survey.rows {
            print(String(format: "| %@ | %.1f | %.3f | %.2e | %.1e | %.1f | %.1f |",
                         row.encoding.description, row.bytesPerVector, row.ratioToRawFloat32,
                         Double(row.maxAbsError), max(0, row.maxCosineLoss), row.encodeMicroseconds, row.decodeMicroseconds))
        }
    }
}
