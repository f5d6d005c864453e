import Foundation
import GRDB

/// The result of an ad-hoc SQL statement: column names and rows of values.
public struct QueryResult: Sendable {
    public enum Value: Sendable, Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob(Data)
    }

    public var columns: [String]
    public var rows: [[Value]]

    /// Runs one statement on a read-only store.
    public static func run(_ sql: String, in store: Store) throws -> QueryResult {
        try store.read { db in
            let statements = try db.allStatements(sql: sql)
            var result = QueryResult(columns: [], rows: [])
            var ran = 0
            while let statement = try statements.next() {
                ran += 1
                result.columns = statement.columnNames
                result.rows = []
                let cursor = try Row.fetchCursor(statement)
                while let row = try cursor.next() {
                    result.rows.append(row.databaseValues.map(Value.init))
                }
            }
            if ran == 0 { throw StoreError.noStatement }
            return result
        }
    }
}

extension QueryResult.Value {
    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let i): self = .integer(i)
        case .double(let d): self = .real(d)
        case .string(let s): self = .text(s)
        case .blob(let b): self = .blob(b)
        }
    }
}
