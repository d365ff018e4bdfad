// The two keys of a sealed connection (docs/protocol.md, "Sealed frames"), derived from the
// pre-shared key and this connection's handshake: new on every connection and reconnection.
import QtfsProtocol

public struct SessionKeys: Sendable {
    public let suite: Sealed.Suite
    public let clientToServer: [UInt8]
    public let serverToClient: [UInt8]

    /// PRK = HKDF-Extract(salt = client nonce | server nonce, IKM = pre-shared key);
    /// each direction's key = HKDF-Expand(PRK, Sealed.info(direction, ...), 32).
    public init(key: AuthKey, suite: Sealed.Suite, clientNonce: [UInt8], serverNonce: [UInt8],
                serverProof: [UInt8], clientProof: [UInt8]) {
        let prk = HKDF.extract(salt: clientNonce + serverNonce, keyMaterial: key.key)
        func derive(_ d: Sealed.Direction) -> [UInt8] {
            HKDF.expand(prk: prk, info: Sealed.info(d, suite, serverProof: serverProof, clientProof: clientProof),
                        count: Sealed.keySize)
        }
        self.suite = suite
        clientToServer = derive(.clientToServer)
        serverToClient = derive(.serverToClient)
    }

    /// The sealer for what one side sends and the opener for what it receives.
    public func channel(forClient: Bool) throws -> (sealer: FrameSealer, opener: FrameOpener) {
        let (out, inn) = forClient ? (clientToServer, serverToClient) : (serverToClient, clientToServer)
        return (try FrameSealer(suite: suite, key: out), try FrameOpener(suite: suite, key: inn))
    }
}
