import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Named points where the reliability tests kill the process, to show that a kill exactly
/// there loses nothing committed and leaves no half-done state (docs/reliability.md).
///
/// `FITSTORE_KILL_AT=NAME` makes the process send itself SIGKILL when it reaches the point
/// called NAME: the same signal `kill -9` sends, so nothing runs after it (no deinit, no
/// rollback handler, no flush). Unset, a point costs one dictionary lookup.
public enum KillPoint {
    static let target = ProcessInfo.processInfo.environment["FITSTORE_KILL_AT"]

    public static func reach(_ name: String) {
        guard let target, target == name else { return }
        kill(getpid(), SIGKILL)
    }
}
