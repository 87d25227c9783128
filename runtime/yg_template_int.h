/*
 * yg_template_int.h - internals shared by the template compiler
 * (yg_template.c) and the Jinja evaluator (yg_template_eval.c).
 *
 * A compiled template is a tree of nodes (text, output, if, for) whose
 * expressions are trees of tx_expr_t.  Nothing in it changes after
 * compilation, so renders on many threads may share it.
 */
#ifndef YG_TEMPLATE_INT_H
#define YG_TEMPLATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yg_template.h"

/* Limits, named in one place. */
#define TX_MAX_TEMPLATE_BYTES (16u * 1024u * 1024u) /* template source */
#define TX_MAX_NESTING 128          /* parser / evaluator recursion depth */
#define TX_MAX_OUTPUT (64u * 1024u * 1024u) /* rendered text */
#define TX_MAX_SEQUENCE (1u * 1024u * 1024u) /* range() / repetition results */

/* Expression kinds. */
typedef enum {
    EX_CONST = 0, /* constant value */
    EX_NAME,      /* variable */
    EX_ATTR,      /* a.name */
    EX_ITEM,      /* a[b] */
    EX_SLICE,     /* a[b:c:d], each bound optional */
    EX_METHOD,    /* a.method(args) with a known method */
    EX_RANGE,     /* range(args) */
    EX_FILTER,    /* a | filter(args) */
    EX_TEST,      /* a is [not] test(args) */
    EX_NOT,
    EX_NEG,
    EX_POS,
    EX_BINOP,     /* arithmetic and ~ */
    EX_AND,
    EX_OR,
    EX_COMPARE,   /* chained comparison: args[0] ops[0] args[1] ... */
    EX_COND,      /* a if b else c (c optional) */
    EX_LIST,
    EX_DICT       /* args = k0, v0, k1, v1 ... */
} tx_expr_kind_t;

typedef enum {
    OP_ADD = 0, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_CONCAT
} tx_binop_t;

typedef enum {
    CMP_EQ = 0, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_IN, CMP_NOTIN
} tx_cmp_t;

typedef enum {
    M_KEYS = 0, M_VALUES, M_ITEMS, M_GET,                       /* maps */
    M_UPPER, M_LOWER, M_STRIP, M_LSTRIP, M_RSTRIP, M_SPLIT,     /* strings */
    M_STARTSWITH, M_ENDSWITH, M_REPLACE, M_TITLE, M_CAPITALIZE, M_JOIN,
    M__COUNT
} tx_method_t;

typedef enum {
    F_DEFAULT = 0, F_JOIN, F_LENGTH, F_UPPER, F_LOWER, F_FIRST, F_LAST, F_TRIM,
    F_STRING, F_INT, F_FLOAT, F_ROUND, F_REPLACE, F_TITLE, F_CAPITALIZE, F_TOJSON,
    F_LIST, F_SORT, F_UNIQUE, F_REVERSE, F_ABS, F_SAFE, F_MAP, F_MIN, F_MAX, F_SUM,
    F__COUNT
} tx_filter_t;

typedef enum {
    T_DEFINED = 0, T_UNDEFINED, T_NONE, T_STRING, T_NUMBER, T_INTEGER, T_FLOAT,
    T_BOOLEAN, T_TRUE, T_FALSE, T_MAPPING, T_ITERABLE, T_SEQUENCE, T_ODD, T_EVEN,
    T_DIVISIBLEBY, T_EQ, T_NE, T_LOWER, T_UPPER,
    T__COUNT
} tx_test_t;

typedef struct tx_expr tx_expr_t;
struct tx_expr {
    tx_expr_kind_t kind;
    int line, column;     /* absolute position in the source file */
    int op;               /* binop, method, filter or test id */
    bool negate;          /* EX_TEST: "is not" */
    char *name;           /* EX_NAME / EX_ATTR */
    yg_value_t *constant; /* EX_CONST (never referenced or modified at render) */
    tx_expr_t *a, *b, *c, *d;   /* operands (see kinds) */
    tx_expr_t **args;     /* call / filter / test arguments, list items, dict k,v */
    char **kwnames;       /* parallel to args: keyword name or NULL */
    int *ops;             /* EX_COMPARE operators (nargs - 1 of them) */
    size_t nargs;
};

typedef enum { ND_TEXT = 0, ND_OUTPUT, ND_IF, ND_FOR } tx_node_kind_t;

typedef struct tx_node tx_node_t;

typedef struct tx_body {
    tx_node_t **items;
    size_t size, cap;
} tx_body_t;

typedef struct tx_branch {
    tx_expr_t *cond;
    tx_body_t body;
} tx_branch_t;

struct tx_node {
    tx_node_kind_t kind;
    int line, column;
    char *text;            /* ND_TEXT */
    size_t textlen;
    tx_expr_t *expr;       /* ND_OUTPUT value; ND_FOR iterable */
    /* ND_IF */
    tx_branch_t *branches;
    size_t nbranches;
    /* ND_FOR */
    char *targets[2];      /* one or two loop names */
    size_t ntargets;
    tx_expr_t *filter;     /* optional `if` of the for */
    bool uses_loop;        /* body references `loop` */
    tx_body_t body;        /* ND_FOR body */
    tx_body_t else_body;   /* ND_IF else / ND_FOR else */
};

/* A simple-mode piece: literal text, or a (possibly dotted) placeholder. */
typedef struct tx_piece {
    char *text;       /* literal text, or the placeholder name "a.b" */
    size_t len;
    bool is_var;
    int line, column; /* placeholder position */
} tx_piece_t;

struct yg_tmpl {
    yg_tmpl_mode_t mode;
    char *source;         /* the original text, for the 7.3 scan */
    size_t source_len;
    char *file;           /* for render errors */
    tx_piece_t *pieces;   /* simple mode */
    size_t npieces;
    tx_body_t root;       /* Jinja mode */
};

/* A growing output buffer.  `failed` is set (and stays set) when an append
 * fails for lack of memory or because the text would exceed `limit`. */
typedef struct tx_sbuf {
    char *data;
    size_t len, cap;
    size_t limit;
    bool failed;
    bool too_big;
} tx_sbuf_t;

bool yg_tx_sbuf_append(tx_sbuf_t *b, const char *s, size_t n);
bool yg_tx_sbuf_putc(tx_sbuf_t *b, char c);
/* Append code point cp as UTF-8. */
bool yg_tx_sbuf_put_cp(tx_sbuf_t *b, uint32_t cp);
/* Decode one UTF-8 code point at s[0..n); invalid bytes decode as themselves
 * (one byte).  Returns the byte length (>= 1). */
size_t yg_tx_utf8_next(const char *s, size_t n, uint32_t *cp);

/* Render a Jinja-mode template; malloc'd text or NULL with err. */
char *yg_tx_render_jinja(const yg_tmpl_t *self, const yg_value_t *vars,
                         const yg_value_t *state, yg_error_t *err);

#endif
