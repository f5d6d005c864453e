import Foundation
import GRDB

/// With `FITSTORE_TRACE_SQL=FILE`, every distinct statement a process runs is appended to
/// FILE once, as one JSON string a line (the SQL with its `?` placeholders). `bench/scale`
/// runs `EXPLAIN QUERY PLAN` on each to show which use an index. Off otherwise.
final class StatementTrace: @unchecked Sendable {
    static let shared: StatementTrace? = ProcessInfo.processInfo.environment["FITSTORE_TRACE_SQL"].flatMap {
        $0.isEmpty ? nil : StatementTrace(path: $0)
    }

    private let path: String
    private let lock = NSLock()
    private var seen: Set<String> = []

    init(path: String) { self.path = path }

    func install(on db: Database) {
        db.trace(options: .statement) { [self] event in
            guard case .statement(let statement) = event else { return }
            record(statement.sql)
        }
    }

    private func record(_ sql: String) {
        lock.lock()
        defer { lock.unlock() }
        guard seen.insert(sql).inserted else { return }
        guard let data = try? JSONSerialization.data(withJSONObject: [sql], options: [.fragmentsAllowed]),
              var line = String(data: data, encoding: .utf8) else { return }
        line = String(line.dropFirst().dropLast()) + "\n"  // the string alone, not the array
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        } else {
            FileManager.default.createFile(atPath: path, contents: Data(line.utf8))
        }
    }
}
