import Foundation

/// Runs write jobs one after another on a thread of their own, at most `pending` waiting,
/// so a producer can read the next batch while the last one is written. The first error a
/// job throws is rethrown by the next `submit` or by `drain`.
final class BackgroundWriter: @unchecked Sendable {
    private let queue = DispatchQueue(label: "fitstore.writer")
    private let slots: DispatchSemaphore
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var failure: (any Error)?

    init(pending: Int) { slots = DispatchSemaphore(value: pending) }

    /// Queues `job` (waiting while `pending` jobs are queued already).
    func submit(_ job: @escaping () throws -> Void) throws {
        try rethrowFailure()
        slots.wait()
        let box = _Job(job)
        queue.async(group: group) { [self] in
            defer { slots.signal() }
            guard currentFailure() == nil else { return }
            do { try box.run() } catch { record(error) }
        }
    }

    /// Waits for every queued job; rethrows the first error.
    func drain() throws {
        group.wait()
        try rethrowFailure()
    }

    /// Waits for the queued jobs, ignoring their errors (for cleanup paths).
    func finish() { group.wait() }

    private func currentFailure() -> (any Error)? {
        lock.lock(); defer { lock.unlock() }
        return failure
    }

    private func record(_ error: any Error) {
        lock.lock(); defer { lock.unlock() }
        if failure == nil { failure = error }
    }

    private func rethrowFailure() throws {
        if let failure = currentFailure() { throw failure }
    }
}

/// A write job handed to the writer's thread; its captures are touched by that thread only
/// until it completes.
private struct _Job: @unchecked Sendable {
    let run: () throws -> Void
    init(_ run: @escaping () throws -> Void) { self.run = run }
}
