/*
 * yg_value.h - the one dynamic value type for state, messages and payloads.
 *
 * A value is null, bool, int64, double, string (UTF-8, length-counted, may
 * hold NUL bytes, always NUL-terminated for convenience), list, or map
 * (insertion-ordered, string keys, unique keys).
 *
 * Ownership: values are heap objects with a reference count that is NOT
 * atomic - a value belongs to one thread.  yg_value_destroy drops one
 * reference.  Functions documented "takes ownership" consume the caller's
 * reference; "borrowed" results are valid while their container lives and
 * is not modified.  A value with more than one reference must not be
 * modified (copy it first); the mutators assert this.
 *
 * A NULL yg_value_t pointer is accepted everywhere a value is read and
 * behaves as the null value.
 */
#ifndef YG_VALUE_H
#define YG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yg_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    YG_NULL = 0,
    YG_BOOL,
    YG_INT,
    YG_FLOAT,
    YG_STR,
    YG_LIST,
    YG_MAP
} yg_type_t;

typedef struct yg_value yg_value_t;

/* Limits applied by every decoder before it allocates. */
typedef struct yg_limits {
    size_t max_bytes;     /* total input size */
    size_t max_depth;     /* nesting of lists/maps */
    size_t max_elements;  /* total list items + map entries in the document */
    size_t max_string;    /* bytes in one string or key */
} yg_limits_t;

/* Defaults: 64 MiB, depth 64, 4 Mi elements, 16 MiB strings. */
#define YG_LIMIT_DEFAULT_BYTES (64u * 1024u * 1024u)
#define YG_LIMIT_DEFAULT_DEPTH 64u
#define YG_LIMIT_DEFAULT_ELEMENTS (4u * 1024u * 1024u)
#define YG_LIMIT_DEFAULT_STRING (16u * 1024u * 1024u)
extern const yg_limits_t yg_limits_default;

/* --- constructors: return a new value with one reference, NULL on ENOMEM -- */
yg_value_t *yg_null_new(void);
yg_value_t *yg_bool_new(bool b);
yg_value_t *yg_int_new(int64_t i);
yg_value_t *yg_float_new(double d);
yg_value_t *yg_str_new(const char *s);               /* copies s (NUL-terminated) */
yg_value_t *yg_str_newn(const char *s, size_t len);  /* copies len bytes */
yg_value_t *yg_str_newf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
yg_value_t *yg_list_new(void);
yg_value_t *yg_map_new(void);

/* Drop one reference and set *self_p to NULL; frees at zero. NULL-safe. */
void yg_value_destroy(yg_value_t **self_p);
/* Add a reference; returns self (NULL-safe). */
yg_value_t *yg_value_ref(yg_value_t *self);
/* Deep copy: a new value with one reference and no sharing. NULL -> null value. */
yg_value_t *yg_value_copy(const yg_value_t *self);

/* --- inspection ---------------------------------------------------------- */
yg_type_t yg_value_type(const yg_value_t *self);     /* NULL pointer -> YG_NULL */
const char *yg_type_name(yg_type_t type);            /* "null", "bool", ... */
bool yg_value_is_null(const yg_value_t *self);
bool yg_value_bool(const yg_value_t *self);          /* false unless a true bool */
int64_t yg_value_int(const yg_value_t *self);        /* int, or truncated float; else 0 */
double yg_value_float(const yg_value_t *self);       /* float or int; else 0.0 */
const char *yg_value_str(const yg_value_t *self);    /* string bytes, or NULL if not a string */
size_t yg_value_strlen(const yg_value_t *self);      /* 0 if not a string */
/* Python-style truthiness: null, false, 0, 0.0, "", [] and {} are false. */
bool yg_value_truthy(const yg_value_t *self);
/* Deep equality; int and float compare numerically and exactly (1 == 1.0),
 * maps compare regardless of key order.  Strict on bool vs number: unlike
 * Python (True == 1), a bool never equals an int or float here; the
 * expression module applies Python's rule itself where it matters. */
bool yg_value_equal(const yg_value_t *a, const yg_value_t *b);

/* --- lists --------------------------------------------------------------- */
size_t yg_list_size(const yg_value_t *list);
yg_value_t *yg_list_get(const yg_value_t *list, size_t index);   /* borrowed, NULL if out of range */
int yg_list_append(yg_value_t *list, yg_value_t *item);          /* takes ownership of item */
int yg_list_set(yg_value_t *list, size_t index, yg_value_t *item); /* takes ownership */

/* --- maps (insertion-ordered) ------------------------------------------- */
size_t yg_map_size(const yg_value_t *map);
const char *yg_map_key_at(const yg_value_t *map, size_t index);  /* borrowed */
size_t yg_map_keylen_at(const yg_value_t *map, size_t index);
yg_value_t *yg_map_value_at(const yg_value_t *map, size_t index); /* borrowed */
yg_value_t *yg_map_get(const yg_value_t *map, const char *key);   /* borrowed, NULL if absent */
yg_value_t *yg_map_getn(const yg_value_t *map, const char *key, size_t keylen);
bool yg_map_has(const yg_value_t *map, const char *key);
/* Insert or replace (replacing keeps the key's position); takes ownership of value. */
int yg_map_set(yg_value_t *map, const char *key, yg_value_t *value);
int yg_map_setn(yg_value_t *map, const char *key, size_t keylen, yg_value_t *value);
/* Remove a key (later keys keep their order). Returns YG_ENOTFOUND if absent. */
int yg_map_remove(yg_value_t *map, const char *key);

/* Path lookup "a.b.0.c": map keys, and list indexes when list_index is true.
 * Returns a borrowed value, or NULL when any step is missing or the walk
 * meets a scalar. */
yg_value_t *yg_value_path(const yg_value_t *root, const char *path, bool list_index);

/* --- codecs -------------------------------------------------------------- */
/* JSON text (UTF-8).  Non-finite floats encode as null.  Returns a malloc'd
 * NUL-terminated string (free()), length in *len if len != NULL. */
char *yg_json_encode(const yg_value_t *self, bool pretty, size_t *len);
/* Decode JSON; limits NULL means yg_limits_default.  Errors carry line:column. */
yg_value_t *yg_json_decode(const char *text, size_t len, const yg_limits_t *limits,
                           yg_error_t *err);

/* msgpack (msgpack-c).  Encode returns a malloc'd buffer (free()). */
int yg_msgpack_encode(const yg_value_t *self, char **data, size_t *size);
/* Decode exactly one msgpack object filling all of data; limits are checked
 * before any allocation proportional to claimed sizes. */
yg_value_t *yg_msgpack_decode(const char *data, size_t size, const yg_limits_t *limits,
                              yg_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
