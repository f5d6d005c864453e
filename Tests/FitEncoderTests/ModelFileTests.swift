@testable import FitEncoder
import Foundation
import Testing

@Suite struct ModelFileTests {
    @Test func readsTheSyntheticModel() throws {
        let (path, weights) = try SyntheticModel.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try ModelFile(path: path)
        #expect(file.hyper.hidden == 32 && file.hyper.layers == 2 && file.hyper.heads == 2 && file.hyper.ffn == 64)
        #expect(file.vocabulary.count == SyntheticModel.pieces.count)
        #expect(file.vocabulary.bos == 0 && file.vocabulary.eos == 2 && file.vocabulary.unk == 3)
        #expect(file.vocabulary.piece(9) == "▁ab")
        #expect(file.normalization.count == 2)
        #expect(try file.floats("l1.fi.w", count: 64 * 32) == weights["l1.fi.w"]!)
        #expect(try file.floats("emb.pos", count: 16 * 32) == weights["emb.pos"]!)
        #expect(throws: ModelFileError.self) { try file.floats("l1.fi.w", count: 3) }
        #expect(throws: ModelFileError.self) { try file.floats("nope", count: 3) }
    }

    @Test func refusesTruncatedFilesAtEveryCut() throws {
        var model = SyntheticModel()
        let bytes = model.build().bytes
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cut-\(UUID()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Every cut through the header, vocabulary and directory, then a stride through the data.
        let directoryEnd = bytes.count - 20_000
        for cut in Array(stride(from: 0, to: min(directoryEnd, 1200), by: 1)) + Array(stride(from: 1200, to: bytes.count, by: 997)) {
            try Data(bytes[0..<cut]).write(to: URL(fileURLWithPath: path))
            #expect(throws: ModelFileError.self, "cut at \(cut)") { try ModelFile(path: path) }
        }
    }

    @Test func refusesForeignAndMissingFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("foreign-\(UUID()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("GGUF and then some other bytes entirely".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try ModelFile(path: path)
        } throws: { error in
            "\(error)".contains("bad magic") && "\(error)".contains("tools/setup")
        }
        #expect {
            try ModelFile(path: path + ".missing")
        } throws: { error in
            "\(error)".contains("model file not found")
        }
    }

    @Test func refusesAbsurdHeaderValues() throws {
        var model = SyntheticModel()
        var bytes = model.build().bytes
        bytes[8] = 0xFF; bytes[9] = 0xFF; bytes[10] = 0xFF; bytes[11] = 0x7F  // hidden = 2^31 - 1
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("absurd-\(UUID()).bin").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: ModelFileError.self) { try ModelFile(path: path) }
    }
}
