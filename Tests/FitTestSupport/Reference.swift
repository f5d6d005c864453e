import Foundation

/// Whether a test that checks us against a reference (PyTorch, sentence-transformers, numpy,
/// Chromium, a fetched model) may run here. Off CI a missing reference skips the test, saying
/// why; with `CI` set it never skips: the test runs and fails on the missing reference, so a
/// green CI run has checked every parity and every rendering (tools/test counts skips).
public enum Reference {
    public static var strict: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "0" && $0 != "false" } ?? false }

    public static func available(_ present: Bool) -> Bool { present || strict }
}
