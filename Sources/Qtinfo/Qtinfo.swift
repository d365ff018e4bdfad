import ArgumentParser
import QtfsControl

/// `qtinfo`: status, statistics, log levels and whitelist of the qtfs components on this
/// machine. Upstream qtinfo's short options keep their meaning (-a -c -l -w -x -y -z).
@main
struct Qtinfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qtinfo",
        abstract: "Inspect and control the qtfs servers and mounts on this machine.",
        discussion: """
            Without options, lists every qtfs-server and qtfs-fuse mount on this
            machine with its state. Options act on every component, or on those
            chosen with --component. The control sockets are in /run/qtfs (root
            only). Full description: docs/qtinfo.md.

            Examples:
              qtinfo                        list servers and mounts
              qtinfo -a                     status and statistics of each
              qtinfo -l DEBUG -C server     server log level to DEBUG
              qtinfo -c                     clear statistics everywhere
              qtinfo -w open -x /var/lib/x  allow open under /var/lib/x
              qtinfo -z                     list the whitelist
              qtinfo --stats --json         statistics for programs
            """,
        version: QtfsVersion.text,
        subcommands: [Ping.self, Kmod.self])

    @Flag(name: [.customShort("a"), .customLong("all")], help: "Status and statistics of each component.")
    var all = false

    @Flag(name: .customLong("status"), help: "Status: version, uptime, connections, bytes, requests in flight.")
    var status = false

    @Flag(name: .customLong("stats"), help: "Per-operation statistics: count, errors by errno, latency p50/p99/max.")
    var stats = false

    @Flag(name: [.customShort("c"), .customLong("clear")], help: "Clear the statistics.")
    var clear = false

    @Option(name: [.customShort("l"), .customLong("log-level")],
            help: ArgumentHelp("Set the log level: NONE, ERROR, WARN, INFO, DEBUG (or TRACE).", valueName: "level"))
    var logLevel: String?

    @Option(name: [.customShort("w"), .customLong("whitelist-type")],
            help: ArgumentHelp("Whitelist type for -x/-y: \(WhitelistTypes.all.joined(separator: ", ")).", valueName: "type"))
    var whitelistType: String?

    @Option(name: [.customShort("x"), .customLong("whitelist-add")],
            help: ArgumentHelp("Add PATH to the whitelist of type -w.", valueName: "path"))
    var whitelistAdd: String?

    @Option(name: [.customShort("y"), .customLong("whitelist-remove")],
            help: ArgumentHelp("Remove entry INDEX (as listed by -z) from the whitelist of type -w.", valueName: "index"))
    var whitelistRemove: Int?

    @Option(name: [.customShort("z"), .customLong("whitelist-list")],
            help: ArgumentHelp("List the whitelist of TYPE, or of every type when TYPE is left out.", valueName: "type"))
    var whitelistList: String?

    @Flag(name: .customLong("whitelist-save"), help: "Write the server's whitelist back to its file.")
    var whitelistSave = false

    @Option(name: [.customShort("C"), .customLong("component")],
            help: ArgumentHelp("Act on this component only (repeatable): a name from the list (server-1234), a role (server, fuse, kmod), a mount point, or a socket path.",
                               valueName: "name"))
    var components: [String] = []

    @Option(name: .customLong("control-dir"),
            help: ArgumentHelp("Directory of the control sockets (default \(SocketDirectory.defaultPath), or $\(SocketDirectory.environmentKey)).", valueName: "dir"))
    var controlDir: String?

    @Flag(name: .customLong("json"), help: "Print JSON (schema in docs/qtinfo.md) instead of tables.")
    var json = false

    /// Upstream's -z takes its type attached or not at all (getopt "z::"): make that parseable.
    static func main() {
        main(Arguments.normalize(Array(CommandLine.arguments.dropFirst())))
    }

    func run() throws {
        let plan = try Plan(self)
        let sources: [any ComponentSource] = [SocketSource(directory: controlDir ?? SocketDirectory.path), KmodSource()]
        let selected = try Selection.choose(components, from: sources, whitelistOnly: plan.whitelist != nil)
        let results = selected.map { plan.apply(to: $0) }
        if json {
            print(JSONOutput.render(results))
        } else {
            print(TextOutput.render(results, plan: plan, directory: controlDir ?? SocketDirectory.path), terminator: "")
        }
        let failures = results.compactMap(\.error)
        if !json { failures.forEach { printError("qtinfo: \($0)") } }
        if !failures.isEmpty { throw ExitCode(1) }
        if selected.isEmpty && plan.needsComponent {
            throw QtinfoError("no qtfs component is running here (no control socket in \(controlDir ?? SocketDirectory.path)); start qtfs-server or mount with qtfs-fuse first")
        }
    }
}
