/*
 * yg_template.c - prompt templates (spec 7): compiling both modes, simple
 * `{name}` rendering, the 7.3 required-variable scan, and the helpers for
 * agent (4.11) and interrupt (4.6) text.
 *
 * Jinja-mode text is lexed into a token array (data, tag delimiters and
 * expression tokens) and parsed by recursive descent into the tree declared
 * in yg_template_int.h; yg_template_eval.c renders it.
 */
#include "yg_template.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_pytext.h"
#include "yg_template_int.h"

/* ------------------------------------------------------------------------ */
/* Shared helpers                                                             */
/* ------------------------------------------------------------------------ */

bool yg_tx_sbuf_append(tx_sbuf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return false;
    if (n == 0 && b->data)
        return true;
    size_t limit = b->limit ? b->limit : TX_MAX_OUTPUT;
    if (n > limit || b->len > limit - n) {
        b->failed = true;
        b->too_big = true;
        return false;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            b->failed = true;
            return false;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool yg_tx_sbuf_putc(tx_sbuf_t *b, char c)
{
    return yg_tx_sbuf_append(b, &c, 1);
}

bool yg_tx_sbuf_put_cp(tx_sbuf_t *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return yg_tx_sbuf_append(b, u, n);
}

size_t yg_tx_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t need;
    uint32_t c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        need = 2;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        need = 3;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        need = 4;
        c &= 0x07;
    } else {
        *cp = u[0];
        return 1;
    }
    if (need > n) {
        *cp = u[0];
        return 1;
    }
    for (size_t i = 1; i < need; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = u[0];
            return 1;
        }
        c = (c << 6) | (u[i] & 0x3F);
    }
    *cp = c;
    return need;
}

/* Word character as Python's \w sees it: ASCII letters, digits, '_', and
 * (approximately) any non-ASCII byte. */
static bool is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c >= 0x80;
}

static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ------------------------------------------------------------------------ */
/* Positions                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *src;
    size_t len;
    const char *file;
    int line0, col0;
    /* last position computed: the compiler asks mostly in source order, so
     * scanning on from here keeps compilation linear */
    size_t cache_off;
    int cache_line, cache_col; /* 0-based line, 1-based column in the text */
} tx_pos_ctx_t;

/* Absolute (line, column) of byte offset `off`; columns count code points. */
static void pos_of(tx_pos_ctx_t *pc, size_t off, int *line, int *column)
{
    if (off > pc->len)
        off = pc->len;
    if (pc->cache_col == 0) {
        pc->cache_off = 0;
        pc->cache_line = 0;
        pc->cache_col = 1;
    }
    /* backwards (binary operators are built after their right operand) */
    bool crossed = false;
    while (pc->cache_off > off) {
        unsigned char c = (unsigned char)pc->src[--pc->cache_off];
        if (c == '\n') {
            pc->cache_line--;
            crossed = true;
        } else if ((c & 0xC0) != 0x80) {
            pc->cache_col--;
        }
    }
    if (crossed) {
        size_t start = off;
        while (start > 0 && pc->src[start - 1] != '\n')
            start--;
        pc->cache_col = 1;
        for (size_t i = start; i < off; i++)
            if (((unsigned char)pc->src[i] & 0xC0) != 0x80)
                pc->cache_col++;
    }
    for (size_t i = pc->cache_off; i < off; i++) {
        if (pc->src[i] == '\n') {
            pc->cache_line++;
            pc->cache_col = 1;
        } else if (((unsigned char)pc->src[i] & 0xC0) != 0x80) {
            pc->cache_col++;
        }
    }
    pc->cache_off = off;
    *line = pc->line0 + pc->cache_line;
    *column = pc->col0 + pc->cache_col - 1;
}

static int errorf_at(tx_pos_ctx_t *pc, yg_error_t *err, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int errorf_at(tx_pos_ctx_t *pc, yg_error_t *err, size_t off, const char *fmt, ...)
{
    char msg[YG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, column;
    pos_of(pc, off, &line, &column);
    return yg_error_set_at(err, YG_ETEMPLATE, pc->file, line, column, "%s", msg);
}

/* ------------------------------------------------------------------------ */
/* Simple mode                                                                */
/* ------------------------------------------------------------------------ */

static bool pieces_push(yg_tmpl_t *t, size_t *cap, const char *text, size_t len, bool is_var,
                        int line, int column)
{
    if (t->npieces == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        tx_piece_t *p = realloc(t->pieces, ncap * sizeof *p);
        if (!p)
            return false;
        t->pieces = p;
        *cap = ncap;
    }
    char *copy = dup_n(text, len);
    if (!copy)
        return false;
    t->pieces[t->npieces++] = (tx_piece_t){copy, len, is_var, line, column};
    return true;
}

/* Split simple-mode text into literal pieces and `{name}` / `{a.b}`
 * placeholders; `}}` is a literal `}` (str.format); any other brace use is
 * an error at its position. */
static int simple_compile(yg_tmpl_t *t, tx_pos_ctx_t *pc, yg_error_t *err)
{
    const char *s = pc->src;
    size_t n = pc->len, cap = 0, lit = 0, i = 0;
    tx_sbuf_t text = {0};
    while (i < n) {
        char c = s[i];
        if (c == '}') {
            if (i + 1 < n && s[i + 1] == '}') {
                yg_tx_sbuf_append(&text, s + lit, i + 1 - lit);
                i += 2;
                lit = i;
                continue;
            }
            free(text.data);
            return errorf_at(pc, err, i,
                             "single '}' in a simple-mode template (write '}}' for a literal brace, "
                             "or use Jinja syntax)");
        }
        if (c != '{') {
            i++;
            continue;
        }
        /* a placeholder: identifier ('.' identifier)* '}' */
        size_t j = i + 1;
        bool ok = j < n && is_ident_start((unsigned char)s[j]);
        while (ok) {
            while (j < n && is_word((unsigned char)s[j]))
                j++;
            if (j < n && s[j] == '.' && j + 1 < n && is_ident_start((unsigned char)s[j + 1])) {
                j++;
                continue;
            }
            break;
        }
        if (!ok || j >= n || s[j] != '}') {
            free(text.data);
            return errorf_at(pc, err, i,
                             "unsupported placeholder in a simple-mode template: only {name} "
                             "or {name.key} is allowed (literal braces must be doubled)");
        }
        yg_tx_sbuf_append(&text, s + lit, i - lit);
        int line, column;
        pos_of(pc, i, &line, &column);
        bool pushed = (text.len == 0 || pieces_push(t, &cap, text.data, text.len, false, 0, 0)) &&
                      pieces_push(t, &cap, s + i + 1, j - i - 1, true, line, column);
        text.len = 0;
        if (!pushed || text.failed) {
            free(text.data);
            return yg_error_set(err, YG_ENOMEM, "out of memory compiling a template");
        }
        i = j + 1;
        lit = i;
    }
    yg_tx_sbuf_append(&text, s + lit, n - lit);
    bool ok = !text.failed && (text.len == 0 || pieces_push(t, &cap, text.data, text.len, false, 0, 0));
    free(text.data);
    if (!ok)
        return yg_error_set(err, YG_ENOMEM, "out of memory compiling a template");
    return YG_OK;
}

/* Text form of a top-level simple-mode variable: lists are joined with ", ". */
static bool simple_put_value(tx_sbuf_t *out, const yg_value_t *v, bool top)
{
    if (yg_value_type(v) == YG_STR)
        return yg_tx_sbuf_append(out, yg_value_str(v), yg_value_strlen(v));
    if (top && yg_value_type(v) == YG_LIST) {
        for (size_t i = 0; i < yg_list_size(v); i++) {
            if (i && !yg_tx_sbuf_append(out, ", ", 2))
                return false;
            if (!simple_put_value(out, yg_list_get(v, i), false))
                return false;
        }
        return true;
    }
    char *text = yg_pytext_str(v);
    if (!text) {
        out->failed = true;
        return false;
    }
    bool ok = yg_tx_sbuf_append(out, text, strlen(text));
    free(text);
    return ok;
}

static char *simple_render(const yg_tmpl_t *t, const yg_value_t *vars, yg_error_t *err)
{
    tx_sbuf_t out = {0};
    yg_tx_sbuf_append(&out, "", 0);
    for (size_t i = 0; i < t->npieces; i++) {
        const tx_piece_t *p = &t->pieces[i];
        if (!p->is_var) {
            yg_tx_sbuf_append(&out, p->text, p->len);
            continue;
        }
        const char *dot = strchr(p->text, '.');
        size_t headlen = dot ? (size_t)(dot - p->text) : p->len;
        const yg_value_t *v = yg_map_getn(vars, p->text, headlen);
        if (!v) {
            free(out.data);
            yg_error_set_at(err, YG_ETEMPLATE, t->file, p->line, p->column,
                            "Missing variable '%.*s'", (int)headlen, p->text);
            return NULL;
        }
        /* {a.b.c}: attribute access is key access on maps (structured
         * results are maps in C, spec 2.5). */
        while (dot) {
            const char *key = dot + 1;
            dot = strchr(key, '.');
            size_t keylen = dot ? (size_t)(dot - key) : strlen(key);
            v = yg_value_type(v) == YG_MAP ? yg_map_getn(v, key, keylen) : NULL;
            if (!v) {
                free(out.data);
                yg_error_set_at(err, YG_ETEMPLATE, t->file, p->line, p->column,
                                "Missing variable '%s': no key '%.*s'", p->text, (int)keylen,
                                key);
                return NULL;
            }
        }
        simple_put_value(&out, v, strchr(p->text, '.') == NULL);
    }
    if (out.failed) {
        free(out.data);
        if (out.too_big)
            yg_error_set(err, YG_ELIMIT, "rendered template exceeds %u bytes", TX_MAX_OUTPUT);
        else
            yg_error_set(err, YG_ENOMEM, "out of memory rendering a template");
        return NULL;
    }
    return out.data;
}

/* ------------------------------------------------------------------------ */
/* Jinja lexer                                                                */
/* ------------------------------------------------------------------------ */

typedef enum {
    TK_DATA = 0,
    TK_VAR_BEGIN,
    TK_VAR_END,
    TK_BLOCK_BEGIN,
    TK_BLOCK_END,
    TK_NAME,
    TK_INT,
    TK_FLOAT,
    TK_STRING,
    TK_OP,
    TK_EOF
} tk_kind_t;

typedef struct {
    tk_kind_t kind;
    size_t off, len;  /* span in the (normalised) source */
    char *str;        /* TK_DATA text / TK_STRING value (owned) */
    size_t slen;
    int64_t ival;
    double fval;
} tk_t;

typedef struct {
    tx_pos_ctx_t pc;
    tk_t *toks;
    size_t ntoks, cap;
    size_t pos;       /* parser cursor */
    int depth;        /* parser recursion depth */
    yg_error_t *err;
    bool oom;
} cx_t;

static int cx_oom(cx_t *cx)
{
    cx->oom = true;
    return yg_error_set(cx->err, YG_ENOMEM, "out of memory compiling a template");
}

static int tok_push(cx_t *cx, tk_kind_t kind, size_t off, size_t len)
{
    if (cx->ntoks == cx->cap) {
        size_t ncap = cx->cap ? cx->cap * 2 : 64;
        tk_t *t = realloc(cx->toks, ncap * sizeof *t);
        if (!t)
            return cx_oom(cx);
        cx->toks = t;
        cx->cap = ncap;
    }
    cx->toks[cx->ntoks++] = (tk_t){.kind = kind, .off = off, .len = len};
    return YG_OK;
}

/* Emit a data token for src[a..b), stripping leading whitespace when the
 * previous tag ended with '-' and trailing whitespace when the next tag
 * starts with '-'. */
static int emit_data(cx_t *cx, size_t a, size_t b, bool lstrip, bool rstrip)
{
    const char *s = cx->pc.src;
    if (lstrip)
        while (a < b && is_space((unsigned char)s[a]))
            a++;
    if (rstrip)
        while (b > a && is_space((unsigned char)s[b - 1]))
            b--;
    if (a == b)
        return YG_OK;
    if (tok_push(cx, TK_DATA, a, b - a))
        return cx->err ? cx->err->code : YG_ENOMEM;
    tk_t *t = &cx->toks[cx->ntoks - 1];
    t->str = dup_n(s + a, b - a);
    t->slen = b - a;
    return t->str ? YG_OK : cx_oom(cx);
}

/* Python string-literal escapes (Jinja decodes with unicode-escape). */
static int lex_string(cx_t *cx, size_t *ip)
{
    const char *s = cx->pc.src;
    size_t n = cx->pc.len, start = *ip, i = start + 1;
    char q = s[start];
    tx_sbuf_t b = {0};
    yg_tx_sbuf_append(&b, "", 0);
    while (i < n && s[i] != q) {
        if (s[i] != '\\') {
            size_t j = i;
            while (j < n && s[j] != q && s[j] != '\\')
                j++;
            yg_tx_sbuf_append(&b, s + i, j - i);
            i = j;
            continue;
        }
        if (i + 1 >= n)
            break;
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'n': yg_tx_sbuf_putc(&b, '\n'); break;
        case 't': yg_tx_sbuf_putc(&b, '\t'); break;
        case 'r': yg_tx_sbuf_putc(&b, '\r'); break;
        case 'a': yg_tx_sbuf_putc(&b, '\a'); break;
        case 'b': yg_tx_sbuf_putc(&b, '\b'); break;
        case 'f': yg_tx_sbuf_putc(&b, '\f'); break;
        case 'v': yg_tx_sbuf_putc(&b, '\v'); break;
        case '\\': yg_tx_sbuf_putc(&b, '\\'); break;
        case '\'': yg_tx_sbuf_putc(&b, '\''); break;
        case '"': yg_tx_sbuf_putc(&b, '"'); break;
        case '\n': break; /* line continuation */
        case 'x':
        case 'u':
        case 'U': {
            size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            uint32_t cp = 0;
            size_t k = 0;
            for (; k < digits && i + k < n; k++) {
                char h = s[i + k];
                int v = h >= '0' && h <= '9'   ? h - '0'
                        : h >= 'a' && h <= 'f' ? h - 'a' + 10
                        : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                               : -1;
                if (v < 0)
                    break;
                cp = cp * 16 + (uint32_t)v;
            }
            if (k != digits || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                free(b.data);
                return errorf_at(&cx->pc, cx->err, i - 2, "invalid \\%c escape in a string literal", e);
            }
            yg_tx_sbuf_put_cp(&b, cp);
            i += digits;
            break;
        }
        default:
            if (e >= '0' && e <= '7') {
                uint32_t cp = (uint32_t)(e - '0');
                for (int k = 0; k < 2 && i < n && s[i] >= '0' && s[i] <= '7'; k++, i++)
                    cp = cp * 8 + (uint32_t)(s[i] - '0');
                yg_tx_sbuf_put_cp(&b, cp);
            } else {
                /* unknown escapes stay as written */
                yg_tx_sbuf_putc(&b, '\\');
                yg_tx_sbuf_putc(&b, e);
            }
        }
    }
    if (i >= n) {
        free(b.data);
        return errorf_at(&cx->pc, cx->err, start, "unterminated string literal");
    }
    if (b.failed) {
        free(b.data);
        return cx_oom(cx);
    }
    if (tok_push(cx, TK_STRING, start, i + 1 - start)) {
        free(b.data);
        return YG_ENOMEM;
    }
    cx->toks[cx->ntoks - 1].str = b.data;
    cx->toks[cx->ntoks - 1].slen = b.len;
    *ip = i + 1;
    return YG_OK;
}

static int lex_number(cx_t *cx, size_t *ip)
{
    const char *s = cx->pc.src;
    size_t n = cx->pc.len, start = *ip, i = start;
    bool is_float = false;
    char buf[128];
    size_t bl = 0;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
        if (s[i] != '_' && bl < sizeof buf - 1)
            buf[bl++] = s[i];
        i++;
    }
    /* a fraction needs a digit after the dot (so `a.0.b` stays attribute access) */
    if (i + 1 < n && s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
        is_float = true;
        buf[bl < sizeof buf - 1 ? bl++ : bl] = '.';
        i++;
        while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
            if (s[i] != '_' && bl < sizeof buf - 1)
                buf[bl++] = s[i];
            i++;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < n && s[j] >= '0' && s[j] <= '9') {
            is_float = true;
            while (i < j && bl < sizeof buf - 1)
                buf[bl++] = s[i++];
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (bl < sizeof buf - 1)
                    buf[bl++] = s[i];
                i++;
            }
        }
    }
    buf[bl] = '\0';
    if (bl >= sizeof buf - 1)
        return errorf_at(&cx->pc, cx->err, start, "number literal too long");
    if (tok_push(cx, is_float ? TK_FLOAT : TK_INT, start, i - start))
        return YG_ENOMEM;
    tk_t *t = &cx->toks[cx->ntoks - 1];
    errno = 0;
    if (is_float) {
        t->fval = strtod(buf, NULL);
    } else {
        t->ival = strtoll(buf, NULL, 10);
        if (errno == ERANGE)
            return errorf_at(&cx->pc, cx->err, start, "integer literal out of range");
    }
    *ip = i;
    return YG_OK;
}

static const char *const OPS2[] = {"//", "**", "==", "!=", "<=", ">=", NULL};
static const char OPS1[] = "+-*/%~()[]{},.:|=<>";

/* Tokenise one tag's contents starting at *ip until its end delimiter
 * (`}}` for output, `%}` for statements).  Sets *strip_after when the end
 * delimiter carries '-'. */
static int lex_tag(cx_t *cx, size_t *ip, bool is_var, size_t tag_start, bool *strip_after)
{
    const char *s = cx->pc.src;
    size_t n = cx->pc.len, i = *ip;
    char close = is_var ? '}' : '%';
    int balance = 0; /* open ( [ { inside the tag */
    for (;;) {
        while (i < n && is_space((unsigned char)s[i]))
            i++;
        if (i >= n)
            return errorf_at(&cx->pc, cx->err, tag_start, "unclosed '%s' tag (missing '%s')",
                             is_var ? "{{" : "{%", is_var ? "}}" : "%}");
        bool ends = balance == 0 || !is_var;
        if (ends && s[i] == '-' && i + 2 < n && s[i + 1] == close && s[i + 2] == '}') {
            *strip_after = true;
            if (tok_push(cx, is_var ? TK_VAR_END : TK_BLOCK_END, i, 3))
                return YG_ENOMEM;
            *ip = i + 3;
            return YG_OK;
        }
        if (ends && s[i] == close && i + 1 < n && s[i + 1] == '}') {
            *strip_after = false;
            if (tok_push(cx, is_var ? TK_VAR_END : TK_BLOCK_END, i, 2))
                return YG_ENOMEM;
            *ip = i + 2;
            return YG_OK;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '\'' || c == '"') {
            int rc = lex_string(cx, &i);
            if (rc)
                return rc;
            continue;
        }
        if (c >= '0' && c <= '9') {
            int rc = lex_number(cx, &i);
            if (rc)
                return rc;
            continue;
        }
        if (is_ident_start(c)) {
            size_t j = i;
            while (j < n && is_word((unsigned char)s[j]))
                j++;
            if (tok_push(cx, TK_NAME, i, j - i))
                return YG_ENOMEM;
            i = j;
            continue;
        }
        size_t oplen = 0;
        for (int k = 0; OPS2[k]; k++)
            if (i + 1 < n && s[i] == OPS2[k][0] && s[i + 1] == OPS2[k][1])
                oplen = 2;
        if (!oplen && c && strchr(OPS1, c))
            oplen = 1;
        if (!oplen)
            return errorf_at(&cx->pc, cx->err, i, "unexpected character '%c' in a tag",
                             c >= 0x20 && c < 0x7F ? c : '?');
        if (oplen == 1 && (c == '(' || c == '[' || c == '{'))
            balance++;
        if (oplen == 1 && (c == ')' || c == ']' || c == '}') && balance > 0)
            balance--;
        if (tok_push(cx, TK_OP, i, oplen))
            return YG_ENOMEM;
        i += oplen;
    }
}

/* Is s[i..] `{%[-+]? raw [-]?%}` (keyword `kw`)?  Returns the length of the
 * tag, with *strip_before / *strip_after set from its '-' markers. */
static size_t match_raw_tag(const char *s, size_t n, size_t i, const char *kw, bool *strip_before,
                            bool *strip_after)
{
    size_t j = i + 2, kwl = strlen(kw);
    *strip_before = *strip_after = false;
    if (j < n && (s[j] == '-' || s[j] == '+')) {
        *strip_before = s[j] == '-';
        j++;
    }
    while (j < n && is_space((unsigned char)s[j]))
        j++;
    if (j + kwl > n || memcmp(s + j, kw, kwl) != 0)
        return 0;
    j += kwl;
    if (j < n && is_word((unsigned char)s[j]))
        return 0;
    while (j < n && is_space((unsigned char)s[j]))
        j++;
    if (j < n && s[j] == '-') {
        *strip_after = true;
        j++;
    }
    if (j + 1 < n && s[j] == '%' && s[j + 1] == '}')
        return j + 2 - i;
    return 0;
}

/* Split the whole source into tokens. */
static int lex_all(cx_t *cx)
{
    const char *s = cx->pc.src;
    size_t n = cx->pc.len, i = 0, data_start = 0;
    bool lstrip = false;
    while (i < n) {
        if (s[i] != '{' || i + 1 >= n || (s[i + 1] != '{' && s[i + 1] != '%' && s[i + 1] != '#')) {
            i++;
            continue;
        }
        char kind = s[i + 1];
        size_t tag = i;
        bool strip_before = i + 2 < n && s[i + 2] == '-';
        bool raw_before, raw_after;
        size_t rawlen = kind == '%' ? match_raw_tag(s, n, i, "raw", &raw_before, &raw_after) : 0;
        if (rawlen) {
            if (emit_data(cx, data_start, tag, lstrip, raw_before))
                return cx->err->code;
            /* find the matching endraw */
            size_t j = tag + rawlen, endlen = 0;
            bool end_before = false, end_after = false;
            for (; j + 1 < n; j++)
                if (s[j] == '{' && s[j + 1] == '%' &&
                    (endlen = match_raw_tag(s, n, j, "endraw", &end_before, &end_after)))
                    break;
            if (!endlen)
                return errorf_at(&cx->pc, cx->err, tag,
                                 "unclosed '{%% raw %%}' block (missing '{%% endraw %%}')");
            if (emit_data(cx, tag + rawlen, j, raw_after, end_before))
                return cx->err->code;
            i = data_start = j + endlen;
            lstrip = end_after;
            continue;
        }
        if (emit_data(cx, data_start, tag, lstrip, strip_before))
            return cx->err->code;
        size_t body = i + 2 + ((i + 2 < n && (s[i + 2] == '-' || s[i + 2] == '+')) ? 1 : 0);
        if (kind == '#') {
            size_t j = body;
            while (j + 1 < n && !(s[j] == '#' && s[j + 1] == '}'))
                j++;
            if (j + 1 >= n)
                return errorf_at(&cx->pc, cx->err, tag, "unclosed comment (missing '#}')");
            lstrip = j > body && s[j - 1] == '-';
            i = data_start = j + 2;
            continue;
        }
        bool is_var = kind == '{';
        if (tok_push(cx, is_var ? TK_VAR_BEGIN : TK_BLOCK_BEGIN, tag, body - tag))
            return YG_ENOMEM;
        i = body;
        int rc = lex_tag(cx, &i, is_var, tag, &lstrip);
        if (rc)
            return rc;
        data_start = i;
    }
    if (emit_data(cx, data_start, n, lstrip, false))
        return cx->err->code;
    return tok_push(cx, TK_EOF, n, 0);
}

/* ------------------------------------------------------------------------ */
/* Tree construction and destruction                                          */
/* ------------------------------------------------------------------------ */

static void expr_free(tx_expr_t *e)
{
    if (!e)
        return;
    expr_free(e->a);
    expr_free(e->b);
    expr_free(e->c);
    expr_free(e->d);
    for (size_t i = 0; i < e->nargs; i++) {
        expr_free(e->args[i]);
        if (e->kwnames)
            free(e->kwnames[i]);
    }
    free(e->args);
    free(e->kwnames);
    free(e->ops);
    free(e->name);
    yg_value_destroy(&e->constant);
    free(e);
}

static void body_free(tx_body_t *b);

static void node_free(tx_node_t *nd)
{
    if (!nd)
        return;
    free(nd->text);
    expr_free(nd->expr);
    expr_free(nd->filter);
    for (size_t i = 0; i < nd->nbranches; i++) {
        expr_free(nd->branches[i].cond);
        body_free(&nd->branches[i].body);
    }
    free(nd->branches);
    free(nd->targets[0]);
    free(nd->targets[1]);
    body_free(&nd->body);
    body_free(&nd->else_body);
    free(nd);
}

static void body_free(tx_body_t *b)
{
    for (size_t i = 0; i < b->size; i++)
        node_free(b->items[i]);
    free(b->items);
    b->items = NULL;
    b->size = b->cap = 0;
}

static int body_push(cx_t *cx, tx_body_t *b, tx_node_t *nd)
{
    if (b->size == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 8;
        tx_node_t **items = realloc(b->items, ncap * sizeof *items);
        if (!items) {
            node_free(nd);
            return cx_oom(cx);
        }
        b->items = items;
        b->cap = ncap;
    }
    b->items[b->size++] = nd;
    return YG_OK;
}

static tx_expr_t *expr_new(cx_t *cx, tx_expr_kind_t kind, size_t off)
{
    tx_expr_t *e = calloc(1, sizeof *e);
    if (!e) {
        cx_oom(cx);
        return NULL;
    }
    e->kind = kind;
    pos_of(&cx->pc, off, &e->line, &e->column);
    return e;
}

static int expr_add_arg(cx_t *cx, tx_expr_t *e, tx_expr_t *arg, const char *kw, size_t kwlen)
{
    tx_expr_t **args = realloc(e->args, (e->nargs + 1) * sizeof *args);
    if (!args) {
        expr_free(arg);
        return cx_oom(cx);
    }
    e->args = args;
    char **kws = realloc(e->kwnames, (e->nargs + 1) * sizeof *kws);
    if (!kws) {
        expr_free(arg);
        return cx_oom(cx);
    }
    e->kwnames = kws;
    kws[e->nargs] = NULL;
    if (kw && !(kws[e->nargs] = dup_n(kw, kwlen))) {
        expr_free(arg);
        return cx_oom(cx);
    }
    args[e->nargs++] = arg;
    return YG_OK;
}

/* ------------------------------------------------------------------------ */
/* Expression parser (precedence as in Jinja2's parser)                       */
/* ------------------------------------------------------------------------ */

static tk_t *cur(cx_t *cx)
{
    return &cx->toks[cx->pos];
}

static bool tk_is_op(const cx_t *cx, const tk_t *t, const char *op)
{
    return t->kind == TK_OP && t->len == strlen(op) && memcmp(cx->pc.src + t->off, op, t->len) == 0;
}

static bool tk_is_name(const cx_t *cx, const tk_t *t, const char *name)
{
    return t->kind == TK_NAME && t->len == strlen(name) &&
           memcmp(cx->pc.src + t->off, name, t->len) == 0;
}

static bool accept_op(cx_t *cx, const char *op)
{
    if (tk_is_op(cx, cur(cx), op)) {
        cx->pos++;
        return true;
    }
    return false;
}

static bool accept_name(cx_t *cx, const char *name)
{
    if (tk_is_name(cx, cur(cx), name)) {
        cx->pos++;
        return true;
    }
    return false;
}

static void describe_tok(cx_t *cx, const tk_t *t, char *buf, size_t size)
{
    switch (t->kind) {
    case TK_EOF: snprintf(buf, size, "end of template"); break;
    case TK_VAR_END: snprintf(buf, size, "end of print statement"); break;
    case TK_BLOCK_END: snprintf(buf, size, "end of statement block"); break;
    default: snprintf(buf, size, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), cx->pc.src + t->off);
    }
}

static tx_expr_t *fail_tok(cx_t *cx, const char *what)
{
    char desc[64];
    describe_tok(cx, cur(cx), desc, sizeof desc);
    errorf_at(&cx->pc, cx->err, cur(cx)->off, "expected %s, got %s", what, desc);
    return NULL;
}

static bool expect_op(cx_t *cx, const char *op)
{
    if (accept_op(cx, op))
        return true;
    char what[16];
    snprintf(what, sizeof what, "'%s'", op);
    fail_tok(cx, what);
    return false;
}

static tx_expr_t *parse_expr(cx_t *cx, bool with_cond);
static tx_expr_t *parse_or(cx_t *cx);
static tx_expr_t *parse_unary(cx_t *cx, bool with_filter);
static tx_expr_t *parse_primary(cx_t *cx);
static tx_expr_t *parse_postfix(cx_t *cx, tx_expr_t *e);

static const char *const METHOD_NAMES[M__COUNT] = {
    "keys", "values", "items", "get", "upper", "lower", "strip", "lstrip", "rstrip", "split",
    "startswith", "endswith", "replace", "title", "capitalize", "join"};

static const char *const FILTER_NAMES[F__COUNT] = {
    "default", "join", "length", "upper", "lower", "first", "last", "trim", "string",
    "int", "float", "round", "replace", "title", "capitalize", "tojson", "list", "sort",
    "unique", "reverse", "abs", "safe", "map", "min", "max", "sum"};

static const char *const TEST_NAMES[T__COUNT] = {
    "defined", "undefined", "none", "string", "number", "integer", "float", "boolean",
    "true", "false", "mapping", "iterable", "sequence", "odd", "even", "divisibleby",
    "eq", "ne", "lower", "upper"};

/* Call signatures checked at compile time: parameter names (positional
 * order), how many may be passed positionally, and how many are required. */
typedef struct {
    const char *params[3];
    int npos;
    int min;
} tx_sig_t;

static const tx_sig_t FILTER_SIGS[F__COUNT] = {
    [F_DEFAULT] = {{"default_value", "boolean"}, 2, 0},
    [F_JOIN] = {{"d", "attribute"}, 2, 0},
    [F_TRIM] = {{"chars"}, 1, 0},
    [F_INT] = {{"default"}, 1, 0},
    [F_FLOAT] = {{"default"}, 1, 0},
    [F_ROUND] = {{"precision", "method"}, 2, 0},
    [F_REPLACE] = {{"old", "new", "count"}, 3, 2},
    [F_TOJSON] = {{"indent"}, 1, 0},
    [F_SORT] = {{"reverse", "case_sensitive", "attribute"}, 3, 0},
    [F_UNIQUE] = {{"case_sensitive", "attribute"}, 2, 0},
    [F_MAP] = {{"attribute", "default"}, 0, 1}, /* only map(attribute=...) */
    [F_MIN] = {{"case_sensitive", "attribute"}, 2, 0},
    [F_MAX] = {{"case_sensitive", "attribute"}, 2, 0},
    [F_SUM] = {{"attribute", "start"}, 2, 0},
};

static const tx_sig_t TEST_SIGS[T__COUNT] = {
    [T_DIVISIBLEBY] = {{"num"}, 1, 1},
    [T_EQ] = {{"other"}, 1, 1},
    [T_NE] = {{"other"}, 1, 1},
};

static const tx_sig_t METHOD_SIGS[M__COUNT] = {
    [M_GET] = {{"key", "default"}, 2, 1},
    [M_STRIP] = {{"chars"}, 1, 0},
    [M_LSTRIP] = {{"chars"}, 1, 0},
    [M_RSTRIP] = {{"chars"}, 1, 0},
    [M_SPLIT] = {{"sep", "maxsplit"}, 2, 0},
    [M_STARTSWITH] = {{"prefix"}, 1, 1},
    [M_ENDSWITH] = {{"suffix"}, 1, 1},
    [M_REPLACE] = {{"old", "new", "count"}, 3, 2},
    [M_JOIN] = {{"iterable"}, 1, 1},
};

static bool has_kwargs(const tx_expr_t *e)
{
    for (size_t i = 0; e->kwnames && i < e->nargs; i++)
        if (e->kwnames[i])
            return true;
    return false;
}

/* Check e's arguments against sig; errors point at `off`. */
static bool check_args(cx_t *cx, const tx_expr_t *e, const tx_sig_t *sig, const char *kind,
                       const char *name, size_t off)
{
    int npos = 0;
    bool given[3] = {false, false, false};
    for (size_t i = 0; i < e->nargs; i++) {
        const char *kw = e->kwnames ? e->kwnames[i] : NULL;
        if (!kw) {
            if (npos >= sig->npos) {
                errorf_at(&cx->pc, cx->err, off, "too many positional arguments for %s '%s'",
                          kind, name);
                return false;
            }
            given[npos++] = true;
            continue;
        }
        int k = 0;
        while (k < 3 && !(sig->params[k] && strcmp(sig->params[k], kw) == 0))
            k++;
        if (k == 3 || given[k]) {
            errorf_at(&cx->pc, cx->err, off, "%s argument '%s' for %s '%s'",
                      k == 3 ? "unknown" : "repeated", kw, kind, name);
            return false;
        }
        given[k] = true;
    }
    for (int k = 0; k < sig->min; k++)
        if (!given[k]) {
            errorf_at(&cx->pc, cx->err, off, "missing argument '%s' for %s '%s'",
                      sig->params[k], kind, name);
            return false;
        }
    return true;
}

static int lookup_name(const char *const *table, int count, const cx_t *cx, const tk_t *t)
{
    for (int i = 0; i < count; i++)
        if (strlen(table[i]) == t->len && memcmp(table[i], cx->pc.src + t->off, t->len) == 0)
            return i;
    return -1;
}

/* Filter aliases: d = default, count = length, e/escape not supported. */
static int lookup_filter(const cx_t *cx, const tk_t *t)
{
    if (tk_is_name(cx, t, "d"))
        return F_DEFAULT;
    if (tk_is_name(cx, t, "count"))
        return F_LENGTH;
    return lookup_name(FILTER_NAMES, F__COUNT, cx, t);
}

static int lookup_test(const cx_t *cx, const tk_t *t)
{
    if (tk_is_name(cx, t, "equalto") || tk_is_name(cx, t, "sameas"))
        return T_EQ;
    if (tk_is_name(cx, t, "mapping"))
        return T_MAPPING;
    return lookup_name(TEST_NAMES, T__COUNT, cx, t);
}

/* Parse `( args )` after the '(' has been consumed, into e->args. */
static bool parse_call_args(cx_t *cx, tx_expr_t *e)
{
    bool seen_kw = false;
    while (!accept_op(cx, ")")) {
        if (e->nargs && !expect_op(cx, ","))
            return false;
        if (e->nargs && accept_op(cx, ")"))
            break;
        const tk_t *t = cur(cx);
        const char *kw = NULL;
        size_t kwlen = 0;
        if (t->kind == TK_NAME && tk_is_op(cx, t + 1, "=")) {
            kw = cx->pc.src + t->off;
            kwlen = t->len;
            cx->pos += 2;
            seen_kw = true;
        } else if (seen_kw) {
            errorf_at(&cx->pc, cx->err, t->off, "positional argument after keyword argument");
            return false;
        }
        tx_expr_t *arg = parse_expr(cx, true);
        if (!arg || expr_add_arg(cx, e, arg, kw, kwlen))
            return false;
    }
    return true;
}

/* The node of the filter (EX_FILTER) or test (EX_TEST) named by the
 * current token, applied to target: the name is looked up and consumed,
 * *off receives its offset.  Takes target (freed on failure). */
static tx_expr_t *parse_op_name(cx_t *cx, tx_expr_t *target, tx_expr_kind_t kind, size_t *off)
{
    bool filter = kind == EX_FILTER;
    const tk_t *t = cur(cx);
    int id = t->kind != TK_NAME ? -1 : filter ? lookup_filter(cx, t) : lookup_test(cx, t);
    tx_expr_t *e = NULL;
    if (t->kind != TK_NAME) {
        fail_tok(cx, filter ? "a filter name" : "a test name");
    } else if (id < 0) {
        errorf_at(&cx->pc, cx->err, t->off, "unknown or unsupported %s '%.*s'",
                  filter ? "filter" : "test", (int)t->len, cx->pc.src + t->off);
    } else if ((e = expr_new(cx, kind, t->off))) {
        e->op = id;
        e->a = target;
        target = NULL;
        *off = t->off;
        cx->pos++;
    }
    expr_free(target);
    return e;
}

static tx_expr_t *parse_filter(cx_t *cx, tx_expr_t *target)
{
    size_t off = 0;
    tx_expr_t *e = parse_op_name(cx, target, EX_FILTER, &off);
    if (!e)
        return NULL;
    if ((accept_op(cx, "(") && !parse_call_args(cx, e)) ||
        !check_args(cx, e, &FILTER_SIGS[e->op], "filter", FILTER_NAMES[e->op], off)) {
        expr_free(e);
        return NULL;
    }
    return e;
}

static tx_expr_t *parse_test(cx_t *cx, tx_expr_t *target)
{
    bool negate = accept_name(cx, "not");
    size_t off = 0;
    tx_expr_t *e = parse_op_name(cx, target, EX_TEST, &off);
    if (!e)
        return NULL;
    e->negate = negate;
    const tk_t *n = cur(cx);
    if (accept_op(cx, "(")) {
        if (!parse_call_args(cx, e)) {
            expr_free(e);
            return NULL;
        }
    } else if ((n->kind == TK_NAME || n->kind == TK_STRING || n->kind == TK_INT ||
                n->kind == TK_FLOAT || tk_is_op(cx, n, "[") || tk_is_op(cx, n, "{")) &&
               !tk_is_name(cx, n, "else") && !tk_is_name(cx, n, "or") &&
               !tk_is_name(cx, n, "and") && !tk_is_name(cx, n, "is") &&
               !tk_is_name(cx, n, "if") && !tk_is_name(cx, n, "in") &&
               !tk_is_name(cx, n, "not")) {
        /* `x is divisibleby 3`: one argument without parentheses */
        tx_expr_t *arg = parse_primary(cx);
        if (arg)
            arg = parse_postfix(cx, arg);
        if (!arg || expr_add_arg(cx, e, arg, NULL, 0)) {
            expr_free(e);
            return NULL;
        }
    }
    if (!check_args(cx, e, &TEST_SIGS[e->op], "test", TEST_NAMES[e->op], off)) {
        expr_free(e);
        return NULL;
    }
    return e;
}

static tx_expr_t *parse_filter_expr(cx_t *cx, tx_expr_t *e)
{
    while (e) {
        if (accept_op(cx, "|"))
            e = parse_filter(cx, e);
        else if (accept_name(cx, "is"))
            e = parse_test(cx, e);
        else
            break;
    }
    return e;
}

/* A call on `callee`: only known methods and range() are supported. */
static tx_expr_t *parse_call(cx_t *cx, tx_expr_t *callee, size_t off)
{
    tx_expr_t *e = NULL;
    if (callee->kind == EX_ATTR) {
        int id = -1;
        for (int i = 0; i < M__COUNT; i++)
            if (strcmp(callee->name, METHOD_NAMES[i]) == 0)
                id = i;
        if (id < 0) {
            errorf_at(&cx->pc, cx->err, off, "unsupported method call '.%s()'", callee->name);
            expr_free(callee);
            return NULL;
        }
        e = expr_new(cx, EX_METHOD, off);
        if (e) {
            e->op = id;
            e->a = callee->a;
            e->name = callee->name;
            callee->a = NULL;
            callee->name = NULL;
        }
    } else if (callee->kind == EX_NAME && strcmp(callee->name, "range") == 0) {
        e = expr_new(cx, EX_RANGE, off);
    } else {
        errorf_at(&cx->pc, cx->err, off,
                  "unsupported function call (only methods such as .keys() and range() are "
                  "supported)");
        expr_free(callee);
        return NULL;
    }
    expr_free(callee);
    if (!e)
        return NULL;
    if (!parse_call_args(cx, e)) {
        expr_free(e);
        return NULL;
    }
    if (e->kind == EX_METHOD && !check_args(cx, e, &METHOD_SIGS[e->op], "method",
                                            METHOD_NAMES[e->op], off)) {
        expr_free(e);
        return NULL;
    }
    if (e->kind == EX_RANGE && (e->nargs < 1 || e->nargs > 3 || has_kwargs(e))) {
        errorf_at(&cx->pc, cx->err, off, "range() takes 1 to 3 arguments");
        expr_free(e);
        return NULL;
    }
    return e;
}

static tx_expr_t *parse_subscript(cx_t *cx, tx_expr_t *target, size_t off)
{
    tx_expr_t *parts[3] = {NULL, NULL, NULL};
    int nparts = 0;
    bool is_slice = false;
    for (;;) {
        if (tk_is_op(cx, cur(cx), ":") || tk_is_op(cx, cur(cx), "]")) {
            parts[nparts] = NULL;
        } else {
            parts[nparts] = parse_expr(cx, true);
            if (!parts[nparts])
                goto fail;
        }
        nparts++;
        if (nparts < 3 && accept_op(cx, ":")) {
            is_slice = true;
            continue;
        }
        if (!expect_op(cx, "]"))
            goto fail;
        break;
    }
    if (!is_slice && !parts[0]) {
        fail_tok(cx, "a subscript");
        goto fail;
    }
    tx_expr_t *e = expr_new(cx, is_slice ? EX_SLICE : EX_ITEM, off);
    if (!e)
        goto fail;
    e->a = target;
    e->b = parts[0];
    e->c = parts[1];
    e->d = parts[2];
    return e;
fail:
    for (int i = 0; i < 3; i++)
        expr_free(parts[i]);
    expr_free(target);
    return NULL;
}

static tx_expr_t *parse_postfix(cx_t *cx, tx_expr_t *e)
{
    while (e) {
        const tk_t *t = cur(cx);
        size_t off = t->off;
        if (accept_op(cx, ".")) {
            const tk_t *n = cur(cx);
            if (n->kind == TK_NAME) {
                tx_expr_t *a = expr_new(cx, EX_ATTR, n->off);
                if (!a || !(a->name = dup_n(cx->pc.src + n->off, n->len))) {
                    expr_free(a);
                    expr_free(e);
                    return a ? (cx_oom(cx), NULL) : NULL;
                }
                a->a = e;
                e = a;
                cx->pos++;
            } else if (n->kind == TK_INT) {
                /* a.0 is a[0] */
                tx_expr_t *k = expr_new(cx, EX_CONST, n->off);
                tx_expr_t *a = k ? expr_new(cx, EX_ITEM, n->off) : NULL;
                if (k && !(k->constant = yg_int_new(n->ival)))
                    cx_oom(cx);
                if (!a || !k->constant) {
                    expr_free(k);
                    expr_free(a);
                    expr_free(e);
                    return NULL;
                }
                a->a = e;
                a->b = k;
                e = a;
                cx->pos++;
            } else {
                expr_free(e);
                return fail_tok(cx, "an attribute name");
            }
        } else if (accept_op(cx, "[")) {
            e = parse_subscript(cx, e, off);
        } else if (accept_op(cx, "(")) {
            e = parse_call(cx, e, off);
        } else {
            break;
        }
    }
    return e;
}

static tx_expr_t *parse_list_or_dict(cx_t *cx, bool is_dict, size_t off)
{
    tx_expr_t *e = expr_new(cx, is_dict ? EX_DICT : EX_LIST, off);
    if (!e)
        return NULL;
    const char *close = is_dict ? "}" : "]";
    size_t items = 0;
    while (!accept_op(cx, close)) {
        if (items && !expect_op(cx, ","))
            goto fail;
        if (items && accept_op(cx, close))
            break;
        tx_expr_t *item = parse_expr(cx, true);
        if (!item || expr_add_arg(cx, e, item, NULL, 0))
            goto fail;
        if (is_dict) {
            if (!expect_op(cx, ":"))
                goto fail;
            item = parse_expr(cx, true);
            if (!item || expr_add_arg(cx, e, item, NULL, 0))
                goto fail;
        }
        items++;
    }
    return e;
fail:
    expr_free(e);
    return NULL;
}

static tx_expr_t *const_expr(cx_t *cx, size_t off, yg_value_t *v)
{
    if (!v) {
        cx_oom(cx);
        return NULL;
    }
    tx_expr_t *e = expr_new(cx, EX_CONST, off);
    if (!e) {
        yg_value_destroy(&v);
        return NULL;
    }
    e->constant = v;
    return e;
}

static tx_expr_t *parse_primary(cx_t *cx)
{
    tk_t *t = cur(cx);
    size_t off = t->off;
    switch (t->kind) {
    case TK_NAME: {
        cx->pos++;
        if (tk_is_name(cx, t, "true") || tk_is_name(cx, t, "True"))
            return const_expr(cx, off, yg_bool_new(true));
        if (tk_is_name(cx, t, "false") || tk_is_name(cx, t, "False"))
            return const_expr(cx, off, yg_bool_new(false));
        if (tk_is_name(cx, t, "none") || tk_is_name(cx, t, "None"))
            return const_expr(cx, off, yg_null_new());
        static const char *const reserved[] = {"and", "or", "not", "in", "is", "if", "else", NULL};
        for (int i = 0; reserved[i]; i++)
            if (tk_is_name(cx, t, reserved[i])) {
                cx->pos--;
                return fail_tok(cx, "an expression");
            }
        tx_expr_t *e = expr_new(cx, EX_NAME, off);
        if (e && !(e->name = dup_n(cx->pc.src + t->off, t->len))) {
            expr_free(e);
            cx_oom(cx);
            return NULL;
        }
        return e;
    }
    case TK_STRING: {
        /* adjacent string literals concatenate */
        tx_sbuf_t b = {0};
        yg_tx_sbuf_append(&b, "", 0);
        while (cur(cx)->kind == TK_STRING) {
            yg_tx_sbuf_append(&b, cur(cx)->str, cur(cx)->slen);
            cx->pos++;
        }
        yg_value_t *v = b.failed ? NULL : yg_str_newn(b.data, b.len);
        free(b.data);
        return const_expr(cx, off, v);
    }
    case TK_INT: cx->pos++; return const_expr(cx, off, yg_int_new(t->ival));
    case TK_FLOAT: cx->pos++; return const_expr(cx, off, yg_float_new(t->fval));
    default: break;
    }
    if (accept_op(cx, "(")) {
        tx_expr_t *e = parse_expr(cx, true);
        if (e && tk_is_op(cx, cur(cx), ",")) {
            errorf_at(&cx->pc, cx->err, cur(cx)->off, "tuples are not supported (use a list)");
            expr_free(e);
            return NULL;
        }
        if (e && !expect_op(cx, ")")) {
            expr_free(e);
            return NULL;
        }
        return e;
    }
    if (accept_op(cx, "["))
        return parse_list_or_dict(cx, false, off);
    if (accept_op(cx, "{"))
        return parse_list_or_dict(cx, true, off);
    return fail_tok(cx, "an expression");
}

static tx_expr_t *parse_unary(cx_t *cx, bool with_filter)
{
    if (++cx->depth > TX_MAX_NESTING) {
        errorf_at(&cx->pc, cx->err, cur(cx)->off, "expression nested too deeply");
        return NULL;
    }
    size_t off = cur(cx)->off;
    tx_expr_t *e;
    if (accept_op(cx, "-") || accept_op(cx, "+")) {
        bool neg = tk_is_op(cx, &cx->toks[cx->pos - 1], "-");
        tx_expr_t *inner = parse_unary(cx, false);
        e = inner ? expr_new(cx, neg ? EX_NEG : EX_POS, off) : NULL;
        if (e)
            e->a = inner;
        else
            expr_free(inner);
    } else {
        e = parse_postfix(cx, parse_primary(cx));
    }
    if (with_filter)
        e = parse_filter_expr(cx, e);
    cx->depth--;
    return e;
}

static tx_expr_t *binop(cx_t *cx, tx_expr_kind_t kind, int op, size_t off, tx_expr_t *l,
                        tx_expr_t *r)
{
    tx_expr_t *e = (l && r) ? expr_new(cx, kind, off) : NULL;
    if (!e) {
        expr_free(l);
        expr_free(r);
        return NULL;
    }
    e->op = op;
    e->a = l;
    e->b = r;
    return e;
}

static tx_expr_t *parse_pow(cx_t *cx)
{
    tx_expr_t *e = parse_unary(cx, true);
    while (e && tk_is_op(cx, cur(cx), "**")) {
        size_t off = cur(cx)->off;
        cx->pos++;
        e = binop(cx, EX_BINOP, OP_POW, off, e, parse_unary(cx, true));
    }
    return e;
}

static tx_expr_t *parse_math2(cx_t *cx)
{
    tx_expr_t *e = parse_pow(cx);
    for (;;) {
        int op = tk_is_op(cx, cur(cx), "*")    ? OP_MUL
                 : tk_is_op(cx, cur(cx), "/")  ? OP_DIV
                 : tk_is_op(cx, cur(cx), "//") ? OP_FLOORDIV
                 : tk_is_op(cx, cur(cx), "%")  ? OP_MOD
                                               : -1;
        if (!e || op < 0)
            return e;
        size_t off = cur(cx)->off;
        cx->pos++;
        e = binop(cx, EX_BINOP, op, off, e, parse_pow(cx));
    }
}

static tx_expr_t *parse_concat(cx_t *cx)
{
    tx_expr_t *e = parse_math2(cx);
    while (e && tk_is_op(cx, cur(cx), "~")) {
        size_t off = cur(cx)->off;
        cx->pos++;
        e = binop(cx, EX_BINOP, OP_CONCAT, off, e, parse_math2(cx));
    }
    return e;
}

static tx_expr_t *parse_math1(cx_t *cx)
{
    tx_expr_t *e = parse_concat(cx);
    for (;;) {
        int op = tk_is_op(cx, cur(cx), "+") ? OP_ADD : tk_is_op(cx, cur(cx), "-") ? OP_SUB : -1;
        if (!e || op < 0)
            return e;
        size_t off = cur(cx)->off;
        cx->pos++;
        e = binop(cx, EX_BINOP, op, off, e, parse_concat(cx));
    }
}

static int compare_op(cx_t *cx)
{
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    for (int i = 0; i < 6; i++)
        if (accept_op(cx, ops[i]))
            return CMP_EQ + i;
    if (accept_name(cx, "in"))
        return CMP_IN;
    if (tk_is_name(cx, cur(cx), "not") && tk_is_name(cx, cur(cx) + 1, "in")) {
        cx->pos += 2;
        return CMP_NOTIN;
    }
    return -1;
}

static tx_expr_t *parse_compare(cx_t *cx)
{
    size_t off = cur(cx)->off;
    tx_expr_t *first = parse_math1(cx);
    if (!first)
        return NULL;
    size_t opoff = cur(cx)->off;
    int op = compare_op(cx);
    if (op < 0)
        return first;
    tx_expr_t *e = expr_new(cx, EX_COMPARE, opoff);
    (void)off;
    if (!e || expr_add_arg(cx, e, first, NULL, 0)) {
        if (!e)
            expr_free(first);
        expr_free(e);
        return NULL;
    }
    while (op >= 0) {
        int *ops = realloc(e->ops, e->nargs * sizeof *ops);
        if (!ops) {
            expr_free(e);
            cx_oom(cx);
            return NULL;
        }
        e->ops = ops;
        ops[e->nargs - 1] = op;
        tx_expr_t *rhs = parse_math1(cx);
        if (!rhs || expr_add_arg(cx, e, rhs, NULL, 0)) {
            expr_free(e);
            return NULL;
        }
        op = compare_op(cx);
    }
    return e;
}

static tx_expr_t *parse_not(cx_t *cx)
{
    size_t off = cur(cx)->off;
    if (accept_name(cx, "not")) {
        if (++cx->depth > TX_MAX_NESTING) {
            errorf_at(&cx->pc, cx->err, off, "expression nested too deeply");
            return NULL;
        }
        tx_expr_t *inner = parse_not(cx);
        cx->depth--;
        tx_expr_t *e = inner ? expr_new(cx, EX_NOT, off) : NULL;
        if (!e) {
            expr_free(inner);
            return NULL;
        }
        e->a = inner;
        return e;
    }
    return parse_compare(cx);
}

static tx_expr_t *parse_and(cx_t *cx)
{
    tx_expr_t *e = parse_not(cx);
    while (e && tk_is_name(cx, cur(cx), "and")) {
        size_t off = cur(cx)->off;
        cx->pos++;
        e = binop(cx, EX_AND, 0, off, e, parse_not(cx));
    }
    return e;
}

static tx_expr_t *parse_or(cx_t *cx)
{
    tx_expr_t *e = parse_and(cx);
    while (e && tk_is_name(cx, cur(cx), "or")) {
        size_t off = cur(cx)->off;
        cx->pos++;
        e = binop(cx, EX_OR, 0, off, e, parse_and(cx));
    }
    return e;
}

/* expression [if cond [else expr]]; with_cond false for `if`/`for` heads. */
static tx_expr_t *parse_expr(cx_t *cx, bool with_cond)
{
    if (++cx->depth > TX_MAX_NESTING) {
        errorf_at(&cx->pc, cx->err, cur(cx)->off, "expression nested too deeply");
        return NULL;
    }
    tx_expr_t *e = parse_or(cx);
    while (with_cond && e && tk_is_name(cx, cur(cx), "if")) {
        size_t off = cur(cx)->off;
        cx->pos++;
        tx_expr_t *cond = parse_or(cx);
        tx_expr_t *other = NULL;
        if (cond && accept_name(cx, "else"))
            other = parse_expr(cx, true);
        tx_expr_t *c = cond ? expr_new(cx, EX_COND, off) : NULL;
        if (!c || (tk_is_name(cx, &cx->toks[cx->pos - 1], "else") && !other)) {
            expr_free(c);
            expr_free(cond);
            expr_free(other);
            expr_free(e);
            e = NULL;
            break;
        }
        c->a = e;
        c->b = cond;
        c->c = other;
        e = c;
    }
    cx->depth--;
    return e;
}

/* ------------------------------------------------------------------------ */
/* Statement parser                                                           */
/* ------------------------------------------------------------------------ */

static bool expect_block_end(cx_t *cx)
{
    if (cur(cx)->kind == TK_BLOCK_END) {
        cx->pos++;
        return true;
    }
    fail_tok(cx, "end of statement block");
    return false;
}

static bool expr_mentions_loop(const tx_expr_t *e)
{
    if (!e)
        return false;
    if (e->kind == EX_NAME && strcmp(e->name, "loop") == 0)
        return true;
    if (expr_mentions_loop(e->a) || expr_mentions_loop(e->b) || expr_mentions_loop(e->c) ||
        expr_mentions_loop(e->d))
        return true;
    for (size_t i = 0; i < e->nargs; i++)
        if (expr_mentions_loop(e->args[i]))
            return true;
    return false;
}

static bool body_mentions_loop(const tx_body_t *b);

static bool node_mentions_loop(const tx_node_t *nd)
{
    if (expr_mentions_loop(nd->expr) || expr_mentions_loop(nd->filter))
        return true;
    for (size_t i = 0; i < nd->nbranches; i++)
        if (expr_mentions_loop(nd->branches[i].cond) || body_mentions_loop(&nd->branches[i].body))
            return true;
    return body_mentions_loop(&nd->body) || body_mentions_loop(&nd->else_body);
}

static bool body_mentions_loop(const tx_body_t *b)
{
    for (size_t i = 0; i < b->size; i++)
        if (node_mentions_loop(b->items[i]))
            return true;
    return false;
}

/* Parse nodes into `body` until a block tag whose name is in `ends` (NULL
 * terminated) or the end of the template.  On return at an end tag the
 * cursor is on its name; *found says which (-1 at end of template). */
static int parse_body(cx_t *cx, tx_body_t *body, const char *const *ends, int *found);

static tx_node_t *node_new(cx_t *cx, tx_node_kind_t kind, size_t off)
{
    tx_node_t *nd = calloc(1, sizeof *nd);
    if (!nd) {
        cx_oom(cx);
        return NULL;
    }
    nd->kind = kind;
    pos_of(&cx->pc, off, &nd->line, &nd->column);
    return nd;
}

static int unclosed(cx_t *cx, size_t tag_off, const char *what, const char *end)
{
    return errorf_at(&cx->pc, cx->err, tag_off,
                     "unclosed '{%% %s %%}' block (missing '{%% %s %%}')", what, end);
}

static int parse_if(cx_t *cx, tx_node_t *nd, size_t tag_off)
{
    static const char *const ends[] = {"elif", "else", "endif", NULL};
    for (;;) {
        tx_branch_t *br = realloc(nd->branches, (nd->nbranches + 1) * sizeof *br);
        if (!br)
            return cx_oom(cx);
        nd->branches = br;
        br = &nd->branches[nd->nbranches++];
        memset(br, 0, sizeof *br);
        br->cond = parse_expr(cx, false);
        if (!br->cond || !expect_block_end(cx))
            return YG_ETEMPLATE;
        int found;
        int rc = parse_body(cx, &br->body, ends, &found);
        if (rc)
            return rc;
        if (found < 0)
            return unclosed(cx, tag_off, "if", "endif");
        cx->pos++;
        if (found == 0)
            continue;
        if (found == 1) {
            static const char *const end_only[] = {"endif", NULL};
            if (!expect_block_end(cx))
                return YG_ETEMPLATE;
            rc = parse_body(cx, &nd->else_body, end_only, &found);
            if (rc)
                return rc;
            if (found < 0)
                return unclosed(cx, tag_off, "if", "endif");
            cx->pos++;
        }
        return expect_block_end(cx) ? YG_OK : YG_ETEMPLATE;
    }
}

static int parse_for(cx_t *cx, tx_node_t *nd, size_t tag_off)
{
    static const char *const ends[] = {"else", "endfor", NULL};
    do {
        const tk_t *t = cur(cx);
        if (t->kind != TK_NAME) {
            fail_tok(cx, "a loop variable name");
            return YG_ETEMPLATE;
        }
        if (nd->ntargets == 2) {
            errorf_at(&cx->pc, cx->err, t->off, "at most two loop variables are supported");
            return YG_ETEMPLATE;
        }
        if (!(nd->targets[nd->ntargets++] = dup_n(cx->pc.src + t->off, t->len)))
            return cx_oom(cx);
        cx->pos++;
    } while (accept_op(cx, ","));
    if (!accept_name(cx, "in")) {
        fail_tok(cx, "'in'");
        return YG_ETEMPLATE;
    }
    if (!(nd->expr = parse_expr(cx, false)))
        return YG_ETEMPLATE;
    if (accept_name(cx, "if") && !(nd->filter = parse_expr(cx, false)))
        return YG_ETEMPLATE;
    if (tk_is_name(cx, cur(cx), "recursive")) {
        errorf_at(&cx->pc, cx->err, cur(cx)->off, "recursive loops are not supported");
        return YG_ETEMPLATE;
    }
    if (!expect_block_end(cx))
        return YG_ETEMPLATE;
    int found;
    int rc = parse_body(cx, &nd->body, ends, &found);
    if (rc)
        return rc;
    if (found < 0)
        return unclosed(cx, tag_off, "for", "endfor");
    cx->pos++;
    if (found == 0) {
        static const char *const end_only[] = {"endfor", NULL};
        if (!expect_block_end(cx))
            return YG_ETEMPLATE;
        rc = parse_body(cx, &nd->else_body, end_only, &found);
        if (rc)
            return rc;
        if (found < 0)
            return unclosed(cx, tag_off, "for", "endfor");
        cx->pos++;
    }
    if (!expect_block_end(cx))
        return YG_ETEMPLATE;
    /* `loop` inside the else branch is the outer loop, as in Jinja */
    nd->uses_loop = body_mentions_loop(&nd->body) || expr_mentions_loop(nd->filter);
    return YG_OK;
}

static int parse_body(cx_t *cx, tx_body_t *body, const char *const *ends, int *found)
{
    *found = -1;
    if (++cx->depth > TX_MAX_NESTING)
        return errorf_at(&cx->pc, cx->err, cur(cx)->off, "blocks nested too deeply");
    int rc = YG_OK;
    while (rc == YG_OK) {
        tk_t *t = cur(cx);
        if (t->kind == TK_EOF)
            break;
        if (t->kind == TK_DATA) {
            tx_node_t *nd = node_new(cx, ND_TEXT, t->off);
            if (!nd)
                return YG_ENOMEM;
            nd->text = t->str;
            nd->textlen = t->slen;
            t->str = NULL;
            cx->pos++;
            rc = body_push(cx, body, nd);
            continue;
        }
        if (t->kind == TK_VAR_BEGIN) {
            cx->pos++;
            if (cur(cx)->kind == TK_VAR_END) {
                rc = errorf_at(&cx->pc, cx->err, cur(cx)->off, "empty expression in '{{ }}'");
                break;
            }
            tx_node_t *nd = node_new(cx, ND_OUTPUT, t->off);
            if (!nd)
                return YG_ENOMEM;
            nd->expr = parse_expr(cx, true);
            if (!nd->expr || cur(cx)->kind != TK_VAR_END) {
                if (nd->expr)
                    fail_tok(cx, "end of print statement");
                node_free(nd);
                rc = YG_ETEMPLATE;
                break;
            }
            cx->pos++;
            rc = body_push(cx, body, nd);
            continue;
        }
        /* a statement */
        assert(t->kind == TK_BLOCK_BEGIN);
        size_t tag_off = t->off;
        cx->pos++;
        const tk_t *name = cur(cx);
        if (name->kind != TK_NAME) {
            rc = (fail_tok(cx, "a tag name"), YG_ETEMPLATE);
            break;
        }
        for (int i = 0; ends && ends[i]; i++)
            if (tk_is_name(cx, name, ends[i])) {
                *found = i;
                cx->depth--;
                return YG_OK;
            }
        if (tk_is_name(cx, name, "if") || tk_is_name(cx, name, "for")) {
            bool is_if = tk_is_name(cx, name, "if");
            tx_node_t *nd = node_new(cx, is_if ? ND_IF : ND_FOR, tag_off);
            if (!nd)
                return YG_ENOMEM;
            cx->pos++;
            rc = is_if ? parse_if(cx, nd, tag_off) : parse_for(cx, nd, tag_off);
            if (rc) {
                node_free(nd);
                break;
            }
            rc = body_push(cx, body, nd);
            continue;
        }
        static const char *const stray[] = {"elif", "else", "endif", "endfor", "endraw", NULL};
        bool is_stray = false;
        for (int i = 0; stray[i]; i++)
            is_stray = is_stray || tk_is_name(cx, name, stray[i]);
        int nlen = (int)name->len;
        const char *ntext = cx->pc.src + name->off;
        if (!is_stray)
            rc = errorf_at(&cx->pc, cx->err, name->off, "unknown or unsupported tag '%.*s'", nlen,
                           ntext);
        else if (ends) {
            const char *need = ends[0];
            while (ends[1] && ++ends)
                need = ends[0];
            rc = errorf_at(&cx->pc, cx->err, name->off,
                           "unexpected '{%% %.*s %%}': the innermost open block needs "
                           "'{%% %s %%}' first",
                           nlen, ntext, need);
        } else
            rc = errorf_at(&cx->pc, cx->err, name->off,
                           "unexpected '{%% %.*s %%}' (no open block it belongs to)", nlen, ntext);
    }
    cx->depth--;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                 */
/* ------------------------------------------------------------------------ */

static bool has_jinja_markers(const char *text, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (text[i] == '{' && (text[i + 1] == '{' || text[i + 1] == '%'))
            return true;
    return false;
}

/* Jinja's lexer normalises \r\n and \r to \n and drops one trailing newline. */
static char *normalise_newlines(const char *text, size_t len, size_t *out_len, bool drop_trailing)
{
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\r') {
            s[n++] = '\n';
            if (i + 1 < len && text[i + 1] == '\n')
                i++;
        } else {
            s[n++] = text[i];
        }
    }
    if (drop_trailing && n > 0 && s[n - 1] == '\n')
        n--;
    s[n] = '\0';
    *out_len = n;
    return s;
}

static int jinja_compile(yg_tmpl_t *t, const char *text, size_t len, const char *file, int line,
                         int column, yg_error_t *err)
{
    size_t n;
    char *src = normalise_newlines(text, len, &n, true);
    if (!src)
        return yg_error_set(err, YG_ENOMEM, "out of memory compiling a template");
    cx_t cx = {.pc = {.src = src, .len = n, .file = file, .line0 = line, .col0 = column}, .err = err};
    int rc = lex_all(&cx);
    if (rc == YG_OK) {
        int found;
        rc = parse_body(&cx, &t->root, NULL, &found);
    }
    for (size_t i = 0; i < cx.ntoks; i++)
        free(cx.toks[i].str);
    free(cx.toks);
    free(src);
    return rc;
}

yg_tmpl_t *yg_tmpl_compile(const char *text, size_t len, const char *file, int line, int column,
                           yg_error_t *err)
{
    if (!text)
        len = 0;
    if (len > TX_MAX_TEMPLATE_BYTES) {
        yg_error_set_at(err, YG_ELIMIT, file, line, column, "template exceeds %u bytes",
                        TX_MAX_TEMPLATE_BYTES);
        return NULL;
    }
    yg_tmpl_t *t = calloc(1, sizeof *t);
    if (!t) {
        yg_error_set(err, YG_ENOMEM, "out of memory compiling a template");
        return NULL;
    }
    t->source = dup_n(text ? text : "", len);
    t->source_len = len;
    t->file = file ? dup_n(file, strlen(file)) : NULL;
    if (!t->source || (file && !t->file)) {
        yg_tmpl_destroy(&t);
        yg_error_set(err, YG_ENOMEM, "out of memory compiling a template");
        return NULL;
    }
    if (line <= 0)
        line = 1;
    if (column <= 0)
        column = 1;
    int rc;
    if (has_jinja_markers(t->source, len)) {
        t->mode = YG_TMPL_JINJA;
        rc = jinja_compile(t, t->source, len, file, line, column, err);
    } else {
        t->mode = YG_TMPL_SIMPLE;
        tx_pos_ctx_t pc = {.src = t->source, .len = len, .file = file, .line0 = line, .col0 = column};
        rc = simple_compile(t, &pc, err);
    }
    if (rc != YG_OK)
        yg_tmpl_destroy(&t);
    return t;
}

void yg_tmpl_destroy(yg_tmpl_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_tmpl_t *t = *self_p;
    for (size_t i = 0; i < t->npieces; i++)
        free(t->pieces[i].text);
    free(t->pieces);
    body_free(&t->root);
    free(t->source);
    free(t->file);
    free(t);
    *self_p = NULL;
}

yg_tmpl_mode_t yg_tmpl_mode(const yg_tmpl_t *self)
{
    return self ? self->mode : YG_TMPL_SIMPLE;
}

char *yg_tmpl_render(const yg_tmpl_t *self, const yg_value_t *vars, const yg_value_t *state,
                     yg_error_t *err)
{
    if (!self) {
        yg_error_set(err, YG_EINVAL, "no template to render");
        return NULL;
    }
    if (self->mode == YG_TMPL_SIMPLE)
        return simple_render(self, vars, err);
    return yg_tx_render_jinja(self, vars, state, err);
}

/* ------------------------------------------------------------------------ */
/* Spec 7.3: the original's regex scan for required names                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    char **names;
    size_t size, cap;
    bool failed;
} name_set_t;

static void name_add(name_set_t *set, const char *s, size_t n)
{
    for (size_t i = 0; i < set->size; i++)
        if (strlen(set->names[i]) == n && memcmp(set->names[i], s, n) == 0)
            return;
    if (set->size == set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 16;
        char **names = realloc(set->names, ncap * sizeof *names);
        if (!names) {
            set->failed = true;
            return;
        }
        set->names = names;
        set->cap = ncap;
    }
    char *copy = dup_n(s, n);
    if (!copy) {
        set->failed = true;
        return;
    }
    set->names[set->size++] = copy;
}

static bool name_in(const name_set_t *set, const char *s)
{
    for (size_t i = 0; i < set->size; i++)
        if (strcmp(set->names[i], s) == 0)
            return true;
    return false;
}

static void name_set_free(name_set_t *set)
{
    for (size_t i = 0; i < set->size; i++)
        free(set->names[i]);
    free(set->names);
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && is_space((unsigned char)s[i]))
        i++;
    return i;
}

static size_t word_end(const char *s, size_t n, size_t i)
{
    while (i < n && is_word((unsigned char)s[i]))
        i++;
    return i;
}

/* Match `{%\s*KW\s+` at i; returns the index after the whitespace or 0. */
static size_t match_stmt(const char *s, size_t n, size_t i, const char *kw)
{
    if (i + 1 >= n || s[i] != '{' || s[i + 1] != '%')
        return 0;
    size_t j = skip_ws(s, n, i + 2), kl = strlen(kw);
    if (j + kl > n || memcmp(s + j, kw, kl) != 0)
        return 0;
    j += kl;
    size_t k = skip_ws(s, n, j);
    return k > j ? k : 0;
}

/* Names the original's regexes find (spec 7.3), minus loop variables and
 * the fixed exclusions.  Words that are Jinja keywords or literals, or start
 * with a digit, are never variables and are excluded too. */
static void scan_required(const char *s, size_t n, name_set_t *req)
{
    name_set_t loop_vars = {0};
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '{')
            continue;
        /* {word} not preceded by '{' nor followed by '}' */
        if (!(i > 0 && s[i - 1] == '{')) {
            size_t e = word_end(s, n, i + 1);
            if (e > i + 1 && e < n && s[e] == '}' && !(e + 1 < n && s[e + 1] == '}'))
                name_add(req, s + i + 1, e - i - 1);
        }
        /* {{\s*word */
        if (i + 1 < n && s[i + 1] == '{') {
            size_t b = skip_ws(s, n, i + 2), e = word_end(s, n, b);
            if (e > b)
                name_add(req, s + b, e - b);
        }
        /* {%\s*for\s+X\s+in\s+NAME */
        size_t j = match_stmt(s, n, i, "for");
        if (j) {
            size_t xe = word_end(s, n, j);
            size_t k = skip_ws(s, n, xe);
            if (xe > j && k > xe && k + 2 <= n && memcmp(s + k, "in", 2) == 0) {
                name_add(&loop_vars, s + j, xe - j);
                size_t b = skip_ws(s, n, k + 2), e = word_end(s, n, b);
                if (b > k + 2 && e > b)
                    name_add(req, s + b, e - b);
            }
        }
        /* {%\s*if\s+NAME */
        j = match_stmt(s, n, i, "if");
        if (j) {
            size_t e = word_end(s, n, j);
            if (e > j)
                name_add(req, s + j, e - j);
        }
    }
    static const char *const excluded[] = {"state", "loop", "range", "true", "false", "none",
                                           "not",   "True", "False", "None",  NULL};
    size_t w = 0;
    for (size_t r = 0; r < req->size; r++) {
        char *name = req->names[r];
        bool drop = name_in(&loop_vars, name) || (name[0] >= '0' && name[0] <= '9');
        for (int k = 0; excluded[k] && !drop; k++)
            drop = strcmp(name, excluded[k]) == 0;
        if (drop)
            free(name);
        else
            req->names[w++] = name;
    }
    req->size = w;
    req->failed = req->failed || loop_vars.failed;
    name_set_free(&loop_vars);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void yg_tmpl_required_vars(const yg_tmpl_t *self, yg_value_t *out)
{
    if (!self || yg_value_type(out) != YG_LIST)
        return;
    name_set_t req = {0};
    scan_required(self->source, self->source_len, &req);
    if (req.size > 1)
        qsort(req.names, req.size, sizeof *req.names, cmp_names);
    for (size_t i = 0; i < req.size; i++) {
        yg_value_t *v = yg_str_new(req.names[i]);
        if (v)
            yg_list_append(out, v);
    }
    name_set_free(&req);
}

int yg_tmpl_check_required(const yg_tmpl_t *system, const yg_tmpl_t *user,
                           const yg_value_t *vars, const char *prompt_name, yg_error_t *err)
{
    /* the original scans system + user concatenated */
    tx_sbuf_t text = {0};
    yg_tx_sbuf_append(&text, "", 0);
    if (system)
        yg_tx_sbuf_append(&text, system->source, system->source_len);
    if (user)
        yg_tx_sbuf_append(&text, user->source, user->source_len);
    if (text.failed) {
        free(text.data);
        return yg_error_set(err, YG_ENOMEM, "out of memory checking template variables");
    }
    name_set_t req = {0};
    scan_required(text.data, text.len, &req);
    free(text.data);
    if (req.size > 1)
        qsort(req.names, req.size, sizeof *req.names, cmp_names);
    tx_sbuf_t missing = {0};
    yg_tx_sbuf_append(&missing, "", 0);
    size_t nmissing = 0;
    for (size_t i = 0; i < req.size; i++) {
        if (yg_value_type(vars) == YG_MAP && yg_map_has(vars, req.names[i]))
            continue;
        if (nmissing++)
            yg_tx_sbuf_append(&missing, ", ", 2);
        yg_tx_sbuf_append(&missing, req.names[i], strlen(req.names[i]));
    }
    bool failed = req.failed || missing.failed;
    name_set_free(&req);
    int rc = YG_OK;
    if (failed)
        rc = yg_error_set(err, YG_ENOMEM, "out of memory checking template variables");
    else if (nmissing)
        rc = yg_error_set(err, YG_ETEMPLATE, "Missing required variable(s) for prompt '%s': %s",
                          prompt_name ? prompt_name : "", missing.data);
    free(missing.data);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Spec 4.11 and 4.6 helpers                                                  */
/* ------------------------------------------------------------------------ */

char *yg_tmpl_substitute_words(const char *text, const yg_value_t *state)
{
    if (!text)
        text = "";
    size_t n = strlen(text), lit = 0;
    tx_sbuf_t out = {0};
    yg_tx_sbuf_append(&out, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (text[i] != '{')
            continue;
        size_t e = word_end(text, n, i + 1);
        if (e == i + 1 || e >= n || text[e] != '}')
            continue;
        const yg_value_t *v = yg_map_getn(state, text + i + 1, e - i - 1);
        if (!v)
            continue; /* absent: the placeholder stays as written */
        yg_tx_sbuf_append(&out, text + lit, i - lit);
        char *s = yg_pytext_str(v);
        if (!s) {
            free(out.data);
            return NULL;
        }
        yg_tx_sbuf_append(&out, s, strlen(s));
        free(s);
        i = e;
        lit = e + 1;
    }
    yg_tx_sbuf_append(&out, text + lit, n - lit);
    if (out.failed) {
        free(out.data);
        return NULL;
    }
    return out.data;
}

bool yg_tmpl_is_template_text(const char *text)
{
    if (!text)
        return false;
    if (strstr(text, "{{") || strstr(text, "{%"))
        return true;
    return strchr(text, '{') && strchr(text, '}');
}
