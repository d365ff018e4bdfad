// What the kernel may keep of a name, its attributes and a directory's listing
// (docs/client.md, "Pseudo file systems: what is cached"). Pseudo file systems (proc, sysfs,
// cgroup…) keep their names like any other file system: the server resolves every request
// by path, so a cached name whose process or cgroup vanished still fails with ENOENT at the
// next stat, open or opendir. What they never keep is what can change behind the name:
// attributes, content (direct I/O, elsewhere), listings and absences.
import CFuse
import QtfsClient

struct CacheRules: Sendable {
    /// How long a pseudo name is kept at least: as long as a scan's pause (top, kubelet and
    /// cadvisor repeat theirs every 1–15 s), since keeping it longer shows no stale answer.
    static let pseudoNameMinimum = 60.0

    let entryTimeout: Double
    let attrTimeout: Double
    let negativeTimeout: Double
    let procMode: Bool

    init(entryTimeout: Double, attrTimeout: Double, negativeTimeout: Double, procMode: Bool) {
        self.entryTimeout = entryTimeout
        self.attrTimeout = attrTimeout
        self.negativeTimeout = negativeTimeout
        self.procMode = procMode
    }

    init(_ opts: MountSettings) {
        self.init(entryTimeout: opts.entryTimeout, attrTimeout: opts.attrTimeout,
                  negativeTimeout: opts.negativeTimeout, procMode: opts.proc)
    }

    /// How long the kernel may take `name` in `parent` to lead to the file it found: a
    /// pseudo name for `pseudoNameLife`, others for entry_timeout. Not at all where the
    /// answer depends on who asks (`askerDependent`).
    func entry(parent: UInt64, name: [UInt8], pseudo: Bool) -> Double {
        if askerDependent(parent: parent, name: name) { return 0 }
        return pseudo ? pseudoNameLife : entryTimeout
    }

    /// A kept pseudo name never shows a stale answer (every request on it reaches the host),
    /// so it is kept at least `pseudoNameMinimum`; entry_timeout=0 still keeps no name.
    var pseudoNameLife: Double { entryTimeout > 0 ? max(entryTimeout, Self.pseudoNameMinimum) : 0 }

    /// In proc mode a number at the mount's root is, for the DPU process with that pid, a
    /// link to its own /proc entry (ProcMode), and the host's pid directory for everyone else.
    func askerDependent(parent: UInt64, name: [UInt8]) -> Bool {
        procMode && parent == UInt64(FUSE_ROOT_ID) && !name.isEmpty
            && name.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// Attributes of pseudo files (sizes, nlink of a pid directory, times) change on their own.
    func attr(pseudo: Bool) -> Double { pseudo ? 0 : attrTimeout }

    /// How long a name found absent in `parent` may be taken as absent. Never in a pseudo
    /// directory: a new process or cgroup must be seen by name at once.
    func absence(parentPseudo: Bool) -> Double { parentPseudo ? 0 : negativeTimeout }

    /// Whether the kernel may keep a directory's listing in its page cache: not for pseudo
    /// directories, whose entries come and go without an mtime change.
    func cachesListing(pseudo: Bool) -> Bool { !pseudo }

    /// Whether lookups in a directory may be answered from a prefetched listing: not in a
    /// pseudo directory, where a program that scans it lists it itself (readdirplus hands
    /// the kernel every name with its own timeouts) and one that does not would pay for a
    /// listing of all pids to find three names.
    func prefetches(dirPseudo: Bool) -> Bool { !dirPseudo }
}
