import FitFormats
import Foundation
import Testing

/// The safetensors reader: what the writer (and the Hugging Face library) writes reads back;
/// every malformed header is refused naming the file and what is wrong, before any tensor
/// is read.
@Suite struct SafetensorsFileTests {
    static func file(_ header: String, data: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID()).safetensors").path
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) }
        bytes += Array(header.utf8) + data
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func readsWhatTheWriterWrites() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let writer = try SafetensorsWriter(url: url, tensors: [.init(name: "a", dtype: .f32, shape: [2, 3]), .init(name: "b", dtype: .f32, shape: [4])],
                                           metadata: ["format": "pt"])
        try writer.write([Float](arrayLiteral: 1, 2, 3, 4, 5, 6))
        try writer.write([Float](arrayLiteral: -1, 0.5, 1e-30, 7))
        try writer.close()
        let file = try SafetensorsFile(path: url.path)
        #expect(file.metadata == ["format": "pt"] && file.tensors["a"]?.shape == [2, 3])
        #expect(try file.floats("b", shape: [4]) == [-1, 0.5, 1e-30, 7])
        let rows = try file.rows("a", rows: 2, columns: 3)
        var row = [Float](repeating: 0, count: 3)
        #expect(row.withUnsafeMutableBufferPointer { rows.row(1, into: $0) } && row == [4, 5, 6])
        #expect(!row.withUnsafeMutableBufferPointer { rows.row(2, into: $0) }, "a row past the end is refused, not read")
        #expect(throws: SafetensorsError.self) { try file.floats("a", shape: [3, 2]) }
        #expect(throws: SafetensorsError.self) { try file.floats("missing", shape: [1]) }
    }

    @Test func halfPrecisionAndBFloat16Convert() throws {
        // 1.5 as float16 is 0x3E00; as bfloat16 0x3FC0.
        let path = try Self.file(#"{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]}}"#,
                                 data: [0x00, 0x3E, 0xC0, 0x3F])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try SafetensorsFile(path: path)
        #expect(try file.floats("h", shape: [1]) == [1.5] && file.floats("b", shape: [1]) == [1.5])
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 4, "lie past the end"),
        (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, "do not hold shape [3]"),
        (#"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, 8, "dtype Q4 is not supported"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 8, "overlaps"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "a gap of 4 bytes"),
        (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 4, "shape holds"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, 4, "data_offsets is not [begin, end]"),
        (#"{"a":{"dtype":"F32","shape":[1]}}"#, 4, "data_offsets is not [begin, end]"),
        (#"[1, 2]"#, 0, "not a JSON object"),
        (#"{"a": "#, 0, "header"),
    ])
    func malformedHeadersAreRefused(header: String, bytes: Int, message: String) throws {
        let path = try Self.file(header, data: [UInt8](repeating: 0, count: bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try SafetensorsFile(path: path)
            Issue.record("accepted \(header)")
        } catch {
            #expect("\(error)".hasPrefix(path) && "\(error)".contains(message), "\(error)")
        }
    }

    @Test func aHeaderLongerThanTheFileIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Array($0) } + [0x7B, 0x7D]).write(to: URL(fileURLWithPath: path))
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(path: path) }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(path: path) }
    }

    @Test func nonFiniteWeightsAreRefusedByName() throws {
        let nan = withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Array($0) }
        let path = try Self.file(#"{"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0] + nan)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try SafetensorsFile(path: path)
        #expect(throws: SafetensorsError.self) { try file.floats("w", shape: [1, 2]) }
        do { _ = try file.rows("w", rows: 1, columns: 2); Issue.record("accepted NaN rows") } catch {
            #expect("\(error)".contains("tensor 'w' row 0 holds a NaN"))
        }
    }
}
