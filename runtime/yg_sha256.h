/*
 * yg_sha256.h - SHA-256 (FIPS 180-4), small and dependency-free (internal).
 *
 * Used for the graph hash: a stable identity of a graph file and every file
 * it loads, so that checkpoints can tell which graph version wrote them.
 */
#ifndef YG_SHA256_H
#define YG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define YG_SHA256_DIGEST_SIZE 32
#define YG_SHA256_HEX_SIZE 65 /* 64 hex digits + NUL */

typedef struct yg_sha256 {
    uint32_t state[8];
    uint64_t total_bytes;
    uint8_t block[64];
    size_t block_used;
} yg_sha256_t;

void yg_sha256_init(yg_sha256_t *ctx);
void yg_sha256_update(yg_sha256_t *ctx, const void *data, size_t len);
/* Finish and write the 32-byte digest; ctx must be re-initialised to reuse. */
void yg_sha256_final(yg_sha256_t *ctx, uint8_t digest[YG_SHA256_DIGEST_SIZE]);
/* One-shot digest of a buffer. */
void yg_sha256(const void *data, size_t len, uint8_t digest[YG_SHA256_DIGEST_SIZE]);
/* Lower-case hex of a digest into out (65 bytes incl. NUL). */
void yg_sha256_hex(const uint8_t digest[YG_SHA256_DIGEST_SIZE], char out[YG_SHA256_HEX_SIZE]);

#endif
