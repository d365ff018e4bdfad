// The fixed 24-byte frame header of wire protocol v1 (docs/protocol.md, "Framing").
//
//   offset size field
//   0      4    magic      0x53465451 ("QTFS" in byte order)
//   4      1    version    1
//   5      1    kind       0 request, 1 response, 2 event (server to client)
//   6      2    opcode     Opcode
//   8      8    id         request id, echoed in the response
//   16     4    length     payload bytes that follow the header
//   20     4    status     responses: 0 or a Linux errno; requests and events: 0

public enum Wire {
    public static let magic: UInt32 = 0x5346_5451
    public static let version: UInt8 = 1
    public static let headerSize = 24
    /// Largest READ or WRITE data a peer may ask for in one message.
    public static let maxIOSize = 1 << 20
    /// Largest payload accepted; checked against the header before any allocation.
    public static let maxPayload = maxIOSize + 64 * 1024
    public static let maxPath = 4095
    public static let maxName = 255
    public static let maxGroups = 64
    public static let maxXattrName = 255
    public static let maxXattrValue = 64 * 1024
    /// OPEN_READ: the most content one open may carry.
    public static let maxOpenContent = 64 * 1024
    public static let defaultPort: UInt16 = 12345
}

public enum FrameKind: UInt8, Sendable {
    case request = 0
    case response = 1
    case event = 2
    /// A relay's bytes once a sealed connection became a relay (docs/protocol.md, "Sealed frames").
    case stream = 3
}

public struct FrameHeader: Equatable, Sendable {
    public var kind: FrameKind
    public var opcode: UInt16
    public var id: UInt64
    public var length: UInt32
    public var status: UInt32

    public init(kind: FrameKind, opcode: UInt16, id: UInt64, length: UInt32, status: UInt32 = 0) {
        self.kind = kind
        self.opcode = opcode
        self.id = id
        self.length = length
        self.status = status
    }

    public enum DecodeError: Error, Equatable, Sendable {
        case badMagic(UInt32)
        case unsupportedVersion(UInt8)
        case badKind(UInt8)
        case oversized(UInt32)
    }

    /// Decodes and validates a header. A failure here means the stream cannot be trusted:
    /// the receiver logs it and closes the connection.
    /// `maxLength`: the largest payload accepted; a sealed connection adds its tag
    /// (Sealed.maxSealedLength).
    public static func decode(_ raw: UnsafeRawBufferPointer, maxLength: Int = Wire.maxPayload) throws -> FrameHeader {
        precondition(raw.count >= Wire.headerSize)
        func load<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
        }
        let magic = load(0, UInt32.self)
        guard magic == Wire.magic else { throw DecodeError.badMagic(magic) }
        guard raw[4] == Wire.version else { throw DecodeError.unsupportedVersion(raw[4]) }
        guard let kind = FrameKind(rawValue: raw[5]) else { throw DecodeError.badKind(raw[5]) }
        let length = load(lengthOffset, UInt32.self)
        guard length <= UInt32(maxLength) else { throw DecodeError.oversized(length) }
        return FrameHeader(kind: kind, opcode: load(6, UInt16.self), id: load(8, UInt64.self),
                           length: length, status: load(20, UInt32.self))
    }

    /// Where `length` sits in an encoded header, for code that patches a header in place.
    public static let lengthOffset = 16

    /// Rewrites the length field of the encoded header at `header`.
    public static func storeLength(_ length: UInt32, in header: UnsafeMutableRawPointer) {
        header.storeBytes(of: length.littleEndian, toByteOffset: lengthOffset, as: UInt32.self)
    }

    /// The length field of the encoded header at `header`.
    public static func loadLength(_ header: UnsafeRawPointer) -> UInt32 {
        UInt32(littleEndian: header.loadUnaligned(fromByteOffset: lengthOffset, as: UInt32.self))
    }

    /// Encodes this header into `Wire.headerSize` bytes at `p`, the same bytes as `encode`
    /// without a writer (for answers built around data already in place).
    public func store(into p: UnsafeMutableRawPointer) {
        p.storeBytes(of: Wire.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: Wire.version, toByteOffset: 4, as: UInt8.self)
        p.storeBytes(of: kind.rawValue, toByteOffset: 5, as: UInt8.self)
        p.storeBytes(of: opcode.littleEndian, toByteOffset: 6, as: UInt16.self)
        p.storeBytes(of: id.littleEndian, toByteOffset: 8, as: UInt64.self)
        FrameHeader.storeLength(length, in: p)
        p.storeBytes(of: status.littleEndian, toByteOffset: 20, as: UInt32.self)
    }

    public func encode(into w: inout WireWriter) {
        w.u32(Wire.magic, "magic \"QTFS\"")
        w.u8(Wire.version, "version 1")
        w.u8(kind.rawValue, "kind \(kind)")
        w.u16(opcode, "opcode \(Opcode(rawValue: opcode).map { "\($0)" } ?? "\(opcode)")")
        w.u64(id, "request id")
        w.u32(length, "payload length")
        w.u32(status, "status")
    }
}

/// Explicit opcode numbers; never renumber. Gaps are reserved (docs/protocol.md).
public enum Opcode: UInt16, CaseIterable, Sendable {
    case hello = 1
    case authChallenge = 2   // docs/protocol.md, "Authentication"
    case authResponse = 3
    case mount = 4
    case cancel = 5          // stop a request still waiting (fifo open/read/write, poll)
    case poll = 6            // readiness of a handle, optionally armed for a POLL_READY event
    case pollReady = 7       // event (server to client): an armed handle became ready
    case sockConnect = 8     // turn this connection into a relay to a host unix socket
    case sockListen = 9      // serve a host unix socket; connections come as SOCK_INCOMING
    case lookup = 10
    case getattr = 11
    case setattr = 12
    case readlink = 13
    case mknod = 14
    case mkdir = 15
    case unlink = 16
    case rmdir = 17
    case symlink = 18
    case rename = 19
    case link = 20
    case open = 21
    case create = 22
    case read = 23
    case write = 24
    case flush = 25
    case fsync = 26
    case release = 27
    case opendir = 28
    case readdir = 29
    case releasedir = 30
    case statfs = 31
    case access = 32
    case getxattr = 33
    case setxattr = 34
    case listxattr = 35
    case removexattr = 36
    case lseek = 37
    case fallocate = 38
    case sockAccept = 39     // turn this connection into the relay of an incoming connection
    case sockIncoming = 40   // event: a host process connected to a SOCK_LISTEN socket
    case openRead = 48      // OPEN plus the whole content of a small read-only file
    case lookupOpen = 49    // LOOKUP plus, for a regular file, OPEN_READ (qtfs.ko's atomic open)
    // Remote exec (docs/protocol.md, "Remote exec"): REXEC_START turns the connection into
    // one remote program's channel; the rest are events (kind 2) in either direction.
    case rexecStart = 64
    case rexecData = 65     // stdin (to the host), stdout and stderr (from it); empty = EOF
    case rexecCredit = 66   // the receiver consumed that many bytes of a stream
    case rexecSignal = 67   // deliver a signal to the remote program
    case rexecWinsize = 68  // the terminal's new size (-t)
    case rexecExit = 69     // the program ended: how, and the code or signal
    // Host mounts for qtfs-run (docs/protocol.md, "Host mounts"): empty answers.
    case hostMount = 70
    case hostUmount = 71
}
