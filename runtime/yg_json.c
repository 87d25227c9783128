/*
 * yg_json.c - JSON encoder and bounded recursive-descent decoder.
 *
 * Decoder: RFC 8259 plus Python json.loads' NaN / Infinity / -Infinity
 * literals.  Limits are checked before the memory they guard is used: the
 * input size first, then nesting depth, total element count and decoded
 * string length as parsing proceeds.  Strings must be valid UTF-8; \u
 * escapes must form whole characters (a lone surrogate is an error, since a
 * value string holds UTF-8).  Errors carry a 1-based line and column (the
 * column counts characters).  Integers that fit int64 decode as YG_INT,
 * other numbers as YG_FLOAT.
 *
 * Encoders: compact ("," ":"), pretty (2-space indent, like Python's
 * json.dumps(indent=2)), and the Python json.dumps default form used for
 * shell tool arguments (", " ": " and ensure_ascii).
 */
#include "yamlgraph/yg_value.h"
#include "yg_pytext.h"
#include "yg_value_internal.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Numbers longer than this are copied to the heap for strtod. */
#define JSON_NUMBER_STACK_MAX 64
/* Object keys shorter than this are copied to the stack while the value parses. */
#define JSON_KEY_STACK_MAX 64

typedef struct {
    const char *text;
    size_t len;
    size_t pos;
    const yg_limits_t *limits;
    size_t elements; /* list items + map entries so far */
    yg_error_t *err;
    bool failed;
    yg_vbuf_t scratch; /* reused for string decoding */
} json_parser_t;

/* Report an error at byte offset `at`, converting it to line:column. */
static void json_fail_at(json_parser_t *p, size_t at, int code, const char *what)
{
    if (p->failed)
        return;
    p->failed = true;
    int line = 1, column = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        unsigned char c = (unsigned char)p->text[i];
        if (c == '\n') {
            line++;
            column = 1;
        } else if ((c & 0xC0) != 0x80) { /* count characters, not bytes */
            column++;
        }
    }
    yg_error_set_at(p->err, code, NULL, line, column, "JSON: %s at line %d column %d", what, line,
                    column);
}

static void json_fail(json_parser_t *p, const char *what)
{
    json_fail_at(p, p->pos, YG_EPARSE, what);
}

static void skip_whitespace(json_parser_t *p)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static bool match_literal(json_parser_t *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos >= n && memcmp(p->text + p->pos, word, n) == 0) {
        p->pos += n;
        return true;
    }
    return false;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Read 4 hex digits after "\u" at p->pos; -1 on error (reported at the
 * first missing or bad digit). */
static long read_hex4(json_parser_t *p)
{
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = p->pos + k < p->len ? hex_value(p->text[p->pos + k]) : -1;
        if (h < 0) {
            json_fail_at(p, p->pos + k, YG_EPARSE, "invalid \\u escape: 4 hex digits expected");
            return -1;
        }
        v = v * 16 + h;
    }
    p->pos += 4;
    return v;
}

/* Decode a \uXXXX escape (p->pos just after the 'u'), pairing surrogates. */
static bool parse_unicode_escape(json_parser_t *p, size_t escape_start)
{
    long cp = read_hex4(p);
    if (cp < 0)
        return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        json_fail_at(p, escape_start, YG_EPARSE, "lone low surrogate in \\u escape");
        return false;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (p->len - p->pos < 2 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u') {
            json_fail_at(p, escape_start, YG_EPARSE, "lone high surrogate in \\u escape");
            return false;
        }
        p->pos += 2;
        long low = read_hex4(p);
        if (low < 0)
            return false;
        if (low < 0xDC00 || low > 0xDFFF) {
            json_fail_at(p, escape_start, YG_EPARSE, "high surrogate not followed by a low one");
            return false;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    char utf8[4];
    yg_vbuf_append(&p->scratch, utf8, yg_utf8_encode((uint32_t)cp, utf8));
    return true;
}

/* Parse a string at p->pos (on the opening quote) into p->scratch. */
static bool parse_string_raw(json_parser_t *p)
{
    size_t start = p->pos;
    p->pos++; /* opening quote */
    p->scratch.len = 0;
    for (;;) {
        /* copy a run of plain bytes at once */
        size_t run = p->pos;
        while (run < p->len) {
            unsigned char c = (unsigned char)p->text[run];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
                break;
            run++;
        }
        yg_vbuf_append(&p->scratch, p->text + p->pos, run - p->pos);
        p->pos = run;
        if (p->scratch.len > p->limits->max_string) {
            json_fail_at(p, start, YG_ELIMIT, "string longer than the limit");
            return false;
        }
        if (p->pos >= p->len) {
            json_fail_at(p, start, YG_EPARSE, "unterminated string");
            return false;
        }
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            json_fail(p, "control character in string");
            return false;
        }
        if (c >= 0x80) {
            uint32_t cp;
            size_t n =
                yg_utf8_decode((const unsigned char *)p->text + p->pos, p->len - p->pos, &cp);
            if (n == 0) {
                json_fail(p, "invalid UTF-8 in string");
                return false;
            }
            yg_vbuf_append(&p->scratch, p->text + p->pos, n);
            p->pos += n;
            continue;
        }
        /* backslash escape */
        size_t escape_start = p->pos;
        if (p->pos + 1 >= p->len) {
            json_fail_at(p, start, YG_EPARSE, "unterminated string");
            return false;
        }
        char e = p->text[p->pos + 1];
        p->pos += 2;
        const char *simple = NULL;
        switch (e) {
        case '"':
            simple = "\"";
            break;
        case '\\':
            simple = "\\";
            break;
        case '/':
            simple = "/";
            break;
        case 'b':
            simple = "\b";
            break;
        case 'f':
            simple = "\f";
            break;
        case 'n':
            simple = "\n";
            break;
        case 'r':
            simple = "\r";
            break;
        case 't':
            simple = "\t";
            break;
        case 'u':
            if (!parse_unicode_escape(p, escape_start))
                return false;
            break;
        default:
            json_fail_at(p, escape_start, YG_EPARSE, "invalid escape in string");
            return false;
        }
        if (simple)
            yg_vbuf_putc(&p->scratch, simple[0]);
    }
    if (p->scratch.len > p->limits->max_string) {
        json_fail_at(p, start, YG_ELIMIT, "string longer than the limit");
        return false;
    }
    if (p->scratch.failed) {
        json_fail_at(p, start, YG_ENOMEM, "out of memory");
        return false;
    }
    return true;
}

static yg_value_t *parse_number(json_parser_t *p)
{
    size_t start = p->pos;
    const char *t = p->text;
    size_t i = p->pos;
    bool is_float = false;
    if (i < p->len && t[i] == '-')
        i++;
    if (i < p->len && t[i] == '0') {
        i++;
        if (i < p->len && t[i] >= '0' && t[i] <= '9') {
            json_fail_at(p, start, YG_EPARSE, "leading zero in number");
            return NULL;
        }
    } else if (i < p->len && t[i] >= '1' && t[i] <= '9') {
        while (i < p->len && t[i] >= '0' && t[i] <= '9')
            i++;
    } else {
        json_fail_at(p, i, YG_EPARSE, "invalid number");
        return NULL;
    }
    if (i < p->len && t[i] == '.') {
        is_float = true;
        i++;
        if (i >= p->len || t[i] < '0' || t[i] > '9') {
            json_fail_at(p, i, YG_EPARSE, "digit expected after decimal point");
            return NULL;
        }
        while (i < p->len && t[i] >= '0' && t[i] <= '9')
            i++;
    }
    if (i < p->len && (t[i] == 'e' || t[i] == 'E')) {
        is_float = true;
        i++;
        if (i < p->len && (t[i] == '+' || t[i] == '-'))
            i++;
        if (i >= p->len || t[i] < '0' || t[i] > '9') {
            json_fail_at(p, i, YG_EPARSE, "digit expected in exponent");
            return NULL;
        }
        while (i < p->len && t[i] >= '0' && t[i] <= '9')
            i++;
    }
    p->pos = i;
    /* strtod/strtoll need a NUL-terminated copy; the input need not be. */
    size_t n = i - start;
    char stack[JSON_NUMBER_STACK_MAX];
    char *copy = n < sizeof stack ? stack : malloc(n + 1);
    if (!copy) {
        json_fail_at(p, start, YG_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(copy, t + start, n);
    copy[n] = '\0';
    yg_value_t *v = NULL;
    if (!is_float) {
        errno = 0;
        long long ll = strtoll(copy, NULL, 10);
        if (errno != ERANGE)
            v = yg_int_new((int64_t)ll);
        else
            is_float = true; /* too big for int64: keep it as a double */
    }
    if (is_float)
        v = yg_float_new(strtod(copy, NULL)); /* overflow gives +-inf, as in Python */
    if (copy != stack)
        free(copy);
    if (!v)
        json_fail_at(p, start, YG_ENOMEM, "out of memory");
    return v;
}

static yg_value_t *parse_value(json_parser_t *p, size_t depth);

/* Count one more list item / map entry against the limit. */
static bool count_element(json_parser_t *p)
{
    if (++p->elements > p->limits->max_elements) {
        json_fail_at(p, p->pos, YG_ELIMIT, "too many elements");
        return false;
    }
    return true;
}

static bool enter_container(json_parser_t *p, size_t depth)
{
    if (depth + 1 > p->limits->max_depth || depth + 1 > YG_VALUE_MAX_DEPTH) {
        json_fail_at(p, p->pos, YG_ELIMIT, "nesting deeper than the limit");
        return false;
    }
    return true;
}

static yg_value_t *parse_array(json_parser_t *p, size_t depth)
{
    if (!enter_container(p, depth))
        return NULL;
    yg_value_t *list = yg_list_new();
    if (!list) {
        json_fail(p, "out of memory");
        return NULL;
    }
    p->pos++; /* [ */
    skip_whitespace(p);
    if (p->pos < p->len && p->text[p->pos] == ']') {
        p->pos++;
        return list;
    }
    for (;;) {
        skip_whitespace(p);
        if (p->pos < p->len && p->text[p->pos] == ']') {
            json_fail(p, "trailing comma in array");
            break;
        }
        if (!count_element(p))
            break;
        yg_value_t *item = parse_value(p, depth + 1);
        if (!item)
            break;
        if (yg_list_append(list, item) != YG_OK) {
            json_fail(p, "out of memory");
            break;
        }
        skip_whitespace(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == ']') {
            p->pos++;
            return list;
        }
        json_fail(p, p->pos < p->len ? "expected ',' or ']' in array" : "unterminated array");
        break;
    }
    yg_value_destroy(&list);
    return NULL;
}

static yg_value_t *parse_object(json_parser_t *p, size_t depth)
{
    if (!enter_container(p, depth))
        return NULL;
    yg_value_t *map = yg_map_new();
    if (!map) {
        json_fail(p, "out of memory");
        return NULL;
    }
    p->pos++; /* { */
    skip_whitespace(p);
    if (p->pos < p->len && p->text[p->pos] == '}') {
        p->pos++;
        return map;
    }
    /* the key must be copied out of the scratch buffer before the value is
     * parsed (which reuses it); short keys avoid a heap allocation */
    char key_stack[JSON_KEY_STACK_MAX];
    char *key_heap = NULL;
    for (;;) {
        skip_whitespace(p);
        if (p->pos >= p->len) {
            json_fail(p, "unterminated object");
            break;
        }
        if (p->text[p->pos] == '}') {
            json_fail(p, "trailing comma in object");
            break;
        }
        if (p->text[p->pos] != '"') {
            json_fail(p, "expected a string key in object");
            break;
        }
        if (!count_element(p) || !parse_string_raw(p))
            break;
        size_t keylen = p->scratch.len;
        char *key = key_stack;
        if (keylen >= sizeof key_stack) {
            key = key_heap = malloc(keylen + 1);
            if (!key) {
                json_fail(p, "out of memory");
                break;
            }
        }
        memcpy(key, p->scratch.data ? p->scratch.data : "", keylen);
        key[keylen] = '\0';
        skip_whitespace(p);
        if (p->pos >= p->len || p->text[p->pos] != ':') {
            json_fail(p, "expected ':' after object key");
            break;
        }
        p->pos++;
        skip_whitespace(p);
        yg_value_t *value = parse_value(p, depth + 1);
        if (!value)
            break;
        /* a repeated key keeps its first position and takes the last value,
         * like Python's json.loads */
        if (yg_map_setn(map, key, keylen, value) != YG_OK) {
            json_fail(p, "out of memory");
            break;
        }
        free(key_heap);
        key_heap = NULL;
        skip_whitespace(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == '}') {
            p->pos++;
            return map;
        }
        json_fail(p, p->pos < p->len ? "expected ',' or '}' in object" : "unterminated object");
        break;
    }
    free(key_heap);
    yg_value_destroy(&map);
    return NULL;
}

/* Parse one of the keyword literals; NULL with an error if none matches. */
static yg_value_t *parse_literal(json_parser_t *p)
{
    static const struct {
        const char *word;
        yg_type_t type;
        double number; /* for the float literals */
    } literals[] = {
        {"true", YG_BOOL, 1},
        {"false", YG_BOOL, 0},
        {"null", YG_NULL, 0},
        {"NaN", YG_FLOAT, NAN},
        {"Infinity", YG_FLOAT, INFINITY},
        {"-Infinity", YG_FLOAT, -INFINITY},
    };
    for (size_t k = 0; k < sizeof literals / sizeof literals[0]; k++) {
        if (!match_literal(p, literals[k].word))
            continue;
        yg_value_t *v = literals[k].type == YG_BOOL    ? yg_bool_new(literals[k].number != 0)
                        : literals[k].type == YG_FLOAT ? yg_float_new(literals[k].number)
                                                       : yg_null_new();
        if (!v)
            json_fail(p, "out of memory");
        return v;
    }
    json_fail(p, "invalid literal");
    return NULL;
}

static yg_value_t *parse_value(json_parser_t *p, size_t depth)
{
    skip_whitespace(p);
    if (p->pos >= p->len) {
        json_fail(p, "unexpected end of input");
        return NULL;
    }
    char c = p->text[p->pos];
    if (c == '{')
        return parse_object(p, depth);
    if (c == '[')
        return parse_array(p, depth);
    if (c == '"') {
        if (!parse_string_raw(p))
            return NULL;
        yg_value_t *v = yg_str_newn(p->scratch.data ? p->scratch.data : "", p->scratch.len);
        if (!v)
            json_fail(p, "out of memory");
        return v;
    }
    if (c == '-' && p->pos + 1 < p->len && p->text[p->pos + 1] == 'I')
        return parse_literal(p);
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p);
    if (c == 't' || c == 'f' || c == 'n' || c == 'N' || c == 'I')
        return parse_literal(p);
    json_fail(p, "unexpected character");
    return NULL;
}

yg_value_t *yg_json_decode(const char *text, size_t len, const yg_limits_t *limits, yg_error_t *err)
{
    if (!limits)
        limits = &yg_limits_default;
    if (len > limits->max_bytes) {
        yg_error_set(err, YG_ELIMIT, "JSON: input of %zu bytes exceeds the limit of %zu", len,
                     limits->max_bytes);
        return NULL;
    }
    if (!text && len) {
        yg_error_set(err, YG_EINVAL, "JSON: NULL text");
        return NULL;
    }
    json_parser_t p = {.text = text ? text : "", .len = len, .limits = limits, .err = err};
    yg_vbuf_init(&p.scratch);
    yg_value_t *v = parse_value(&p, 0);
    if (v) {
        skip_whitespace(&p);
        if (p.pos < p.len) {
            json_fail(&p, "unexpected data after the JSON value");
            yg_value_destroy(&v);
        }
    }
    yg_vbuf_free(&p.scratch);
    return v;
}

/* --- encoder ------------------------------------------------------------- */

typedef struct {
    yg_vbuf_t buf;
    bool pretty;
    bool python; /* json.dumps defaults: ", " / ": ", ensure_ascii, NaN */
} json_writer_t;

static void write_hex4(yg_vbuf_t *buf, uint32_t u)
{
    char esc[8];
    snprintf(esc, sizeof esc, "\\u%04x", (unsigned)(u & 0xFFFFu)); /* 4 hex digits; callers pass < 0x10000 */
    yg_vbuf_append(buf, esc, 6);
}

/* Write a JSON string literal.  Invalid UTF-8 bytes become U+FFFD so the
 * output is always valid JSON. */
static void write_string(json_writer_t *w, const char *s, size_t len)
{
    yg_vbuf_t *buf = &w->buf;
    yg_vbuf_putc(buf, '"');
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len) {
            unsigned char c = (unsigned char)s[run];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
                break;
            run++;
        }
        yg_vbuf_append(buf, s + i, run - i);
        i = run;
        if (i >= len)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            uint32_t cp;
            size_t n = yg_utf8_decode((const unsigned char *)s + i, len - i, &cp);
            if (n == 0) {
                cp = 0xFFFD;
                n = 1;
            }
            if (w->python) {
                if (cp >= 0x10000) {
                    write_hex4(buf, 0xD800 + ((cp - 0x10000) >> 10));
                    write_hex4(buf, 0xDC00 + ((cp - 0x10000) & 0x3FF));
                } else {
                    write_hex4(buf, cp);
                }
            } else {
                char utf8[4];
                yg_vbuf_append(buf, utf8, yg_utf8_encode(cp, utf8));
            }
            i += n;
            continue;
        }
        switch (c) {
        case '"':
            yg_vbuf_puts(buf, "\\\"");
            break;
        case '\\':
            yg_vbuf_puts(buf, "\\\\");
            break;
        case '\b':
            yg_vbuf_puts(buf, "\\b");
            break;
        case '\f':
            yg_vbuf_puts(buf, "\\f");
            break;
        case '\n':
            yg_vbuf_puts(buf, "\\n");
            break;
        case '\r':
            yg_vbuf_puts(buf, "\\r");
            break;
        case '\t':
            yg_vbuf_puts(buf, "\\t");
            break;
        default:
            write_hex4(buf, c);
            break;
        }
        i++;
    }
    yg_vbuf_putc(buf, '"');
}

static void write_newline_indent(json_writer_t *w, size_t depth)
{
    yg_vbuf_putc(&w->buf, '\n');
    for (size_t k = 0; k < depth; k++)
        yg_vbuf_append(&w->buf, "  ", 2);
}

static void write_float(json_writer_t *w, double d)
{
    if (!isfinite(d)) {
        if (!w->python)
            yg_vbuf_puts(&w->buf, "null");
        else
            yg_vbuf_puts(&w->buf, isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char text[YG_FLOAT_REPR_MAX];
    yg_vbuf_append(&w->buf, text, yg_float_repr(d, text));
}

static void write_value(json_writer_t *w, const yg_value_t *v, size_t depth)
{
    if (depth > YG_VALUE_MAX_DEPTH) {
        yg_vbuf_fail(&w->buf);
        return;
    }
    const char *item_sep = w->python ? ", " : ",";
    const char *key_sep = w->python || w->pretty ? ": " : ":";
    if (w->pretty)
        item_sep = ",";
    switch (yg_value_type(v)) {
    case YG_NULL:
        yg_vbuf_puts(&w->buf, "null");
        break;
    case YG_BOOL:
        yg_vbuf_puts(&w->buf, yg_value_bool(v) ? "true" : "false");
        break;
    case YG_INT: {
        char text[24];
        int n = snprintf(text, sizeof text, "%lld", (long long)yg_value_int(v));
        yg_vbuf_append(&w->buf, text, (size_t)n);
        break;
    }
    case YG_FLOAT:
        write_float(w, yg_value_float(v));
        break;
    case YG_STR:
        write_string(w, yg_value_str(v), yg_value_strlen(v));
        break;
    case YG_LIST: {
        size_t n = yg_list_size(v);
        yg_vbuf_putc(&w->buf, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                yg_vbuf_puts(&w->buf, item_sep);
            if (w->pretty)
                write_newline_indent(w, depth + 1);
            write_value(w, yg_list_get(v, i), depth + 1);
        }
        if (w->pretty && n)
            write_newline_indent(w, depth);
        yg_vbuf_putc(&w->buf, ']');
        break;
    }
    case YG_MAP: {
        size_t n = yg_map_size(v);
        yg_vbuf_putc(&w->buf, '{');
        for (size_t i = 0; i < n; i++) {
            if (i)
                yg_vbuf_puts(&w->buf, item_sep);
            if (w->pretty)
                write_newline_indent(w, depth + 1);
            write_string(w, yg_map_key_at(v, i), yg_map_keylen_at(v, i));
            yg_vbuf_puts(&w->buf, key_sep);
            write_value(w, yg_map_value_at(v, i), depth + 1);
        }
        if (w->pretty && n)
            write_newline_indent(w, depth);
        yg_vbuf_putc(&w->buf, '}');
        break;
    }
    }
}

char *yg_json_encode(const yg_value_t *self, bool pretty, size_t *len)
{
    json_writer_t w = {.pretty = pretty};
    yg_vbuf_init(&w.buf);
    write_value(&w, self, 0);
    return yg_vbuf_finish(&w.buf, len);
}

char *yg_json_encode_python(const yg_value_t *v)
{
    json_writer_t w = {.python = true};
    yg_vbuf_init(&w.buf);
    write_value(&w, v, 0);
    return yg_vbuf_finish(&w.buf, NULL);
}
