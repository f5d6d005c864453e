import FitPipeline
import Foundation

/// Progress on standard error: a bar with rate and ETA on a terminal, plain lines (at most
/// one every two seconds per phase) when standard error is a file or a pipe.
final class TerminalProgress: ProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var started: [String: Date] = [:]
    private var lastPrint: [String: Date] = [:]

    /// A line of news; on a terminal it replaces a bar being drawn (the bar comes back at its
    /// next step) instead of running on after it.
    func note(_ message: String) {
        lock.withLock {
            let drawing = isTerminal && !lastPrint.isEmpty
            FileHandle.standardError.write(Data(((drawing ? "\r\u{1B}[K" : "") + message + "\n").utf8))
        }
    }

    func advance(phase: String, done: Int, total: Int?, unit: String) {
        lock.withLock {
            let now = Date()
            let start = started[phase] ?? now
            started[phase] = start
            let minimumGap = isTerminal ? 0.1 : 2.0
            // Quiet for short phases: the first line comes after one gap has passed.
            if now.timeIntervalSince(lastPrint[phase] ?? start) < minimumGap { return }
            lastPrint[phase] = now
            let elapsed = max(now.timeIntervalSince(start), 1e-3)
            let rate = Double(done) / elapsed
            var text = "\(phase): \(Self.amount(done, unit))"
            if let total, total > 0 {
                let fraction = min(1, Double(done) / Double(total))
                let eta = rate > 0 ? Double(total - done) / rate : 0
                if isTerminal {
                    let width = 28
                    let filled = Int(fraction * Double(width))
                    text = "\(phase) [" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                        + "] \(Int(fraction * 100))% \(Self.amount(done, unit))/\(Self.amount(total, unit))"
                } else {
                    text += "/\(Self.amount(total, unit)) (\(Int(fraction * 100))%)"
                }
                text += String(format: ", %@/s, ETA %.0f s", Self.amount(Int(rate), unit), eta)
            } else {
                text += String(format: ", %@/s", Self.amount(Int(rate), unit))
            }
            FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + text : text + "\n").utf8))
        }
    }

    func finish(phase: String) {
        lock.withLock {
            if isTerminal && lastPrint[phase] != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            started[phase] = nil
            lastPrint[phase] = nil
        }
    }

    static func amount(_ n: Int, _ unit: String) -> String {
        guard unit == "B" else { return "\(n) \(unit)" }
        if n >= 1 << 20 { return String(format: "%.1f MB", Double(n) / 1_048_576) }
        if n >= 1 << 10 { return String(format: "%.1f KB", Double(n) / 1024) }
        return "\(n) B"
    }
}
