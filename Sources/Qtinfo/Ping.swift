import ArgumentParser
import QtfsAuth
import QtfsClient
import QtfsSystem

/// `qtinfo ping`: is a qtfs-server answering, does it accept our key, and how fast. The
/// server and key default as for qtfs-rexec and qtfs-run: CMD_NET_ADDR, then
/// /etc/qtfs/client.conf, then 127.0.0.1:12345 and /etc/qtfs/qtfs.key when it exists.
struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that a qtfs-server answers and accepts our key: protocol handshake and its time.")

    @Option(name: .shortAndLong, help: "Server as HOST[:PORT] (default: $CMD_NET_ADDR, else server= in /etc/qtfs/client.conf, else 127.0.0.1:12345).")
    var server: String?

    @Option(name: .shortAndLong, help: "Key file to authenticate with (default: key_file= in /etc/qtfs/client.conf, else /etc/qtfs/qtfs.key when it exists).")
    var key: String?

    @Option(name: .shortAndLong, help: "How many handshakes to time.")
    var count: Int = 3

    func validate() throws {
        guard count > 0 && count <= 1000 else { throw ValidationError("--count must be between 1 and 1000") }
    }

    func run() throws {
        let (address, authKey, crypt) = try target()
        for i in 1...count {
            let r = try PingRound.run(address, key: authKey, crypt: crypt)
            let auth = authKey == nil ? "no key" : "key accepted"
            print("\(address): \(r.serverName), protocol v\(r.version), \(auth), seq=\(i) time=\(Int(r.microseconds.rounded())) µs")
        }
    }

    /// The server and key: the options, else the shared client defaults.
    private func target() throws -> (ServerAddress, AuthKey?, ClientCrypt) {
        var t: ServerOptions
        do {
            t = try ServerOptions(environment: ServerOptions.processEnvironment())
            if let s = server { _ = try t.apply("--server") { s } }
        } catch let e as ServerOptions.UsageError {
            throw ValidationError(e.message)
        }
        if let k = key { t.keyFile = k }
        do {
            let key = try t.keyFile.map { try AuthKey.load(path: $0) }
            return (t.server, key, try t.cryptMode(hasKey: key != nil))
        } catch let e as AuthKeyError {
            throw ValidationError(e.description)
        } catch let e as ServerOptions.UsageError {
            throw ValidationError(e.message)
        }
    }
}
