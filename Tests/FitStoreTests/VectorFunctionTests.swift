import FitStore
import Foundation
import GRDB
import Testing

@Suite struct VectorFunctionTests {
    @Test func functionsReadBlobs() throws {
        let tmp = try TemporaryStore()
        let store = try tmp.open()
        let a = try VectorCodec.encode([3, 4, 0], as: .lossless)
        let b = try VectorCodec.encode([4, 3, 0], as: .compact)
        let row = try store.read { db in
            try Row.fetchOne(db, sql: "SELECT vec_dims(?), vec_dtype(?), vec_dtype(?), vec_norm(?), vec_cosine(?, ?), vec_json(?), vec_dims(NULL)",
                             arguments: [a, a, b, a, a, b, a])!
        }
        #expect(row[0] as Int == 3)
        #expect(row[1] as String == "float32")
        #expect(row[2] as String == "float16")
        #expect(abs(row[3] as Double - 5) < 1e-6)
        #expect(abs(row[4] as Double - 24.0 / 25.0) < 1e-4)
        #expect(row[5] as String == "[3.0,4.0,0.0]")
        #expect(row[6] as DatabaseValue == .null)
    }

    @Test func damagedInputRaisesSQLErrors() throws {
        let tmp = try TemporaryStore()
        let store = try tmp.open()
        var damaged = try VectorCodec.encode([1, 2, 3], as: .lossless)
        damaged[damaged.count - 1] ^= 0xFF
        for (sql, args, message) in [
            ("SELECT vec_norm(?)", [damaged] as [any DatabaseValueConvertible], "checksum"),
            ("SELECT vec_dims(?)", ["text"], "expected a vector blob"),
            ("SELECT vec_dims(?)", [Data([1, 2, 3])], "shorter than"),
            ("SELECT vec_cosine(?, ?)", [try VectorCodec.encode([1, 2]), try VectorCodec.encode([1, 2, 3])], "dims differ"),
        ] {
            #expect {
                try store.read { try Row.fetchOne($0, sql: sql, arguments: StatementArguments(args)) }
            } throws: { error in
                "\(error)".contains(message)
            }
        }
    }

    @Test func readOnlyQueriesCannotWrite() throws {
        let tmp = try TemporaryStore()
        _ = try tmp.open()
        let ro = try tmp.open(.readOnly)
        #expect(throws: (any Error).self) { try QueryResult.run("INSERT INTO dataset (name, created_run_id) VALUES ('x', 1)", in: ro) }
        let r = try QueryResult.run("SELECT 1 AS one, 'a' AS two, NULL AS three", in: ro)
        #expect(r.columns == ["one", "two", "three"])
        #expect(r.rows == [[.integer(1), .text("a"), .null]])
    }
}
