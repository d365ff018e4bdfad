// The AEAD ciphers that seal frames (docs/protocol.md, "Sealed frames"), from Debian's
// libcrypto (OpenSSL 3): AES-256-GCM (AES-NI, VAES) and ChaCha20-Poly1305. Swift sees an
// opaque context and three calls; OpenSSL's headers stay inside the .c file.
#ifndef CQTFS_CRYPTO_H
#define CQTFS_CRYPTO_H
#include <stddef.h>
#include <stdint.h>

#define QTFS_AEAD_SUITE_AES256GCM 1
#define QTFS_AEAD_SUITE_CHACHA20POLY1305 2
#define QTFS_AEAD_KEY_BYTES 32
#define QTFS_AEAD_NONCE_BYTES 12
#define QTFS_AEAD_TAG_BYTES 16

struct qtfs_aead;

/// A context for one suite and 32-byte key, for sealing (seal = 1) or opening (seal = 0).
/// NULL for an unknown suite or when libcrypto cannot make one.
struct qtfs_aead *qtfs_aead_new(int suite, const uint8_t *key, int seal);
void qtfs_aead_free(struct qtfs_aead *ctx);

/// Encrypts `len` bytes at `text` in place and writes the 16-byte tag to `tag`; `aad` is
/// authenticated, not encrypted. 0, or -1 when libcrypto fails.
int qtfs_aead_seal(struct qtfs_aead *ctx, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                   uint8_t *text, size_t len, uint8_t *tag);

/// Checks `tag` over `aad` and the ciphertext and decrypts `len` bytes in place.
/// 0, or -1 when the tag does not match (the text is then garbage: discard it).
int qtfs_aead_open(struct qtfs_aead *ctx, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                   uint8_t *text, size_t len, const uint8_t *tag);

/// 1 when this CPU has AES instructions (x86 AES-NI, arm64 AES), so AES-GCM is the fast suite.
int qtfs_cpu_has_aes(void);
#endif
