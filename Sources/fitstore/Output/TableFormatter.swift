import FitStore
import Foundation

/// Aligned tables, CSV and JSON for query results.
enum TableFormatter {
    static func cell(_ value: QueryResult.Value) -> String {
        switch value {
        case .null: "NULL"
        case .integer(let i): "\(i)"
        case .real(let d): "\(d)"
        case .text(let s): s
        case .blob(let b): "<blob \(b.count) bytes>"
        }
    }

    /// Display width: one column per Character, newlines shown as the ⏎ sign.
    static func clean(_ s: String, maxWidth: Int) -> String {
        var out = s.replacingOccurrences(of: "\r\n", with: "⏎").replacingOccurrences(of: "\n", with: "⏎")
            .replacingOccurrences(of: "\t", with: " ")
        if maxWidth > 0, out.count > maxWidth { out = String(out.prefix(maxWidth - 1)) + "…" }
        return out
    }

    static func printTable(columns: [String], rows: [[String]], rightAligned: Set<Int>, maxWidth: Int = 0) {
        let cleaned = rows.map { $0.map { clean($0, maxWidth: maxWidth) } }
        var widths = columns.map(\.count)
        for row in cleaned { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return rightAligned.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        print(line(columns))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in cleaned { print(line(row)) }
    }

    static func csvQuote(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    static func csvLine(_ row: [QueryResult.Value]) -> String {
        row.map { v in
            if case .null = v { return "" }
            return csvQuote(cell(v))
        }.joined(separator: ",")
    }

    static func jsonObject(columns: [String], row: [QueryResult.Value]) throws -> String {
        var object: [String: Any] = [:]
        for (i, v) in row.enumerated() where i < columns.count {
            switch v {
            case .null: object[columns[i]] = NSNull()
            case .integer(let n): object[columns[i]] = n
            case .real(let d): object[columns[i]] = d.isFinite ? d : NSNull()
            case .text(let s): object[columns[i]] = s
            case .blob(let b): object[columns[i]] = b.base64EncodedString()
            }
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

/// Prints query rows as they arrive. CSV and JSON lines go out one row at a time; a table
/// holds its first `widthRows` rows to size its columns and then streams the rest padded to
/// those widths (a longer cell later pushes its line out rather than being cut), so a long
/// result is never held whole.
final class ResultPrinter {
    let format: SQLCommand.Format
    let maxWidth: Int
    let widthRows = 200
    private var columns: [String] = []
    private var held: [[String]] = []
    private var widths: [Int]?
    private var count = 0

    init(format: SQLCommand.Format, maxWidth: Int) {
        self.format = format
        self.maxWidth = maxWidth
    }

    func begin(_ columns: [String]) {
        self.columns = columns
        switch format {
        case .csv: print(columns.map(TableFormatter.csvQuote).joined(separator: ","))
        case .json: print("[", terminator: "")
        case .table: break
        }
    }

    func row(_ values: [QueryResult.Value]) throws {
        defer { count += 1 }
        switch format {
        case .csv:
            print(TableFormatter.csvLine(values))
        case .json:
            let object = try TableFormatter.jsonObject(columns: columns, row: values)
            print((count == 0 ? "\n" : ",\n") + object.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"),
                  terminator: "")
        case .table:
            let cells = values.map { TableFormatter.clean(TableFormatter.cell($0), maxWidth: maxWidth) }
            if widths != nil {
                printLine(cells)
            } else {
                held.append(cells)
                if held.count == widthRows { flushHeld() }
            }
        }
    }

    func end() {
        switch format {
        case .csv: break
        case .json: print(count == 0 ? "]" : "\n]")
        case .table:
            if widths == nil { flushHeld() }
            print("(\(count) row\(count == 1 ? "" : "s"))")
        }
    }

    private func flushHeld() {
        var w = columns.map(\.count)
        for row in held { for (i, c) in row.enumerated() where i < w.count { w[i] = max(w[i], c.count) } }
        widths = w
        printLine(columns)
        print(w.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in held { printLine(row) }
        held = []
    }

    private func printLine(_ cells: [String]) {
        let widths = widths ?? []
        let line = cells.enumerated().map { i, c in
            c + String(repeating: " ", count: max(0, (i < widths.count ? widths[i] : 0) - c.count))
        }.joined(separator: "  ")
        print(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
    }
}
