import Foundation
import GRDB

/// SQL functions that read vector blobs, registered on every connection a Store opens:
///
///     vec_dims(b)      number of components
///     vec_dtype(b)     'float32' or 'float16'
///     vec_norm(b)      Euclidean norm
///     vec_cosine(a, b) cosine similarity (NULL when either norm is zero)
///     vec_json(b)      the components as a JSON array
///
/// NULL in gives NULL out; a value that is not a valid vector blob raises an SQL error that
/// says why, instead of crashing.
enum VectorFunctions {
    static func register(in db: Database) {
        db.add(function: DatabaseFunction("vec_dims", argumentCount: 1, pure: true) { args in
            guard let blob = try blobArgument(args[0], "vec_dims") else { return nil }
            return try wrap("vec_dims") { try VectorCodec.header(of: blob).dims }
        })
        db.add(function: DatabaseFunction("vec_dtype", argumentCount: 1, pure: true) { args in
            guard let blob = try blobArgument(args[0], "vec_dtype") else { return nil }
            return try wrap("vec_dtype") { try VectorCodec.header(of: blob).dtype.name }
        })
        db.add(function: DatabaseFunction("vec_norm", argumentCount: 1, pure: true) { args in
            guard let blob = try blobArgument(args[0], "vec_norm") else { return nil }
            let v = try wrap("vec_norm") { try VectorCodec.decode(blob) }
            return Double(VectorMath.norm(v))
        })
        db.add(function: DatabaseFunction("vec_cosine", argumentCount: 2, pure: true) { args in
            guard let a = try blobArgument(args[0], "vec_cosine"), let b = try blobArgument(args[1], "vec_cosine") else { return nil }
            let u = try wrap("vec_cosine") { try VectorCodec.decode(a) }
            let v = try wrap("vec_cosine") { try VectorCodec.decode(b) }
            guard u.count == v.count else {
                throw DatabaseError(message: "vec_cosine: dims differ (\(u.count) and \(v.count))")
            }
            return VectorMath.cosine(u, v).map { Double($0) }
        })
        db.add(function: DatabaseFunction("vec_json", argumentCount: 1, pure: true) { args in
            guard let blob = try blobArgument(args[0], "vec_json") else { return nil }
            let v = try wrap("vec_json") { try VectorCodec.decode(blob) }
            return "[" + v.map { "\($0)" }.joined(separator: ",") + "]"
        })
    }

    private static func blobArgument(_ value: DatabaseValue, _ name: String) throws -> Data? {
        switch value.storage {
        case .null: return nil
        case .blob(let data): return data
        default: throw DatabaseError(message: "\(name): expected a vector blob, got a \(typeName(value))")
        }
    }

    private static func typeName(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: "NULL"
        case .int64: "integer"
        case .double: "real"
        case .string: "text"
        case .blob: "blob"
        }
    }

    private static func wrap<T>(_ name: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StoreError {
            throw DatabaseError(message: "\(name): \(error)")
        }
    }
}

/// Small vector arithmetic shared by the SQL functions and ingest validation.
public enum VectorMath {
    public static func norm(_ v: [Float]) -> Float {
        var sum: Double = 0
        for x in v { sum += Double(x) * Double(x) }
        return Float(sum.squareRoot())
    }

    public static func cosine(_ u: [Float], _ v: [Float]) -> Float? {
        var dot: Double = 0, nu: Double = 0, nv: Double = 0
        for i in 0..<min(u.count, v.count) {
            dot += Double(u[i]) * Double(v[i])
            nu += Double(u[i]) * Double(u[i])
            nv += Double(v[i]) * Double(v[i])
        }
        guard nu > 0, nv > 0 else { return nil }
        return Float(dot / (nu.squareRoot() * nv.squareRoot()))
    }
}
