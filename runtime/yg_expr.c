/*
 * yg_expr.c - paths, literals, edge conditions and value templates (spec 6).
 *
 * These are the original's regular-expression based mini-languages,
 * re-implemented as small scanners that accept exactly what the original's
 * patterns accept (including their quirks, which the spec documents):
 *
 *   condition:  ^\s*([a-zA-Z_][\w.]*)\s*(<=|>=|==|!=|<(?!<)|>(?!>))\s*(.+?)\s*$
 *               after splitting on \s+or\s+ then \s+and\s+ (case-insensitive)
 *   arithmetic: ^\{(state\.[a-zA-Z_][\w.]*)\s*([+\-*\/])\s*(.+)\}$
 *
 * Nothing here evaluates general expressions.  Compiled conditions and value
 * templates own plain copies of their literals and never hand those out by
 * reference, so one compiled graph can be evaluated from several threads.
 */
#include "yg_expr.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A condition longer than this is refused at compile time: conditions are
 * one-line edge guards, and the bound keeps error messages and the
 * comparison arrays small. */
#define YG_COND_MAX_TEXT (64u * 1024u)
/* At most this many comparisons in one condition. */
#define YG_COND_MAX_COMPARISONS 1024u
/* How much of an offending expression an error message quotes. */
#define YG_EXPR_QUOTE_MAX 120
/* `*` repetition results (string bytes / list items) are bounded like
 * decoded input, so "{state.s * 99999999999}" fails instead of exhausting
 * memory. */
#define YG_EXPR_MAX_REPEAT_BYTES YG_LIMIT_DEFAULT_STRING
#define YG_EXPR_MAX_REPEAT_ITEMS YG_LIMIT_DEFAULT_ELEMENTS

static const char STATE_PREFIX[] = "state.";
#define STATE_PREFIX_LEN (sizeof STATE_PREFIX - 1)

/* --- character classes ---------------------------------------------------- */

/* Python's str.strip() / \s on ASCII: space, \t \n \v \f \r and the
 * separators \x1c-\x1f.  Non-ASCII whitespace is not recognised. */
static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool is_alpha_(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* [\w.] restricted to ASCII */
static bool is_path_char(unsigned char c)
{
    return is_alpha_(c) || is_digit(c) || c == '.';
}

static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool ci_equal(const char *s, size_t len, const char *word)
{
    size_t wlen = strlen(word);
    if (len != wlen)
        return false;
    for (size_t i = 0; i < len; i++)
        if (ascii_lower((unsigned char)s[i]) != (unsigned char)word[i])
            return false;
    return true;
}

static void trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    while (n > 0 && is_space((unsigned char)p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_space((unsigned char)p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

static bool starts_with(const char *s, size_t len, const char *prefix, size_t plen)
{
    return len >= plen && memcmp(s, prefix, plen) == 0;
}

static char *dup_bytes(const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* --- 6.5 literals --------------------------------------------------------- */

/* Copy the digits of a Python number, dropping the underscores that PEP 515
 * allows between two digits.  Returns false if an underscore is misplaced.
 * out has room for len + 1 bytes. */
static bool strip_underscores(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '_') {
            if (i == 0 || i + 1 >= len || !is_digit((unsigned char)s[i - 1]) ||
                !is_digit((unsigned char)s[i + 1]))
                return false;
            continue;
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    return true;
}

/* Length of a run of digits with single underscores between digits. */
static size_t scan_digitpart(const char *s, size_t len, size_t i)
{
    size_t start = i;
    while (i < len) {
        if (is_digit((unsigned char)s[i]))
            i++;
        else if (s[i] == '_' && i > start && i + 1 < len && is_digit((unsigned char)s[i + 1]))
            i++;
        else
            break;
    }
    return i - start;
}

/* Python float(): [sign] (digits [. [digits]] | . digits) [e [sign] digits]. */
static bool parse_py_float(const char *s, size_t len, double *out)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    size_t int_digits = scan_digitpart(s, len, i);
    i += int_digits;
    size_t frac_digits = 0;
    if (i < len && s[i] == '.') {
        i++;
        frac_digits = scan_digitpart(s, len, i);
        i += frac_digits;
    }
    if (int_digits == 0 && frac_digits == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_digits = scan_digitpart(s, len, i);
        if (exp_digits == 0)
            return false;
        i += exp_digits;
    }
    if (i != len)
        return false;
    char *clean = malloc(len + 1);
    if (!clean)
        return false;
    bool ok = strip_underscores(s, len, clean);
    if (ok) {
        /* The process runs in the "C" locale (the CLI never calls setlocale),
         * so strtod's decimal point is '.'.  Overflow gives +-inf and
         * underflow 0, as Python's float() does. */
        char *end = NULL;
        *out = strtod(clean, &end);
        ok = end && *end == '\0';
    }
    free(clean);
    return ok;
}

typedef enum { PY_INT_NONE = 0, PY_INT_SMALL, PY_INT_BIG } py_int_kind_t;

/* Python int(): [sign] digits (underscores between digits).  Values that do
 * not fit int64 come back as PY_INT_BIG with the nearest double. */
static py_int_kind_t parse_py_int(const char *s, size_t len, int64_t *iout, double *dout)
{
    size_t i = 0;
    bool negative = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        negative = s[i] == '-';
        i++;
    }
    size_t digits = scan_digitpart(s, len, i);
    if (digits == 0 || i + digits != len)
        return PY_INT_NONE;
    /* Accumulate as a negative number: its range includes INT64_MIN. */
    int64_t acc = 0;
    bool overflow = false;
    for (size_t k = i; k < len; k++) {
        if (s[k] == '_')
            continue;
        int d = s[k] - '0';
        if (acc < (INT64_MIN + d) / 10) {
            overflow = true;
            break;
        }
        acc = acc * 10 - d;
    }
    if (!overflow && !negative && acc == INT64_MIN)
        overflow = true;
    if (!overflow) {
        *iout = negative ? acc : -acc;
        return PY_INT_SMALL;
    }
    char *clean = malloc(len + 1);
    if (!clean)
        return PY_INT_NONE;
    strip_underscores(s, len, clean);
    *dout = strtod(clean, NULL);
    free(clean);
    return PY_INT_BIG;
}

yg_value_t *yg_literal_parse(const char *text, size_t len)
{
    if (!text)
        return yg_null_new();
    trim(&text, &len);
    if (len >= 1 &&
        ((text[0] == '"' && text[len - 1] == '"') || (text[0] == '\'' && text[len - 1] == '\'')))
        /* A lone quote character counts as quoted too: Python's
         * startswith/endswith both see it, and [1:-1] is "". */
        return yg_str_newn(text + 1, len >= 2 ? len - 2 : 0);
    if (ci_equal(text, len, "true"))
        return yg_bool_new(true);
    if (ci_equal(text, len, "false"))
        return yg_bool_new(false);
    if (ci_equal(text, len, "null") || ci_equal(text, len, "none"))
        return yg_null_new();
    if (memchr(text, '.', len)) {
        double d;
        if (parse_py_float(text, len, &d))
            return yg_float_new(d);
    } else {
        int64_t i;
        double d;
        switch (parse_py_int(text, len, &i, &d)) {
        case PY_INT_SMALL:
            return yg_int_new(i);
        case PY_INT_BIG:
            return yg_float_new(d);
        case PY_INT_NONE:
            break;
        }
    }
    return yg_str_newn(text, len);
}

/* --- 6.1 paths ------------------------------------------------------------ */

yg_value_t *yg_path_lenient(const yg_value_t *state, const char *path, size_t len)
{
    if (!path || len == 0)
        return NULL;
    const yg_value_t *cur = state;
    size_t start = 0;
    for (;;) {
        const char *dot = memchr(path + start, '.', len - start);
        size_t end = dot ? (size_t)(dot - path) : len;
        /* [C] only maps are walked: a string, number or list yields null. */
        if (yg_value_type(cur) != YG_MAP)
            return NULL;
        cur = yg_map_getn(cur, path + start, end - start);
        if (!cur)
            return NULL;
        if (end == len)
            return (yg_value_t *)cur;
        start = end + 1;
    }
}

yg_value_t *yg_path_strict(const yg_value_t *state, const yg_value_t *expr, yg_error_t *err)
{
    if (!expr)
        return yg_null_new();
    const char *s = yg_value_str(expr);
    size_t len = yg_value_strlen(expr);
    if (!s || len == 0 || s[0] != '{' || s[len - 1] != '}')
        return yg_value_ref((yg_value_t *)expr);
    const char *path = s + 1;
    size_t plen = len >= 2 ? len - 2 : 0;
    if (starts_with(path, plen, STATE_PREFIX, STATE_PREFIX_LEN)) {
        path += STATE_PREFIX_LEN;
        plen -= STATE_PREFIX_LEN;
    }
    const yg_value_t *cur = state;
    size_t start = 0;
    for (;;) {
        const char *dot = memchr(path + start, '.', plen - start);
        size_t end = dot ? (size_t)(dot - path) : plen;
        const yg_value_t *next =
            yg_value_type(cur) == YG_MAP ? yg_map_getn(cur, path + start, end - start) : NULL;
        if (!next) {
            yg_error_set(err, YG_ENOTFOUND, "cannot resolve '%.*s' in path '%.*s'",
                         (int)(end - start > YG_EXPR_QUOTE_MAX ? YG_EXPR_QUOTE_MAX : end - start),
                         path + start, (int)(len > YG_EXPR_QUOTE_MAX ? YG_EXPR_QUOTE_MAX : len), s);
            return NULL;
        }
        cur = next;
        if (end == plen)
            break;
        start = end + 1;
    }
    yg_value_t *result = yg_value_ref((yg_value_t *)cur);
    if (!result)
        yg_error_set(err, YG_ENOMEM, "out of memory");
    return result;
}

/* Append the first segment of a path (a top-level state key) to `out`
 * unless a string with the same bytes is already there. */
static void reads_add(yg_value_t *out, const char *path, size_t len)
{
    if (yg_value_type(out) != YG_LIST || len == 0)
        return;
    const char *dot = memchr(path, '.', len);
    size_t klen = dot ? (size_t)(dot - path) : len;
    for (size_t i = 0; i < yg_list_size(out); i++) {
        const yg_value_t *item = yg_list_get(out, i);
        if (yg_value_type(item) == YG_STR && yg_value_strlen(item) == klen &&
            memcmp(yg_value_str(item), path, klen) == 0)
            return;
    }
    yg_list_append(out, yg_str_newn(path, klen));
}

/* --- Python comparison and arithmetic semantics -------------------------- */

static bool is_number(yg_type_t t)
{
    return t == YG_BOOL || t == YG_INT || t == YG_FLOAT;
}

/* bool counts as int 0/1, as in Python */
static int64_t as_int(const yg_value_t *v)
{
    return yg_value_type(v) == YG_BOOL ? (yg_value_bool(v) ? 1 : 0) : yg_value_int(v);
}

static double as_double(const yg_value_t *v)
{
    yg_type_t t = yg_value_type(v);
    return t == YG_FLOAT ? yg_value_float(v) : (double)as_int(v);
}

typedef enum { ORDER_LESS = -1, ORDER_EQUAL = 0, ORDER_GREATER = 1, ORDER_NONE = 2 } order_t;

/* Exact comparison of an int64 with a double (Python compares int and float
 * exactly, without rounding the int). ORDER_NONE when d is NaN. */
static order_t order_int_double(int64_t i, double d)
{
    if (isnan(d))
        return ORDER_NONE;
    /* 2^63 is exactly representable; every int64 is below it. */
    if (d >= 9223372036854775808.0)
        return ORDER_LESS;
    if (d < -9223372036854775808.0)
        return ORDER_GREATER;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (i < ti)
        return ORDER_LESS;
    if (i > ti)
        return ORDER_GREATER;
    double frac = d - t;
    return frac > 0 ? ORDER_LESS : frac < 0 ? ORDER_GREATER : ORDER_EQUAL;
}

static order_t order_numbers(const yg_value_t *a, const yg_value_t *b)
{
    bool af = yg_value_type(a) == YG_FLOAT, bf = yg_value_type(b) == YG_FLOAT;
    if (!af && !bf) {
        int64_t x = as_int(a), y = as_int(b);
        return x < y ? ORDER_LESS : x > y ? ORDER_GREATER : ORDER_EQUAL;
    }
    if (af && bf) {
        double x = yg_value_float(a), y = yg_value_float(b);
        if (isnan(x) || isnan(y))
            return ORDER_NONE;
        return x < y ? ORDER_LESS : x > y ? ORDER_GREATER : ORDER_EQUAL;
    }
    if (af) {
        order_t o = order_int_double(as_int(b), yg_value_float(a));
        return o == ORDER_NONE ? o : (order_t)-o;
    }
    return order_int_double(as_int(a), yg_value_float(b));
}

static order_t order_strings(const yg_value_t *a, const yg_value_t *b)
{
    /* UTF-8 byte order equals code point order, which Python uses. */
    size_t la = yg_value_strlen(a), lb = yg_value_strlen(b);
    int c = memcmp(yg_value_str(a), yg_value_str(b), la < lb ? la : lb);
    if (c == 0)
        return la < lb ? ORDER_LESS : la > lb ? ORDER_GREATER : ORDER_EQUAL;
    return c < 0 ? ORDER_LESS : ORDER_GREATER;
}

/* Python == between a state value and a scalar literal. */
static bool py_equal(const yg_value_t *a, const yg_value_t *b)
{
    yg_type_t ta = yg_value_type(a), tb = yg_value_type(b);
    if (is_number(ta) && is_number(tb))
        return order_numbers(a, b) == ORDER_EQUAL;
    if (ta == YG_STR && tb == YG_STR)
        return order_strings(a, b) == ORDER_EQUAL;
    if (ta == YG_NULL || tb == YG_NULL)
        return ta == tb;
    /* lists and maps only equal values of their own kind; a literal is
     * always a scalar, but stay correct for any pair. */
    if (ta == tb && (ta == YG_LIST || ta == YG_MAP))
        return yg_value_equal(a, b);
    return false;
}

/* Python ordering: numbers with numbers, strings with strings; anything else
 * raises TypeError in Python, which the condition treats as false. */
static order_t py_order(const yg_value_t *a, const yg_value_t *b)
{
    yg_type_t ta = yg_value_type(a), tb = yg_value_type(b);
    if (is_number(ta) && is_number(tb))
        return order_numbers(a, b);
    if (ta == YG_STR && tb == YG_STR)
        return order_strings(a, b);
    return ORDER_NONE;
}

/* Python type names, for messages that read like the original's. */
static const char *py_type_name(const yg_value_t *v)
{
    switch (yg_value_type(v)) {
    case YG_NULL:
        return "NoneType";
    case YG_BOOL:
        return "bool";
    case YG_INT:
        return "int";
    case YG_FLOAT:
        return "float";
    case YG_STR:
        return "str";
    case YG_LIST:
        return "list";
    case YG_MAP:
        return "dict";
    }
    return "object";
}

/* --- 6.4 conditions ------------------------------------------------------- */

typedef enum { CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ, CMP_NE } cmp_op_t;

typedef struct {
    char *path;
    size_t path_len;
    cmp_op_t op;
    yg_value_t *literal; /* a scalar, owned; never shared */
} comparison_t;

/* An OR of AND-groups: group g covers comparisons
 * [group_start[g], group_start[g + 1]). */
struct yg_cond {
    char *text;
    comparison_t *cmps;
    size_t ncmps;
    size_t *group_start; /* ngroups + 1 entries */
    size_t ngroups;
    size_t cap; /* room in cmps; group_start has cap + 1 */
};

/* 1-based character column of byte offset `off` (UTF-8 continuation bytes
 * do not start a character). */
static int char_column(const char *text, size_t off)
{
    size_t col = 1;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            col++;
    return col > INT32_MAX ? INT32_MAX : (int)col;
}

/* The condition as quoted in a message: at most YG_EXPR_QUOTE_MAX bytes,
 * line breaks and other control characters made visible, so the message
 * stays one line. */
static void quote_for_message(const char *text, char *out, size_t size)
{
    size_t o = 0, i = 0;
    for (; text[i] && i < YG_EXPR_QUOTE_MAX && o + 4 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' || c == '\t' || c == '\r') {
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        } else {
            out[o++] = c < 0x20 ? '?' : (char)c;
        }
    }
    if (text[i] && o + 4 < size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static int cond_syntax_error(yg_error_t *err, const char *text, size_t off, const char *what)
{
    char quoted[2 * YG_EXPR_QUOTE_MAX + 8];
    quote_for_message(text, quoted, sizeof quoted);
    int col = char_column(text, off);
    int code =
        yg_error_set(err, YG_EEXPR, "invalid condition \"%s\": %s at column %d", quoted, what, col);
    if (err)
        err->column = col;
    return code;
}

/* Find the next `\s+<keyword>\s+` (keyword case-insensitive) in [from, end).
 * On success sets *mstart and *mend to the match and returns true.  Greedy
 * whitespace on both sides, non-overlapping scanning: re.split semantics. */
static bool find_keyword(const char *s, size_t from, size_t end, const char *kw, size_t *mstart,
                         size_t *mend)
{
    size_t kwlen = strlen(kw);
    size_t i = from;
    while (i < end) {
        if (!is_space((unsigned char)s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < end && is_space((unsigned char)s[j]))
            j++;
        if (j + kwlen < end && ci_equal(s + j, kwlen, kw) &&
            is_space((unsigned char)s[j + kwlen])) {
            size_t k = j + kwlen;
            while (k < end && is_space((unsigned char)s[k]))
                k++;
            *mstart = i;
            *mend = k;
            return true;
        }
        i = j;
    }
    return false;
}

static void trim_range(const char *s, size_t *b, size_t *e)
{
    while (*b < *e && is_space((unsigned char)s[*b]))
        (*b)++;
    while (*e > *b && is_space((unsigned char)s[*e - 1]))
        (*e)--;
}

/* Parse one comparison in text[b, e) (already trimmed) into *cmp. */
static int parse_comparison(const char *text, size_t b, size_t e, comparison_t *cmp,
                            yg_error_t *err)
{
    size_t p = b;
    if (p == e)
        return cond_syntax_error(err, text, p, "expected a comparison such as 'score < 0.8'");
    if (!is_alpha_((unsigned char)text[p]))
        return cond_syntax_error(err, text, p,
                                 "expected a state path (a name such as score or critique.score)");
    size_t path_b = p;
    while (p < e && is_path_char((unsigned char)text[p]))
        p++;
    size_t path_e = p;
    while (p < e && is_space((unsigned char)text[p]))
        p++;
    char msg[YG_EXPR_QUOTE_MAX + 96];
    int plen = (int)(path_e - path_b > YG_EXPR_QUOTE_MAX ? YG_EXPR_QUOTE_MAX : path_e - path_b);
    if (p == e) {
        snprintf(msg, sizeof msg,
                 "expected a comparison operator (<=, >=, ==, !=, <, >) after '%.*s'", plen,
                 text + path_b);
        return cond_syntax_error(err, text, p, msg);
    }
    char c = text[p], next = p + 1 < e ? text[p + 1] : '\0';
    if (next == '=' && (c == '<' || c == '>' || c == '=' || c == '!')) {
        cmp->op = c == '<' ? CMP_LE : c == '>' ? CMP_GE : c == '=' ? CMP_EQ : CMP_NE;
        p += 2;
    } else if ((c == '<' || c == '>') && next == c) {
        snprintf(msg, sizeof msg, "'%c%c' is not a comparison operator (use <=, >=, ==, !=, <, >)",
                 c, c);
        return cond_syntax_error(err, text, p, msg);
    } else if (c == '<' || c == '>') {
        cmp->op = c == '<' ? CMP_LT : CMP_GT;
        p += 1;
    } else {
        snprintf(msg, sizeof msg,
                 "expected a comparison operator (<=, >=, ==, !=, <, >) after '%.*s'", plen,
                 text + path_b);
        return cond_syntax_error(err, text, p, msg);
    }
    while (p < e && is_space((unsigned char)text[p]))
        p++;
    if (p == e)
        return cond_syntax_error(err, text, p, "expected a value after the operator");
    /* The original's `.` does not match a line break. */
    const char *nl = memchr(text + p, '\n', e - p);
    if (nl)
        return cond_syntax_error(err, text, (size_t)(nl - text), "line break inside the value");
    cmp->path = dup_bytes(text + path_b, path_e - path_b);
    cmp->path_len = path_e - path_b;
    cmp->literal = yg_literal_parse(text + p, e - p);
    if (!cmp->path || !cmp->literal)
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    return YG_OK;
}

static void comparison_clear(comparison_t *cmp)
{
    free(cmp->path);
    cmp->path = NULL;
    yg_value_destroy(&cmp->literal);
}

/* Parse the AND-group text[b, e) and append its comparisons to cond. */
static int parse_and_group(yg_cond_t *cond, size_t b, size_t e, yg_error_t *err)
{
    const char *text = cond->text;
    trim_range(text, &b, &e);
    size_t pos = b;
    for (;;) {
        size_t ms = e, me = e;
        bool more = find_keyword(text, pos, e, "and", &ms, &me);
        size_t pb = pos, pe = more ? ms : e;
        trim_range(text, &pb, &pe);
        if (cond->ncmps >= cond->cap)
            return cond_syntax_error(err, text, pb, "too many comparisons");
        comparison_t *cmp = &cond->cmps[cond->ncmps];
        memset(cmp, 0, sizeof *cmp);
        int rc = parse_comparison(text, pb, pe, cmp, err);
        if (rc != YG_OK) {
            comparison_clear(cmp);
            return rc;
        }
        cond->ncmps++;
        if (!more)
            return YG_OK;
        pos = me;
    }
}

yg_cond_t *yg_cond_compile(const char *text, yg_error_t *err)
{
    if (!text) {
        yg_error_set(err, YG_EINVAL, "invalid condition: no text");
        return NULL;
    }
    size_t len = strlen(text);
    if (len > YG_COND_MAX_TEXT) {
        yg_error_set(err, YG_EEXPR, "invalid condition: longer than %u bytes",
                     (unsigned)YG_COND_MAX_TEXT);
        return NULL;
    }
    yg_cond_t *self = calloc(1, sizeof *self);
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    /* A comparison takes at least 3 characters ("a<1") and a separator at
     * least 4 (" or "), so len / 2 + 1 slots always suffice; the configured
     * maximum caps it. */
    size_t max_cmps = len / 2 + 1;
    if (max_cmps > YG_COND_MAX_COMPARISONS)
        max_cmps = YG_COND_MAX_COMPARISONS;
    self->cap = max_cmps;
    self->text = dup_bytes(text, len);
    self->cmps = calloc(max_cmps, sizeof *self->cmps);
    self->group_start = calloc(max_cmps + 1, sizeof *self->group_start);
    if (!self->text || !self->cmps || !self->group_start) {
        yg_cond_destroy(&self);
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    size_t b = 0, e = len;
    trim_range(self->text, &b, &e);
    size_t pos = b;
    for (;;) {
        size_t ms = e, me = e;
        bool more = find_keyword(self->text, pos, e, "or", &ms, &me);
        if (self->ngroups >= max_cmps) {
            cond_syntax_error(err, self->text, pos, "too many comparisons");
            yg_cond_destroy(&self);
            return NULL;
        }
        self->group_start[self->ngroups++] = self->ncmps;
        if (parse_and_group(self, pos, more ? ms : e, err) != YG_OK) {
            yg_cond_destroy(&self);
            return NULL;
        }
        if (!more)
            break;
        pos = me;
    }
    self->group_start[self->ngroups] = self->ncmps;
    return self;
}

void yg_cond_destroy(yg_cond_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_cond_t *self = *self_p;
    if (self->cmps)
        for (size_t i = 0; i < self->ncmps; i++)
            comparison_clear(&self->cmps[i]);
    free(self->cmps);
    free(self->group_start);
    free(self->text);
    free(self);
    *self_p = NULL;
}

const char *yg_cond_text(const yg_cond_t *cond)
{
    return cond ? cond->text : NULL;
}

static bool comparison_eval(const comparison_t *cmp, const yg_value_t *state)
{
    const yg_value_t *left = yg_path_lenient(state, cmp->path, cmp->path_len);
    if (cmp->op == CMP_EQ)
        return py_equal(left, cmp->literal);
    if (cmp->op == CMP_NE)
        return !py_equal(left, cmp->literal);
    /* A missing (null) left side makes every ordering false; so does any
     * pair Python cannot order (its TypeError is swallowed). */
    order_t o = py_order(left, cmp->literal);
    if (o == ORDER_NONE)
        return false;
    switch (cmp->op) {
    case CMP_LT:
        return o == ORDER_LESS;
    case CMP_LE:
        return o != ORDER_GREATER;
    case CMP_GT:
        return o == ORDER_GREATER;
    case CMP_GE:
        return o != ORDER_LESS;
    default:
        return false;
    }
}

int yg_cond_eval(const yg_cond_t *cond, const yg_value_t *state, bool *result, yg_error_t *err)
{
    if (!cond || !result)
        return yg_error_set(err, YG_EINVAL, "yg_cond_eval: missing condition or result");
    for (size_t g = 0; g < cond->ngroups; g++) {
        bool all = true;
        for (size_t i = cond->group_start[g]; i < cond->group_start[g + 1] && all; i++)
            all = comparison_eval(&cond->cmps[i], state);
        if (all) {
            *result = true;
            return YG_OK;
        }
    }
    *result = false;
    return YG_OK;
}

void yg_cond_reads(const yg_cond_t *cond, yg_value_t *out)
{
    if (!cond)
        return;
    for (size_t i = 0; i < cond->ncmps; i++)
        reads_add(out, cond->cmps[i].path, cond->cmps[i].path_len);
}

/* --- 6.2 / 6.3 value templates ------------------------------------------- */

typedef enum { VX_CONST, VX_LOOKUP, VX_ARITH } vx_kind_t;

/* A right-hand operand: a `state.` path or a literal. */
typedef struct {
    char *path; /* non-NULL for a path (may be ""), else literal is set */
    size_t path_len;
    yg_value_t *literal;
} operand_t;

typedef enum { RHS_VALUE, RHS_LIST, RHS_MAP } rhs_kind_t;

typedef struct {
    char *key;
    size_t key_len;
    operand_t value;
} map_item_t;

struct yg_vexpr {
    vx_kind_t kind;
    yg_value_t *constant; /* VX_CONST */
    char *path;           /* VX_LOOKUP, and the VX_ARITH left operand */
    size_t path_len;
    char op; /* VX_ARITH: + - * / */
    rhs_kind_t rhs_kind;
    operand_t rhs;     /* RHS_VALUE, RHS_LIST (the one element) */
    map_item_t *items; /* RHS_MAP */
    size_t nitems;
};

static void operand_clear(operand_t *o)
{
    free(o->path);
    o->path = NULL;
    yg_value_destroy(&o->literal);
}

/* `state.<path>` -> path, else a 6.5 literal.  text is trimmed. */
static int operand_parse(const char *text, size_t len, operand_t *o)
{
    if (starts_with(text, len, STATE_PREFIX, STATE_PREFIX_LEN)) {
        o->path_len = len - STATE_PREFIX_LEN;
        o->path = dup_bytes(text + STATE_PREFIX_LEN, o->path_len);
        return o->path ? YG_OK : YG_ENOMEM;
    }
    o->literal = yg_literal_parse(text, len);
    return o->literal ? YG_OK : YG_ENOMEM;
}

/* `{k: v, ...}`: split on ',', each piece on its first ':', keys lose
 * surrounding whitespace and then any surrounding quote characters. */
static int rhs_map_parse(yg_vexpr_t *self, const char *inner, size_t len)
{
    size_t pieces = 1;
    for (size_t i = 0; i < len; i++)
        if (inner[i] == ',')
            pieces++;
    self->items = calloc(pieces, sizeof *self->items);
    if (!self->items)
        return YG_ENOMEM;
    size_t start = 0;
    while (start <= len) {
        const char *comma = memchr(inner + start, ',', len - start);
        size_t end = comma ? (size_t)(comma - inner) : len;
        const char *piece = inner + start;
        size_t plen = end - start;
        const char *colon = memchr(piece, ':', plen);
        if (colon) {
            const char *key = piece;
            size_t klen = (size_t)(colon - piece);
            trim(&key, &klen);
            while (klen > 0 && (key[0] == '\'' || key[0] == '"')) {
                key++;
                klen--;
            }
            while (klen > 0 && (key[klen - 1] == '\'' || key[klen - 1] == '"'))
                klen--;
            const char *val = colon + 1;
            size_t vlen = (size_t)(piece + plen - val);
            trim(&val, &vlen);
            map_item_t *item = &self->items[self->nitems];
            item->key = dup_bytes(key, klen);
            item->key_len = klen;
            self->nitems++;
            if (!item->key || operand_parse(val, vlen, &item->value) != YG_OK)
                return YG_ENOMEM;
        }
        if (!comma)
            break;
        start = end + 1;
    }
    return YG_OK;
}

static int rhs_parse(yg_vexpr_t *self, const char *text, size_t len)
{
    trim(&text, &len);
    if (starts_with(text, len, STATE_PREFIX, STATE_PREFIX_LEN)) {
        self->rhs_kind = RHS_VALUE;
        return operand_parse(text, len, &self->rhs);
    }
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        const char *inner = text + 1;
        size_t ilen = len - 2;
        trim(&inner, &ilen);
        self->rhs_kind = RHS_LIST;
        return operand_parse(inner, ilen, &self->rhs);
    }
    if (len >= 2 && text[0] == '{' && text[len - 1] == '}') {
        const char *inner = text + 1;
        size_t ilen = len - 2;
        trim(&inner, &ilen);
        self->rhs_kind = RHS_MAP;
        return rhs_map_parse(self, inner, ilen);
    }
    self->rhs_kind = RHS_VALUE;
    return operand_parse(text, len, &self->rhs);
}

/* Match the arithmetic form on s[0, len) (which starts with '{' and ends
 * with '}').  Returns true and fills path/op/rhs bounds on a match. */
static bool arith_match(const char *s, size_t len, size_t *path_b, size_t *path_e, char *op,
                        size_t *rhs_b, size_t *rhs_e)
{
    size_t p = 1 + STATE_PREFIX_LEN;
    if (len < p + 1 || memcmp(s + 1, STATE_PREFIX, STATE_PREFIX_LEN) != 0 ||
        !is_alpha_((unsigned char)s[p]))
        return false;
    *path_b = p;
    while (p < len && is_path_char((unsigned char)s[p]))
        p++;
    *path_e = p;
    while (p < len && is_space((unsigned char)s[p]))
        p++;
    if (p >= len || (s[p] != '+' && s[p] != '-' && s[p] != '*' && s[p] != '/'))
        return false;
    *op = s[p++];
    /* (.+)\}$ : at least one character before the final '}'; \s* before
     * it is greedy but must leave that one character. */
    size_t last = len - 1;
    if (p >= last)
        return false;
    while (p + 1 < last && is_space((unsigned char)s[p]))
        p++;
    if (memchr(s + p, '\n', last - p))
        return false;
    *rhs_b = p;
    *rhs_e = last;
    return true;
}

yg_vexpr_t *yg_vexpr_compile(const yg_value_t *tmpl, yg_error_t *err)
{
    yg_vexpr_t *self = calloc(1, sizeof *self);
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    const char *s = yg_value_str(tmpl);
    size_t len = yg_value_strlen(tmpl);
    int rc = YG_OK;
    size_t path_b, path_e, rhs_b, rhs_e;
    char op;
    if (!s || len == 0 || s[0] != '{' || s[len - 1] != '}') {
        /* Not a "{...}" string: the value itself (copied so the compiled
         * form never shares reference counts with the caller's tree). */
        self->kind = VX_CONST;
        self->constant = yg_value_copy(tmpl);
        rc = self->constant ? YG_OK : YG_ENOMEM;
    } else if (arith_match(s, len, &path_b, &path_e, &op, &rhs_b, &rhs_e)) {
        self->kind = VX_ARITH;
        self->op = op;
        self->path_len = path_e - path_b;
        self->path = dup_bytes(s + path_b, self->path_len);
        rc = self->path ? rhs_parse(self, s + rhs_b, rhs_e - rhs_b) : YG_ENOMEM;
    } else if (len >= 2 + STATE_PREFIX_LEN && memcmp(s + 1, STATE_PREFIX, STATE_PREFIX_LEN) == 0) {
        /* Everything between "{state." and the final '}' is the path, even
         * "a} and {state.b" (spec 6.2 rule 4). */
        self->kind = VX_LOOKUP;
        self->path_len = len - 2 - STATE_PREFIX_LEN;
        self->path = dup_bytes(s + 1 + STATE_PREFIX_LEN, self->path_len);
        rc = self->path ? YG_OK : YG_ENOMEM;
    } else {
        self->kind = VX_CONST;
        self->constant = yg_value_copy(tmpl);
        rc = self->constant ? YG_OK : YG_ENOMEM;
    }
    if (rc != YG_OK) {
        yg_vexpr_destroy(&self);
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    return self;
}

void yg_vexpr_destroy(yg_vexpr_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_vexpr_t *self = *self_p;
    yg_value_destroy(&self->constant);
    free(self->path);
    operand_clear(&self->rhs);
    for (size_t i = 0; i < self->nitems; i++) {
        free(self->items[i].key);
        operand_clear(&self->items[i].value);
    }
    free(self->items);
    free(self);
    *self_p = NULL;
}

bool yg_vexpr_is_constant(const yg_vexpr_t *expr)
{
    return expr && expr->kind == VX_CONST;
}

void yg_vexpr_reads(const yg_vexpr_t *expr, yg_value_t *out)
{
    if (!expr || expr->kind == VX_CONST)
        return;
    reads_add(out, expr->path, expr->path_len);
    if (expr->kind != VX_ARITH)
        return;
    if (expr->rhs.path)
        reads_add(out, expr->rhs.path, expr->rhs.path_len);
    for (size_t i = 0; i < expr->nitems; i++)
        if (expr->items[i].value.path)
            reads_add(out, expr->items[i].value.path, expr->items[i].value.path_len);
}

/* A new reference to the lenient lookup result, or a new null value. */
static yg_value_t *lookup_ref(const yg_value_t *state, const char *path, size_t len)
{
    yg_value_t *v = yg_path_lenient(state, path, len);
    return v ? yg_value_ref(v) : yg_null_new();
}

static yg_value_t *operand_eval(const operand_t *o, const yg_value_t *state)
{
    if (o->path)
        return lookup_ref(state, o->path, o->path_len);
    return yg_value_copy(o->literal);
}

/* The right operand as a new value. */
static yg_value_t *rhs_eval(const yg_vexpr_t *self, const yg_value_t *state)
{
    if (self->rhs_kind == RHS_VALUE)
        return operand_eval(&self->rhs, state);
    if (self->rhs_kind == RHS_LIST) {
        yg_value_t *list = yg_list_new();
        if (list && yg_list_append(list, operand_eval(&self->rhs, state)) != YG_OK)
            yg_value_destroy(&list);
        return list;
    }
    yg_value_t *map = yg_map_new();
    for (size_t i = 0; map && i < self->nitems; i++)
        if (yg_map_setn(map, self->items[i].key, self->items[i].key_len,
                        operand_eval(&self->items[i].value, state)) != YG_OK)
            yg_value_destroy(&map);
    return map;
}

static yg_value_t *type_error(yg_error_t *err, char op, const yg_value_t *a, const yg_value_t *b)
{
    yg_error_set(err, YG_ETYPE, "unsupported operand type(s) for %c: '%s' and '%s'", op,
                 py_type_name(a), py_type_name(b));
    return NULL;
}

static yg_value_t *nomem(yg_error_t *err)
{
    yg_error_set(err, YG_ENOMEM, "out of memory");
    return NULL;
}

/* Numeric + - * / with Python's int/float/bool rules. */
static yg_value_t *numeric_op(char op, const yg_value_t *a, const yg_value_t *b, yg_error_t *err)
{
    bool use_float = op == '/' || yg_value_type(a) == YG_FLOAT || yg_value_type(b) == YG_FLOAT;
    yg_value_t *r;
    if (use_float) {
        double x = as_double(a), y = as_double(b), z;
        switch (op) {
        case '+':
            z = x + y;
            break;
        case '-':
            z = x - y;
            break;
        case '*':
            z = x * y;
            break;
        default:
            if (y == 0.0) {
                yg_error_set(err, YG_EEXPR, "division by zero");
                return NULL;
            }
            z = x / y;
            break;
        }
        r = yg_float_new(z);
    } else {
        int64_t x = as_int(a), y = as_int(b), z;
        bool overflow;
        switch (op) {
        case '+':
            overflow = __builtin_add_overflow(x, y, &z);
            break;
        case '-':
            overflow = __builtin_sub_overflow(x, y, &z);
            break;
        default:
            overflow = __builtin_mul_overflow(x, y, &z);
            break;
        }
        if (overflow) {
            /* [C] Python integers are unbounded; ours are 64-bit. */
            yg_error_set(err, YG_EEXPR, "integer overflow in %" PRId64 " %c %" PRId64, x, op, y);
            return NULL;
        }
        r = yg_int_new(z);
    }
    return r ? r : nomem(err);
}

/* seq * n for a string or list seq and an int (or bool) n. */
static yg_value_t *repeat(const yg_value_t *seq, int64_t n, yg_error_t *err)
{
    if (n < 0)
        n = 0;
    if (yg_value_type(seq) == YG_STR) {
        size_t len = yg_value_strlen(seq);
        if (len > 0 && (uint64_t)n > YG_EXPR_MAX_REPEAT_BYTES / len) {
            yg_error_set(err, YG_ELIMIT, "repetition result larger than %u bytes",
                         (unsigned)YG_EXPR_MAX_REPEAT_BYTES);
            return NULL;
        }
        size_t total = len * (size_t)(len ? n : 0);
        char *buf = malloc(total + 1);
        if (!buf)
            return nomem(err);
        for (size_t i = 0; i < total; i += len)
            memcpy(buf + i, yg_value_str(seq), len);
        yg_value_t *r = yg_str_newn(buf, total);
        free(buf);
        return r ? r : nomem(err);
    }
    size_t size = yg_list_size(seq);
    if (size > 0 && (uint64_t)n > YG_EXPR_MAX_REPEAT_ITEMS / size) {
        yg_error_set(err, YG_ELIMIT, "repetition result longer than %u items",
                     (unsigned)YG_EXPR_MAX_REPEAT_ITEMS);
        return NULL;
    }
    yg_value_t *list = yg_list_new();
    if (!list)
        return nomem(err);
    for (int64_t k = 0; size > 0 && k < n; k++)
        for (size_t i = 0; i < size; i++)
            if (yg_list_append(list, yg_value_ref(yg_list_get(seq, i))) != YG_OK) {
                yg_value_destroy(&list);
                return nomem(err);
            }
    return list;
}

/* Python's `a <op> b` for the operators and types of spec 6.3. */
static yg_value_t *apply_op(char op, const yg_value_t *a, yg_value_t *b, yg_error_t *err)
{
    yg_type_t ta = yg_value_type(a), tb = yg_value_type(b);
    if (op == '+' && ta == YG_LIST) {
        yg_value_t *list = yg_list_new();
        if (!list)
            return nomem(err);
        int rc = YG_OK;
        for (size_t i = 0; rc == YG_OK && i < yg_list_size(a); i++)
            rc = yg_list_append(list, yg_value_ref(yg_list_get(a, i)));
        if (tb == YG_LIST)
            for (size_t i = 0; rc == YG_OK && i < yg_list_size(b); i++)
                rc = yg_list_append(list, yg_value_ref(yg_list_get(b, i)));
        else if (rc == YG_OK)
            rc = yg_list_append(list, yg_value_ref(b));
        if (rc != YG_OK) {
            yg_value_destroy(&list);
            return nomem(err);
        }
        return list;
    }
    if (is_number(ta) && is_number(tb))
        return numeric_op(op, a, b, err);
    if (op == '+' && ta == YG_STR && tb == YG_STR) {
        size_t la = yg_value_strlen(a), lb = yg_value_strlen(b);
        char *buf = malloc(la + lb + 1);
        if (!buf)
            return nomem(err);
        memcpy(buf, yg_value_str(a), la);
        memcpy(buf + la, yg_value_str(b), lb);
        yg_value_t *r = yg_str_newn(buf, la + lb);
        free(buf);
        return r ? r : nomem(err);
    }
    if (op == '*') {
        bool a_seq = ta == YG_STR || ta == YG_LIST, b_seq = tb == YG_STR || tb == YG_LIST;
        bool a_int = ta == YG_INT || ta == YG_BOOL, b_int = tb == YG_INT || tb == YG_BOOL;
        if (a_seq && b_int)
            return repeat(a, as_int(b), err);
        if (b_seq && a_int)
            return repeat(b, as_int(a), err);
    }
    return type_error(err, op, a, b);
}

yg_value_t *yg_vexpr_eval(const yg_vexpr_t *expr, const yg_value_t *state, yg_error_t *err)
{
    if (!expr) {
        yg_error_set(err, YG_EINVAL, "yg_vexpr_eval: no expression");
        return NULL;
    }
    yg_value_t *result;
    switch (expr->kind) {
    case VX_CONST:
        result = yg_value_copy(expr->constant);
        return result ? result : nomem(err);
    case VX_LOOKUP:
        result = lookup_ref(state, expr->path, expr->path_len);
        return result ? result : nomem(err);
    case VX_ARITH:
        break;
    }
    const yg_value_t *left = yg_path_lenient(state, expr->path, expr->path_len);
    if (yg_value_is_null(left)) {
        result = yg_null_new();
        return result ? result : nomem(err);
    }
    yg_value_t *right = rhs_eval(expr, state);
    if (!right)
        return nomem(err);
    result = apply_op(expr->op, left, right, err);
    yg_value_destroy(&right);
    return result;
}

/* JSON extraction (spec 4.4) lives in yg_jsonx.c. */
