import FitFormats
import Foundation
import Testing

@Suite struct NpyTests {
    /// A header exactly as NumPy 1.x/2.x writes it for np.save(np.zeros((2, 3), '<f4')).
    static func numpyStyle(shape: String, descr: String = "<f4", fortran: String = "False", version: UInt8 = 1, payload: [UInt8]) -> [UInt8] {
        var dict = "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }"
        let prefix = version == 1 ? 10 : 12
        let total = ((prefix + dict.utf8.count + 1 + 63) / 64) * 64
        dict += String(repeating: " ", count: total - prefix - dict.utf8.count - 1) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let n = dict.utf8.count
        out += [UInt8(n & 0xff), UInt8(n >> 8)]
        if version != 1 { out += [0, 0] }
        return out + Array(dict.utf8) + payload
    }

    static func floats(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    @Test(arguments: [UInt8(1), 2, 3])
    func readsNumPyHeaders(version: UInt8) throws {
        let values: [Float] = [1, 2, 3, -4, 5.5, 0]
        let bytes = Self.numpyStyle(shape: "(2, 3)", version: version, payload: Self.floats(values))
        let m = try NpyMatrix.decode(bytes, file: "x.npy")
        #expect(m.rows == 2 && m.columns == 3)
        #expect(m.values == values)
    }

    @Test func roundTripsOwnWriter() throws {
        let m = NpyMatrix(rows: 3, columns: 2, values: [0.25, -1, 3, 4, .pi, 1e-30])
        let bytes = m.encoded()
        #expect((bytes.count - m.values.count * 4) % 64 == 0, "data starts 64-byte aligned")
        #expect(try NpyMatrix.decode(bytes, file: "x.npy") == m)
    }

    @Test func streamWriterMatchesWholeWriter() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("a.npy")
        let writer = try NpyStreamWriter(url: url, type: .float32, columns: 4)
        try writer.append(float32: [1, 2, 3, 4])
        try writer.append(float32: [5, 6, 7, 8, 9, 10, 11, 12])
        try writer.close()
        let m = try NpyMatrix.read(contentsOf: url)
        #expect(m.rows == 3 && m.columns == 4 && m.values == (1...12).map(Float.init))
    }

    @Test(arguments: [
        ("<f8", "False", "(2, 3)", "dtype '<f8'"),
        (">f4", "False", "(2, 3)", "dtype '>f4'"),
        ("<f4", "True", "(2, 3)", "Fortran-order"),
        ("<f4", "False", "(6,)", "2-d array"),
        ("<f4", "False", "(1, 2, 3)", "2-d array"),
        ("<f4", "False", "(3, 3)", "needs 36"),
    ])
    func refusesOtherArrays(descr: String, fortran: String, shape: String, message: String) {
        let bytes = Self.numpyStyle(shape: shape, descr: descr, fortran: fortran, payload: Self.floats([1, 2, 3, 4, 5, 6]))
        #expect {
            try NpyMatrix.decode(bytes, file: "m.npy")
        } throws: { error in
            "\(error)".contains(message) && "\(error)".hasPrefix("m.npy")
        }
    }

    @Test func refusesGarbageAndTruncation() {
        let good = Self.numpyStyle(shape: "(2, 3)", payload: Self.floats([1, 2, 3, 4, 5, 6]))
        #expect(throws: FormatError.self) { try NpyMatrix.decode(Array("not numpy at all".utf8), file: "m.npy") }
        for cut in [0, 5, 9, 20, 64, good.count - 1] {
            #expect(throws: FormatError.self) { try NpyMatrix.decode(Array(good[0..<cut]), file: "m.npy") }
        }
        var structured = Self.numpyStyle(shape: "(2, 3)", payload: Self.floats([1, 2, 3, 4, 5, 6]))
        let dict = Array("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }".utf8)
        structured.replaceSubrange(10..<(10 + dict.count), with: dict)
        #expect(throws: FormatError.self) { try NpyMatrix.decode(structured, file: "m.npy") }
    }

    /// Rows of float32, float64 and float16 files, memory-mapped and decoded one at a time; a wrong
    /// dtype or a short file is refused by name.
    @Test func readsRowsOfFloat32Float64AndFloat16() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-rows-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let values: [Float] = [1, -2, 0.5, 3, 65504, -0.25]
        let f32 = folder.appendingPathComponent("a.npy"), f16 = folder.appendingPathComponent("b.npy")
        try Data(Self.numpyStyle(shape: "(2, 3)", payload: Self.floats(values))).write(to: f32)
        let halves = values.map { Float16($0).bitPattern }.withUnsafeBytes { Array($0) }
        try Data(Self.numpyStyle(shape: "(2, 3)", descr: "<f2", payload: halves)).write(to: f16)
        for url in [f32, f16] {
            let rows = try NpyRows(contentsOf: url)
            #expect(rows.rows == 2 && rows.columns == 3)
            #expect(rows.row(0) == [1, -2, 0.5] && rows.row(1) == [3, 65504, -0.25])
        }
        // float64, numpy's default: each value rounded to the nearest float32, as astype(np.float32)
        // does (0.1 and 1 + 2^-30 are not float32 values; 1 + 2^-30 rounds to 1, 0.1 to 0x3DCCCCCD).
        let doubles: [Double] = [0.1, 1 + 0x1p-30, -2, 1e-3, 65504, -0.25]
        let f8 = folder.appendingPathComponent("c.npy")
        try Data(Self.numpyStyle(shape: "(2, 3)", descr: "<f8", payload: doubles.withUnsafeBytes { Array($0) })).write(to: f8)
        let wide = try NpyRows(contentsOf: f8)
        #expect(wide.dtype == .float64 && wide.rows == 2 && wide.columns == 3)
        #expect((wide.row(0) + wide.row(1)).map(\.bitPattern) == doubles.map { Float($0).bitPattern })
        #expect(wide.row(0)[0].bitPattern == 0x3DCC_CCCD && wide.row(0)[1] == 1)
        let i4 = folder.appendingPathComponent("e.npy")
        try Data(Self.numpyStyle(shape: "(2, 3)", descr: "<i4", payload: [UInt8](repeating: 0, count: 24))).write(to: i4)
        #expect { try NpyRows(contentsOf: i4) } throws: { "\($0)".contains("e.npy: dtype '<i4' is not supported") }
        let short = folder.appendingPathComponent("d.npy")
        try Data(Self.numpyStyle(shape: "(2, 3)", descr: "<f2", payload: Array(halves.dropLast(2)))).write(to: short)
        #expect { try NpyRows(contentsOf: short) } throws: { "\($0)".contains("needs 12") }
    }
}
