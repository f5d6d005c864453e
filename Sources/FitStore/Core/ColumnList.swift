/// A record's column list ("id, key, kind"), as its SQL names them.
enum ColumnList {
    /// The same columns, each prefixed with a table alias ("e.id, e.key, e.kind"), for a
    /// statement that joins the record's table to another.
    static func qualified(_ columns: String, alias: String) -> String {
        columns.split(separator: ",").map { "\(alias)." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
    }
}
