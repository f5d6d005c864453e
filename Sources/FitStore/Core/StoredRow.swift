import Foundation
import GRDB

/// A row read from one of our tables, whose values are decoded with checks: a NULL where a
/// value is needed, a value of another type, a whole number out of range or a real number
/// where a whole one is needed is an error naming the table, the row and the column
/// (`StoreError.damaged`), never a trap.
///
/// GRDB's non-optional `row["column"]` traps on such a value by design; schema CHECKs and
/// NOT NULL do not rule them out (a writable schema, `PRAGMA ignore_check_constraints`,
/// another program), so every reader of a store goes through here.
public struct StoredRow {
    public let row: Row
    public let table: String

    public init(_ row: Row, table: String) {
        self.row = row
        self.table = table
    }

    /// The value of `column` as `T` (an optional `T` takes NULL as nil).
    public subscript<T: DatabaseValueConvertible>(_ column: String) -> T {
        get throws {
            guard let index = Array(row.columnNames).firstIndex(where: { $0.caseInsensitiveCompare(column) == .orderedSame }) else {
                throw StoreError.damaged(table: table, row: label, reason: "it has no column \(column)")
            }
            return try value(at: index)
        }
    }

    /// The value at `index` of the row's columns, as `T`.
    public subscript<T: DatabaseValueConvertible>(_ index: Int) -> T {
        get throws { try value(at: index) }
    }

    private func value<T: DatabaseValueConvertible>(at index: Int) throws -> T {
        guard index >= 0 && index < row.count else {
            throw StoreError.damaged(table: table, row: label, reason: "it has no column \(index)")
        }
        // Reading a DatabaseValue never fails (NULL included); the conversion is checked.
        let value: DatabaseValue = row[index]
        if let decoded = T.fromDatabaseValue(value) { return decoded }
        let column = Array(row.columnNames)[index]
        throw StoreError.damaged(table: table, row: label,
                                 reason: "its \(column) holds \(Self.describe(value)) where \(Self.expected(T.self)) is needed")
    }

    /// A number that must be finite (and within `range` when given): a score, a weight, an RMSE.
    public func finite(_ column: String, in range: ClosedRange<Double>? = nil) throws -> Double {
        let value: Double = try self[column]
        try check(value, column, range)
        return value
    }

    /// The same for a column that may be NULL.
    public func finiteIfPresent(_ column: String, in range: ClosedRange<Double>? = nil) throws -> Double? {
        let value: Double? = try self[column]
        if let value { try check(value, column, range) }
        return value
    }

    /// A judge's score at column `index`: NULL, or a number on the 0...10 scale (what the
    /// schema's CHECK says, checked again because a CHECK can be bypassed).
    public func score(_ index: Int) throws -> Double? {
        let value: Double? = try self[index]
        if let value { try check(value, Array(row.columnNames)[index], 0...10) }
        return value
    }

    /// The same for a row that must have a score (a real train row, a synthetic row).
    public func requiredScore(_ index: Int) throws -> Double {
        guard let value = try score(index) else {
            throw StoreError.damaged(table: table, row: label, reason: "its \(Array(row.columnNames)[index]) is NULL where a score is needed")
        }
        return value
    }

    /// A whole number within `range` (a count, a position, a fold).
    public func whole(_ column: String, in range: ClosedRange<Int>) throws -> Int {
        let value: Int = try self[column]
        guard range.contains(value) else {
            throw StoreError.damaged(table: table, row: label, reason: "its \(column) is \(value), outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    private func check(_ value: Double, _ column: String, _ range: ClosedRange<Double>?) throws {
        guard value.isFinite else {
            throw StoreError.damaged(table: table, row: label, reason: "its \(column) is \(value), not a finite number")
        }
        if let range, !range.contains(value) {
            throw StoreError.damaged(table: table, row: label,
                                     reason: "its \(column) is \(value), outside \(Self.number(range.lowerBound))...\(Self.number(range.upperBound))")
        }
    }

    /// "row 12" by the row's id when it has one, else by its first column.
    public var label: String {
        let names = Array(row.columnNames)
        if let i = names.firstIndex(of: "id"), case .int64(let id) = (row[i] as DatabaseValue).storage { return "row \(id)" }
        if let first = names.first {
            let value: DatabaseValue = row[0]
            return "row with \(first) \(Self.describe(value))"
        }
        return "row"
    }

    static func describe(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return "NULL"
        case .int64(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .string(let s): return "the text '" + (s.count > 40 ? String(s.prefix(39)) + "…" : s) + "'"
        case .blob(let b): return "a blob of \(b.count) bytes"
        }
    }

    static func expected<T>(_ type: T.Type) -> String {
        let name = "\(type)"
        let bare = name.hasPrefix("Optional<") ? String(name.dropFirst(9).dropLast()) : name
        let noun = switch bare {
        case "Int", "Int64", "Int32": "a whole number"
        case "Double", "Float": "a number"
        case "String": "text"
        case "Data": "a blob"
        case "Bool": "0 or 1"
        default: "a \(bare)"
        }
        return name.hasPrefix("Optional<") ? noun + " or NULL" : noun
    }

    static func number(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
    }
}

extension Row {
    /// This row, read with checks as a row of `table`.
    public func stored(in table: String) -> StoredRow { StoredRow(self, table: table) }
}
