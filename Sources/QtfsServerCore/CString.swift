// NUL-terminated copies of byte paths for C calls. (The syscall funnel, its errno type,
// locks and threads are the system layer's: QtfsSystem.)
import Glibc

/// A NUL-terminated copy of `bytes` for C calls.
@inline(__always)
func withCString<T>(_ bytes: ArraySlice<UInt8>, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
    var buf = [CChar](repeating: 0, count: bytes.count + 1)
    buf.withUnsafeMutableBytes { dst in
        bytes.withUnsafeBytes { src in
            if let s = src.baseAddress, let d = dst.baseAddress { d.copyMemory(from: s, byteCount: src.count) }
        }
    }
    return try buf.withUnsafeBufferPointer { try body($0.baseAddress!) }
}
