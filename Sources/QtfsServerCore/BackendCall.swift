// One request as a backend handler (a row of Routes.swift) sees it: its payload decoded,
// its answer framed. Kept apart from Router.swift so that a request's path goes forward:
// Router → Routes → the handler → here.
import Logging
import QtfsProtocol

/// One request as a backend handler sees it.
struct BackendCall {
    let opcode: Opcode
    let id: UInt64
    /// The connection it came on (log lines).
    let conn: UInt64
    let payload: UnsafeRawBufferPointer
    let handles: HandleTable
    let waiting: Waiting
    let logger: Logger

    /// The request payload, decoded whole.
    func request<T: WirePayload>() throws -> T { try T.decode(payload) }

    /// The response frame carrying `p`.
    func reply<P: WirePayload>(_ p: P) -> [UInt8] {
        FrameHeader.frame(kind: .response, opcode: opcode, id: id, payload: p)
    }
}
