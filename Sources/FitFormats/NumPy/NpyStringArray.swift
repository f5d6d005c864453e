import Foundation

/// Writes a 1-d array of strings as NumPy fixed-width Unicode (`<U{n}`, UTF-32LE code points,
/// zero-padded), which `numpy.load` reads without pickle.
public enum NpyStringArray {
    public static func write(_ strings: [String], to url: URL) throws {
        let width = max(1, strings.map { $0.unicodeScalars.count }.max() ?? 1)
        var bytes = NpyHeader(descr: "<U\(width)", shape: [strings.count]).serialized()
        bytes.reserveCapacity(bytes.count + strings.count * width * 4)
        for s in strings {
            var n = 0
            for scalar in s.unicodeScalars {
                let v = scalar.value
                bytes += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)]
                n += 1
            }
            bytes += [UInt8](repeating: 0, count: (width - n) * 4)
        }
        try Data(bytes).write(to: url)
    }
}
