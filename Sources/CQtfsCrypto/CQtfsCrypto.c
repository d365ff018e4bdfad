#include "CQtfsCrypto.h"
#include <limits.h>
#include <stdlib.h>
#include <openssl/evp.h>
#if defined(__aarch64__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#endif

struct qtfs_aead {
	EVP_CIPHER_CTX *evp;
};

static const EVP_CIPHER *cipher_of(int suite)
{
	switch (suite) {
	case QTFS_AEAD_SUITE_AES256GCM: return EVP_aes_256_gcm();
	case QTFS_AEAD_SUITE_CHACHA20POLY1305: return EVP_chacha20_poly1305();
	default: return NULL;
	}
}

struct qtfs_aead *qtfs_aead_new(int suite, const uint8_t *key, int seal)
{
	const EVP_CIPHER *cipher = cipher_of(suite);
	struct qtfs_aead *ctx;

	if (!cipher || !(ctx = calloc(1, sizeof(*ctx))))
		return NULL;
	ctx->evp = EVP_CIPHER_CTX_new();
	/* The key is set once; each frame only sets its nonce (the default 12-byte IV). */
	if (!ctx->evp || EVP_CipherInit_ex(ctx->evp, cipher, NULL, key, NULL, seal) != 1) {
		qtfs_aead_free(ctx);
		return NULL;
	}
	return ctx;
}

void qtfs_aead_free(struct qtfs_aead *ctx)
{
	if (!ctx)
		return;
	EVP_CIPHER_CTX_free(ctx->evp);
	free(ctx);
}

/* Feeds the nonce, the associated data and the text (in place) to the context. */
static int run(struct qtfs_aead *ctx, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
	       uint8_t *text, size_t len)
{
	int n;

	if (aad_len > INT_MAX || len > INT_MAX)
		return -1;
	if (EVP_CipherInit_ex(ctx->evp, NULL, NULL, NULL, nonce, -1) != 1)
		return -1;
	if (aad_len && EVP_CipherUpdate(ctx->evp, NULL, &n, aad, (int)aad_len) != 1)
		return -1;
	if (len && EVP_CipherUpdate(ctx->evp, text, &n, text, (int)len) != 1)
		return -1;
	return 0;
}

int qtfs_aead_seal(struct qtfs_aead *ctx, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		   uint8_t *text, size_t len, uint8_t *tag)
{
	int n;

	if (run(ctx, nonce, aad, aad_len, text, len) || EVP_CipherFinal_ex(ctx->evp, NULL, &n) != 1)
		return -1;
	return EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_AEAD_GET_TAG, QTFS_AEAD_TAG_BYTES, tag) == 1 ? 0 : -1;
}

int qtfs_aead_open(struct qtfs_aead *ctx, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		   uint8_t *text, size_t len, const uint8_t *tag)
{
	uint8_t scratch[QTFS_AEAD_TAG_BYTES];
	int n;

	if (run(ctx, nonce, aad, aad_len, text, len))
		return -1;
	if (EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_AEAD_SET_TAG, QTFS_AEAD_TAG_BYTES, (void *)tag) != 1)
		return -1;
	/* Final writes nothing for these stream-like modes; it only compares the tag. */
	return EVP_CipherFinal_ex(ctx->evp, scratch, &n) == 1 ? 0 : -1;
}

int qtfs_cpu_has_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes") ? 1 : 0;
#elif defined(__aarch64__)
	return (getauxval(AT_HWCAP) & HWCAP_AES) ? 1 : 0;
#else
	return 0;
#endif
}
