/*
 * yg_shellfmt.c - shell tool command formatting (spec 8.1).
 *
 * Values are quoted with POSIX shlex.quote rules, then substituted into the
 * command with Python str.format rules.  Only plain {name} fields are
 * supported; other replacement-field syntax is refused with a clear error.
 */
#include "yg_shellfmt.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "yg_pytext.h"
#include "yg_value_internal.h"

/* shlex.quote leaves a value bare when every byte is in [\w@%+=:,./-]
 * (ASCII \w). */
static bool shell_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("_@%+=:,./-", c) != NULL);
}

char *yg_shell_quote(const char *s, size_t len)
{
    if (!s)
        len = 0;
    bool safe = len > 0;
    for (size_t i = 0; i < len && safe; i++)
        safe = shell_safe((unsigned char)s[i]);
    yg_vbuf_t buf;
    yg_vbuf_init(&buf);
    if (safe) {
        yg_vbuf_append(&buf, s, len);
    } else {
        /* '...' with each ' written as '"'"' */
        yg_vbuf_putc(&buf, '\'');
        size_t run = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] != '\'')
                continue;
            yg_vbuf_append(&buf, s + run, i - run);
            yg_vbuf_puts(&buf, "'\"'\"'");
            run = i + 1;
        }
        yg_vbuf_append(&buf, s + run, len - run);
        yg_vbuf_putc(&buf, '\'');
    }
    return yg_vbuf_finish(&buf, NULL);
}

char *yg_shell_quote_value(const yg_value_t *v)
{
    switch (yg_value_type(v)) {
    case YG_NULL: {
        char *empty = malloc(1);
        if (empty)
            empty[0] = '\0';
        return empty;
    }
    case YG_STR:
        /* str(s) is s; quote the counted bytes directly. */
        return yg_shell_quote(yg_value_str(v), yg_value_strlen(v));
    case YG_LIST:
    case YG_MAP: {
        char *json = yg_json_encode_python(v);
        char *quoted = json ? yg_shell_quote(json, strlen(json)) : NULL;
        free(json);
        return quoted;
    }
    default: {
        char *text = yg_pytext_str(v);
        char *quoted = text ? yg_shell_quote(text, strlen(text)) : NULL;
        free(text);
        return quoted;
    }
    }
}

/* Find the '}' that closes a replacement field opened at s[open] (nested
 * braces counted, as str.format does).  Returns its index or len. */
static size_t field_end(const char *s, size_t len, size_t open)
{
    size_t depth = 1;
    for (size_t i = open + 1; i < len; i++) {
        if (s[i] == '{')
            depth++;
        else if (s[i] == '}' && --depth == 0)
            return i;
    }
    return len;
}

/* Python's repr() of a field name, for "Missing variable: 'name'". */
static char *name_repr(const char *name, size_t len)
{
    yg_value_t *str = yg_str_newn(name, len);
    char *repr = str ? yg_pytext_repr(str) : NULL;
    yg_value_destroy(&str);
    return repr;
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len > 0;
}

/* Substitute one replacement field s[b, e) (between the braces). */
static int format_field(yg_vbuf_t *out, const char *s, size_t b, size_t e, const yg_value_t *vars,
                        yg_error_t *err)
{
    /* The argument name ends at the first of . [ ! : (str.format). */
    size_t n = b;
    while (n < e && s[n] != '.' && s[n] != '[' && s[n] != '!' && s[n] != ':')
        n++;
    int flen = (int)(e - b > 200 ? 200 : e - b);
    if (n == b || all_digits(s + b, n - b)) {
        /* Python: IndexError, positional arguments are never passed. */
        return yg_error_set(err, YG_EPARSE,
                            "Replacement index '{%.*s}' is not supported: use {name} placeholders",
                            flen, s + b);
    }
    const yg_value_t *value =
        yg_value_type(vars) == YG_MAP ? yg_map_getn(vars, s + b, n - b) : NULL;
    if (!value) {
        char *repr = name_repr(s + b, n - b);
        if (!repr)
            return yg_error_set(err, YG_ENOMEM, "out of memory");
        int rc = yg_error_set(err, YG_ENOTFOUND, "Missing variable: %s", repr);
        free(repr);
        return rc;
    }
    if (n != e) {
        /* [C] attribute/index access, conversions and format specs. */
        return yg_error_set(err, YG_EPARSE,
                            "Unsupported placeholder '{%.*s}': only {name} is supported", flen,
                            s + b);
    }
    char *quoted = yg_shell_quote_value(value);
    if (!quoted)
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    yg_vbuf_puts(out, quoted);
    free(quoted);
    return YG_OK;
}

char *yg_shell_format(const char *command, const yg_value_t *vars, yg_error_t *err)
{
    if (!command) {
        yg_error_set(err, YG_EINVAL, "no command");
        return NULL;
    }
    size_t len = strlen(command);
    yg_vbuf_t out;
    yg_vbuf_init(&out);
    size_t i = 0, run = 0;
    while (i < len) {
        char c = command[i];
        if (c != '{' && c != '}') {
            i++;
            continue;
        }
        yg_vbuf_append(&out, command + run, i - run);
        if (i + 1 < len && command[i + 1] == c) {
            /* {{ and }} are literal braces */
            yg_vbuf_putc(&out, c);
            i += 2;
            run = i;
            continue;
        }
        if (c == '}') {
            yg_vbuf_free(&out);
            yg_error_set(err, YG_EPARSE, "Single '}' encountered in format string (column %zu)",
                         i + 1);
            return NULL;
        }
        size_t close = field_end(command, len, i);
        if (close >= len) {
            yg_vbuf_free(&out);
            yg_error_set(err, YG_EPARSE,
                         "expected '}' before end of string (placeholder at column %zu)", i + 1);
            return NULL;
        }
        if (format_field(&out, command, i + 1, close, vars, err) != YG_OK) {
            yg_vbuf_free(&out);
            return NULL;
        }
        i = close + 1;
        run = i;
    }
    yg_vbuf_append(&out, command + run, len - run);
    char *result = yg_vbuf_finish(&out, NULL);
    if (!result)
        yg_error_set(err, YG_ENOMEM, "out of memory");
    return result;
}

static bool is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

size_t yg_shell_placeholders(const char *command, char ***names_out)
{
    if (names_out)
        *names_out = NULL;
    if (!command || !names_out)
        return 0;
    /* The original collects re.findall(r"\{(\w+)\}", command): a plain scan
     * that also sees the inside of "{{x}}". */
    size_t len = strlen(command);
    char **names = NULL;
    size_t count = 0, cap = 0;
    size_t i = 0;
    while (i < len) {
        if (command[i] != '{') {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < len && is_word((unsigned char)command[j]))
            j++;
        if (j == i + 1 || j >= len || command[j] != '}') {
            i++;
            continue;
        }
        const char *name = command + i + 1;
        size_t nlen = j - i - 1;
        bool seen = false;
        for (size_t k = 0; k < count && !seen; k++)
            seen = strlen(names[k]) == nlen && memcmp(names[k], name, nlen) == 0;
        if (!seen) {
            if (count == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                char **grown = realloc(names, ncap * sizeof *names);
                if (!grown)
                    goto fail;
                names = grown;
                cap = ncap;
            }
            char *copy = malloc(nlen + 1);
            if (!copy)
                goto fail;
            memcpy(copy, name, nlen);
            copy[nlen] = '\0';
            names[count++] = copy;
        }
        i = j + 1;
    }
    *names_out = names;
    return count;
fail:
    for (size_t k = 0; k < count; k++)
        free(names[k]);
    free(names);
    return 0;
}
