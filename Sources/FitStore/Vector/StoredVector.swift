import Foundation

/// Reading a vector column: every reader goes through here, so a blob that is damaged, holds
/// a non-finite value or has the wrong dimension is refused with the table and the row (and
/// encoder) named, never handed on to crash a product or poison a matrix.
public enum StoredVector {
    /// The values of `blob`, read from `table` at `row` (words such as "text 12, encoder
    /// e5-..."), with `dims` values when given.
    public static func decode(_ blob: Data, table: String, row: String, dims: Int? = nil) throws -> [Float] {
        let values: [Float]
        do {
            values = try VectorCodec.decode(blob)
        } catch let error as StoreError {
            if case .invalidVector(let reason) = error { throw StoreError.damaged(table: table, row: row, reason: reason) }
            throw error
        }
        if let dims, values.count != dims {
            throw StoreError.damaged(table: table, row: row, reason: "\(values.count) values where its encoder has \(dims)")
        }
        return values
    }

    /// The dimension the blob's header declares (checked against the blob itself by `decode`).
    public static func dims(_ blob: Data, table: String, row: String) throws -> Int {
        do {
            return try VectorCodec.header(of: blob).dims
        } catch let error as StoreError {
            if case .invalidVector(let reason) = error { throw StoreError.damaged(table: table, row: row, reason: reason) }
            throw error
        }
    }
}
