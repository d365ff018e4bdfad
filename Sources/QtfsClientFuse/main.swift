// qtfs-fuse: the DPU-side FUSE client of qtfs. Also installed as mount.qtfs.
import QtfsClient

FuseLogging.bootstrap()

// The client configuration's server, key and conns come first: the command line overrides.
let argv: [String]
do {
    argv = try ClientConfig.load(environment: ServerOptions.processEnvironment()).asLeadingOptions(CommandLine.arguments)
} catch {
    Sys.printError("qtfs-fuse: \(error)")
    Sys.exit(2)
}

// As mount.qtfs with qtfs.ko loaded (and no -o fuse): a kernel mount instead of FUSE.
if let rc = KernelMount.runIfChosen(argv) { Sys.exit(rc) }

switch Result(catching: { try parseCommandLine(argv) }) {
case .success(.help):
    print(usageText)
case .success(.version):
    print("qtfs-fuse (qtfs-swift), wire protocol v1")
case .success(.run(let opts)):
    Sys.exit(Runner.run(opts))
case .failure(let e):
    Sys.printError("qtfs-fuse: \((e as? UsageError)?.message ?? "\(e)")")
    Sys.exit(2)
}
