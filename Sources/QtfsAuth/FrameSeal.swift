// Sealing and opening the frames of one direction of a connection (docs/protocol.md,
// "Sealed frames"). A frame keeps its 24-byte header in clear, with `length` counting the
// 16-byte tag, and the header is the associated data; the payload is encrypted in place.
// Each direction numbers its frames from 0; the number is the nonce and is never sent, so
// a dropped, reordered, replayed or injected frame fails to open.
import CQtfsSys
import QtfsProtocol

public enum SealError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The frame was altered, or is not the next one the peer sent (dropped, reordered,
    /// replayed, or from another connection).
    case forged(counter: UInt64)
    /// 2^64 - 1 frames in one direction: the connection must close, a nonce is never reused.
    case exhausted
    case cipherUnavailable(Sealed.Suite)
    case malformed(String)

    public var description: String {
        switch self {
        case .forged(let n): "sealed frame #\(n) failed authentication (altered, dropped, reordered, replayed or injected)"
        case .exhausted: "frame counter exhausted; the connection must be re-established"
        case .cipherUnavailable(let s): "the crypto library cannot provide \(s)"
        case .malformed(let why): "sealed frame malformed: \(why)"
        }
    }
}

/// Common state of a sealer or opener: the cipher context and the next frame's number.
public class FrameCipher {
    public let suite: Sealed.Suite
    /// The number (nonce) of the next frame; also how many frames went this way.
    public private(set) var counter: UInt64 = 0
    fileprivate let aead: Aead

    init(suite: Sealed.Suite, key: [UInt8]) throws {
        precondition(key.count == Sealed.keySize)
        guard let a = Aead(suite, key: key) else { throw SealError.cipherUnavailable(suite) }
        self.suite = suite; aead = a
    }

    /// The nonce buffer, rewritten for every frame (no allocation per frame).
    private var nonce = [UInt8](repeating: 0, count: Sealed.nonceSize)

    /// Runs `body` with the next frame's nonce (Sealed.nonce(counter)) and advances the
    /// counter, which never reaches its last value.
    fileprivate func withNextNonce<R>(_ body: (UnsafePointer<UInt8>) throws -> R) throws -> R {
        guard counter < UInt64.max else { throw SealError.exhausted }
        Sealed.setNonce(&nonce, counter)
        counter += 1
        return try nonce.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    fileprivate static func setLength(_ frame: UnsafeMutableRawBufferPointer, _ length: Int) {
        FrameHeader.storeLength(UInt32(length), in: frame.baseAddress!)
    }
}

/// Whether this CPU has AES instructions (then AES-256-GCM is the faster suite; without
/// them ChaCha20-Poly1305 is, and a client offers only that).
public let cpuHasAES: Bool = qtfs_cpu_has_aes() != 0

public final class FrameSealer: FrameCipher {
    public override init(suite: Sealed.Suite, key: [UInt8]) throws { try super.init(suite: suite, key: key) }

    /// Seals a frame in place. `frame` holds the header and `payloadLength` payload bytes,
    /// followed by at least 16 free bytes for the tag; returns the sealed frame's size.
    public func seal(_ frame: UnsafeMutableRawBufferPointer, payloadLength: Int) throws -> Int {
        let total = Wire.headerSize + payloadLength + Sealed.tagSize
        guard frame.count >= total else { throw SealError.malformed("no room for the tag") }
        FrameCipher.setLength(frame, payloadLength + Sealed.tagSize)
        let base = frame.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let sealed = try withNextNonce {
            aead.seal(nonce: $0, aad: base, aadLength: Wire.headerSize, text: base + Wire.headerSize,
                      length: payloadLength, tag: base + Wire.headerSize + payloadLength)
        }
        guard sealed else { throw SealError.cipherUnavailable(suite) }
        return total
    }

    /// A sealed copy of a whole plain frame (header and payload).
    public func seal(_ plain: [UInt8]) throws -> [UInt8] {
        guard plain.count >= Wire.headerSize else { throw SealError.malformed("shorter than a header") }
        var out = plain + [UInt8](repeating: 0, count: Sealed.tagSize)
        _ = try out.withUnsafeMutableBytes { try seal($0, payloadLength: plain.count - Wire.headerSize) }
        return out
    }
}

public final class FrameOpener: FrameCipher {
    public override init(suite: Sealed.Suite, key: [UInt8]) throws { try super.init(suite: suite, key: key) }

    /// Opens a sealed frame in place: `frame` is its header (length counting the tag) and
    /// body. On success the payload is plain, the header's length no longer counts the tag,
    /// and the payload length is returned. On failure the connection must close.
    public func open(_ frame: UnsafeMutableRawBufferPointer) throws -> Int {
        guard frame.count >= Wire.headerSize + Sealed.tagSize else { throw SealError.malformed("shorter than a header and tag") }
        return try open(header: UnsafeMutableRawBufferPointer(rebasing: frame[..<Wire.headerSize]),
                        body: UnsafeMutableRawBufferPointer(rebasing: frame[Wire.headerSize...]))
    }

    /// The same with the header and the body (ciphertext and tag) in separate memory, as a
    /// reader that receives a large payload straight into its own array has them.
    public func open(header: UnsafeMutableRawBufferPointer, body: UnsafeMutableRawBufferPointer) throws -> Int {
        guard header.count == Wire.headerSize else { throw SealError.malformed("header of \(header.count) bytes") }
        let length = Int(FrameHeader.loadLength(header.baseAddress!))
        guard length >= Sealed.tagSize, body.count >= length else {
            throw SealError.malformed("length \(length) does not fit the frame")
        }
        let n = counter
        let aad = header.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let data = body.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let payload = length - Sealed.tagSize
        let opened = try withNextNonce {
            aead.open(nonce: $0, aad: aad, aadLength: Wire.headerSize, text: data, length: payload, tag: data + payload)
        }
        guard opened else { throw SealError.forged(counter: n) }
        FrameCipher.setLength(header, payload)
        return payload
    }

    /// The plain frame of a whole sealed frame.
    public func open(_ sealed: [UInt8]) throws -> [UInt8] {
        var buf = sealed
        let n = try buf.withUnsafeMutableBytes { try open($0) }
        return Array(buf.prefix(Wire.headerSize + n))
    }
}
