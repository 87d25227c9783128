/*
 * yg_expr.h - the three expression mini-languages of spec section 6.
 *
 * Paths (6.1), value templates with the one-operator arithmetic form
 * (6.2, 6.3), edge conditions (6.4) and literal parsing (6.5), plus the
 * parse_json extraction of 4.4.  All are small hand-written parsers: no
 * general expression evaluator exists, by design of the original.
 *
 * Compiled conditions and value templates are immutable after compile and
 * may be shared read-only between threads (they hold no values that are
 * reference-counted at evaluation time).
 */
#ifndef YG_EXPR_H
#define YG_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"
#include "yg_graph.h" /* typedefs yg_cond_t, yg_vexpr_t */

/* 6.5 literal parsing of the trimmed text -> a new value (NULL on ENOMEM). */
yg_value_t *yg_literal_parse(const char *text, size_t len);

/* 6.1 lenient path lookup: split on '.', map keys only; a missing key or a
 * non-map value on the way -> NULL (no list indexing).  Borrowed result. */
yg_value_t *yg_path_lenient(const yg_value_t *state, const char *path, size_t len);

/* 6.1 strict: expr must be a "{...}" string; the braces and an optional
 * "state." prefix are stripped; a missing step -> NULL with YG_ENOTFOUND
 * "cannot resolve <path>".  Returns a new reference (when expr is not a
 * "{...}" string, a new reference to expr itself). */
yg_value_t *yg_path_strict(const yg_value_t *state, const yg_value_t *expr, yg_error_t *err);

/* 6.4 conditions.  Compile checks the syntax (load-time validation): on
 * failure returns NULL, YG_EEXPR "invalid condition ..." saying what is wrong,
 * err->column = 1-based character (UTF-8 code point) offset within the
 * condition text.  Texts over 64 KiB or with more than 1024 comparisons are
 * refused. */
yg_cond_t *yg_cond_compile(const char *text, yg_error_t *err);
/* Evaluate against state: YG_OK and *result (a compiled condition cannot
 * fail: Python's TypeErrors count as false), YG_EINVAL on NULL arguments. */
int yg_cond_eval(const yg_cond_t *cond, const yg_value_t *state, bool *result, yg_error_t *err);
void yg_cond_destroy(yg_cond_t **self_p);
/* Append the top-level state keys the condition reads (first path segment
 * of each comparison) to the list `out`, as strings, without duplicates. */
void yg_cond_reads(const yg_cond_t *cond, yg_value_t *out);
/* The source text the condition was compiled from (borrowed). */
const char *yg_cond_text(const yg_cond_t *cond);

/* 6.2 + 6.3 value templates, compiled once: non-string -> constant;
 * "{state.path}" -> lenient lookup; the arithmetic form; anything else ->
 * the literal string.  NULL only on ENOMEM / bad arguments. */
yg_vexpr_t *yg_vexpr_compile(const yg_value_t *tmpl, yg_error_t *err);
/* Evaluate -> a new reference (a null value when the lookup misses).  A
 * lookup result is a reference to the state's own value, and list results
 * share their items with state: treat results as immutable (copy before
 * modifying).  Constants come back as fresh copies.  Arithmetic type
 * mismatch -> NULL with YG_ETYPE; division by zero and [C] 64-bit integer
 * overflow -> NULL with YG_EEXPR; a `*` repetition beyond the default
 * string/element limits -> NULL with YG_ELIMIT (a passthrough catches
 * these, spec 4.7). */
yg_value_t *yg_vexpr_eval(const yg_vexpr_t *expr, const yg_value_t *state, yg_error_t *err);
bool yg_vexpr_is_constant(const yg_vexpr_t *expr);
/* Append the top-level state keys read (strings, no duplicates) to `out`. */
void yg_vexpr_reads(const yg_vexpr_t *expr, yg_value_t *out);
void yg_vexpr_destroy(yg_vexpr_t **self_p);

/* 4.4 parse_json extraction: a new value (the parsed JSON, or the trimmed
 * text as a string; "" -> ""; null -> null).  NULL only on ENOMEM. */
yg_value_t *yg_json_extract(const yg_value_t *text);

#endif
