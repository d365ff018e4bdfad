// Linux errno numbers as sent on the wire. Spelled out here so the protocol library does
// not depend on the C library of whichever machine decodes it.
public enum LinuxErrno {
    public static let EPERM: Int32 = 1
    public static let ENOENT: Int32 = 2
    public static let EIO: Int32 = 5
    public static let ENXIO: Int32 = 6
    public static let EBADF: Int32 = 9
    public static let EAGAIN: Int32 = 11
    public static let ENOMEM: Int32 = 12
    public static let EACCES: Int32 = 13
    public static let EEXIST: Int32 = 17
    public static let EXDEV: Int32 = 18
    public static let ENOTDIR: Int32 = 20
    public static let EISDIR: Int32 = 21
    public static let EINVAL: Int32 = 22
    public static let EMFILE: Int32 = 24
    public static let ENOSPC: Int32 = 28
    public static let EROFS: Int32 = 30
    public static let ERANGE: Int32 = 34
    public static let ENAMETOOLONG: Int32 = 36
    public static let ENOSYS: Int32 = 38
    public static let ENOTEMPTY: Int32 = 39
    public static let ELOOP: Int32 = 40
    public static let ENODATA: Int32 = 61
    public static let EPROTO: Int32 = 71
    public static let EOPNOTSUPP: Int32 = 95
    public static let ETIMEDOUT: Int32 = 110
}
