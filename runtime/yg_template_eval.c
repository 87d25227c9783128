/*
 * yg_template_eval.c - rendering Jinja-mode templates (spec 7.5).
 *
 * The evaluator walks the immutable tree built by yg_template.c.  It never
 * takes references on the caller's values or on template constants (they
 * may be shared between threads); results it creates are owned by the
 * temporary they live in (rv_t.hold) and freed when that is released.
 *
 * Semantics follow Jinja2 with default settings: undefined names render as
 * empty text, attribute access on an undefined value is an error, values
 * print with Python str(), truthiness is Python's.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_pytext.h"
#include "yg_template_int.h"

/* A temporary value during evaluation. */
typedef enum { RV_UNDEF = 0, RV_VAL, RV_METHOD } rv_kind_t;

typedef struct rv {
    rv_kind_t kind;
    const yg_value_t *v;   /* RV_VAL: the value; RV_METHOD: the receiver */
    yg_value_t *hold;      /* owned value keeping v alive (v itself or an ancestor) */
    int method;            /* RV_METHOD: tx_method_t */
    const char *name;      /* RV_UNDEF: the missing name or attribute (borrowed) */
    const char *owner;     /* RV_UNDEF from attribute access: Python type of the object */
} rv_t;

typedef struct binding {
    const char *name;
    rv_t val;
} binding_t;

typedef struct rc {
    const yg_tmpl_t *t;
    const yg_value_t *vars;
    const yg_value_t *state;
    binding_t *scope;
    size_t nscope, capscope;
    tx_sbuf_t out;
    yg_error_t *err;
    bool failed;
} rc_t;

static void rv_release(rv_t *r)
{
    yg_value_destroy(&r->hold);
    memset(r, 0, sizeof *r);
}

static rv_t rv_borrow(const yg_value_t *v)
{
    return (rv_t){.kind = RV_VAL, .v = v};
}

static rv_t rv_undef(const char *name, const char *owner)
{
    return (rv_t){.kind = RV_UNDEF, .name = name, .owner = owner};
}

static const char *py_type(const yg_value_t *v)
{
    switch (yg_value_type(v)) {
    case YG_NULL: return "NoneType";
    case YG_BOOL: return "bool";
    case YG_INT: return "int";
    case YG_FLOAT: return "float";
    case YG_STR: return "str";
    case YG_LIST: return "list";
    case YG_MAP: return "dict";
    }
    return "object";
}

static const char *rv_type(const rv_t *r)
{
    return r->kind == RV_UNDEF ? "Undefined" : r->kind == RV_METHOD ? "method" : py_type(r->v);
}

static bool fail(rc_t *rc, const tx_expr_t *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(rc_t *rc, const tx_expr_t *e, const char *fmt, ...)
{
    if (rc->failed)
        return false;
    char msg[YG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    yg_error_set_at(rc->err, YG_ETEMPLATE, rc->t->file, e ? e->line : 0, e ? e->column : 0, "%s",
                    msg);
    rc->failed = true;
    return false;
}

static bool oom(rc_t *rc)
{
    if (!rc->failed)
        yg_error_set(rc->err, YG_ENOMEM, "out of memory rendering a template");
    rc->failed = true;
    return false;
}

/* The error Jinja raises when an undefined value is used. */
static bool fail_undefined(rc_t *rc, const tx_expr_t *e, const rv_t *r)
{
    if (r->owner)
        return fail(rc, e, "'%s object' has no attribute '%s'", r->owner,
                    r->name ? r->name : "?");
    return fail(rc, e, "'%s' is undefined", r->name ? r->name : "value");
}

/* Wrap a newly created value (NULL = out of memory). */
static bool rv_own(rc_t *rc, rv_t *out, yg_value_t *v)
{
    if (!v)
        return oom(rc);
    *out = (rv_t){.kind = RV_VAL, .v = v, .hold = v};
    return true;
}

/* An owned copy of r's value for storing in a container; undefined
 * becomes None.  Consumes r. */
static yg_value_t *rv_take(rc_t *rc, const tx_expr_t *e, rv_t *r)
{
    yg_value_t *v = NULL;
    if (r->kind == RV_METHOD) {
        fail(rc, e, "a method cannot be stored in a container (call it)");
    } else if (r->kind == RV_UNDEF) {
        v = yg_null_new();
    } else if (r->hold == r->v && r->hold) {
        v = r->hold;
        r->hold = NULL;
    } else {
        v = yg_value_copy(r->v);
    }
    rv_release(r);
    if (!v && !rc->failed)
        oom(rc);
    return v;
}

static bool truthy(const rv_t *r)
{
    if (r->kind == RV_UNDEF)
        return false;
    if (r->kind == RV_METHOD)
        return true;
    return yg_value_truthy(r->v);
}

/* ------------------------------------------------------------------------ */
/* Unicode helpers                                                            */
/* ------------------------------------------------------------------------ */

/* Simple case mapping for ASCII, Latin-1, Latin Extended-A, Greek and
 * Cyrillic; other code points are unchanged. */
static uint32_t cp_upper(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if (c < 0x80)
        return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7))
        return c - 32;
    if (c == 0xFF)
        return 0x178;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
        c != 0x17F) {
        bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_upper ? (c % 2 == 0) : (c % 2 == 1))
            return c - 1;
        return c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2)
        return c - 32;
    if (c == 0x3C2)
        return 0x3A3;
    if (c >= 0x430 && c <= 0x44F)
        return c - 32;
    if (c >= 0x450 && c <= 0x45F)
        return c - 80;
    return c;
}

static uint32_t cp_lower(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c < 0x80)
        return c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c == 0x178)
        return 0xFF;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
        c != 0x17F) {
        bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_upper ? (c % 2 == 1) : (c % 2 == 0))
            return c + 1;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

static bool cp_cased(uint32_t c)
{
    return cp_upper(c) != c || cp_lower(c) != c;
}

static bool cp_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static size_t cp_count(const char *s, size_t n)
{
    size_t count = 0;
    uint32_t cp;
    for (size_t i = 0; i < n; count++)
        i += yg_tx_utf8_next(s + i, n - i, &cp);
    return count;
}

/* Byte offsets of each code point plus the end (count + 1 entries). */
static size_t *cp_offsets(const char *s, size_t n, size_t *count)
{
    size_t c = cp_count(s, n);
    size_t *offs = malloc((c + 1) * sizeof *offs);
    if (!offs)
        return NULL;
    uint32_t cp;
    size_t k = 0;
    for (size_t i = 0; i < n; k++) {
        offs[k] = i;
        i += yg_tx_utf8_next(s + i, n - i, &cp);
    }
    offs[c] = n;
    *count = c;
    return offs;
}

/* Case transforms: mode 0 upper, 1 lower, 2 capitalize (str.capitalize),
 * 3 Jinja title (word starts after - whitespace ( { [ <). */
static yg_value_t *str_case(const char *s, size_t n, int mode)
{
    tx_sbuf_t b = {0};
    yg_tx_sbuf_append(&b, "", 0);
    bool word_start = true;
    size_t idx = 0;
    uint32_t cp;
    for (size_t i = 0; i < n; idx++) {
        i += yg_tx_utf8_next(s + i, n - i, &cp);
        uint32_t out;
        if (mode == 0 && cp == 0xDF) {
            yg_tx_sbuf_append(&b, "SS", 2); /* the one common full case mapping */
            continue;
        }
        if (mode == 0)
            out = cp_upper(cp);
        else if (mode == 1)
            out = cp_lower(cp);
        else if (mode == 2)
            out = idx == 0 ? cp_upper(cp) : cp_lower(cp);
        else {
            bool sep = cp_space(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
            out = sep ? cp : word_start ? cp_upper(cp) : cp_lower(cp);
            word_start = sep;
        }
        yg_tx_sbuf_put_cp(&b, out);
    }
    yg_value_t *v = b.failed ? NULL : yg_str_newn(b.data, b.len);
    free(b.data);
    return v;
}

/* Python str.title(). */
static yg_value_t *str_pytitle(const char *s, size_t n)
{
    tx_sbuf_t b = {0};
    yg_tx_sbuf_append(&b, "", 0);
    bool prev_cased = false;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        i += yg_tx_utf8_next(s + i, n - i, &cp);
        bool cased = cp_cased(cp);
        yg_tx_sbuf_put_cp(&b, cased ? (prev_cased ? cp_lower(cp) : cp_upper(cp)) : cp);
        prev_cased = cased;
    }
    yg_value_t *v = b.failed ? NULL : yg_str_newn(b.data, b.len);
    free(b.data);
    return v;
}

static bool cp_in_set(uint32_t cp, const char *set, size_t n)
{
    uint32_t c;
    for (size_t i = 0; i < n;) {
        i += yg_tx_utf8_next(set + i, n - i, &c);
        if (c == cp)
            return true;
    }
    return false;
}

/* str.strip / lstrip / rstrip with optional character set. */
static yg_value_t *str_strip(const char *s, size_t n, const char *chars, size_t nchars, bool left,
                             bool right)
{
    size_t a = 0, b = n;
    uint32_t cp;
    while (left && a < b) {
        size_t l = yg_tx_utf8_next(s + a, b - a, &cp);
        if (chars ? !cp_in_set(cp, chars, nchars) : !cp_space(cp))
            break;
        a += l;
    }
    while (right && b > a) {
        size_t start = b - 1;
        while (start > a && ((unsigned char)s[start] & 0xC0) == 0x80)
            start--;
        yg_tx_utf8_next(s + start, b - start, &cp);
        if (chars ? !cp_in_set(cp, chars, nchars) : !cp_space(cp))
            break;
        b = start;
    }
    return yg_str_newn(s + a, b - a);
}

static yg_value_t *str_replace(const char *s, size_t n, const char *old, size_t on,
                               const char *new_, size_t nn, int64_t count)
{
    tx_sbuf_t b = {0};
    yg_tx_sbuf_append(&b, "", 0);
    size_t i = 0;
    int64_t done = 0;
    if (on == 0) {
        /* Python inserts `new` between every character and at both ends */
        uint32_t cp;
        while (count < 0 || done < count) {
            yg_tx_sbuf_append(&b, new_, nn);
            done++;
            if (i >= n)
                break;
            size_t l = yg_tx_utf8_next(s + i, n - i, &cp);
            yg_tx_sbuf_append(&b, s + i, l);
            i += l;
        }
        yg_tx_sbuf_append(&b, s + i, n - i);
    } else {
        while (i < n && (count < 0 || done < count)) {
            const char *hit = NULL;
            for (size_t j = i; j + on <= n; j++)
                if (memcmp(s + j, old, on) == 0) {
                    hit = s + j;
                    break;
                }
            if (!hit)
                break;
            yg_tx_sbuf_append(&b, s + i, (size_t)(hit - (s + i)));
            yg_tx_sbuf_append(&b, new_, nn);
            i = (size_t)(hit - s) + on;
            done++;
        }
        yg_tx_sbuf_append(&b, s + i, n - i);
    }
    yg_value_t *v = b.failed || b.too_big ? NULL : yg_str_newn(b.data, b.len);
    free(b.data);
    return v;
}

/* ------------------------------------------------------------------------ */
/* Text of a value                                                            */
/* ------------------------------------------------------------------------ */

static const char *const METHOD_LABELS[M__COUNT] = {
    "keys", "values", "items", "get", "upper", "lower", "strip", "lstrip", "rstrip", "split",
    "startswith", "endswith", "replace", "title", "capitalize", "join"};

/* Append s (malloc'd text; NULL = out of memory) to b and free it. */
static bool put_owned(rc_t *rc, tx_sbuf_t *b, char *s)
{
    if (!s)
        return oom(rc);
    bool ok = yg_tx_sbuf_append(b, s, strlen(s));
    free(s);
    return ok;
}

/* Append Python str(r) to b. */
static bool put_text(rc_t *rc, tx_sbuf_t *b, const rv_t *r)
{
    if (r->kind == RV_UNDEF)
        return true;
    if (r->kind == RV_METHOD) {
        char tmp[96];
        int n = snprintf(tmp, sizeof tmp, "<built-in method %s of %s object>",
                         METHOD_LABELS[r->method], py_type(r->v));
        return yg_tx_sbuf_append(b, tmp, (size_t)n);
    }
    if (yg_value_type(r->v) == YG_STR)
        return yg_tx_sbuf_append(b, yg_value_str(r->v), yg_value_strlen(r->v));
    return put_owned(rc, b, yg_pytext_str(r->v));
}

/* str(r) as a new string value. */
static bool to_str_value(rc_t *rc, const rv_t *r, rv_t *out)
{
    if (r->kind == RV_VAL && yg_value_type(r->v) == YG_STR) {
        *out = *r;
        out->hold = r->hold ? yg_value_ref(r->hold) : NULL;
        return true;
    }
    tx_sbuf_t b = {0};
    yg_tx_sbuf_append(&b, "", 0);
    put_text(rc, &b, r);
    if (rc->failed) {
        free(b.data);
        return false;
    }
    yg_value_t *v = b.failed ? NULL : yg_str_newn(b.data, b.len);
    free(b.data);
    return rv_own(rc, out, v);
}

/* ------------------------------------------------------------------------ */
/* Python equality and ordering                                               */
/* ------------------------------------------------------------------------ */

static bool is_num(const yg_value_t *v)
{
    yg_type_t t = yg_value_type(v);
    return t == YG_INT || t == YG_FLOAT || t == YG_BOOL;
}

static bool is_intlike(const yg_value_t *v)
{
    return yg_value_type(v) == YG_INT || yg_value_type(v) == YG_BOOL;
}

static int64_t int_of(const yg_value_t *v)
{
    return yg_value_type(v) == YG_BOOL ? (yg_value_bool(v) ? 1 : 0) : yg_value_int(v);
}

static double num_of(const yg_value_t *v)
{
    return yg_value_type(v) == YG_FLOAT ? yg_value_float(v) : (double)int_of(v);
}

static bool py_eq(const yg_value_t *a, const yg_value_t *b)
{
    if (is_num(a) && is_num(b)) {
        if (is_intlike(a) && is_intlike(b))
            return int_of(a) == int_of(b);
        return num_of(a) == num_of(b);
    }
    yg_type_t ta = yg_value_type(a), tb = yg_value_type(b);
    if (ta != tb)
        return false;
    switch (ta) {
    case YG_NULL: return true;
    case YG_STR:
        return yg_value_strlen(a) == yg_value_strlen(b) &&
               memcmp(yg_value_str(a), yg_value_str(b), yg_value_strlen(a)) == 0;
    case YG_LIST:
        if (yg_list_size(a) != yg_list_size(b))
            return false;
        for (size_t i = 0; i < yg_list_size(a); i++)
            if (!py_eq(yg_list_get(a, i), yg_list_get(b, i)))
                return false;
        return true;
    case YG_MAP:
        if (yg_map_size(a) != yg_map_size(b))
            return false;
        for (size_t i = 0; i < yg_map_size(a); i++) {
            const yg_value_t *o = yg_map_getn(b, yg_map_key_at(a, i), yg_map_keylen_at(a, i));
            if (!o || !py_eq(yg_map_value_at(a, i), o))
                return false;
        }
        return true;
    default: return false;
    }
}

static bool rv_eq(const rv_t *a, const rv_t *b)
{
    if (a->kind == RV_UNDEF || b->kind == RV_UNDEF)
        return a->kind == b->kind;
    if (a->kind == RV_METHOD || b->kind == RV_METHOD)
        return a->kind == b->kind && a->method == b->method && a->v == b->v;
    return py_eq(a->v, b->v);
}

/* Three-way Python ordering; false when the types are not orderable. */
static bool py_order(const yg_value_t *a, const yg_value_t *b, int *out)
{
    if (is_num(a) && is_num(b)) {
        if (is_intlike(a) && is_intlike(b)) {
            int64_t x = int_of(a), y = int_of(b);
            *out = x < y ? -1 : x > y;
            return true;
        }
        double x = num_of(a), y = num_of(b);
        *out = x < y ? -1 : x > y ? 1 : 0;
        if (isnan(x) || isnan(y))
            *out = 2; /* unordered: every comparison is false */
        return true;
    }
    yg_type_t ta = yg_value_type(a), tb = yg_value_type(b);
    if (ta != tb)
        return false;
    if (ta == YG_STR) {
        size_t la = yg_value_strlen(a), lb = yg_value_strlen(b);
        int c = memcmp(yg_value_str(a), yg_value_str(b), la < lb ? la : lb);
        *out = c ? (c < 0 ? -1 : 1) : (la < lb ? -1 : la > lb);
        return true;
    }
    if (ta == YG_LIST) {
        size_t la = yg_list_size(a), lb = yg_list_size(b);
        for (size_t i = 0; i < la && i < lb; i++) {
            const yg_value_t *x = yg_list_get(a, i), *y = yg_list_get(b, i);
            if (!py_eq(x, y))
                return py_order(x, y, out);
        }
        *out = la < lb ? -1 : la > lb;
        return true;
    }
    return false;
}

static const char *const CMP_SYMBOLS[] = {"==", "!=", "<", "<=", ">", ">=", "in", "not in"};

static bool compare(rc_t *rc, const tx_expr_t *e, int op, const rv_t *a, const rv_t *b,
                    bool *result)
{
    if (op == CMP_EQ || op == CMP_NE) {
        bool eq = rv_eq(a, b);
        *result = op == CMP_EQ ? eq : !eq;
        return true;
    }
    if (op == CMP_IN || op == CMP_NOTIN) {
        bool found = false;
        if (b->kind == RV_UNDEF) {
            found = false;
        } else if (b->kind == RV_METHOD) {
            return fail(rc, e, "argument of type 'method' is not iterable");
        } else if (yg_value_type(b->v) == YG_STR) {
            if (a->kind != RV_VAL || yg_value_type(a->v) != YG_STR)
                return fail(rc, e, "'in <string>' requires string as left operand, not %s",
                            rv_type(a));
            size_t hn = yg_value_strlen(b->v), nn = yg_value_strlen(a->v);
            const char *h = yg_value_str(b->v), *nd = yg_value_str(a->v);
            for (size_t i = 0; !found && i + nn <= hn; i++)
                found = memcmp(h + i, nd, nn) == 0;
        } else if (yg_value_type(b->v) == YG_LIST) {
            for (size_t i = 0; !found && i < yg_list_size(b->v); i++) {
                rv_t item = rv_borrow(yg_list_get(b->v, i));
                found = rv_eq(a, &item);
            }
        } else if (yg_value_type(b->v) == YG_MAP) {
            found = a->kind == RV_VAL && yg_value_type(a->v) == YG_STR &&
                    yg_map_getn(b->v, yg_value_str(a->v), yg_value_strlen(a->v)) != NULL;
        } else {
            return fail(rc, e, "argument of type '%s' is not iterable", rv_type(b));
        }
        *result = op == CMP_IN ? found : !found;
        return true;
    }
    if (a->kind == RV_UNDEF)
        return fail_undefined(rc, e, a);
    if (b->kind == RV_UNDEF)
        return fail_undefined(rc, e, b);
    int ord = 0;
    if (a->kind != RV_VAL || b->kind != RV_VAL || !py_order(a->v, b->v, &ord))
        return fail(rc, e, "'%s' not supported between instances of '%s' and '%s'",
                    CMP_SYMBOLS[op], rv_type(a), rv_type(b));
    switch (op) {
    case CMP_LT: *result = ord == -1; break;
    case CMP_LE: *result = ord == -1 || ord == 0; break;
    case CMP_GT: *result = ord == 1; break;
    default: *result = ord == 1 || ord == 0; break;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Iteration                                                                  */
/* ------------------------------------------------------------------------ */

/* Turn an iterable into a list: lists are borrowed, maps give their keys,
 * strings their characters, undefined nothing.  `out` owns what it made. */
static bool to_list(rc_t *rc, const tx_expr_t *e, const rv_t *r, rv_t *out)
{
    if (r->kind == RV_UNDEF)
        return rv_own(rc, out, yg_list_new());
    if (r->kind == RV_METHOD)
        return fail(rc, e, "'method' object is not iterable");
    switch (yg_value_type(r->v)) {
    case YG_LIST:
        *out = *r;
        out->hold = r->hold ? yg_value_ref(r->hold) : NULL;
        return true;
    case YG_MAP: {
        yg_value_t *list = yg_list_new();
        for (size_t i = 0; list && i < yg_map_size(r->v); i++) {
            yg_value_t *k = yg_str_newn(yg_map_key_at(r->v, i), yg_map_keylen_at(r->v, i));
            if (!k || yg_list_append(list, k) != YG_OK)
                yg_value_destroy(&list);
        }
        return rv_own(rc, out, list);
    }
    case YG_STR: {
        const char *s = yg_value_str(r->v);
        size_t n = yg_value_strlen(r->v);
        yg_value_t *list = yg_list_new();
        uint32_t cp;
        for (size_t i = 0; list && i < n;) {
            size_t l = yg_tx_utf8_next(s + i, n - i, &cp);
            yg_value_t *c = yg_str_newn(s + i, l);
            if (!c || yg_list_append(list, c) != YG_OK)
                yg_value_destroy(&list);
            i += l;
        }
        return rv_own(rc, out, list);
    }
    default: return fail(rc, e, "'%s' object is not iterable", py_type(r->v));
    }
}

/* Look up a dotted attribute path ("a.b.0") on an item, as Jinja's
 * attribute= arguments do.  Returns NULL when missing. */
static const yg_value_t *attr_path(const yg_value_t *v, const char *path)
{
    while (v && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (yg_value_type(v) == YG_MAP) {
            v = yg_map_getn(v, path, n);
        } else if (yg_value_type(v) == YG_LIST && n > 0 && path[0] >= '0' && path[0] <= '9') {
            v = yg_list_get(v, (size_t)strtoull(path, NULL, 10));
        } else {
            return NULL;
        }
        path += n + (dot ? 1 : 0);
        if (!dot)
            break;
    }
    return v;
}

/* ------------------------------------------------------------------------ */
/* Expressions                                                                */
/* ------------------------------------------------------------------------ */

static bool eval(rc_t *rc, const tx_expr_t *e, rv_t *out);
static bool render_body(rc_t *rc, const tx_body_t *body);

/* The argument for parameter `index`/`kw` of a call, or NULL. */
static const tx_expr_t *arg_of(const tx_expr_t *e, size_t index, const char *kw)
{
    size_t pos = 0;
    for (size_t i = 0; i < e->nargs; i++) {
        if (e->kwnames && e->kwnames[i]) {
            if (kw && strcmp(e->kwnames[i], kw) == 0)
                return e->args[i];
        } else if (pos++ == index) {
            return e->args[i];
        }
    }
    return NULL;
}

/* Evaluate an optional argument; absent -> RV_UNDEF with *present false. */
static bool eval_arg(rc_t *rc, const tx_expr_t *e, size_t index, const char *kw, rv_t *out,
                     bool *present)
{
    const tx_expr_t *a = arg_of(e, index, kw);
    if (present)
        *present = a != NULL;
    if (!a) {
        *out = rv_undef(NULL, NULL);
        return true;
    }
    return eval(rc, a, out);
}

static bool arg_int(rc_t *rc, const tx_expr_t *e, size_t index, const char *kw, int64_t dflt,
                    int64_t *out)
{
    rv_t r;
    bool present;
    if (!eval_arg(rc, e, index, kw, &r, &present))
        return false;
    *out = dflt;
    bool ok = true;
    if (present) {
        if (r.kind == RV_VAL && is_intlike(r.v))
            *out = int_of(r.v);
        else if (!(r.kind == RV_VAL && yg_value_type(r.v) == YG_NULL))
            ok = fail(rc, e, "expected an integer argument, got %s", rv_type(&r));
    }
    rv_release(&r);
    return ok;
}

static bool arg_str(rc_t *rc, const tx_expr_t *e, size_t index, const char *kw, rv_t *out,
                    bool *present)
{
    rv_t r;
    if (!eval_arg(rc, e, index, kw, &r, present))
        return false;
    if (present && !*present) {
        *out = r;
        return true;
    }
    bool ok = to_str_value(rc, &r, out);
    rv_release(&r);
    return ok;
}

static bool arg_bool(rc_t *rc, const tx_expr_t *e, size_t index, const char *kw, bool *out)
{
    rv_t r;
    if (!eval_arg(rc, e, index, kw, &r, NULL))
        return false;
    *out = truthy(&r);
    rv_release(&r);
    return true;
}

static bool eval_name(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    for (size_t i = rc->nscope; i-- > 0;)
        if (strcmp(rc->scope[i].name, e->name) == 0) {
            *out = rc->scope[i].val;
            out->hold = out->hold ? yg_value_ref(out->hold) : NULL;
            return true;
        }
    if (strcmp(e->name, "state") == 0) {
        if (rc->state) {
            *out = rv_borrow(rc->state);
            return true;
        }
        return rv_own(rc, out, yg_map_new());
    }
    const yg_value_t *v = yg_map_get(rc->vars, e->name);
    *out = v ? rv_borrow(v) : rv_undef(e->name, NULL);
    return true;
}

static int method_for_attr(yg_type_t t, const char *name)
{
    int first = t == YG_MAP ? M_KEYS : M_UPPER, last = t == YG_MAP ? M_GET : M_JOIN;
    if (t != YG_MAP && t != YG_STR)
        return -1;
    for (int i = first; i <= last; i++)
        if (strcmp(METHOD_LABELS[i], name) == 0)
            return i;
    return -1;
}

/* Evaluate e->a, the object of an access (attribute, item, slice,
 * method): an undefined one is an error.  False with *obj released. */
static bool eval_object(rc_t *rc, const tx_expr_t *e, rv_t *obj)
{
    if (!eval(rc, e->a, obj))
        return false;
    if (obj->kind != RV_UNDEF)
        return true;
    fail_undefined(rc, e, obj);
    rv_release(obj);
    return false;
}

/* a.name: a map key first (structured results are maps), then a method. */
static bool eval_attr(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    rv_t obj;
    if (!eval_object(rc, e, &obj))
        return false;
    if (obj.kind == RV_VAL) {
        const yg_value_t *v = yg_map_get(obj.v, e->name);
        if (v) {
            *out = (rv_t){.kind = RV_VAL, .v = v, .hold = obj.hold};
            return true;
        }
        int m = method_for_attr(yg_value_type(obj.v), e->name);
        if (m >= 0) {
            *out = (rv_t){.kind = RV_METHOD, .v = obj.v, .hold = obj.hold, .method = m};
            return true;
        }
    }
    *out = rv_undef(e->name, rv_type(&obj));
    rv_release(&obj);
    return true;
}

static bool eval_item(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    rv_t obj, key;
    if (!eval_object(rc, e, &obj))
        return false;
    if (!eval(rc, e->b, &key)) {
        rv_release(&obj);
        return false;
    }
    bool ok = true;
    /* the name in "has no attribute" messages: a constant key, if any */
    *out = rv_undef(e->b->kind == EX_CONST ? yg_value_str(e->b->constant) : NULL, rv_type(&obj));
    if (obj.kind == RV_VAL && key.kind == RV_VAL) {
        yg_type_t t = yg_value_type(obj.v);
        if (t == YG_MAP && yg_value_type(key.v) == YG_STR) {
            const yg_value_t *v =
                yg_map_getn(obj.v, yg_value_str(key.v), yg_value_strlen(key.v));
            if (v) {
                *out = (rv_t){.kind = RV_VAL, .v = v, .hold = obj.hold};
                obj.hold = NULL;
            }
        } else if ((t == YG_LIST || t == YG_STR) && is_intlike(key.v)) {
            int64_t i = int_of(key.v);
            if (t == YG_LIST) {
                int64_t n = (int64_t)yg_list_size(obj.v);
                if (i < 0)
                    i += n;
                if (i >= 0 && i < n) {
                    *out = (rv_t){.kind = RV_VAL, .v = yg_list_get(obj.v, (size_t)i),
                                  .hold = obj.hold};
                    obj.hold = NULL;
                }
            } else {
                size_t count;
                size_t *offs = cp_offsets(yg_value_str(obj.v), yg_value_strlen(obj.v), &count);
                if (!offs) {
                    ok = oom(rc);
                } else {
                    if (i < 0)
                        i += (int64_t)count;
                    if (i >= 0 && i < (int64_t)count)
                        ok = rv_own(rc, out,
                                    yg_str_newn(yg_value_str(obj.v) + offs[i],
                                                offs[i + 1] - offs[i]));
                    free(offs);
                }
            }
        }
    }
    rv_release(&obj);
    rv_release(&key);
    return ok;
}

/* Python slice.indices(). */
static void slice_indices(int64_t len, bool has_start, int64_t start, bool has_stop, int64_t stop,
                          int64_t step, int64_t *ostart, int64_t *ostop)
{
    int64_t lower = step > 0 ? 0 : -1, upper = step > 0 ? len : len - 1;
    if (!has_start) {
        start = step < 0 ? upper : lower;
    } else {
        if (start < 0)
            start += len;
        if (start < lower)
            start = lower;
        else if (start > upper)
            start = upper;
    }
    if (!has_stop) {
        stop = step < 0 ? lower : upper;
    } else {
        if (stop < 0)
            stop += len;
        if (stop < lower)
            stop = lower;
        else if (stop > upper)
            stop = upper;
    }
    *ostart = start;
    *ostop = stop;
}

static bool slice_bound(rc_t *rc, const tx_expr_t *e, const tx_expr_t *b, bool *has, int64_t *v)
{
    *has = false;
    *v = 0;
    if (!b)
        return true;
    rv_t r;
    if (!eval(rc, b, &r))
        return false;
    bool ok = true;
    if (r.kind == RV_VAL && is_intlike(r.v)) {
        *has = true;
        *v = int_of(r.v);
    } else if (!(r.kind == RV_VAL && yg_value_type(r.v) == YG_NULL)) {
        ok = fail(rc, e, "slice indices must be integers or None, not %s", rv_type(&r));
    }
    rv_release(&r);
    return ok;
}

static bool eval_slice(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    rv_t obj;
    if (!eval_object(rc, e, &obj))
        return false;
    bool hs, he, hp, ok = true;
    int64_t s, en, step;
    if (obj.kind != RV_VAL ||
               (yg_value_type(obj.v) != YG_STR && yg_value_type(obj.v) != YG_LIST)) {
        ok = fail(rc, e, "'%s' object is not subscriptable", rv_type(&obj));
    } else if (slice_bound(rc, e, e->b, &hs, &s) && slice_bound(rc, e, e->c, &he, &en) &&
               slice_bound(rc, e, e->d, &hp, &step)) {
        if (!hp)
            step = 1;
        if (step == 0) {
            ok = fail(rc, e, "slice step cannot be zero");
        } else if (yg_value_type(obj.v) == YG_LIST) {
            int64_t a, b;
            slice_indices((int64_t)yg_list_size(obj.v), hs, s, he, en, step, &a, &b);
            yg_value_t *list = yg_list_new();
            for (int64_t i = a; list && (step > 0 ? i < b : i > b); i += step) {
                yg_value_t *item = yg_value_copy(yg_list_get(obj.v, (size_t)i));
                if (!item || yg_list_append(list, item) != YG_OK)
                    yg_value_destroy(&list);
            }
            ok = rv_own(rc, out, list);
        } else {
            const char *str = yg_value_str(obj.v);
            size_t count;
            size_t *offs = cp_offsets(str, yg_value_strlen(obj.v), &count);
            if (!offs) {
                ok = oom(rc);
            } else {
                int64_t a, b;
                slice_indices((int64_t)count, hs, s, he, en, step, &a, &b);
                yg_value_t *v;
                if (step == 1) {
                    v = yg_str_newn(str + offs[a], a < b ? offs[b] - offs[a] : 0);
                } else {
                    tx_sbuf_t buf = {0};
                    yg_tx_sbuf_append(&buf, "", 0);
                    for (int64_t i = a; step > 0 ? i < b : i > b; i += step)
                        yg_tx_sbuf_append(&buf, str + offs[i], offs[i + 1] - offs[i]);
                    v = buf.failed ? NULL : yg_str_newn(buf.data, buf.len);
                    free(buf.data);
                }
                free(offs);
                ok = rv_own(rc, out, v);
            }
        }
    } else {
        ok = false;
    }
    rv_release(&obj);
    return ok;
}

static bool eval_method(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    rv_t obj;
    if (!eval_object(rc, e, &obj))
        return false;
    bool ok = true;
    yg_type_t t = obj.kind == RV_VAL ? yg_value_type(obj.v) : YG_NULL;
    if (obj.kind != RV_VAL || method_for_attr(t, METHOD_LABELS[e->op]) != e->op) {
        ok = fail(rc, e, "'%s object' has no attribute '%s'", rv_type(&obj),
                  METHOD_LABELS[e->op]);
        goto done;
    }
    const yg_value_t *v = obj.v;
    switch (e->op) {
    case M_KEYS:
    case M_VALUES:
    case M_ITEMS: {
        yg_value_t *list = yg_list_new();
        for (size_t i = 0; list && i < yg_map_size(v); i++) {
            yg_value_t *key = NULL, *val = NULL, *item;
            if (e->op != M_VALUES &&
                !(key = yg_str_newn(yg_map_key_at(v, i), yg_map_keylen_at(v, i)))) {
                yg_value_destroy(&list);
                break;
            }
            if (e->op != M_KEYS && !(val = yg_value_copy(yg_map_value_at(v, i)))) {
                yg_value_destroy(&key);
                yg_value_destroy(&list);
                break;
            }
            if (e->op == M_ITEMS) {
                /* (key, value) pairs become two-item lists */
                item = yg_list_new();
                if (!item || yg_list_append(item, key) != YG_OK ||
                    yg_list_append(item, val) != YG_OK) {
                    if (!item) {
                        yg_value_destroy(&key);
                        yg_value_destroy(&val);
                    }
                    yg_value_destroy(&item);
                }
            } else {
                item = key ? key : val;
            }
            if (!item || yg_list_append(list, item) != YG_OK)
                yg_value_destroy(&list);
        }
        ok = rv_own(rc, out, list);
        break;
    }
    case M_GET: {
        rv_t key, dflt;
        if (!eval_arg(rc, e, 0, NULL, &key, NULL)) {
            ok = false;
            break;
        }
        const yg_value_t *found = key.kind == RV_VAL && yg_value_type(key.v) == YG_STR
                                      ? yg_map_getn(v, yg_value_str(key.v), yg_value_strlen(key.v))
                                      : NULL;
        rv_release(&key);
        if (found) {
            *out = (rv_t){.kind = RV_VAL, .v = found, .hold = obj.hold};
            obj.hold = NULL;
            break;
        }
        bool present;
        if (!eval_arg(rc, e, 1, NULL, &dflt, &present)) {
            ok = false;
            break;
        }
        if (present)
            *out = dflt;
        else
            ok = rv_own(rc, out, yg_null_new());
        break;
    }
    case M_UPPER:
    case M_LOWER:
    case M_TITLE:
    case M_CAPITALIZE: {
        const char *s = yg_value_str(v);
        size_t n = yg_value_strlen(v);
        yg_value_t *r = e->op == M_TITLE ? str_pytitle(s, n)
                                         : str_case(s, n, e->op == M_UPPER   ? 0
                                                          : e->op == M_LOWER ? 1
                                                                             : 2);
        ok = rv_own(rc, out, r);
        break;
    }
    case M_STRIP:
    case M_LSTRIP:
    case M_RSTRIP: {
        rv_t chars;
        bool present;
        if (!eval_arg(rc, e, 0, NULL, &chars, &present)) {
            ok = false;
            break;
        }
        bool has = present && chars.kind == RV_VAL && yg_value_type(chars.v) == YG_STR;
        ok = rv_own(rc, out,
                    str_strip(yg_value_str(v), yg_value_strlen(v), has ? yg_value_str(chars.v) : NULL,
                              has ? yg_value_strlen(chars.v) : 0, e->op != M_RSTRIP,
                              e->op != M_LSTRIP));
        rv_release(&chars);
        break;
    }
    case M_SPLIT: {
        rv_t sep;
        bool present;
        int64_t maxsplit;
        if (!eval_arg(rc, e, 0, "sep", &sep, &present) ||
            !arg_int(rc, e, 1, "maxsplit", -1, &maxsplit)) {
            ok = false;
            break;
        }
        const char *s = yg_value_str(v);
        size_t n = yg_value_strlen(v);
        yg_value_t *list = yg_list_new();
        bool ws = !present || (sep.kind == RV_VAL && yg_value_type(sep.v) == YG_NULL);
        if (!ws && (sep.kind != RV_VAL || yg_value_type(sep.v) != YG_STR)) {
            ok = fail(rc, e, "split() separator must be a string or None");
        } else if (!ws && yg_value_strlen(sep.v) == 0) {
            ok = fail(rc, e, "empty separator");
        } else if (ws) {
            size_t i = 0;
            int64_t splits = 0;
            uint32_t cp;
            while (list && i < n) {
                size_t l;
                while (i < n && (l = yg_tx_utf8_next(s + i, n - i, &cp), cp_space(cp)))
                    i += l;
                if (i >= n)
                    break;
                size_t start = i;
                if (maxsplit >= 0 && splits >= maxsplit) {
                    /* the rest, trailing whitespace included (as Python) */
                    yg_value_t *rest = yg_str_newn(s + start, n - start);
                    if (!rest || yg_list_append(list, rest) != YG_OK)
                        yg_value_destroy(&list);
                    break;
                }
                while (i < n && (l = yg_tx_utf8_next(s + i, n - i, &cp), !cp_space(cp)))
                    i += l;
                yg_value_t *w = yg_str_newn(s + start, i - start);
                if (!w || yg_list_append(list, w) != YG_OK)
                    yg_value_destroy(&list);
                splits++;
            }
        } else {
            const char *sp = yg_value_str(sep.v);
            size_t sl = yg_value_strlen(sep.v), start = 0;
            int64_t splits = 0;
            for (size_t i = 0; list && i + sl <= n;) {
                if ((maxsplit < 0 || splits < maxsplit) && memcmp(s + i, sp, sl) == 0) {
                    yg_value_t *w = yg_str_newn(s + start, i - start);
                    if (!w || yg_list_append(list, w) != YG_OK)
                        yg_value_destroy(&list);
                    i += sl;
                    start = i;
                    splits++;
                } else {
                    i++;
                }
            }
            yg_value_t *w = list ? yg_str_newn(s + start, n - start) : NULL;
            if (list && (!w || yg_list_append(list, w) != YG_OK))
                yg_value_destroy(&list);
        }
        if (ok)
            ok = rv_own(rc, out, list);
        else
            yg_value_destroy(&list);
        rv_release(&sep);
        break;
    }
    case M_STARTSWITH:
    case M_ENDSWITH: {
        rv_t x;
        if (!eval_arg(rc, e, 0, NULL, &x, NULL)) {
            ok = false;
            break;
        }
        if (x.kind != RV_VAL || yg_value_type(x.v) != YG_STR) {
            ok = fail(rc, e, "%s() argument must be str, not %s", METHOD_LABELS[e->op],
                      rv_type(&x));
        } else {
            size_t n = yg_value_strlen(v), m = yg_value_strlen(x.v);
            const char *s = yg_value_str(v);
            bool r = m <= n && memcmp(e->op == M_STARTSWITH ? s : s + n - m, yg_value_str(x.v),
                                      m) == 0;
            ok = rv_own(rc, out, yg_bool_new(r));
        }
        rv_release(&x);
        break;
    }
    case M_REPLACE: {
        rv_t a, b;
        int64_t count = -1;
        if (!eval_arg(rc, e, 0, NULL, &a, NULL)) {
            ok = false;
            break;
        }
        if (!eval_arg(rc, e, 1, NULL, &b, NULL)) {
            rv_release(&a);
            ok = false;
            break;
        }
        if (a.kind != RV_VAL || yg_value_type(a.v) != YG_STR || b.kind != RV_VAL ||
            yg_value_type(b.v) != YG_STR)
            ok = fail(rc, e, "replace() arguments must be str");
        else if (arg_int(rc, e, 2, NULL, -1, &count))
            ok = rv_own(rc, out,
                        str_replace(yg_value_str(v), yg_value_strlen(v), yg_value_str(a.v),
                                    yg_value_strlen(a.v), yg_value_str(b.v), yg_value_strlen(b.v),
                                    count));
        else
            ok = false;
        rv_release(&a);
        rv_release(&b);
        break;
    }
    case M_JOIN: {
        rv_t it, list;
        if (!eval_arg(rc, e, 0, NULL, &it, NULL)) {
            ok = false;
            break;
        }
        if (!to_list(rc, e, &it, &list)) {
            rv_release(&it);
            ok = false;
            break;
        }
        tx_sbuf_t b = {0};
        yg_tx_sbuf_append(&b, "", 0);
        for (size_t i = 0; ok && i < yg_list_size(list.v); i++) {
            const yg_value_t *item = yg_list_get(list.v, i);
            if (yg_value_type(item) != YG_STR) {
                ok = fail(rc, e, "sequence item %zu: expected str instance, %s found", i,
                          py_type(item));
                break;
            }
            if (i)
                yg_tx_sbuf_append(&b, yg_value_str(v), yg_value_strlen(v));
            yg_tx_sbuf_append(&b, yg_value_str(item), yg_value_strlen(item));
        }
        if (ok)
            ok = rv_own(rc, out, b.failed ? NULL : yg_str_newn(b.data, b.len));
        free(b.data);
        rv_release(&it);
        rv_release(&list);
        break;
    }
    default: ok = fail(rc, e, "unsupported method");
    }
done:
    rv_release(&obj);
    return ok;
}

static bool eval_range(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    int64_t a[3] = {0, 0, 1};
    for (size_t i = 0; i < e->nargs; i++) {
        rv_t r;
        if (!eval(rc, e->args[i], &r))
            return false;
        bool isint = r.kind == RV_VAL && is_intlike(r.v);
        if (isint)
            a[i] = int_of(r.v);
        rv_release(&r);
        if (!isint)
            return fail(rc, e, "range() arguments must be integers");
    }
    int64_t start = e->nargs == 1 ? 0 : a[0], stop = e->nargs == 1 ? a[0] : a[1];
    int64_t step = e->nargs == 3 ? a[2] : 1;
    if (step == 0)
        return fail(rc, e, "range() arg 3 must not be zero");
    double count = step > 0 ? ceil(((double)stop - (double)start) / (double)step)
                            : ceil(((double)start - (double)stop) / -(double)step);
    if (count > TX_MAX_SEQUENCE)
        return fail(rc, e, "range() would produce more than %u items", TX_MAX_SEQUENCE);
    yg_value_t *list = yg_list_new();
    for (int64_t i = start; list && (step > 0 ? i < stop : i > stop); i += step) {
        yg_value_t *n = yg_int_new(i);
        if (!n || yg_list_append(list, n) != YG_OK)
            yg_value_destroy(&list);
    }
    return rv_own(rc, out, list);
}

/* --- arithmetic ---------------------------------------------------------- */

static const char *const BINOP_SYMBOLS[] = {"+", "-", "*", "/", "//", "%", "**", "~"};

static bool repeat(rc_t *rc, const tx_expr_t *e, const yg_value_t *seq, int64_t times, rv_t *out)
{
    if (times < 0)
        times = 0;
    size_t unit = yg_value_type(seq) == YG_STR ? yg_value_strlen(seq) : yg_list_size(seq);
    if (unit && (uint64_t)times > TX_MAX_SEQUENCE / unit)
        return fail(rc, e, "repetition result too large");
    if (yg_value_type(seq) == YG_STR) {
        tx_sbuf_t b = {0};
        yg_tx_sbuf_append(&b, "", 0);
        for (int64_t i = 0; i < times; i++)
            yg_tx_sbuf_append(&b, yg_value_str(seq), unit);
        yg_value_t *v = b.failed ? NULL : yg_str_newn(b.data, b.len);
        free(b.data);
        return rv_own(rc, out, v);
    }
    yg_value_t *list = yg_list_new();
    for (int64_t i = 0; list && i < times; i++)
        for (size_t k = 0; list && k < unit; k++) {
            yg_value_t *item = yg_value_copy(yg_list_get(seq, k));
            if (!item || yg_list_append(list, item) != YG_OK)
                yg_value_destroy(&list);
        }
    return rv_own(rc, out, list);
}

static bool int_pow(int64_t base, int64_t exp, int64_t *out)
{
    int64_t r = 1;
    while (exp > 0) {
        if (exp & 1 && __builtin_mul_overflow(r, base, &r))
            return false;
        exp >>= 1;
        if (exp && __builtin_mul_overflow(base, base, &base))
            return false;
    }
    *out = r;
    return true;
}

static bool arith(rc_t *rc, const tx_expr_t *e, int op, const rv_t *a, const rv_t *b, rv_t *out)
{
    if (op == OP_CONCAT) {
        tx_sbuf_t buf = {0};
        yg_tx_sbuf_append(&buf, "", 0);
        put_text(rc, &buf, a);
        put_text(rc, &buf, b);
        yg_value_t *v = buf.failed || rc->failed ? NULL : yg_str_newn(buf.data, buf.len);
        bool too_big = buf.too_big;
        free(buf.data);
        if (rc->failed)
            return false;
        if (too_big)
            return fail(rc, e, "concatenation result too large");
        return rv_own(rc, out, v);
    }
    if (a->kind == RV_UNDEF)
        return fail_undefined(rc, e, a);
    if (b->kind == RV_UNDEF)
        return fail_undefined(rc, e, b);
    const yg_value_t *x = a->kind == RV_VAL ? a->v : NULL, *y = b->kind == RV_VAL ? b->v : NULL;
    bool numbers = a->kind == RV_VAL && b->kind == RV_VAL && is_num(x) && is_num(y);
    if (!numbers) {
        yg_type_t tx = yg_value_type(x), ty = yg_value_type(y);
        bool vals = a->kind == RV_VAL && b->kind == RV_VAL;
        if (vals && op == OP_ADD && tx == ty && (tx == YG_STR || tx == YG_LIST)) {
            if (tx == YG_STR) {
                tx_sbuf_t buf = {0};
                yg_tx_sbuf_append(&buf, yg_value_str(x), yg_value_strlen(x));
                yg_tx_sbuf_append(&buf, yg_value_str(y), yg_value_strlen(y));
                yg_value_t *v = buf.failed ? NULL : yg_str_newn(buf.data, buf.len);
                bool too_big = buf.too_big;
                free(buf.data);
                return too_big ? fail(rc, e, "concatenation result too large")
                               : rv_own(rc, out, v);
            }
            yg_value_t *list = yg_value_copy(x);
            for (size_t i = 0; list && i < yg_list_size(y); i++) {
                yg_value_t *item = yg_value_copy(yg_list_get(y, i));
                if (!item || yg_list_append(list, item) != YG_OK)
                    yg_value_destroy(&list);
            }
            return rv_own(rc, out, list);
        }
        if (vals && op == OP_MUL && (tx == YG_STR || tx == YG_LIST) && is_intlike(y))
            return repeat(rc, e, x, int_of(y), out);
        if (vals && op == OP_MUL && (ty == YG_STR || ty == YG_LIST) && is_intlike(x))
            return repeat(rc, e, y, int_of(x), out);
        if (vals && op == OP_MOD && tx == YG_STR)
            return fail(rc, e, "string formatting with '%%' is not supported (use ~ or filters)");
        return fail(rc, e, "unsupported operand type(s) for %s: '%s' and '%s'",
                    BINOP_SYMBOLS[op], rv_type(a), rv_type(b));
    }
    if (is_intlike(x) && is_intlike(y) && op != OP_DIV) {
        int64_t p = int_of(x), q = int_of(y), r = 0;
        bool ovf = false;
        switch (op) {
        case OP_ADD: ovf = __builtin_add_overflow(p, q, &r); break;
        case OP_SUB: ovf = __builtin_sub_overflow(p, q, &r); break;
        case OP_MUL: ovf = __builtin_mul_overflow(p, q, &r); break;
        case OP_FLOORDIV:
        case OP_MOD:
            if (q == 0)
                return fail(rc, e, "integer division or modulo by zero");
            if (p == INT64_MIN && q == -1) {
                ovf = op == OP_FLOORDIV;
                r = 0;
                break;
            }
            r = op == OP_FLOORDIV ? p / q : p % q;
            if ((p % q != 0) && ((p < 0) != (q < 0)))
                r = op == OP_FLOORDIV ? r - 1 : r + q;
            break;
        case OP_POW:
            if (q >= 0) {
                ovf = !int_pow(p, q, &r);
                break;
            }
            if (p == 0)
                return fail(rc, e, "0.0 cannot be raised to a negative power");
            return rv_own(rc, out, yg_float_new(pow((double)p, (double)q)));
        }
        if (ovf)
            return fail(rc, e, "integer overflow in '%s'", BINOP_SYMBOLS[op]);
        return rv_own(rc, out, yg_int_new(r));
    }
    double p = num_of(x), q = num_of(y), r = 0;
    switch (op) {
    case OP_ADD: r = p + q; break;
    case OP_SUB: r = p - q; break;
    case OP_MUL: r = p * q; break;
    case OP_DIV:
        if (q == 0)
            return fail(rc, e, "division by zero");
        r = p / q;
        break;
    case OP_FLOORDIV:
        if (q == 0)
            return fail(rc, e, "float floor division by zero");
        r = floor(p / q);
        break;
    case OP_MOD:
        if (q == 0)
            return fail(rc, e, "float modulo");
        r = fmod(p, q);
        if (r != 0 && ((r < 0) != (q < 0)))
            r += q;
        break;
    case OP_POW:
        if (p == 0 && q < 0)
            return fail(rc, e, "0.0 cannot be raised to a negative power");
        if (p < 0 && q != floor(q))
            return fail(rc, e, "complex results are not supported");
        r = pow(p, q);
        break;
    }
    return rv_own(rc, out, yg_float_new(r));
}

static bool eval_binop(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    rv_t a, b;
    if (!eval(rc, e->a, &a))
        return false;
    if (!eval(rc, e->b, &b)) {
        rv_release(&a);
        return false;
    }
    bool ok = arith(rc, e, e->op, &a, &b, out);
    rv_release(&a);
    rv_release(&b);
    return ok;
}

static bool eval_unary(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    rv_t a;
    if (!eval(rc, e->a, &a))
        return false;
    bool ok;
    if (e->kind == EX_NOT) {
        ok = rv_own(rc, out, yg_bool_new(!truthy(&a)));
    } else if (a.kind == RV_UNDEF) {
        ok = fail_undefined(rc, e, &a);
    } else if (a.kind != RV_VAL || !is_num(a.v)) {
        ok = fail(rc, e, "bad operand type for unary %s: '%s'", e->kind == EX_NEG ? "-" : "+",
                  rv_type(&a));
    } else if (yg_value_type(a.v) == YG_FLOAT) {
        ok = rv_own(rc, out, yg_float_new(e->kind == EX_NEG ? -yg_value_float(a.v)
                                                             : yg_value_float(a.v)));
    } else {
        int64_t v = int_of(a.v);
        if (e->kind == EX_NEG && v == INT64_MIN)
            ok = fail(rc, e, "integer overflow in unary -");
        else
            ok = rv_own(rc, out, yg_int_new(e->kind == EX_NEG ? -v : v));
    }
    rv_release(&a);
    return ok;
}

static bool eval_compare(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    rv_t left;
    if (!eval(rc, e->args[0], &left))
        return false;
    bool result = true;
    for (size_t i = 1; i < e->nargs && result; i++) {
        rv_t right;
        if (!eval(rc, e->args[i], &right)) {
            rv_release(&left);
            return false;
        }
        bool ok = compare(rc, e, e->ops[i - 1], &left, &right, &result);
        rv_release(&left);
        left = right;
        if (!ok) {
            rv_release(&left);
            return false;
        }
    }
    rv_release(&left);
    return rv_own(rc, out, yg_bool_new(result));
}

static bool eval_container(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    bool is_dict = e->kind == EX_DICT;
    yg_value_t *c = is_dict ? yg_map_new() : yg_list_new();
    if (!c)
        return oom(rc);
    for (size_t i = 0; i < e->nargs; i += is_dict ? 2 : 1) {
        rv_t k = {0}, v;
        if (is_dict) {
            if (!eval(rc, e->args[i], &k))
                goto fail;
            if (k.kind != RV_VAL || yg_value_type(k.v) != YG_STR) {
                fail(rc, e->args[i], "dict literal keys must be strings");
                rv_release(&k);
                goto fail;
            }
        }
        if (!eval(rc, e->args[i + (is_dict ? 1 : 0)], &v)) {
            rv_release(&k);
            goto fail;
        }
        yg_value_t *item = rv_take(rc, e, &v);
        int rcode = !item ? YG_ENOMEM
                    : is_dict ? yg_map_setn(c, yg_value_str(k.v), yg_value_strlen(k.v), item)
                              : yg_list_append(c, item);
        rv_release(&k);
        if (rcode != YG_OK) {
            if (!rc->failed)
                oom(rc);
            goto fail;
        }
    }
    return rv_own(rc, out, c);
fail:
    yg_value_destroy(&c);
    return false;
}

/* --- filters ------------------------------------------------------------- */

/* Sort helper: merge sort of indices, comparing keys with Python ordering. */
typedef struct {
    rc_t *rc;
    const tx_expr_t *e;
    const yg_value_t **keys;
    bool failed;
} sorter_t;

static int sort_cmp(sorter_t *s, size_t i, size_t j)
{
    int ord = 0;
    if (!s->failed && !py_order(s->keys[i], s->keys[j], &ord)) {
        fail(s->rc, s->e, "'<' not supported between instances of '%s' and '%s'",
             py_type(s->keys[i]), py_type(s->keys[j]));
        s->failed = true;
    }
    return ord == 2 ? 0 : ord;
}

static void merge_sort(sorter_t *s, size_t *idx, size_t *tmp, size_t n, bool reverse)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(s, idx, tmp, h, reverse);
    merge_sort(s, idx + h, tmp, n - h, reverse);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int c = sort_cmp(s, idx[j], idx[i]);
        /* stable: take from the right only when strictly before */
        if (reverse ? c > 0 : c < 0)
            tmp[k++] = idx[j++];
        else
            tmp[k++] = idx[i++];
    }
    while (i < h)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
}

/* The comparison key of an item: attribute path, lower-cased when not
 * case-sensitive.  Lower-cased keys are owned by `owned`. */
static const yg_value_t *item_key(const yg_value_t *item, const char *attr, bool case_sensitive,
                                  yg_value_t *owned)
{
    const yg_value_t *k = attr ? attr_path(item, attr) : item;
    if (!k)
        return NULL;
    if (!case_sensitive && yg_value_type(k) == YG_STR) {
        yg_value_t *low = str_case(yg_value_str(k), yg_value_strlen(k), 1);
        if (!low || yg_list_append(owned, low) != YG_OK)
            return NULL;
        return yg_list_get(owned, yg_list_size(owned) - 1);
    }
    return k;
}

/* sort / unique / min / max over a list value. */
static bool filter_ordering(rc_t *rc, const tx_expr_t *e, const yg_value_t *list, rv_t *out)
{
    bool reverse = false, cs = false;
    rv_t attr = {0};
    bool has_attr = false;
    size_t attr_pos = e->op == F_SORT ? 2 : 1;
    if (e->op == F_SORT && !arg_bool(rc, e, 0, "reverse", &reverse))
        return false;
    if (!arg_bool(rc, e, e->op == F_SORT ? 1 : 0, "case_sensitive", &cs) ||
        !arg_str(rc, e, attr_pos, "attribute", &attr, &has_attr))
        return false;
    const char *path = has_attr ? yg_value_str(attr.v) : NULL;
    size_t n = yg_list_size(list);
    yg_value_t *owned = yg_list_new();
    const yg_value_t **keys = n ? calloc(n, sizeof *keys) : NULL;
    size_t *idx = n ? calloc(n, sizeof *idx) : NULL, *tmp = n ? calloc(n, sizeof *tmp) : NULL;
    bool ok = owned && (n == 0 || (keys && idx && tmp));
    if (!ok)
        oom(rc);
    for (size_t i = 0; ok && i < n; i++) {
        idx[i] = i;
        keys[i] = item_key(yg_list_get(list, i), path, cs, owned);
        if (!keys[i])
            ok = path ? fail(rc, e, "an item has no attribute '%s'", path) : oom(rc);
    }
    sorter_t s = {rc, e, keys, false};
    if (ok && e->op == F_SORT) {
        merge_sort(&s, idx, tmp, n, reverse);
        yg_value_t *res = yg_list_new();
        for (size_t i = 0; res && i < n; i++) {
            yg_value_t *item = yg_value_copy(yg_list_get(list, idx[i]));
            if (!item || yg_list_append(res, item) != YG_OK)
                yg_value_destroy(&res);
        }
        ok = !s.failed && rv_own(rc, out, res);
        if (s.failed)
            yg_value_destroy(&res);
    } else if (ok && e->op == F_UNIQUE) {
        yg_value_t *res = yg_list_new();
        for (size_t i = 0; res && i < n; i++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = py_eq(keys[i], keys[j]);
            if (seen)
                continue;
            yg_value_t *item = yg_value_copy(yg_list_get(list, i));
            if (!item || yg_list_append(res, item) != YG_OK)
                yg_value_destroy(&res);
        }
        ok = rv_own(rc, out, res);
    } else if (ok) {
        if (n == 0) {
            *out = rv_undef("No aggregated item, sequence was empty.", NULL);
        } else {
            size_t best = 0;
            for (size_t i = 1; i < n && !s.failed; i++) {
                int c = sort_cmp(&s, i, best);
                if (e->op == F_MIN ? c < 0 : c > 0)
                    best = i;
            }
            ok = !s.failed && rv_own(rc, out, yg_value_copy(yg_list_get(list, best)));
        }
    }
    free(keys);
    free(idx);
    free(tmp);
    yg_value_destroy(&owned);
    rv_release(&attr);
    return ok;
}

/* Python json.dumps(sort_keys=True, indent=...) with Jinja's HTML-safe
 * replacements of < > & '. */
static bool json_put(rc_t *rc, const tx_expr_t *e, tx_sbuf_t *b, const yg_value_t *v,
                     int64_t indent, int level)
{
    char tmp[16];
    switch (yg_value_type(v)) {
    case YG_NULL: return yg_tx_sbuf_append(b, "null", 4);
    case YG_BOOL:
        return yg_value_bool(v) ? yg_tx_sbuf_append(b, "true", 4) : yg_tx_sbuf_append(b, "false", 5);
    case YG_INT:
    case YG_FLOAT: {
        double d = yg_value_float(v);
        if (yg_value_type(v) == YG_FLOAT && !isfinite(d)) {
            const char *s = isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
            return yg_tx_sbuf_append(b, s, strlen(s));
        }
        return put_owned(rc, b, yg_pytext_repr(v));
    }
    case YG_STR: {
        const char *s = yg_value_str(v);
        size_t n = yg_value_strlen(v);
        yg_tx_sbuf_putc(b, '"');
        uint32_t cp;
        for (size_t i = 0; i < n;) {
            i += yg_tx_utf8_next(s + i, n - i, &cp);
            const char *esc = cp == '"' ? "\\\"" : cp == '\\' ? "\\\\" : cp == '\n' ? "\\n"
                              : cp == '\r' ? "\\r" : cp == '\t' ? "\\t" : cp == '\b' ? "\\b"
                              : cp == '\f' ? "\\f" : NULL;
            if (esc) {
                yg_tx_sbuf_append(b, esc, 2);
            } else if (cp < 0x20 || cp >= 0x7F || cp == '<' || cp == '>' || cp == '&' ||
                       cp == '\'') {
                if (cp >= 0x10000) {
                    uint32_t c = cp - 0x10000;
                    snprintf(tmp, sizeof tmp, "\\u%04x\\u%04x", 0xD800 + (c >> 10),
                             0xDC00 + (c & 0x3FF));
                } else {
                    snprintf(tmp, sizeof tmp, "\\u%04x", cp);
                }
                yg_tx_sbuf_append(b, tmp, strlen(tmp));
            } else {
                yg_tx_sbuf_putc(b, (char)cp);
            }
        }
        return yg_tx_sbuf_putc(b, '"');
    }
    case YG_LIST:
    case YG_MAP: {
        if (level > TX_MAX_NESTING)
            return fail(rc, e, "value nested too deeply for tojson");
        bool is_map = yg_value_type(v) == YG_MAP;
        size_t n = is_map ? yg_map_size(v) : yg_list_size(v);
        yg_tx_sbuf_putc(b, is_map ? '{' : '[');
        size_t *order = NULL;
        if (is_map && n) {
            /* sort_keys=True: insertion sort of key indices (code point order) */
            order = malloc(n * sizeof *order);
            if (!order)
                return oom(rc);
            for (size_t i = 0; i < n; i++) {
                size_t j = i;
                while (j > 0 && strcmp(yg_map_key_at(v, order[j - 1]), yg_map_key_at(v, i)) > 0) {
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = i;
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (i)
                yg_tx_sbuf_append(b, indent >= 0 ? "," : ", ", indent >= 0 ? 1 : 2);
            if (indent >= 0) {
                yg_tx_sbuf_putc(b, '\n');
                for (int64_t k = 0; k < indent * (level + 1); k++)
                    yg_tx_sbuf_putc(b, ' ');
            }
            const yg_value_t *item = v;
            if (is_map) {
                yg_value_t *ks = yg_str_newn(yg_map_key_at(v, order[i]),
                                             yg_map_keylen_at(v, order[i]));
                if (!ks) {
                    free(order);
                    return oom(rc);
                }
                json_put(rc, e, b, ks, indent, level + 1);
                yg_value_destroy(&ks);
                yg_tx_sbuf_append(b, ": ", 2);
                item = yg_map_value_at(v, order[i]);
            } else {
                item = yg_list_get(v, i);
            }
            if (!json_put(rc, e, b, item, indent, level + 1) && rc->failed) {
                free(order);
                return false;
            }
        }
        free(order);
        if (indent >= 0 && n) {
            yg_tx_sbuf_putc(b, '\n');
            for (int64_t k = 0; k < indent * level; k++)
                yg_tx_sbuf_putc(b, ' ');
        }
        return yg_tx_sbuf_putc(b, is_map ? '}' : ']');
    }
    }
    return false;
}

/* Python int() / float() of a string, as Jinja's int and float filters use
 * them; false when the text is not a number. */
static bool parse_number(const char *s, size_t n, bool want_int, int64_t *iv, double *dv)
{
    char buf[128];
    while (n && cp_space((unsigned char)*s))
        s++, n--;
    while (n && cp_space((unsigned char)s[n - 1]))
        n--;
    if (n == 0 || n >= sizeof buf)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            buf[k++] = s[i];
    buf[k] = '\0';
    char *end;
    errno = 0;
    if (want_int) {
        long long v = strtoll(buf, &end, 10);
        if (*end == '\0' && errno == 0) {
            *iv = v;
            return true;
        }
    }
    double d = strtod(buf, &end);
    if (*end != '\0' || (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')))
        return false;
    if (want_int) {
        if (!isfinite(d) || d >= 9.2233720368547758e18 || d < -9.2233720368547758e18)
            return false;
        *iv = (int64_t)d;
    }
    *dv = d;
    return true;
}

/* Python round(x, ndigits) for floats: round half to even on the exact
 * binary value, which printf's correctly rounded conversion gives. */
static double py_round(double x, int64_t nd)
{
    if (!isfinite(x) || nd > 300)
        return x;
    if (nd >= 0) {
        char buf[512];
        snprintf(buf, sizeof buf, "%.*f", (int)nd, x);
        return strtod(buf, NULL);
    }
    double p = pow(10.0, (double)-nd);
    double y = x / p, r = nearbyint(y);
    return r * p;
}

static bool eval_filter(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    rv_t x;
    if (!eval(rc, e->a, &x))
        return false;
    bool ok = true;
    rv_t list = {0};
    switch (e->op) {
    case F_DEFAULT: {
        bool boolean;
        if (!arg_bool(rc, e, 1, "boolean", &boolean)) {
            ok = false;
            break;
        }
        if (x.kind == RV_UNDEF || (boolean && !truthy(&x))) {
            bool present;
            rv_t d;
            if (!eval_arg(rc, e, 0, "default_value", &d, &present)) {
                ok = false;
                break;
            }
            if (present)
                *out = d;
            else
                ok = rv_own(rc, out, yg_str_new(""));
        } else {
            *out = x;
            x.hold = NULL;
        }
        break;
    }
    case F_JOIN: {
        rv_t sep = {0}, attr = {0};
        bool has_sep, has_attr;
        if (!to_list(rc, e, &x, &list) || !arg_str(rc, e, 0, "d", &sep, &has_sep) ||
            !arg_str(rc, e, 1, "attribute", &attr, &has_attr)) {
            rv_release(&sep);
            ok = false;
            break;
        }
        tx_sbuf_t b = {0};
        yg_tx_sbuf_append(&b, "", 0);
        for (size_t i = 0; ok && i < yg_list_size(list.v); i++) {
            if (i && has_sep)
                yg_tx_sbuf_append(&b, yg_value_str(sep.v), yg_value_strlen(sep.v));
            const yg_value_t *item = yg_list_get(list.v, i);
            rv_t r = has_attr ? (attr_path(item, yg_value_str(attr.v))
                                     ? rv_borrow(attr_path(item, yg_value_str(attr.v)))
                                     : rv_undef(NULL, NULL))
                              : rv_borrow(item);
            ok = put_text(rc, &b, &r) || !rc->failed;
        }
        if (ok)
            ok = rv_own(rc, out, b.failed ? NULL : yg_str_newn(b.data, b.len));
        free(b.data);
        rv_release(&sep);
        rv_release(&attr);
        break;
    }
    case F_LENGTH: {
        int64_t n = 0;
        if (x.kind == RV_UNDEF)
            n = 0;
        else if (x.kind == RV_VAL && yg_value_type(x.v) == YG_STR)
            n = (int64_t)cp_count(yg_value_str(x.v), yg_value_strlen(x.v));
        else if (x.kind == RV_VAL && yg_value_type(x.v) == YG_LIST)
            n = (int64_t)yg_list_size(x.v);
        else if (x.kind == RV_VAL && yg_value_type(x.v) == YG_MAP)
            n = (int64_t)yg_map_size(x.v);
        else {
            ok = fail(rc, e, "object of type '%s' has no len()", rv_type(&x));
            break;
        }
        ok = rv_own(rc, out, yg_int_new(n));
        break;
    }
    case F_UPPER:
    case F_LOWER:
    case F_TITLE:
    case F_CAPITALIZE:
    case F_TRIM:
    case F_STRING:
    case F_REPLACE: {
        rv_t s;
        if (!to_str_value(rc, &x, &s)) {
            ok = false;
            break;
        }
        const char *p = yg_value_str(s.v);
        size_t n = yg_value_strlen(s.v);
        if (e->op == F_STRING) {
            *out = s;
            s.hold = NULL;
        } else if (e->op == F_TRIM) {
            rv_t chars = {0};
            bool has;
            if (arg_str(rc, e, 0, "chars", &chars, &has))
                ok = rv_own(rc, out,
                            str_strip(p, n, has ? yg_value_str(chars.v) : NULL,
                                      has ? yg_value_strlen(chars.v) : 0, true, true));
            else
                ok = false;
            rv_release(&chars);
        } else if (e->op == F_REPLACE) {
            rv_t a = {0}, b = {0};
            bool ha, hb;
            int64_t count = -1;
            if (arg_str(rc, e, 0, "old", &a, &ha) && arg_str(rc, e, 1, "new", &b, &hb) &&
                arg_int(rc, e, 2, "count", -1, &count)) {
                if (!ha || !hb)
                    ok = fail(rc, e, "replace() needs the old and new text");
                else
                    ok = rv_own(rc, out,
                                str_replace(p, n, yg_value_str(a.v), yg_value_strlen(a.v),
                                            yg_value_str(b.v), yg_value_strlen(b.v), count));
            } else {
                ok = false;
            }
            rv_release(&a);
            rv_release(&b);
        } else {
            int mode = e->op == F_UPPER ? 0 : e->op == F_LOWER ? 1 : e->op == F_CAPITALIZE ? 2 : 3;
            ok = rv_own(rc, out, str_case(p, n, mode));
        }
        rv_release(&s);
        break;
    }
    case F_FIRST:
    case F_LAST: {
        if (!to_list(rc, e, &x, &list)) {
            ok = false;
            break;
        }
        size_t n = yg_list_size(list.v);
        if (n == 0) {
            *out = rv_undef("No first item, sequence was empty.", NULL);
            break;
        }
        *out = (rv_t){.kind = RV_VAL, .v = yg_list_get(list.v, e->op == F_FIRST ? 0 : n - 1),
                      .hold = list.hold};
        list.hold = NULL;
        break;
    }
    case F_INT:
    case F_FLOAT: {
        bool is_int = e->op == F_INT;
        int64_t iv = 0;
        double dv = 0;
        bool got = false;
        if (x.kind == RV_UNDEF) {
            ok = fail_undefined(rc, e, &x); /* int(Undefined) raises in Jinja */
            break;
        }
        if (x.kind == RV_VAL && is_num(x.v)) {
            got = true;
            dv = num_of(x.v);
            if (is_int && yg_value_type(x.v) == YG_FLOAT &&
                (!isfinite(dv) || dv >= 9.2233720368547758e18 || dv < -9.2233720368547758e18))
                got = false;
            else
                iv = yg_value_type(x.v) == YG_FLOAT ? (int64_t)dv : int_of(x.v);
        } else if (x.kind == RV_VAL && yg_value_type(x.v) == YG_STR) {
            got = parse_number(yg_value_str(x.v), yg_value_strlen(x.v), is_int, &iv, &dv);
        }
        if (got) {
            ok = rv_own(rc, out, is_int ? yg_int_new(iv) : yg_float_new(dv));
            break;
        }
        bool present;
        rv_t d;
        if (!eval_arg(rc, e, 0, "default", &d, &present)) {
            ok = false;
            break;
        }
        if (present)
            *out = d;
        else
            ok = rv_own(rc, out, is_int ? yg_int_new(0) : yg_float_new(0.0));
        break;
    }
    case F_ROUND: {
        int64_t prec;
        rv_t method = {0};
        bool has_method;
        if (!arg_int(rc, e, 0, "precision", 0, &prec) ||
            !arg_str(rc, e, 1, "method", &method, &has_method)) {
            ok = false;
            break;
        }
        const char *m = has_method ? yg_value_str(method.v) : "common";
        if (strcmp(m, "common") && strcmp(m, "ceil") && strcmp(m, "floor")) {
            ok = fail(rc, e, "You can only round using 'common', 'ceil' or 'floor'");
        } else if (x.kind != RV_VAL || !is_num(x.v)) {
            ok = fail(rc, e, "type %s doesn't define __round__ method", rv_type(&x));
        } else if (strcmp(m, "common") == 0) {
            if (is_intlike(x.v) && prec >= 0)
                ok = rv_own(rc, out, yg_int_new(int_of(x.v)));
            else
                ok = rv_own(rc, out, yg_float_new(py_round(num_of(x.v), prec)));
        } else {
            double p = pow(10.0, (double)prec), v = num_of(x.v) * p;
            ok = rv_own(rc, out, yg_float_new((strcmp(m, "ceil") == 0 ? ceil(v) : floor(v)) / p));
        }
        rv_release(&method);
        break;
    }
    case F_TOJSON: {
        int64_t indent;
        if (!arg_int(rc, e, 0, "indent", -1, &indent)) {
            ok = false;
            break;
        }
        if (x.kind != RV_VAL) {
            ok = fail(rc, e, "Object of type %s is not JSON serializable", rv_type(&x));
            break;
        }
        if (indent > 64)
            indent = 64;
        tx_sbuf_t b = {0};
        yg_tx_sbuf_append(&b, "", 0);
        json_put(rc, e, &b, x.v, indent, 0);
        if (!rc->failed)
            ok = rv_own(rc, out, b.failed ? NULL : yg_str_newn(b.data, b.len));
        else
            ok = false;
        free(b.data);
        break;
    }
    case F_LIST:
    case F_REVERSE: {
        if (e->op == F_REVERSE && x.kind == RV_VAL && yg_value_type(x.v) == YG_STR) {
            size_t count;
            const char *s = yg_value_str(x.v);
            size_t *offs = cp_offsets(s, yg_value_strlen(x.v), &count);
            if (!offs) {
                ok = oom(rc);
                break;
            }
            tx_sbuf_t b = {0};
            yg_tx_sbuf_append(&b, "", 0);
            for (size_t i = count; i-- > 0;)
                yg_tx_sbuf_append(&b, s + offs[i], offs[i + 1] - offs[i]);
            free(offs);
            ok = rv_own(rc, out, b.failed ? NULL : yg_str_newn(b.data, b.len));
            free(b.data);
            break;
        }
        if (!to_list(rc, e, &x, &list)) {
            ok = false;
            break;
        }
        size_t n = yg_list_size(list.v);
        yg_value_t *res = yg_list_new();
        for (size_t i = 0; res && i < n; i++) {
            yg_value_t *item = yg_value_copy(yg_list_get(list.v, e->op == F_LIST ? i : n - 1 - i));
            if (!item || yg_list_append(res, item) != YG_OK)
                yg_value_destroy(&res);
        }
        ok = rv_own(rc, out, res);
        break;
    }
    case F_SORT:
    case F_UNIQUE:
    case F_MIN:
    case F_MAX:
        ok = to_list(rc, e, &x, &list) && filter_ordering(rc, e, list.v, out);
        break;
    case F_ABS:
        if (x.kind != RV_VAL || !is_num(x.v))
            ok = fail(rc, e, "bad operand type for abs(): '%s'", rv_type(&x));
        else if (yg_value_type(x.v) == YG_FLOAT)
            ok = rv_own(rc, out, yg_float_new(fabs(yg_value_float(x.v))));
        else if (int_of(x.v) == INT64_MIN)
            ok = fail(rc, e, "integer overflow in abs()");
        else
            ok = rv_own(rc, out, yg_int_new(llabs(int_of(x.v))));
        break;
    case F_SAFE:
        *out = x;
        x.hold = NULL;
        break;
    case F_MAP: {
        rv_t attr = {0};
        bool has_attr, has_default;
        const tx_expr_t *dflt = arg_of(e, 99, "default");
        has_default = dflt != NULL;
        if (!to_list(rc, e, &x, &list) || !arg_str(rc, e, 99, "attribute", &attr, &has_attr)) {
            ok = false;
            break;
        }
        yg_value_t *res = yg_list_new();
        for (size_t i = 0; ok && res && i < yg_list_size(list.v); i++) {
            const yg_value_t *v = attr_path(yg_list_get(list.v, i), yg_value_str(attr.v));
            yg_value_t *item = NULL;
            if (v) {
                item = yg_value_copy(v);
            } else if (has_default) {
                rv_t d;
                if (!eval(rc, dflt, &d)) {
                    ok = false;
                    break;
                }
                item = rv_take(rc, e, &d);
            } else {
                item = yg_null_new();
            }
            if (!item || yg_list_append(res, item) != YG_OK)
                yg_value_destroy(&res);
        }
        if (ok)
            ok = rv_own(rc, out, res);
        else
            yg_value_destroy(&res);
        rv_release(&attr);
        break;
    }
    case F_SUM: {
        rv_t attr = {0}, acc;
        bool has_attr;
        if (!to_list(rc, e, &x, &list) || !arg_str(rc, e, 0, "attribute", &attr, &has_attr) ||
            !eval_arg(rc, e, 1, "start", &acc, NULL)) {
            rv_release(&attr);
            ok = false;
            break;
        }
        if (acc.kind == RV_UNDEF)
            ok = rv_own(rc, &acc, yg_int_new(0));
        for (size_t i = 0; ok && i < yg_list_size(list.v); i++) {
            const yg_value_t *v = yg_list_get(list.v, i);
            if (has_attr)
                v = attr_path(v, yg_value_str(attr.v));
            rv_t item = v ? rv_borrow(v) : rv_undef(has_attr ? yg_value_str(attr.v) : NULL, NULL);
            rv_t next;
            ok = arith(rc, e, OP_ADD, &acc, &item, &next);
            rv_release(&acc);
            if (ok)
                acc = next;
        }
        if (ok)
            *out = acc;
        rv_release(&attr);
        break;
    }
    default: ok = fail(rc, e, "unsupported filter");
    }
    rv_release(&list);
    rv_release(&x);
    return ok;
}

static bool eval_test(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    rv_t x;
    if (!eval(rc, e->a, &x))
        return false;
    bool r = false, ok = true;
    yg_type_t t = x.kind == RV_VAL ? yg_value_type(x.v) : YG_NULL;
    bool val = x.kind == RV_VAL;
    switch (e->op) {
    case T_DEFINED: r = x.kind != RV_UNDEF; break;
    case T_UNDEFINED: r = x.kind == RV_UNDEF; break;
    case T_NONE: r = val && t == YG_NULL; break;
    case T_STRING: r = val && t == YG_STR; break;
    case T_NUMBER: r = val && is_num(x.v); break;
    case T_INTEGER: r = val && t == YG_INT; break;
    case T_FLOAT: r = val && t == YG_FLOAT; break;
    case T_BOOLEAN: r = val && t == YG_BOOL; break;
    case T_TRUE: r = val && t == YG_BOOL && yg_value_bool(x.v); break;
    case T_FALSE: r = val && t == YG_BOOL && !yg_value_bool(x.v); break;
    case T_MAPPING: r = val && t == YG_MAP; break;
    case T_ITERABLE:
    case T_SEQUENCE:
        /* Jinja's Undefined is iterable (and passes the sequence test) */
        r = x.kind == RV_UNDEF || (val && (t == YG_STR || t == YG_LIST || t == YG_MAP));
        break;
    case T_LOWER:
    case T_UPPER: {
        rv_t s;
        if (!to_str_value(rc, &x, &s)) {
            ok = false;
            break;
        }
        const char *p = yg_value_str(s.v);
        size_t n = yg_value_strlen(s.v);
        bool cased = false, bad = false;
        uint32_t cp;
        for (size_t i = 0; i < n;) {
            i += yg_tx_utf8_next(p + i, n - i, &cp);
            if (!cp_cased(cp))
                continue;
            cased = true;
            if (e->op == T_LOWER ? cp_lower(cp) != cp : cp_upper(cp) != cp)
                bad = true;
        }
        r = cased && !bad;
        rv_release(&s);
        break;
    }
    case T_ODD:
    case T_EVEN:
    case T_DIVISIBLEBY: {
        rv_t d, m;
        if (e->op == T_DIVISIBLEBY) {
            if (!eval_arg(rc, e, 0, "num", &d, NULL)) {
                ok = false;
                break;
            }
        } else {
            d = (rv_t){0};
            if (!rv_own(rc, &d, yg_int_new(2))) {
                ok = false;
                break;
            }
        }
        ok = arith(rc, e, OP_MOD, &x, &d, &m);
        if (ok) {
            double rem = num_of(m.v);
            r = e->op == T_ODD ? rem == 1 : rem == 0;
            rv_release(&m);
        }
        rv_release(&d);
        break;
    }
    case T_EQ:
    case T_NE: {
        rv_t o;
        if (!eval_arg(rc, e, 0, "other", &o, NULL)) {
            ok = false;
            break;
        }
        r = rv_eq(&x, &o) == (e->op == T_EQ);
        rv_release(&o);
        break;
    }
    default: ok = fail(rc, e, "unsupported test");
    }
    rv_release(&x);
    if (!ok)
        return false;
    return rv_own(rc, out, yg_bool_new(e->negate ? !r : r));
}

static bool eval(rc_t *rc, const tx_expr_t *e, rv_t *out)
{
    *out = (rv_t){0};
    switch (e->kind) {
    case EX_CONST: *out = rv_borrow(e->constant); return true;
    case EX_NAME: return eval_name(rc, e, out);
    case EX_ATTR: return eval_attr(rc, e, out);
    case EX_ITEM: return eval_item(rc, e, out);
    case EX_SLICE: return eval_slice(rc, e, out);
    case EX_METHOD: return eval_method(rc, e, out);
    case EX_RANGE: return eval_range(rc, e, out);
    case EX_FILTER: return eval_filter(rc, e, out);
    case EX_TEST: return eval_test(rc, e, out);
    case EX_NOT:
    case EX_NEG:
    case EX_POS: return eval_unary(rc, e, out);
    case EX_BINOP: return eval_binop(rc, e, out);
    case EX_AND:
    case EX_OR: {
        /* Python: `a and b` is a when a is false, else b (values, not bools) */
        rv_t a;
        if (!eval(rc, e->a, &a))
            return false;
        if (truthy(&a) == (e->kind == EX_OR)) {
            *out = a;
            return true;
        }
        rv_release(&a);
        return eval(rc, e->b, out);
    }
    case EX_COMPARE: return eval_compare(rc, e, out);
    case EX_COND: {
        rv_t c;
        if (!eval(rc, e->b, &c))
            return false;
        bool take = truthy(&c);
        rv_release(&c);
        if (take)
            return eval(rc, e->a, out);
        if (e->c)
            return eval(rc, e->c, out);
        *out = rv_undef(NULL, NULL);
        return true;
    }
    case EX_LIST:
    case EX_DICT: return eval_container(rc, e, out);
    }
    return fail(rc, e, "unsupported expression");
}

/* ------------------------------------------------------------------------ */
/* Statements                                                                 */
/* ------------------------------------------------------------------------ */

static bool scope_push(rc_t *rc, const char *name, rv_t val)
{
    if (rc->nscope == rc->capscope) {
        size_t ncap = rc->capscope ? rc->capscope * 2 : 8;
        binding_t *s = realloc(rc->scope, ncap * sizeof *s);
        if (!s) {
            rv_release(&val);
            return oom(rc);
        }
        rc->scope = s;
        rc->capscope = ncap;
    }
    rc->scope[rc->nscope++] = (binding_t){name, val};
    return true;
}

static void scope_pop(rc_t *rc, size_t to)
{
    while (rc->nscope > to)
        rv_release(&rc->scope[--rc->nscope].val);
}

static yg_value_t *loop_info(size_t i, size_t n)
{
    yg_value_t *m = yg_map_new();
    if (!m)
        return NULL;
    struct {
        const char *k;
        yg_value_t *v;
    } f[] = {{"index", yg_int_new((int64_t)i + 1)},     {"index0", yg_int_new((int64_t)i)},
             {"revindex", yg_int_new((int64_t)(n - i))}, {"revindex0", yg_int_new((int64_t)(n - i - 1))},
             {"first", yg_bool_new(i == 0)},             {"last", yg_bool_new(i + 1 == n)},
             {"length", yg_int_new((int64_t)n)},         {"depth", yg_int_new(1)},
             {"depth0", yg_int_new(0)}};
    bool ok = true;
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
        if (!f[k].v || !ok) {
            ok = false;
            yg_value_destroy(&f[k].v);
            continue;
        }
        ok = yg_map_set(m, f[k].k, f[k].v) == YG_OK;
    }
    if (!ok)
        yg_value_destroy(&m);
    return m;
}

/* Bind the loop targets to `item` (borrowed from the iterated list). */
static bool bind_targets(rc_t *rc, const tx_node_t *nd, const yg_value_t *item)
{
    if (nd->ntargets == 1)
        return scope_push(rc, nd->targets[0], rv_borrow(item));
    if (yg_value_type(item) != YG_LIST || yg_list_size(item) != nd->ntargets) {
        tx_expr_t where = {.line = nd->line, .column = nd->column};
        return fail(rc, &where, "cannot unpack %s into %zu loop variables", py_type(item),
                    nd->ntargets);
    }
    for (size_t k = 0; k < nd->ntargets; k++)
        if (!scope_push(rc, nd->targets[k], rv_borrow(yg_list_get(item, k))))
            return false;
    return true;
}

static bool render_for(rc_t *rc, const tx_node_t *nd)
{
    rv_t it, list;
    if (!eval(rc, nd->expr, &it))
        return false;
    bool ok = to_list(rc, nd->expr, &it, &list);
    rv_release(&it);
    if (!ok)
        return false;
    size_t n = yg_list_size(list.v), base = rc->nscope, count = 0;
    size_t *sel = n ? malloc(n * sizeof *sel) : NULL;
    if (n && !sel) {
        rv_release(&list);
        return oom(rc);
    }
    /* the optional `if` filter runs first, so loop.length counts kept items */
    for (size_t i = 0; ok && i < n; i++) {
        const yg_value_t *item = yg_list_get(list.v, i);
        bool keep = true;
        if (nd->filter) {
            rv_t c;
            ok = bind_targets(rc, nd, item) && eval(rc, nd->filter, &c);
            if (ok) {
                keep = truthy(&c);
                rv_release(&c);
            }
            scope_pop(rc, base);
        }
        if (ok && keep)
            sel[count++] = i;
    }
    for (size_t k = 0; ok && k < count; k++) {
        ok = bind_targets(rc, nd, yg_list_get(list.v, sel[k]));
        if (ok && nd->uses_loop) {
            rv_t info = {0};
            ok = rv_own(rc, &info, loop_info(k, count)) && scope_push(rc, "loop", info);
        }
        if (ok)
            ok = render_body(rc, &nd->body);
        scope_pop(rc, base);
    }
    free(sel);
    rv_release(&list);
    if (ok && count == 0)
        ok = render_body(rc, &nd->else_body);
    return ok;
}

static bool render_body(rc_t *rc, const tx_body_t *body)
{
    for (size_t i = 0; i < body->size; i++) {
        const tx_node_t *nd = body->items[i];
        switch (nd->kind) {
        case ND_TEXT:
            yg_tx_sbuf_append(&rc->out, nd->text, nd->textlen);
            break;
        case ND_OUTPUT: {
            rv_t v;
            if (!eval(rc, nd->expr, &v))
                return false;
            put_text(rc, &rc->out, &v);
            rv_release(&v);
            break;
        }
        case ND_IF: {
            const tx_body_t *chosen = &nd->else_body;
            for (size_t k = 0; k < nd->nbranches; k++) {
                rv_t c;
                if (!eval(rc, nd->branches[k].cond, &c))
                    return false;
                bool take = truthy(&c);
                rv_release(&c);
                if (take) {
                    chosen = &nd->branches[k].body;
                    break;
                }
            }
            if (!render_body(rc, chosen))
                return false;
            break;
        }
        case ND_FOR:
            if (!render_for(rc, nd))
                return false;
            break;
        }
        if (rc->failed)
            return false;
        if (rc->out.failed) {
            tx_expr_t where = {.line = nd->line, .column = nd->column};
            return rc->out.too_big
                       ? fail(rc, &where, "rendered template exceeds %u bytes", TX_MAX_OUTPUT)
                       : oom(rc);
        }
    }
    return true;
}

char *yg_tx_render_jinja(const yg_tmpl_t *self, const yg_value_t *vars, const yg_value_t *state,
                         yg_error_t *err)
{
    rc_t rc = {.t = self, .vars = vars, .state = state, .err = err};
    yg_tx_sbuf_append(&rc.out, "", 0);
    bool ok = !rc.out.failed && render_body(&rc, &self->root);
    if (!ok && !rc.failed)
        oom(&rc);
    scope_pop(&rc, 0);
    free(rc.scope);
    if (!ok) {
        free(rc.out.data);
        return NULL;
    }
    return rc.out.data;
}
