/*
 * yg_pytext.h - Python text forms of values (spec §7.4 "Text form").
 *
 * Templates, shell quoting and tool results must print values exactly as
 * the Python original did: str() for substitution, repr() inside
 * containers, json.dumps() defaults for shell tool arguments (§8.1).
 * Every function returns a malloc'd NUL-terminated string (free()), or NULL
 * when memory runs out or the value nests deeper than YG_VALUE_MAX_DEPTH.
 */
#ifndef YG_PYTEXT_H
#define YG_PYTEXT_H

#include "yamlgraph/yg_value.h"

/* Python str(): strings as-is, ints in decimal, floats in shortest
 * round-trip form (0.5, 1.0, 1e-05, 1e+16, inf, nan), True/False, None,
 * lists and maps in Python literal syntax (['a', 1], {'k': None}). */
char *yg_pytext_str(const yg_value_t *v);

/* Python repr(): like str() except that a string is quoted the way Python
 * quotes it ('it' / "it's", with \n \t \\ \xNN \uNNNN escapes). */
char *yg_pytext_repr(const yg_value_t *v);

/* Python json.dumps(v) with default arguments: ", " and ": " separators,
 * ensure_ascii (non-ASCII as \uXXXX, astral characters as surrogate
 * pairs), NaN / Infinity / -Infinity for non-finite floats.  Implemented
 * in yg_json.c. */
char *yg_json_encode_python(const yg_value_t *v);

#endif
