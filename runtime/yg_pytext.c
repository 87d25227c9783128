/*
 * yg_pytext.c - Python str() / repr() text forms of values.
 *
 * Python's repr escapes characters its Unicode database calls
 * non-printable.  Without that database we classify the control, format,
 * separator, private-use and non-character ranges below; unassigned code
 * points (which Python also escapes) are printed as-is.  Bytes that are
 * not valid UTF-8 (possible in a value string, impossible in a Python str)
 * are shown as \xNN.
 */
#include "yg_pytext.h"
#include "yg_value_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    uint32_t first;
    uint32_t last;
} cp_range_t;

/* Code points Python's str.isprintable() rejects (categories Cc, Cf, Zs
 * other than space, Zl, Zp, Co, and the non-characters), sorted. */
static const cp_range_t non_printable[] = {
    {0x0000, 0x001F},   {0x007F, 0x00A0},   {0x00AD, 0x00AD},   {0x0600, 0x0605},
    {0x061C, 0x061C},   {0x06DD, 0x06DD},   {0x070F, 0x070F},   {0x0890, 0x0891},
    {0x08E2, 0x08E2},   {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},
    {0x2028, 0x202F},   {0x205F, 0x2064},   {0x2066, 0x206F},   {0x3000, 0x3000},
    {0xD800, 0xF8FF},   {0xFDD0, 0xFDEF},   {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},
    {0x110BD, 0x110BD}, {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},
    {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
};

static bool is_printable(uint32_t cp)
{
    if ((cp & 0xFFFE) == 0xFFFE) /* U+xxFFFE / U+xxFFFF non-characters */
        return false;
    size_t lo = 0, hi = sizeof non_printable / sizeof non_printable[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < non_printable[mid].first)
            hi = mid;
        else if (cp > non_printable[mid].last)
            lo = mid + 1;
        else
            return false;
    }
    return true;
}

/* Python's escape for a non-printable code point: \xNN, \uNNNN or \UNNNNNNNN. */
static void put_escape(yg_vbuf_t *buf, uint32_t cp)
{
    char esc[16];
    int n;
    if (cp <= 0xFF)
        n = snprintf(esc, sizeof esc, "\\x%02x", (unsigned)cp);
    else if (cp <= 0xFFFF)
        n = snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
    else
        n = snprintf(esc, sizeof esc, "\\U%08x", (unsigned)cp);
    yg_vbuf_append(buf, esc, (size_t)n);
}

/* Python repr() of a string. */
static void put_string_repr(yg_vbuf_t *buf, const char *s, size_t len)
{
    bool has_single = memchr(s, '\'', len) != NULL;
    bool has_double = memchr(s, '"', len) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    yg_vbuf_putc(buf, quote);
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            uint32_t cp;
            size_t n = yg_utf8_decode((const unsigned char *)s + i, len - i, &cp);
            if (n == 0) {
                put_escape(buf, c);
                i++;
            } else {
                if (is_printable(cp))
                    yg_vbuf_append(buf, s + i, n);
                else
                    put_escape(buf, cp);
                i += n;
            }
            continue;
        }
        if (c == (unsigned char)quote || c == '\\') {
            yg_vbuf_putc(buf, '\\');
            yg_vbuf_putc(buf, (char)c);
        } else if (c == '\n') {
            yg_vbuf_puts(buf, "\\n");
        } else if (c == '\r') {
            yg_vbuf_puts(buf, "\\r");
        } else if (c == '\t') {
            yg_vbuf_puts(buf, "\\t");
        } else if (c < 0x20 || c == 0x7F) {
            put_escape(buf, c);
        } else {
            yg_vbuf_putc(buf, (char)c);
        }
        i++;
    }
    yg_vbuf_putc(buf, quote);
}

static void put_repr(yg_vbuf_t *buf, const yg_value_t *v, size_t depth)
{
    if (depth > YG_VALUE_MAX_DEPTH) {
        yg_vbuf_fail(buf);
        return;
    }
    switch (yg_value_type(v)) {
    case YG_NULL:
        yg_vbuf_puts(buf, "None");
        break;
    case YG_BOOL:
        yg_vbuf_puts(buf, yg_value_bool(v) ? "True" : "False");
        break;
    case YG_INT: {
        char text[24];
        int n = snprintf(text, sizeof text, "%lld", (long long)yg_value_int(v));
        yg_vbuf_append(buf, text, (size_t)n);
        break;
    }
    case YG_FLOAT: {
        char text[YG_FLOAT_REPR_MAX];
        yg_vbuf_append(buf, text, yg_float_repr(yg_value_float(v), text));
        break;
    }
    case YG_STR:
        put_string_repr(buf, yg_value_str(v), yg_value_strlen(v));
        break;
    case YG_LIST:
        yg_vbuf_putc(buf, '[');
        for (size_t i = 0; i < yg_list_size(v); i++) {
            if (i)
                yg_vbuf_puts(buf, ", ");
            put_repr(buf, yg_list_get(v, i), depth + 1);
        }
        yg_vbuf_putc(buf, ']');
        break;
    case YG_MAP:
        yg_vbuf_putc(buf, '{');
        for (size_t i = 0; i < yg_map_size(v); i++) {
            if (i)
                yg_vbuf_puts(buf, ", ");
            put_string_repr(buf, yg_map_key_at(v, i), yg_map_keylen_at(v, i));
            yg_vbuf_puts(buf, ": ");
            put_repr(buf, yg_map_value_at(v, i), depth + 1);
        }
        yg_vbuf_putc(buf, '}');
        break;
    }
}

char *yg_pytext_repr(const yg_value_t *v)
{
    yg_vbuf_t buf;
    yg_vbuf_init(&buf);
    put_repr(&buf, v, 0);
    return yg_vbuf_finish(&buf, NULL);
}

char *yg_pytext_str(const yg_value_t *v)
{
    yg_vbuf_t buf;
    yg_vbuf_init(&buf);
    if (yg_value_type(v) == YG_STR)
        yg_vbuf_append(&buf, yg_value_str(v), yg_value_strlen(v));
    else
        put_repr(&buf, v, 0);
    return yg_vbuf_finish(&buf, NULL);
}
