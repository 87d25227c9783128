/*
 * yg_msgpack.h - msgpack pieces for modules that build protocol frames.
 *
 * Internal (not installed): includes msgpack-c.  The whole-buffer codecs
 * are yg_msgpack_encode / yg_msgpack_decode in yamlgraph/yg_value.h.
 */
#ifndef YG_MSGPACK_H
#define YG_MSGPACK_H

#include "yamlgraph/yg_value.h"

#include <msgpack.h>

/* Pack v with pk: null -> nil, bool, int -> the int64 family (smallest
 * form), float -> float64, str -> str, list -> array, map -> map with str
 * keys in insertion order.  Returns YG_OK, YG_ENOMEM if the packer's write
 * failed, or YG_ELIMIT if v nests deeper than YG_VALUE_MAX_DEPTH. */
int yg_msgpack_pack_value(msgpack_packer *pk, const yg_value_t *v);

/* Decode one object from the front of data (further bytes are left alone)
 * and store the number of bytes it used in *consumed.  limits NULL means
 * yg_limits_default; max_bytes bounds the object's encoded size, not size.
 * Returns NULL with err filled on malformed, truncated or over-limit input. */
yg_value_t *yg_msgpack_decode_prefix(const char *data, size_t size, size_t *consumed,
                                     const yg_limits_t *limits, yg_error_t *err);

#endif
