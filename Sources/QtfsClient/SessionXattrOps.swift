// Extended attributes. Names travel as bytes; a size of 0 asks for the length only.
import QtfsProtocol

extension Session {
    public func getxattr(_ c: Caller, _ path: [UInt8], name: [UInt8], size: UInt32) throws -> XattrReply {
        var req = XattrGetRequest(caller: c, target: target(path), name: "", size: size)
        req.name = name
        return try onPath(.getxattr, req).decode(XattrReply.self)
    }

    public func listxattr(_ c: Caller, _ path: [UInt8], size: UInt32) throws -> XattrReply {
        let req = XattrGetRequest(caller: c, target: target(path), name: "", size: size)
        return try onPath(.listxattr, req).decode(XattrReply.self)
    }

    public func setxattr(_ c: Caller, _ path: [UInt8], name: [UInt8], value: [UInt8], flags: UInt32) throws {
        var req = SetxattrRequest(caller: c, target: target(path), name: "", flags: flags, value: value)
        req.name = name
        try onPath(.setxattr, req, flags & 1 != 0 ? .unsafe : .safe).check()   // XATTR_CREATE fails the second time
    }

    public func removexattr(_ c: Caller, _ path: [UInt8], name: [UInt8]) throws {
        var req = RemovexattrRequest(caller: c, target: target(path), name: "")
        req.name = name
        try onPath(.removexattr, req, .unsafe).check()
    }
}
