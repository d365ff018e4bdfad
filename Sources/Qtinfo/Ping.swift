import ArgumentParser

/// `qtinfo ping`: is a qtfs-server answering on HOST:PORT, and how fast.
struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that a qtfs-server answers: protocol handshake and round-trip time.")

    @Option(name: .shortAndLong, help: "Server as HOST[:PORT] (default port 12345).")
    var server: String = "127.0.0.1"

    @Option(name: .shortAndLong, help: "How many handshakes to time.")
    var count: Int = 3

    func validate() throws {
        guard count > 0 && count <= 1000 else { throw ValidationError("--count must be between 1 and 1000") }
    }

    func run() throws {
        let (host, port) = try ServerAddress.parse(server)
        for i in 1...count {
            let result = try Handshake.run(host: host, port: port)
            print("\(host):\(port): \(result.serverName), protocol v\(result.version), seq=\(i) time=\(Int(result.microseconds.rounded())) µs")
        }
    }
}
