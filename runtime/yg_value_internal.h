/*
 * yg_value_internal.h - helpers shared by the value codecs (JSON, msgpack,
 * Python text forms).  Not public API.  Implemented in yg_value.c.
 */
#ifndef YG_VALUE_INTERNAL_H
#define YG_VALUE_INTERNAL_H

#include "yamlgraph/yg_value.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard ceiling on nesting in every codec, whatever yg_limits_t says:
 * encoders refuse deeper (programmatically built) values and decoders
 * stop there even if max_depth is larger, so recursion stays bounded. */
#define YG_VALUE_MAX_DEPTH 1000

/* A growable byte buffer.  After an allocation failure `failed` is set and
 * further appends are ignored, so callers check once at the end. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} yg_vbuf_t;

void yg_vbuf_init(yg_vbuf_t *buf);
void yg_vbuf_append(yg_vbuf_t *buf, const char *bytes, size_t n);
void yg_vbuf_puts(yg_vbuf_t *buf, const char *s);
void yg_vbuf_putc(yg_vbuf_t *buf, char c);
/* Mark the buffer failed (e.g. an encoder hit YG_VALUE_MAX_DEPTH). */
void yg_vbuf_fail(yg_vbuf_t *buf);
/* Return the NUL-terminated contents (caller frees) and length, or NULL if
 * anything failed (the buffer is freed either way). */
char *yg_vbuf_finish(yg_vbuf_t *buf, size_t *len);
/* Free the contents without returning them. */
void yg_vbuf_free(yg_vbuf_t *buf);

/* An empty list / map with room for n items (decoders know the count):
 * no growth reallocations and no unused capacity.  The caller bounds n
 * before calling (it allocates n slots at once). */
yg_value_t *yg_list_new_sized(size_t n);
yg_value_t *yg_map_new_sized(size_t n);

/* Room for any yg_float_repr result including the NUL. */
#define YG_FLOAT_REPR_MAX 40

/* Python repr() of a double: shortest round-trip digits, fixed notation for
 * exponents -4..15 with ".0" added to integral values (1.0, 0.5, 100.0),
 * scientific otherwise with a signed two-digit-minimum exponent (1e-05,
 * 1e+16, 1.5e+300); "inf", "-inf", "nan" for non-finite values.
 * Writes into buf (YG_FLOAT_REPR_MAX bytes), returns the length. */
size_t yg_float_repr(double d, char *buf);

/* Decode one UTF-8 sequence from s (n bytes available).  Returns its length
 * (1-4) and the code point, or 0 if the bytes are not valid UTF-8 (overlong
 * forms, surrogates, values above U+10FFFF, truncated sequences). */
size_t yg_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Encode code point cp (<= U+10FFFF, not a surrogate) as UTF-8 into out
 * (4 bytes); returns the length. */
size_t yg_utf8_encode(uint32_t cp, char *out);

#endif
