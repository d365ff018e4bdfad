// The system layer's types (Errno, Lock, Dial, ServerAddress, ...) are part of the client
// library's interface: users of QtfsClient see them without importing QtfsSystem.
@_exported import QtfsSystem
