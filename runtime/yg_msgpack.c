/*
 * yg_msgpack.c - msgpack codec for values.
 *
 * Encoding uses msgpack-c's packer.  Decoding uses this file's own small
 * bounded decoder instead of msgpack_unpack, which allocates arrays from
 * the claimed length before looking at the input (5 bytes could claim 4
 * billion elements).  Here every claimed length is checked against the
 * bytes that remain and against the limits before anything is allocated.
 *
 * Decoding rules: str must be valid UTF-8; bin is accepted as a string
 * (raw bytes); ext types and the reserved byte 0xc1 are errors; map keys
 * must be str or bin (any other key type is an error, as with Python
 * msgpack's strict_map_key); uint64 values above INT64_MAX decode as
 * floats (as JSON does for big integers); float32 widens to double.
 */
#include "yg_msgpack.h"
#include "yg_value_internal.h"

#include <string.h>

/* --- encoder ------------------------------------------------------------- */

static int pack_value(msgpack_packer *pk, const yg_value_t *v, size_t depth)
{
    if (depth > YG_VALUE_MAX_DEPTH)
        return YG_ELIMIT;
    int rc = 0;
    switch (yg_value_type(v)) {
    case YG_NULL:
        rc = msgpack_pack_nil(pk);
        break;
    case YG_BOOL:
        rc = yg_value_bool(v) ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        break;
    case YG_INT:
        rc = msgpack_pack_int64(pk, yg_value_int(v));
        break;
    case YG_FLOAT:
        rc = msgpack_pack_double(pk, yg_value_float(v));
        break;
    case YG_STR:
        rc = msgpack_pack_str_with_body(pk, yg_value_str(v), yg_value_strlen(v));
        break;
    case YG_LIST: {
        size_t n = yg_list_size(v);
        if (n > UINT32_MAX)
            return YG_ELIMIT;
        rc = msgpack_pack_array(pk, n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            int sub = pack_value(pk, yg_list_get(v, i), depth + 1);
            if (sub != YG_OK)
                return sub;
        }
        break;
    }
    case YG_MAP: {
        size_t n = yg_map_size(v);
        if (n > UINT32_MAX)
            return YG_ELIMIT;
        rc = msgpack_pack_map(pk, n);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            rc = msgpack_pack_str_with_body(pk, yg_map_key_at(v, i), yg_map_keylen_at(v, i));
            if (rc != 0)
                break;
            int sub = pack_value(pk, yg_map_value_at(v, i), depth + 1);
            if (sub != YG_OK)
                return sub;
        }
        break;
    }
    }
    return rc == 0 ? YG_OK : YG_ENOMEM;
}

int yg_msgpack_pack_value(msgpack_packer *pk, const yg_value_t *v)
{
    if (!pk)
        return YG_EINVAL;
    return pack_value(pk, v, 0);
}

/* msgpack_packer write callback into a yg_vbuf_t.  Why not msgpack's
 * sbuffer: it starts at 8 KiB, and a malloc/free of that size per small
 * protocol message bypasses the allocator's per-thread caches (it was
 * 10-15% of the CPU of a chain of passthrough nodes); a vbuf starts small
 * and doubles. */
static int vbuf_write(void *data, const char *buf, size_t len)
{
    yg_vbuf_t *vb = data;
    yg_vbuf_append(vb, buf, len);
    return vb->failed ? -1 : 0;
}

int yg_msgpack_encode(const yg_value_t *self, char **data, size_t *size)
{
    if (!data || !size)
        return YG_EINVAL;
    *data = NULL;
    *size = 0;
    yg_vbuf_t vb;
    yg_vbuf_init(&vb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &vb, vbuf_write);
    int rc = pack_value(&pk, self, 0);
    if (rc != YG_OK) {
        yg_vbuf_free(&vb);
        return rc;
    }
    *data = yg_vbuf_finish(&vb, size); /* malloc'd: free() */
    return *data ? YG_OK : YG_ENOMEM;
}

/* --- bounded decoder ----------------------------------------------------- */

typedef struct {
    const unsigned char *data;
    size_t size;       /* bytes the object may use (min of input and max_bytes) */
    size_t input_size; /* bytes actually available */
    size_t pos;
    const yg_limits_t *limits;
    size_t max_depth;
    size_t elements;
    yg_error_t *err;
    bool failed;
} mp_reader_t;

static void mp_fail(mp_reader_t *r, int code, const char *what)
{
    if (r->failed)
        return;
    r->failed = true;
    yg_error_set(r->err, code, "msgpack: %s at byte offset %zu", what, r->pos);
}

/* Ensure n more bytes exist; a shortfall is truncation, or a limit breach
 * when the input has the bytes but max_bytes cut them off. */
static bool mp_need(mp_reader_t *r, size_t n)
{
    if (r->size - r->pos >= n)
        return true;
    if (r->input_size > r->size && r->input_size - r->pos >= n)
        mp_fail(r, YG_ELIMIT, "object larger than the byte limit");
    else
        mp_fail(r, YG_EPARSE, "truncated input");
    return false;
}

/* Read an n-byte big-endian unsigned integer (n <= 8). */
static bool mp_read_uint(mp_reader_t *r, size_t n, uint64_t *out)
{
    if (!mp_need(r, n))
        return false;
    uint64_t v = 0;
    for (size_t k = 0; k < n; k++)
        v = (v << 8) | r->data[r->pos + k];
    r->pos += n;
    *out = v;
    return true;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = yg_utf8_decode(s + i, n - i, &cp);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

/* Read the body of a str/bin of len bytes; checks limits and UTF-8 (str). */
static bool mp_read_bytes(mp_reader_t *r, uint64_t len, bool is_str, const unsigned char **out)
{
    if (len > r->limits->max_string) {
        mp_fail(r, YG_ELIMIT, "string longer than the limit");
        return false;
    }
    if (!mp_need(r, (size_t)len))
        return false;
    *out = r->data + r->pos;
    if (is_str && !utf8_valid(*out, (size_t)len)) {
        mp_fail(r, YG_EPARSE, "invalid UTF-8 in str");
        return false;
    }
    r->pos += (size_t)len;
    return true;
}

/* Check a claimed container size before reading its members: each member
 * needs at least min_bytes bytes, and the total must stay within limits. */
static bool mp_check_count(mp_reader_t *r, uint64_t count, size_t min_bytes, size_t depth)
{
    if (depth + 1 > r->max_depth) {
        mp_fail(r, YG_ELIMIT, "nesting deeper than the limit");
        return false;
    }
    if (count > r->limits->max_elements || r->elements + count > r->limits->max_elements) {
        mp_fail(r, YG_ELIMIT, "too many elements");
        return false;
    }
    if (count > (r->input_size - r->pos) / min_bytes) {
        mp_fail(r, YG_EPARSE, "container claims more elements than the input holds");
        return false;
    }
    r->elements += (size_t)count;
    return true;
}

static yg_value_t *mp_read_value(mp_reader_t *r, size_t depth);

static yg_value_t *mp_read_array(mp_reader_t *r, uint64_t count, size_t depth)
{
    if (!mp_check_count(r, count, 1, depth))
        return NULL;
    /* count is bounded by the bytes left and the element limit */
    yg_value_t *list = yg_list_new_sized((size_t)count);
    if (!list) {
        mp_fail(r, YG_ENOMEM, "out of memory");
        return NULL;
    }
    for (uint64_t i = 0; i < count; i++) {
        yg_value_t *item = mp_read_value(r, depth + 1);
        if (!item || yg_list_append(list, item) != YG_OK) {
            mp_fail(r, YG_ENOMEM, "out of memory"); /* no-op if already failed */
            yg_value_destroy(&list);
            return NULL;
        }
    }
    return list;
}

/* Read a map key: str or bin only. */
static bool mp_read_key(mp_reader_t *r, const unsigned char **key, size_t *keylen)
{
    uint64_t len;
    bool is_str = true;
    if (!mp_need(r, 1))
        return false;
    unsigned char tag = r->data[r->pos];
    size_t start = r->pos;
    r->pos++;
    if (tag >= 0xa0 && tag <= 0xbf) {
        len = tag & 0x1f;
    } else if (tag == 0xd9 || tag == 0xc4) {
        is_str = tag == 0xd9;
        if (!mp_read_uint(r, 1, &len))
            return false;
    } else if (tag == 0xda || tag == 0xc5) {
        is_str = tag == 0xda;
        if (!mp_read_uint(r, 2, &len))
            return false;
    } else if (tag == 0xdb || tag == 0xc6) {
        is_str = tag == 0xdb;
        if (!mp_read_uint(r, 4, &len))
            return false;
    } else {
        r->pos = start;
        mp_fail(r, YG_EPARSE, "map key is not a string");
        return false;
    }
    if (!mp_read_bytes(r, len, is_str, key))
        return false;
    *keylen = (size_t)len;
    return true;
}

static yg_value_t *mp_read_map(mp_reader_t *r, uint64_t count, size_t depth)
{
    if (!mp_check_count(r, count, 2, depth))
        return NULL;
    yg_value_t *map = yg_map_new_sized((size_t)count);
    if (!map) {
        mp_fail(r, YG_ENOMEM, "out of memory");
        return NULL;
    }
    for (uint64_t i = 0; i < count; i++) {
        const unsigned char *key;
        size_t keylen;
        if (!mp_read_key(r, &key, &keylen)) {
            yg_value_destroy(&map);
            return NULL;
        }
        yg_value_t *value = mp_read_value(r, depth + 1);
        /* a repeated key keeps its first position and takes the last value */
        if (!value || yg_map_setn(map, (const char *)key, keylen, value) != YG_OK) {
            mp_fail(r, YG_ENOMEM, "out of memory");
            yg_value_destroy(&map);
            return NULL;
        }
    }
    return map;
}

static yg_value_t *mp_new_string(mp_reader_t *r, uint64_t len, bool is_str)
{
    const unsigned char *bytes;
    if (!mp_read_bytes(r, len, is_str, &bytes))
        return NULL;
    yg_value_t *v = yg_str_newn((const char *)bytes, (size_t)len);
    if (!v)
        mp_fail(r, YG_ENOMEM, "out of memory");
    return v;
}

/* An unsigned integer of n bytes: int if it fits int64, else float. */
static yg_value_t *mp_new_uint(mp_reader_t *r, size_t n)
{
    uint64_t u;
    if (!mp_read_uint(r, n, &u))
        return NULL;
    return u <= INT64_MAX ? yg_int_new((int64_t)u) : yg_float_new((double)u);
}

/* A signed integer of n bytes (two's complement, big-endian). */
static yg_value_t *mp_new_int(mp_reader_t *r, size_t n)
{
    uint64_t u;
    if (!mp_read_uint(r, n, &u))
        return NULL;
    unsigned bits = (unsigned)(8 * n);
    int64_t v;
    if (bits < 64 && (u & (UINT64_C(1) << (bits - 1))))
        v = (int64_t)(u - (UINT64_C(1) << bits)); /* sign-extend, no UB */
    else if (bits == 64 && u > INT64_MAX)
        v = -(int64_t)(~u) - 1;
    else
        v = (int64_t)u;
    return yg_int_new(v);
}

static yg_value_t *mp_new_float(mp_reader_t *r, size_t n)
{
    uint64_t u;
    if (!mp_read_uint(r, n, &u))
        return NULL;
    if (n == 4) {
        uint32_t u32 = (uint32_t)u;
        float f;
        memcpy(&f, &u32, sizeof f);
        return yg_float_new((double)f);
    }
    double d;
    memcpy(&d, &u, sizeof d);
    return yg_float_new(d);
}

/* Read a length field of n bytes, then call the container or string reader. */
static yg_value_t *mp_read_sized(mp_reader_t *r, unsigned char tag, size_t n, size_t depth)
{
    uint64_t len;
    if (!mp_read_uint(r, n, &len))
        return NULL;
    switch (tag) {
    case 0xd9:
    case 0xda:
    case 0xdb:
        return mp_new_string(r, len, true);
    case 0xc4:
    case 0xc5:
    case 0xc6:
        return mp_new_string(r, len, false);
    case 0xdc:
    case 0xdd:
        return mp_read_array(r, len, depth);
    default:
        return mp_read_map(r, len, depth); /* 0xde, 0xdf */
    }
}

/* Decode the value whose type byte is tag (already consumed). */
static yg_value_t *mp_read_tagged(mp_reader_t *r, unsigned char tag, size_t depth)
{
    if (tag <= 0x7f)
        return yg_int_new(tag);
    if (tag >= 0xe0)
        return yg_int_new((int64_t)tag - 256);
    if (tag <= 0x8f)
        return mp_read_map(r, tag & 0x0f, depth);
    if (tag <= 0x9f)
        return mp_read_array(r, tag & 0x0f, depth);
    if (tag <= 0xbf)
        return mp_new_string(r, tag & 0x1f, true);
    switch (tag) {
    case 0xc0:
        return yg_null_new();
    case 0xc2:
        return yg_bool_new(false);
    case 0xc3:
        return yg_bool_new(true);
    case 0xc4:
    case 0xd9:
        return mp_read_sized(r, tag, 1, depth);
    case 0xc5:
    case 0xda:
    case 0xdc:
    case 0xde:
        return mp_read_sized(r, tag, 2, depth);
    case 0xc6:
    case 0xdb:
    case 0xdd:
    case 0xdf:
        return mp_read_sized(r, tag, 4, depth);
    case 0xca:
        return mp_new_float(r, 4);
    case 0xcb:
        return mp_new_float(r, 8);
    case 0xcc:
        return mp_new_uint(r, 1);
    case 0xcd:
        return mp_new_uint(r, 2);
    case 0xce:
        return mp_new_uint(r, 4);
    case 0xcf:
        return mp_new_uint(r, 8);
    case 0xd0:
        return mp_new_int(r, 1);
    case 0xd1:
        return mp_new_int(r, 2);
    case 0xd2:
        return mp_new_int(r, 4);
    case 0xd3:
        return mp_new_int(r, 8);
    default: /* 0xc1 (never used), ext 0xc7-0xc9 and fixext 0xd4-0xd8 */
        r->pos--;
        mp_fail(r, YG_EPARSE,
                tag == 0xc1 ? "reserved type byte 0xc1" : "ext types are not supported");
        return NULL;
    }
}

static yg_value_t *mp_read_value(mp_reader_t *r, size_t depth)
{
    if (!mp_need(r, 1))
        return NULL;
    unsigned char tag = r->data[r->pos++];
    yg_value_t *v = mp_read_tagged(r, tag, depth);
    if (!v)
        mp_fail(r, YG_ENOMEM, "out of memory"); /* no-op when a reason was already set */
    return v;
}

yg_value_t *yg_msgpack_decode_prefix(const char *data, size_t size, size_t *consumed,
                                     const yg_limits_t *limits, yg_error_t *err)
{
    if (consumed)
        *consumed = 0;
    if (!limits)
        limits = &yg_limits_default;
    if (!data && size) {
        yg_error_set(err, YG_EINVAL, "msgpack: NULL data");
        return NULL;
    }
    mp_reader_t r = {
        .data = (const unsigned char *)(data ? data : ""),
        .size = size < limits->max_bytes ? size : limits->max_bytes,
        .input_size = size,
        .limits = limits,
        /* a hard ceiling too, so a huge configured depth cannot overflow the stack */
        .max_depth =
            limits->max_depth < YG_VALUE_MAX_DEPTH ? limits->max_depth : YG_VALUE_MAX_DEPTH,
        .err = err,
    };
    yg_value_t *v = mp_read_value(&r, 0);
    if (v && consumed)
        *consumed = r.pos;
    return v;
}

yg_value_t *yg_msgpack_decode(const char *data, size_t size, const yg_limits_t *limits,
                              yg_error_t *err)
{
    if (!limits)
        limits = &yg_limits_default;
    if (size > limits->max_bytes) {
        yg_error_set(err, YG_ELIMIT, "msgpack: input of %zu bytes exceeds the limit of %zu", size,
                     limits->max_bytes);
        return NULL;
    }
    size_t used = 0;
    yg_value_t *v = yg_msgpack_decode_prefix(data, size, &used, limits, err);
    if (v && used != size) {
        yg_error_set(err, YG_EPARSE,
                     "msgpack: %zu unexpected bytes after the object at byte offset %zu",
                     size - used, used);
        yg_value_destroy(&v);
    }
    return v;
}
