// What Swift cannot ask itself about the CPU when choosing the suite of sealed frames
// (docs/protocol.md, "Sealed frames"). The ciphers are BoringSSL's (QtfsAuth/Aead.swift).
#ifndef QTFS_CPU_H
#define QTFS_CPU_H

/// 1 when this CPU has AES instructions (x86 AES-NI, arm64 AES), so AES-GCM is the fast suite.
int qtfs_cpu_has_aes(void);
#endif
