// Times the codec's hot paths (LOOKUP, GETATTR, READ, WRITE: request and answer, each
// encoded into a frame and decoded from its payload). Built and run by run.sh next to it.
import QtfsProtocol
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)   // CPU time: the machine is shared
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

var sink = 0
/// Best of `rounds` runs of `n` iterations, in nanoseconds per iteration.
func time(_ name: String, _ n: Int = 200_000, rounds: Int = 7, _ body: () throws -> Int) rethrows {
    var best = Double.infinity
    for _ in 0..<rounds {
        let t0 = now()
        for _ in 0..<n { sink &+= try body() }
        best = min(best, (now() - t0) / Double(n) * 1e9)
    }
    let ns = String(Int((best * 10).rounded()))
    let shown = ns.dropLast() + "." + ns.suffix(1)
    print(name + String(repeating: " ", count: max(1, 36 - name.count)) + shown + " ns")
}

func payload(_ frame: [UInt8]) -> [UInt8] { Array(frame[Wire.headerSize...]) }

let caller = Caller(uid: 1000, gid: 1000, pid: 4242, groups: [4, 27])
let target = Target(export: 0, "srv/data/some/deeper/file.txt")
let t = Timespec(seconds: 1_700_000_000, nanoseconds: 123_456_789)
let attr = Attr(dev: 0x803, ino: 131_074, size: 4096, blocks: 8, mode: 0o100644, nlink: 1, uid: 1000, gid: 1000,
                atime: t, mtime: t, ctime: t)
let lookup = PathRequest(caller: caller, target: target)
let getattr = GetattrRequest(caller: caller, target: target, handle: 7)
let read = ReadRequest(handle: 7, offset: 1 << 20, size: 128 << 10)
let write = WriteRequest(handle: 7, offset: 1 << 20, data: [UInt8](repeating: 0x5a, count: 4096))
let attrReply = AttrReply(attr: attr)
let writeReply = WriteReply(written: 4096)
let readReply = ReadReply(data: [UInt8](repeating: 0x5a, count: 4096))

func pair<P: WirePayload>(_ name: String, _ op: Opcode, _ kind: FrameKind, _ p: P) throws {
    time("\(name) encode") { FrameHeader.frame(kind: kind, opcode: op, id: 9, payload: p).count }
    let bytes = payload(FrameHeader.frame(kind: kind, opcode: op, id: 9, payload: p))
    let back = try P.decode(bytes)
    precondition(back == p)
    try bytes.withUnsafeBytes { raw in
        try time("\(name) decode") { _ = try P.decode(raw); return 1 }
    }
}

try pair("LOOKUP request", .lookup, .request, lookup)
try pair("GETATTR request", .getattr, .request, getattr)
try pair("attr answer (LOOKUP/GETATTR)", .getattr, .response, attrReply)
try pair("READ request", .read, .request, read)
try pair("READ answer 4 KiB", .read, .response, readReply)
try pair("WRITE request 4 KiB", .write, .request, write)
try pair("WRITE answer", .write, .response, writeReply)
// Direct calls on a concrete type, as the client builds READ and LOOKUP requests.
time("READ request encode(into:)") { var w = WireWriter(capacity: 64); read.encode(into: &w); return w.bytes.count }
time("LOOKUP request encode(into:)") { var w = WireWriter(capacity: 128); lookup.encode(into: &w); return w.bytes.count }
let attrBytes = attrReply.encoded()
try attrBytes.withUnsafeBytes { raw in
    try time("Attr init(from:)") { var r = WireReader(raw); return Int(try Attr(from: &r).size) }
}
print("checksum \(sink)")
