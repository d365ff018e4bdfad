#include "CQtfsCrypto.h"
#include <limits.h>
#include <stdlib.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
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
	/* The _ex2 and params calls skip OpenSSL 3's translation of the older ctrl
	 * interface, a large part of the cost of sealing a small frame. */
	if (EVP_CipherInit_ex2(ctx->evp, NULL, NULL, nonce, -1, NULL) != 1)
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
	OSSL_PARAM get_tag[] = {
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, QTFS_AEAD_TAG_BYTES), OSSL_PARAM_END
	};
	int n;

	if (run(ctx, nonce, aad, aad_len, text, len) || EVP_CipherFinal_ex(ctx->evp, NULL, &n) != 1)
		return -1;
	return EVP_CIPHER_CTX_get_params(ctx->evp, get_tag) == 1 ? 0 : -1;
}

int qtfs_aead_open(struct qtfs_aead *ctx, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
		   uint8_t *text, size_t len, const uint8_t *tag)
{
	OSSL_PARAM set_tag[] = {
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag, QTFS_AEAD_TAG_BYTES), OSSL_PARAM_END
	};
	uint8_t scratch[QTFS_AEAD_TAG_BYTES];
	int n;

	if (run(ctx, nonce, aad, aad_len, text, len))
		return -1;
	if (EVP_CIPHER_CTX_set_params(ctx->evp, set_tag) != 1)
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
