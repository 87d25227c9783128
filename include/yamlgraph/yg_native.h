/*
 * yg_native.h - native functions serving `type: python` tools (spec 4.8
 * [C], 8.2): "an equivalent plugin registry keyed by the same two strings".
 *
 * A tool `{type: python, module: M, function: F}` is served by the native
 * function registered under (M, F).  Python nodes call it with the whole
 * state; tool_call nodes (and agents) call it with the args map.  The
 * dict-vs-value rule of spec 4.8 applies to what a python node gets back:
 * a map is the update as-is, anything else is written under state_key.
 *
 * Functions run on the node actor's thread: they must not block (no I/O
 * waits, no sleeping) and must be thread-safe if registered for several
 * tools, because different node actors may call them concurrently.
 *
 * Register before the graphs that use them are loaded; the registry is
 * process-wide and thread-safe.
 */
#ifndef YG_NATIVE_H
#define YG_NATIVE_H

#include "yg_error.h"
#include "yg_value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest module or function name accepted, in bytes. */
#define YG_NATIVE_NAME_MAX 255
/* Most functions the registry holds. */
#define YG_NATIVE_MAX_ENTRIES 4096

/* A native function.  state_or_args is borrowed (do not modify or keep it);
 * arg is the pointer given at registration.  Return a new value (the
 * caller takes ownership), or NULL with err filled (err->message becomes
 * the exception text; on NULL without a message a generic one is used). */
typedef yg_value_t *(yg_native_fn)(const yg_value_t *state_or_args, void *arg, yg_error_t *err);

/* Register fn under (module, function), replacing an earlier entry with the
 * same names.  YG_OK; YG_EINVAL (NULL or empty names, a name longer than
 * YG_NATIVE_NAME_MAX, NULL fn); YG_ELIMIT (registry full); YG_ENOMEM. */
int yg_native_register(const char *module, const char *function, yg_native_fn *fn, void *arg);

/* The function registered under (module, function), or NULL; *arg (when arg
 * is not NULL) receives its registration pointer. */
yg_native_fn *yg_native_lookup(const char *module, const char *function, void **arg);

/* Remove the entry (module, function); YG_OK or YG_ENOTFOUND. */
int yg_native_unregister(const char *module, const char *function);

#ifdef __cplusplus
}
#endif
#endif
