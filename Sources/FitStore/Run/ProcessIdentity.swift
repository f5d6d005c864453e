import Foundation

/// Who is running: host, pid and the process's start (boot id and start tick), enough to
/// tell a live process from a dead one whose pid was reused.
public struct ProcessIdentity: Sendable, Equatable {
    public let host: String
    public let pid: Int32
    public let start: String?

    /// This process.
    public static let current = ProcessIdentity(
        host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier,
        start: startStamp(of: ProcessInfo.processInfo.processIdentifier))

    public init(host: String, pid: Int32, start: String?) {
        self.host = host
        self.pid = pid
        self.start = start
    }

    /// "<boot id>:<start tick>" of a process from /proc, nil where there is no /proc.
    static func startStamp(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let boot = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else { return nil }
        // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Field 22 (starttime) is the 20th after the command name.
        guard fields.count > 19 else { return nil }
        return "\(boot.trimmingCharacters(in: .whitespacesAndNewlines)):\(fields[19])"
    }

    public enum Liveness: Sendable, Equatable {
        case alive
        case dead
        /// Another host's process: this one cannot look.
        case unknown
    }

    /// Whether this process is still running, seen from here.
    public var liveness: Liveness {
        guard host == ProcessIdentity.current.host else { return .unknown }
        guard let start else { return kill(pid, 0) == 0 || errno == EPERM ? .alive : .dead }
        return Self.startStamp(of: pid) == start ? .alive : .dead
    }
}
