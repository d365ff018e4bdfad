// qtfs-run's messages: on stderr, prefixed, one line each. `verbose` (-v) adds a line per
// intercepted call.
import Glibc
import QtfsClient

enum Log {
    nonisolated(unsafe) static var verbose = false

    static func error(_ message: String) { Sys.printError("qtfs-run: \(message)") }
    static func call(_ message: @autoclosure () -> String) { if verbose { Sys.printError("qtfs-run: \(message())") } }
}
