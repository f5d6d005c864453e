import FitFormats
import Testing

@Suite struct ScoreTextTests {
    @Test(arguments: [("7", 7.0), ("8.0", 8.0), ("10.00", 10.0), (" 9 ", 9.0), ("0", 0.0), ("9.5", 9.5), ("1e1", 10.0), (".5", 0.5)])
    func accepts(text: String, value: Double) throws {
        #expect(try ScoreText.parse(text) == value)
    }

    @Test(arguments: ["", "nan", "NaN", "inf", "0x1p3", "seven", "7/10", "8,5", "--1", "1e", "."])
    func rejectsNonNumbers(text: String) {
        #expect(throws: ScoreText.Problem.self) { try ScoreText.parse(text) }
    }

    @Test(arguments: ["10.01", "-0.5", "11", "1e3"])
    func rejectsOutOfRange(text: String) {
        #expect {
            try ScoreText.parse(text)
        } throws: { error in
            if case .outOfRange = error as? ScoreText.Problem { return true }
            return false
        }
    }
}
