// A relay on a sealed connection (docs/protocol.md, "Relays on a sealed connection"): the
// relayed byte stream (raw bytes, seqpacket frames or file records, unchanged) travels as
// sealed STREAM frames (kind 3, opcode 0, id 0, status 0) of 1 to 65,536 bytes, counters
// continuing from the connection's handshake; an empty one ends that direction. A TCP end
// before it is a truncation, and a frame that fails to open means tampering: either way
// the relay is reset, never ended as if the data were complete.
import QtfsAuth
import QtfsProtocol

public final class RelaySeal: @unchecked Sendable {
    /// The most relayed bytes in one STREAM frame.
    public static let maxChunk = 64 * 1024

    /// Why a sealed relay was reset.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case forged(SealError)           // altered, dropped, reordered, replayed or injected
        case notStream(String)           // a well-formed header, but not a STREAM frame
        case afterEnd                    // bytes after the end of the direction
        case truncated                   // the TCP connection ended before the end frame
        case cannotSeal(SealError)

        public var description: String {
            switch self {
            case .forged(let e): "\(e)"
            case .notStream(let why): "not a relay frame (\(why))"
            case .afterEnd: "bytes after the end of the relayed data"
            case .truncated: "the connection ended before the end of the relayed data (truncated)"
            case .cannotSeal(let e): "cannot seal: \(e)"
            }
        }
    }

    let sealer: FrameSealer
    let opener: FrameOpener
    /// Who is at the other end of the TCP connection, for log lines.
    public let peer: String
    let logLine: @Sendable (String) -> Void
    private var input: [UInt8] = []     // received, not yet a whole frame
    /// The peer's end frame arrived: its direction is complete.
    public private(set) var endReceived = false

    /// `sealer` and `opener` are the connection's, with the counters the handshake and the
    /// frames before the relay left; the relay owns them from now on.
    public init(sealer: FrameSealer, opener: FrameOpener, peer: String, log: @escaping @Sendable (String) -> Void) {
        self.sealer = sealer; self.opener = opener; self.peer = peer; logLine = log
    }

    /// Appends the STREAM frames that carry `plain` (any length; none for an empty one).
    public func seal(_ plain: UnsafeRawBufferPointer, into out: inout [UInt8]) throws {
        var at = 0
        while at < plain.count {
            let n = min(Self.maxChunk, plain.count - at)
            try sealFrame(UnsafeRawBufferPointer(rebasing: plain[at..<(at + n)]), into: &out)
            at += n
        }
    }

    /// Appends the end of this direction (an empty STREAM frame).
    public func sealEnd(into out: inout [UInt8]) throws {
        try sealFrame(UnsafeRawBufferPointer(start: nil, count: 0), into: &out)
    }

    /// One frame: header, the bytes (a copy) and room for the tag, sealed where it lies.
    private func sealFrame(_ data: UnsafeRawBufferPointer, into out: inout [UInt8]) throws {
        let start = out.count
        var w = WireWriter(capacity: Wire.headerSize)
        FrameHeader(kind: .stream, opcode: 0, id: 0, length: UInt32(data.count)).encode(into: &w)
        out += w.bytes
        out.append(contentsOf: data)
        out += repeatElement(0, count: Sealed.tagSize)
        do {
            _ = try out.withUnsafeMutableBytes {
                try sealer.seal(UnsafeMutableRawBufferPointer(rebasing: $0[start...]), payloadLength: data.count)
            }
        } catch let e as SealError {
            out.removeSubrange(start...)
            throw Failure.cannotSeal(e)
        }
    }

    /// Opens the whole frames among what arrived (`bytes`, after what came before) and
    /// appends their relayed bytes to `plain`. Throws when the relay must be reset.
    public func open(_ bytes: UnsafeRawBufferPointer, into plain: inout [UInt8]) throws {
        input.append(contentsOf: bytes)
        var at = 0
        defer { input.removeFirst(at) }
        while input.count - at >= Wire.headerSize {
            let h = try header(at)
            let total = Wire.headerSize + Int(h.length)
            guard input.count - at >= total else { return }
            guard !endReceived else { throw Failure.afterEnd }
            let n: Int
            do {
                n = try input.withUnsafeMutableBytes { try opener.open(UnsafeMutableRawBufferPointer(rebasing: $0[at..<(at + total)])) }
            } catch let e as SealError {
                throw Failure.forged(e)
            }
            if n == 0 { endReceived = true }
            plain += input[(at + Wire.headerSize)..<(at + Wire.headerSize + n)]
            at += total
        }
    }

    /// The header at `input[at...]`, checked to be a STREAM frame's.
    private func header(_ at: Int) throws -> FrameHeader {
        let h: FrameHeader
        do {
            h = try input.withUnsafeBytes {
                try FrameHeader.decode(UnsafeRawBufferPointer(rebasing: $0[at..<(at + Wire.headerSize)]),
                                       maxLength: Sealed.maxSealedLength(maxPayload: Self.maxChunk))
            }
        } catch {
            throw Failure.notStream("\(error)")
        }
        guard h.kind == .stream, h.opcode == 0, h.id == 0, h.status == 0 else {
            throw Failure.notStream("kind \(h.kind), opcode \(h.opcode), id \(h.id), status \(h.status)")
        }
        return h
    }

    /// The TCP connection ended: fine after the end frame, a truncation before it.
    public func checkEnd() throws {
        guard endReceived, input.isEmpty else { throw Failure.truncated }
    }

    /// One log line for a reset relay, naming the peer (the counter is in `failure`).
    func logReset(_ failure: Error) {
        logLine("qtfs relay with \(peer): \(failure); relay reset (the local socket is closed without an end of data)")
    }
}

extension RelaySeal {
    /// A whole plain frame (the answer that starts the relay) sealed as the connection's
    /// next frame, before the relay's STREAM frames.
    public func sealed(frame: [UInt8]) throws -> [UInt8] { try sealer.seal(frame) }
}
