@testable import FitEncoder
import Testing

@Suite struct LengthPolicyTests {
    @Test func shortTextsAreOneWindow() {
        #expect(LengthPolicy.default.windows(count: 10, size: 510) == [0..<10])
        #expect(LengthPolicy.truncate.windows(count: 0, size: 510) == [0..<0])
    }

    @Test func referencePolicyTilesWithoutOverlap() {
        #expect(LengthPolicy.windowed(overlap: 0).windows(count: 1200, size: 510) == [0..<510, 510..<1020, 1020..<1200])
    }

    @Test func overlappingWindowsCoverEverything() {
        let windows = LengthPolicy.windowed(overlap: 64).windows(count: 1200, size: 510)
        #expect(windows == [0..<510, 446..<956, 892..<1200])
        #expect(LengthPolicy.truncate.windows(count: 1200, size: 510) == [0..<510])
    }

    @Test func parsesItsNames() {
        #expect(LengthPolicy("truncate") == .truncate)
        #expect(LengthPolicy("windowed") == .default)
        #expect(LengthPolicy("windowed-0") == .windowed(overlap: 0))
        #expect(LengthPolicy("windowed--1") == nil && LengthPolicy("sliding") == nil)
        #expect(LengthPolicy(LengthPolicy.default.description) == .default)
    }
}
