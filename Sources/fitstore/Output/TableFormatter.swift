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
    private static func clean(_ s: String, maxWidth: Int) -> String {
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

    static func csv(_ result: QueryResult) -> String {
        func quote(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var lines = [result.columns.map(quote).joined(separator: ",")]
        for row in result.rows {
            lines.append(row.map { v in
                if case .null = v { return "" }
                return quote(cell(v))
            }.joined(separator: ","))
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ result: QueryResult) throws -> String {
        let objects: [[String: Any]] = result.rows.map { row in
            var object: [String: Any] = [:]
            for (i, v) in row.enumerated() {
                switch v {
                case .null: object[result.columns[i]] = NSNull()
                case .integer(let n): object[result.columns[i]] = n
                case .real(let d): object[result.columns[i]] = d.isFinite ? d : NSNull()
                case .text(let s): object[result.columns[i]] = s
                case .blob(let b): object[result.columns[i]] = b.base64EncodedString()
                }
            }
            return object
        }
        let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
