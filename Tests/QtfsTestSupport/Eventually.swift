// Waiting for something another thread does, without asserting how long it takes.
import Glibc

/// Polls `cond` every 10 ms for up to ~10 s; true once it holds.
public func eventually(_ cond: () -> Bool) -> Bool {
    for _ in 0..<1000 { if cond() { return true }; usleep(10_000) }
    return false
}
