// Mounts that keep no names (entry_timeout=0): the kernel looks up every component of a
// path on every call, one round trip after the other (five for
// /sys/fs/cgroup/cpu/cpu.shares through a / mount). WalkAhead learns, per directory, which
// name a thread's walk asked for next; when a LOOKUP reaches a path whose walks went on to
// the same name the last two times, LOOKUPs of the components that followed go out just
// before it on the same connection, unawaited (Session.lookup(ahead:)). A directory whose
// walks go to a different name each time (files read one after the other) predicts
// nothing. The kernel's next LOOKUPs of the walk are answered with what the host said
// then (AheadAnswers): the same path, user and groups, within `window` (the gap between
// two LOOKUPs of one walk is tens of microseconds), once. Found names only: an absent one
// is asked again. docs/client.md, "Strict mounts".
import QtfsClient
import QtfsProtocol
import QtfsSystem

final class WalkAhead: @unchecked Sendable {
    /// How long an answer fetched ahead may answer the kernel: a walk's next LOOKUP comes
    /// within tens of microseconds; a later one is another call, and asks the host.
    static let window = 0.001
    /// The most components looked up ahead of one LOOKUP.
    static let depth = 8
    /// Entries of each table before it is cleared: a bound, not a working set.
    private static let capacity = 4096

    private struct Key: Hashable {
        let path: [UInt8]
        let uid: UInt32, gid: UInt32, groups: [UInt32]
        init(_ path: [UInt8], _ c: Caller) { self.path = path; uid = c.uid; gid = c.gid; groups = c.groups }
    }

    private let clock: () -> Double
    private let answers: AheadAnswers<Key, (attr: Attr, epoch: UInt64)>
    private let lock = Lock()
    /// Directory path → the name its last walk went on to; `repeated`: the walk before went there too.
    private var next: [[UInt8]: (name: [UInt8], repeated: Bool)] = .preallocated()          // protected by lock
    /// Thread → what its last LOOKUP found, and when.
    private var lastFound: [Int32: (path: [UInt8], at: Double)] = .preallocated()           // protected by lock

    init(clock: @escaping () -> Double = Clock.now) {
        self.clock = clock
        answers = AheadAnswers(lifetime: Self.window, clock: clock)
    }

    /// A LOOKUP of `name` in `dir` by thread `tid`: if that thread's previous LOOKUP found
    /// `dir` just now, `name` is what walks through `dir` ask for next.
    func learn(tid: Int32, dir: [UInt8], name: [UInt8]) {
        let now = clock()
        lock.withLock {
            guard let last = lastFound[tid], last.path == dir, now - last.at < Self.window else { return }
            if next.count >= Self.capacity { next.removeAll(keepingCapacity: true) }
            next[dir] = (name, next[dir]?.name == name)
        }
    }

    /// Thread `tid`'s LOOKUP found `path`.
    func found(tid: Int32, _ path: [UInt8]) {
        let now = clock()
        lock.withLock {
            if lastFound.count >= Self.capacity { lastFound.removeAll(keepingCapacity: true) }
            lastFound[tid] = (path, now)
        }
    }

    /// The paths walks went on to after `path` the last two times, nearest first.
    func predicted(after path: [UInt8]) -> [[UInt8]] {
        lock.withLock {
            var out: [[UInt8]] = [], cur = path
            while out.count < Self.depth, let (name, repeated) = next[cur], repeated {
                cur = cur.isEmpty ? name : cur + [UInt8(ascii: "/")] + name
                out.append(cur)
            }
            return out
        }
    }

    /// The host found `path` for `c` (a LOOKUP sent ahead; `epoch`: LookupAttrs' when it
    /// was sent; AheadAnswers.keep).
    func keep(_ path: [UInt8], for c: Caller, _ a: Attr, epoch: UInt64) { answers.keep(Key(path, c), (a, epoch)) }

    /// The answer fetched ahead for `path` and `c` within the window, and the epoch it was
    /// sent in; taken: it answers once.
    func take(_ path: [UInt8], for c: Caller) -> (attr: Attr, epoch: UInt64)? { answers.take(Key(path, c)) }
}
