// Starting an OS thread with a Swift closure: the one pthread trampoline of the project.
#if canImport(Glibc)
import Glibc
#endif

public enum Threads {
    /// Starts a thread running `body`. Detached threads free themselves when they end;
    /// otherwise join the returned id.
    @discardableResult
    public static func start(detached: Bool = true,
                             _ body: @escaping () -> Void) throws -> pthread_t {
        final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
        let arg = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let r = pthread_create(&tid, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, arg)
        guard r == 0 else {
            Unmanaged<Box>.fromOpaque(arg).release()
            throw Errno(r, call: "pthread_create")
        }
        if detached { pthread_detach(tid) }
        return tid
    }
}
