/*
 * yg_lint.c - the graph linter: spec section 13 rules plus our own.
 *
 * Works on the YAML tree only, so it can comment on graphs the loader
 * rejects.  Each rule is one static function below, named after its codes.
 * Positions come from the tree: node issues point at the node's key, field
 * issues at the field's value, edge issues at the edge mapping.
 */
#include "yg_lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "yg_yaml.h"

/* Valid node types of the original's linter, plus `tool` and `tool_call`,
 * which our runtime (and the original's runtime, not its linter) supports. */
static const char *const LINT_NODE_TYPES[] = {
    "agent", "interrupt", "llm", "map", "passthrough", "python", "router", "subgraph",
    "tool", "tool_call",
};
#define LINT_NODE_TYPES_TEXT                                                                     \
    "agent, interrupt, llm, map, passthrough, python, router, subgraph, tool, tool_call"

/* Spec 2.1 item 1: base keys, always declared (not the common inputs). */
static const char *const LINT_BASE_KEYS[] = {
    "thread_id",        "current_step",      "error",      "errors",
    "messages",         "_loop_counts",      "_loop_limit_reached", "_agent_iterations",
    "_agent_limit_reached", "started_at",    "completed_at",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Report                                                                     */

struct yg_lint_report {
    char *file;
    yg_lint_issue_t *issues;
    size_t *seq;          /* insertion order, for a stable sort */
    size_t count;
    size_t cap;
    bool truncated;
};

static yg_lint_report_t *report_new(const char *file)
{
    yg_lint_report_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->file = strdup(file);
    if (!self->file) {
        free(self);
        return NULL;
    }
    return self;
}

void yg_lint_report_destroy(yg_lint_report_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_lint_report_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free((char *)self->issues[i].message);
        free((char *)self->issues[i].fix);
    }
    free(self->issues);
    free(self->seq);
    free(self->file);
    free(self);
    *self_p = NULL;
}

const char *yg_lint_report_file(const yg_lint_report_t *self)
{
    return self ? self->file : NULL;
}

size_t yg_lint_report_count(const yg_lint_report_t *self)
{
    return self ? self->count : 0;
}

const yg_lint_issue_t *yg_lint_report_issue(const yg_lint_report_t *self, size_t index)
{
    if (!self || index >= self->count)
        return NULL;
    return &self->issues[index];
}

size_t yg_lint_report_count_severity(const yg_lint_report_t *self, yg_lint_severity_t severity)
{
    size_t n = 0;
    for (size_t i = 0; self && i < self->count; i++)
        if (self->issues[i].severity == severity)
            n++;
    return n;
}

bool yg_lint_report_valid(const yg_lint_report_t *self)
{
    return yg_lint_report_count_severity(self, YG_LINT_ERROR) == 0;
}

const yg_lint_issue_t *yg_lint_report_find(const yg_lint_report_t *self, const char *code,
                                           size_t *from)
{
    size_t start = from ? *from : 0;
    for (size_t i = start; self && code && i < self->count; i++) {
        if (strcmp(self->issues[i].code, code) == 0) {
            if (from)
                *from = i + 1;
            return &self->issues[i];
        }
    }
    return NULL;
}

const char *yg_lint_severity_name(yg_lint_severity_t severity)
{
    switch (severity) {
    case YG_LINT_ERROR: return "error";
    case YG_LINT_WARNING: return "warning";
    case YG_LINT_INFO: return "info";
    }
    return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                              */

/* malloc'd printf; NULL on ENOMEM. */
static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *buf = malloc((size_t)n + 1);
    if (!buf)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return buf;
}

/* Join a directory and a path; an absolute path or a "." directory wins. */
static char *path_join(const char *dir, const char *path)
{
    if (!dir || !*dir || path[0] == '/' || strcmp(dir, ".") == 0)
        return strdup(path);
    size_t dl = strlen(dir);
    return strf("%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", path);
}

static char *path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static bool file_exists(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Text of a non-null scalar, else NULL. */
static const char *scalar_text(const yg_ynode_t *n)
{
    if (!n || n->kind != YG_YNODE_SCALAR || yg_ynode_is_null(n))
        return NULL;
    return n->text;
}

/* Python truthiness of a YAML value (null, false, 0, "", [] and {} are false). */
static bool node_truthy(const yg_ynode_t *n)
{
    if (!n)
        return false;
    if (n->kind != YG_YNODE_SCALAR)
        return n->count > 0;
    if (yg_ynode_is_null(n) || n->text[0] == '\0')
        return false;
    bool b;
    if (yg_ynode_as_bool(n, &b))
        return b;
    double d;
    if (!n->quoted && yg_ynode_as_number(n, &d))
        return d != 0.0;
    return true;
}

static bool has_key(const yg_ynode_t *map, const char *key)
{
    return map && map->kind == YG_YNODE_MAP && yg_ynode_key(map, key) != NULL;
}

static const yg_ynode_t *get_map(const yg_ynode_t *map, const char *key)
{
    const yg_ynode_t *v = yg_ynode_get(map, key);
    return v && v->kind == YG_YNODE_MAP ? v : NULL;
}

/* A set of borrowed strings kept sorted for binary search. */
typedef struct {
    const char **v;
    size_t n;
    size_t cap;
} strset_t;

static size_t strset_pos(const strset_t *s, const char *x, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->v[mid], x);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static bool strset_has(const strset_t *s, const char *x)
{
    bool found;
    if (!x)
        return false;
    strset_pos(s, x, &found);
    return found;
}

/* Returns 0, or -1 on ENOMEM. */
static int strset_add(strset_t *s, const char *x)
{
    bool found;
    if (!x)
        return 0;
    size_t pos = strset_pos(s, x, &found);
    if (found)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        const char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    memmove(s->v + pos + 1, s->v + pos, (s->n - pos) * sizeof *s->v);
    s->v[pos] = x;
    s->n++;
    return 0;
}

static size_t strset_index(const strset_t *s, const char *x)
{
    bool found;
    size_t pos = strset_pos(s, x, &found);
    return found ? pos : (size_t)-1;
}

static void strset_free(strset_t *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------------ */
/* Lint context                                                               */

typedef struct {
    yg_lint_report_t *report;
    const char *path;        /* as given */
    const char *root;        /* project root ("." = working directory) */
    char *graph_dir;
    yg_ynode_t *doc;
    const yg_ynode_t *nodes; /* map, or NULL */
    const yg_ynode_t *edges; /* seq, or NULL */
    const yg_ynode_t *tools; /* map, or NULL */
    const yg_ynode_t *state; /* map, or NULL */
    strset_t declared;       /* state: keys + base keys + node state_keys */
    const char *prompts_dir; /* top level, else defaults */
    bool prompts_relative;   /* top level, else defaults (runtime rule) */
    bool prompts_relative_top; /* top level only (section 13 rule) */
    bool nomem;
    bool finishing;          /* adding the final "truncated" note */
} lint_ctx_t;

/* Add an issue; takes ownership of message and fix (either may be NULL on
 * ENOMEM, which is then recorded). */
static void lint_add(lint_ctx_t *ctx, const char *code, yg_lint_severity_t severity,
                     const yg_ynode_t *at, char *message, char *fix)
{
    yg_lint_report_t *r = ctx->report;
    if (!message || !fix) {
        ctx->nomem = true;
        free(message);
        free(fix);
        return;
    }
    if (r->count >= YG_LINT_MAX_ISSUES - 1 && !ctx->finishing) {
        r->truncated = true;
        free(message);
        free(fix);
        return;
    }
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        yg_lint_issue_t *issues = realloc(r->issues, cap * sizeof *issues);
        if (!issues) {
            ctx->nomem = true;
            free(message);
            free(fix);
            return;
        }
        r->issues = issues;
        size_t *seq = realloc(r->seq, cap * sizeof *seq);
        if (!seq) {
            ctx->nomem = true;
            free(message);
            free(fix);
            return;
        }
        r->seq = seq;
        r->cap = cap;
    }
    yg_lint_issue_t *issue = &r->issues[r->count];
    issue->code = code;
    issue->severity = severity;
    issue->file = r->file;
    issue->line = at ? at->line : 0;
    issue->column = at ? at->column : 0;
    issue->message = message;
    issue->fix = fix;
    r->seq[r->count] = r->count;
    r->count++;
}

#define NODE_COUNT(ctx) ((ctx)->nodes ? (ctx)->nodes->count : 0)
#define NODE_NAME(ctx, i) ((ctx)->nodes->keys[i]->text)
#define NODE_KEY(ctx, i) ((ctx)->nodes->keys[i])
#define NODE_DEF(ctx, i) ((ctx)->nodes->items[i])

/* The node's `type` text: "llm" when absent or null, NULL when not a scalar. */
static const char *node_type(const yg_ynode_t *def)
{
    const yg_ynode_t *t = yg_ynode_get(def, "type");
    if (!t || yg_ynode_is_null(t))
        return "llm";
    if (t->kind != YG_YNODE_SCALAR)
        return NULL;
    return t->text[0] ? t->text : "llm";
}

static bool node_is(const yg_ynode_t *def, const char *type)
{
    const char *t = def && def->kind == YG_YNODE_MAP ? node_type(def) : NULL;
    return t && strcmp(t, type) == 0;
}

/* Registry of a tools-section entry (spec 8). */
typedef enum { TOOL_IGNORED = 0, TOOL_SHELL, TOOL_PYTHON, TOOL_WEBSEARCH } tool_kind_t;

static tool_kind_t tool_kind(const yg_ynode_t *def)
{
    if (!def || def->kind != YG_YNODE_MAP)
        return TOOL_IGNORED;
    const char *type = scalar_text(yg_ynode_get(def, "type"));
    if (type && strcmp(type, "python") == 0)
        return scalar_text(yg_ynode_get(def, "module")) &&
                       scalar_text(yg_ynode_get(def, "function"))
                   ? TOOL_PYTHON
                   : TOOL_IGNORED;
    if (type && strcmp(type, "websearch") == 0)
        return TOOL_WEBSEARCH;
    return yg_ynode_get(def, "command") ? TOOL_SHELL : TOOL_IGNORED;
}

static const yg_ynode_t *tool_def(const lint_ctx_t *ctx, const char *name)
{
    return name ? yg_ynode_get(ctx->tools, name) : NULL;
}

/* ------------------------------------------------------------------------ */
/* E006: structure                                                            */

static void check_structure(lint_ctx_t *ctx)
{
    const yg_ynode_t *nodes = yg_ynode_get(ctx->doc, "nodes");
    const yg_ynode_t *edges = yg_ynode_get(ctx->doc, "edges");
    if (!nodes || yg_ynode_is_null(nodes))
        lint_add(ctx, "E006", YG_LINT_ERROR, ctx->doc, strf("graph has no 'nodes' section"),
                 strf("Add a 'nodes:' mapping of node name to node definition"));
    else if (nodes->kind != YG_YNODE_MAP)
        lint_add(ctx, "E006", YG_LINT_ERROR, nodes, strf("'nodes' must be a mapping"),
                 strf("Write nodes as 'name: {type: ..., ...}' entries"));
    else if (nodes->count == 0)
        lint_add(ctx, "E006", YG_LINT_ERROR, nodes, strf("'nodes' is empty"),
                 strf("Define at least one node"));
    if (!edges || yg_ynode_is_null(edges))
        lint_add(ctx, "E006", YG_LINT_ERROR, ctx->doc, strf("graph has no 'edges' section"),
                 strf("Add an 'edges:' list, starting with '- {from: START, to: <node>}'"));
    else if (edges->kind != YG_YNODE_SEQ)
        lint_add(ctx, "E006", YG_LINT_ERROR, edges, strf("'edges' must be a list"),
                 strf("Write edges as a list of '{from: ..., to: ...}' mappings"));
    else if (edges->count == 0)
        lint_add(ctx, "E006", YG_LINT_ERROR, edges, strf("'edges' is empty"),
                 strf("Add at least an edge from START"));

    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        if (def->kind != YG_YNODE_MAP)
            lint_add(ctx, "E006", YG_LINT_ERROR, def,
                     strf("node '%s' must be a mapping", NODE_NAME(ctx, i)),
                     strf("Write the node as a mapping, e.g. '%s: {type: llm, prompt: ...}'",
                          NODE_NAME(ctx, i)));
    }
    for (size_t i = 0; ctx->edges && i < ctx->edges->count; i++) {
        const yg_ynode_t *e = ctx->edges->items[i];
        if (e->kind != YG_YNODE_MAP) {
            lint_add(ctx, "E006", YG_LINT_ERROR, e, strf("edge %zu must be a mapping", i + 1),
                     strf("Write the edge as '{from: <node>, to: <node>}'"));
            continue;
        }
        if (!scalar_text(yg_ynode_get(e, "from")))
            lint_add(ctx, "E006", YG_LINT_ERROR, e, strf("edge %zu has no 'from'", i + 1),
                     strf("Add 'from: <node name or START>'"));
        const yg_ynode_t *to = yg_ynode_get(e, "to");
        if (!to || yg_ynode_is_null(to) || to->kind == YG_YNODE_MAP)
            lint_add(ctx, "E006", YG_LINT_ERROR, e,
                     strf("edge %zu has no valid 'to'", i + 1),
                     strf("Add 'to: <node name or END>' or a list of node names"));
    }
}

/* ------------------------------------------------------------------------ */
/* Declared state keys (for E001 / E002)                                      */

static void build_declared(lint_ctx_t *ctx)
{
    for (size_t i = 0; i < ARRAY_LEN(LINT_BASE_KEYS); i++)
        if (strset_add(&ctx->declared, LINT_BASE_KEYS[i]) < 0)
            ctx->nomem = true;
    for (size_t i = 0; ctx->state && i < ctx->state->count; i++)
        if (strset_add(&ctx->declared, ctx->state->keys[i]->text) < 0)
            ctx->nomem = true;
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const char *sk = scalar_text(yg_ynode_get(NODE_DEF(ctx, i), "state_key"));
        if (sk && strset_add(&ctx->declared, sk) < 0)
            ctx->nomem = true;
    }
}

/* {name} placeholders as the original's linter finds them: `{{` and `}}` are
 * blanked first (left to right, non-overlapping), then `{word}` matches.
 * Appends unique names, in order of appearance, to a malloc'd list. */
typedef struct {
    char **v;
    size_t n;
} varlist_t;

static void varlist_free(varlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static bool is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c >= 0x80;
}

static int extract_vars(const char *text, varlist_t *out)
{
    char *buf = strdup(text);
    if (!buf)
        return -1;
    size_t len = strlen(buf);
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == '{' && buf[i + 1] == '{') {
            buf[i] = buf[i + 1] = '\x01';
            i++;
        }
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == '}' && buf[i + 1] == '}') {
            buf[i] = buf[i + 1] = '\x01';
            i++;
        }
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        if (buf[i] != '{')
            continue;
        size_t j = i + 1;
        while (j < len && is_word_byte((unsigned char)buf[j]))
            j++;
        if (j == i + 1 || j >= len || buf[j] != '}')
            continue;
        size_t wl = j - i - 1;
        bool dup = false;
        for (size_t k = 0; k < out->n && !dup; k++)
            dup = strlen(out->v[k]) == wl && memcmp(out->v[k], buf + i + 1, wl) == 0;
        if (!dup) {
            char **v = realloc(out->v, (out->n + 1) * sizeof *v);
            char *w = v ? strndup(buf + i + 1, wl) : NULL;
            if (v)
                out->v = v;
            if (!w)
                rc = -1;
            else
                out->v[out->n++] = w;
        }
        i = j;
    }
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* E001: shell tool placeholders must be declared                            */

static bool tool_used_by_agent(const lint_ctx_t *ctx, const char *tool)
{
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        if (!node_is(def, "agent"))
            continue;
        const yg_ynode_t *list = yg_ynode_get(def, "tools");
        for (size_t k = 0; list && list->kind == YG_YNODE_SEQ && k < list->count; k++) {
            const char *t = scalar_text(list->items[k]);
            if (t && strcmp(t, tool) == 0)
                return true;
        }
    }
    return false;
}

/* True when a `type: tool` node naming `tool` passes `var` in its variables. */
static bool tool_var_from_node(const lint_ctx_t *ctx, const char *tool, const char *var)
{
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        if (!node_is(def, "tool"))
            continue;
        const char *t = scalar_text(yg_ynode_get(def, "tool"));
        if (t && strcmp(t, tool) == 0 && has_key(get_map(def, "variables"), var))
            return true;
    }
    return false;
}

static void check_e001(lint_ctx_t *ctx)
{
    for (size_t i = 0; ctx->tools && i < ctx->tools->count; i++) {
        const char *name = ctx->tools->keys[i]->text;
        const yg_ynode_t *def = ctx->tools->items[i];
        if (tool_kind(def) != TOOL_SHELL || tool_used_by_agent(ctx, name))
            continue;
        const yg_ynode_t *cmd = yg_ynode_get(def, "command");
        const char *text = scalar_text(cmd);
        if (!text)
            continue;
        varlist_t vars = {0};
        if (extract_vars(text, &vars) < 0)
            ctx->nomem = true;
        for (size_t k = 0; k < vars.n; k++) {
            if (strset_has(&ctx->declared, vars.v[k]) || tool_var_from_node(ctx, name, vars.v[k]))
                continue;
            lint_add(ctx, "E001", YG_LINT_ERROR, cmd,
                     strf("Variable '%s' used in tool '%s' but not declared in state", vars.v[k],
                          name),
                     strf("Add '%s: str' to the state section", vars.v[k]));
        }
        varlist_free(&vars);
    }
}

/* ------------------------------------------------------------------------ */
/* Prompt lookup (section 13 first, then the runtime's section 1.4 order)     */

/* The section 13 candidate (also shown in fixes).  malloc'd. */
static char *prompt_lint_path(const lint_ctx_t *ctx, const char *name)
{
    const char *n = strncmp(name, "prompts/", 8) == 0 ? name + 8 : name;
    char *file = ends_with(n, ".yaml") ? strdup(n) : strf("%s.yaml", n);
    char *base;
    if (ctx->prompts_relative_top && ctx->prompts_dir)
        base = path_join(ctx->graph_dir, ctx->prompts_dir);
    else if (ctx->prompts_dir)
        base = path_join(ctx->root, ctx->prompts_dir);
    else
        base = path_join(ctx->root, "prompts");
    char *path = file && base ? path_join(base, file) : NULL;
    free(file);
    free(base);
    return path;
}

/* Returns the first existing candidate of the runtime's order (spec 1.4),
 * with the project root standing for the working directory.  malloc'd or NULL. */
static char *prompt_runtime_path(const lint_ctx_t *ctx, const char *name)
{
    const char *D = ctx->prompts_dir;
    bool R = ctx->prompts_relative;
    char *file = strf("%s.yaml", name);
    char *cands[5] = {0};
    size_t nc = 0;
    if (!file)
        return NULL;
    char *gd = D ? path_join(ctx->graph_dir, D) : NULL;
    char *rd = path_join(ctx->root, D ? D : "prompts");
    if (R && D && gd)
        cands[nc++] = path_join(gd, file);
    if (D && rd)
        cands[nc++] = path_join(rd, file);
    if (R)
        cands[nc++] = path_join(ctx->graph_dir, file);
    if (rd)
        cands[nc++] = path_join(rd, file);
    const char *slash = strrchr(name, '/');
    if (slash) {
        char *alt = strf("%.*s/prompts/%s.yaml", (int)(slash - name), name, slash + 1);
        if (alt) {
            cands[nc++] = path_join(ctx->root, alt);
            free(alt);
        }
    }
    char *found = NULL;
    for (size_t i = 0; i < nc; i++) {
        if (!found && file_exists(cands[i]))
            found = cands[i];
        else
            free(cands[i]);
    }
    free(gd);
    free(rd);
    free(file);
    return found;
}

/* The prompt file a node's `prompt` names, or NULL when none exists. */
static char *prompt_resolve(const lint_ctx_t *ctx, const char *name)
{
    char *p = prompt_lint_path(ctx, name);
    if (p && file_exists(p))
        return p;
    free(p);
    return prompt_runtime_path(ctx, name);
}

/* ------------------------------------------------------------------------ */
/* E002, E004 (and E102 for routers): prompt files                           */

static void check_prompt_vars(lint_ctx_t *ctx, const char *node, const yg_ynode_t *def,
                              const yg_ynode_t *prompt_node, const char *prompt_path,
                              const yg_ynode_t *pdoc, const char *item_var)
{
    const yg_ynode_t *vars_map = get_map(def, "variables");
    const char *parts[] = {"system", "user"};
    varlist_t vars = {0};
    for (size_t p = 0; p < ARRAY_LEN(parts); p++) {
        const char *text = scalar_text(yg_ynode_get(pdoc, parts[p]));
        if (text && extract_vars(text, &vars) < 0)
            ctx->nomem = true;
    }
    for (size_t k = 0; k < vars.n; k++) {
        const char *v = vars.v[k];
        if (strset_has(&ctx->declared, v) || has_key(vars_map, v) ||
            (item_var && strcmp(item_var, v) == 0))
            continue;
        lint_add(ctx, "E002", YG_LINT_ERROR, prompt_node,
                 strf("Variable '%s' used in prompt '%s' (%s) of node '%s' but not declared in "
                      "state",
                      v, prompt_node->text, prompt_path, node),
                 strf("Add '%s: str' to the state section, or pass it in the node's variables",
                      v));
    }
    varlist_free(&vars);
}

/* E102: a router's prompt needs an `intent` or `tone` field. */
static void check_router_schema(lint_ctx_t *ctx, const char *node, const yg_ynode_t *prompt_node,
                                const yg_ynode_t *pdoc)
{
    const yg_ynode_t *fields = get_map(get_map(pdoc, "schema"), "fields");
    if (has_key(fields, "intent") || has_key(fields, "tone"))
        return;
    /* Ours: a JSON-Schema-style output_schema with the field also routes. */
    const yg_ynode_t *props = get_map(get_map(pdoc, "output_schema"), "properties");
    if (has_key(props, "intent") || has_key(props, "tone"))
        return;
    size_t cap = 1;
    for (size_t i = 0; fields && i < fields->count; i++)
        cap += strlen(fields->keys[i]->text) + 4;
    char *avail = malloc(cap);
    if (!avail) {
        ctx->nomem = true;
        return;
    }
    avail[0] = '\0';
    for (size_t i = 0; fields && i < fields->count; i++) {
        if (i)
            strcat(avail, ", ");
        strcat(avail, fields->keys[i]->text);
    }
    lint_add(ctx, "E102", YG_LINT_ERROR, prompt_node,
             strf("Router node '%s' prompt schema missing 'intent' or 'tone' field", node),
             strf("Add a 'tone' or 'intent' field to the prompt's schema.fields (available: "
                  "%s); the router reads its route label from it",
                  avail[0] ? avail : "none"));
    free(avail);
}

/* Checks one prompt-using node (top-level, or a map sub-node when item_var
 * is set). */
static void check_node_prompt(lint_ctx_t *ctx, const char *node, const yg_ynode_t *def,
                              const char *item_var)
{
    const yg_ynode_t *prompt_node = yg_ynode_get(def, "prompt");
    const char *name = scalar_text(prompt_node);
    if (!name)
        return;
    char *path = prompt_resolve(ctx, name);
    if (!path) {
        char *expected = prompt_lint_path(ctx, name);
        lint_add(ctx, "E004", YG_LINT_ERROR, prompt_node,
                 strf("Prompt file '%s%s' not found for node '%s'", name,
                      ends_with(name, ".yaml") ? "" : ".yaml", node),
                 strf("Create file: %s", expected ? expected : name));
        free(expected);
        return;
    }
    yg_error_t perr = {0};
    yg_ynode_t *pdoc = yg_yaml_load_file(path, &perr);
    if (pdoc) {
        check_prompt_vars(ctx, node, def, prompt_node, path, pdoc, item_var);
        if (!item_var && node_is(def, "router"))
            check_router_schema(ctx, node, prompt_node, pdoc);
        yg_ynode_destroy(&pdoc);
    }
    free(path);
}

static void check_prompts(lint_ctx_t *ctx)
{
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        if (def->kind != YG_YNODE_MAP)
            continue;
        check_node_prompt(ctx, NODE_NAME(ctx, i), def, NULL);
        if (node_is(def, "map")) {
            const yg_ynode_t *sub = get_map(def, "node");
            const char *as = scalar_text(yg_ynode_get(def, "as"));
            if (sub)
                check_node_prompt(ctx, NODE_NAME(ctx, i), sub, as ? as : "");
        }
    }
}

/* ------------------------------------------------------------------------ */
/* E003, W001: tool references                                                */

static bool graph_has_tool_call(const lint_ctx_t *ctx)
{
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        if (node_is(def, "tool_call") ||
            (node_is(def, "map") && node_is(get_map(def, "node"), "tool_call")))
            return true;
    }
    return false;
}

static void check_tool_refs(lint_ctx_t *ctx)
{
    strset_t used = {0};
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        if (def->kind != YG_YNODE_MAP)
            continue;
        const yg_ynode_t *list = yg_ynode_get(def, "tools");
        if (list && !yg_ynode_is_null(list) && list->kind != YG_YNODE_SEQ) {
            lint_add(ctx, "E006", YG_LINT_ERROR, list,
                     strf("'tools' of node '%s' must be a list of tool names", NODE_NAME(ctx, i)),
                     strf("Write 'tools: [tool_a, tool_b]'"));
            continue;
        }
        for (size_t k = 0; list && list->kind == YG_YNODE_SEQ && k < list->count; k++) {
            const yg_ynode_t *item = list->items[k];
            const char *t = scalar_text(item);
            if (!t) {
                lint_add(ctx, "E006", YG_LINT_ERROR, item,
                         strf("'tools' of node '%s' must hold tool names", NODE_NAME(ctx, i)),
                         strf("Write each tool as its name from the tools section"));
                continue;
            }
            if (strset_add(&used, t) < 0)
                ctx->nomem = true;
            if (!has_key(ctx->tools, t))
                lint_add(ctx, "E003", YG_LINT_ERROR, item,
                         strf("Tool '%s' referenced in node '%s' but not defined in tools "
                              "section",
                              t, NODE_NAME(ctx, i)),
                         strf("Add tool '%s' to the tools section or remove reference", t));
        }
        /* Ours: python and tool nodes use their tool through `tool:`. */
        if (node_is(def, "python") || node_is(def, "tool")) {
            const char *t = scalar_text(yg_ynode_get(def, "tool"));
            if (!t)
                t = scalar_text(yg_ynode_get(def, "function"));
            if (t && strset_add(&used, t) < 0)
                ctx->nomem = true;
        }
    }
    bool tool_call = graph_has_tool_call(ctx);
    for (size_t i = 0; ctx->tools && i < ctx->tools->count; i++) {
        const char *name = ctx->tools->keys[i]->text;
        if (strset_has(&used, name))
            continue;
        /* tool_call nodes choose among all python tools at run time. */
        if (tool_call && tool_kind(ctx->tools->items[i]) == TOOL_PYTHON)
            continue;
        lint_add(ctx, "W001", YG_LINT_WARNING, ctx->tools->keys[i],
                 strf("Tool '%s' is defined but never used", name),
                 strf("Remove unused tool '%s' from tools section", name));
    }
    strset_free(&used);
}

/* ------------------------------------------------------------------------ */
/* W002, W003: reachability                                                   */

/* Each edge contributes (from, to) pairs of names; list targets give one
 * pair per item.  Vertices are every name seen (nodes, edge ends, START, END). */
typedef struct {
    const char *from;
    const char *to;
} arc_t;

static void check_reachability(lint_ctx_t *ctx)
{
    strset_t names = {0};
    arc_t *arcs = NULL;
    size_t narcs = 0, cap = 0;
    bool *fwd = NULL, *bwd = NULL;
    size_t *stack = NULL;

    if (strset_add(&names, "START") < 0 || strset_add(&names, "END") < 0)
        goto nomem;
    for (size_t i = 0; i < NODE_COUNT(ctx); i++)
        if (strset_add(&names, NODE_NAME(ctx, i)) < 0)
            goto nomem;
    for (size_t i = 0; ctx->edges && i < ctx->edges->count; i++) {
        const yg_ynode_t *e = ctx->edges->items[i];
        const char *from = scalar_text(yg_ynode_get(e, "from"));
        const yg_ynode_t *to = yg_ynode_get(e, "to");
        if (!from || !to)
            continue;
        size_t nt = to->kind == YG_YNODE_SEQ ? to->count : 1;
        for (size_t k = 0; k < nt; k++) {
            const char *t = scalar_text(to->kind == YG_YNODE_SEQ ? to->items[k] : to);
            if (!t)
                continue;
            if (narcs == cap) {
                cap = cap ? cap * 2 : 32;
                arc_t *a = realloc(arcs, cap * sizeof *a);
                if (!a)
                    goto nomem;
                arcs = a;
            }
            arcs[narcs].from = from;
            arcs[narcs].to = t;
            narcs++;
            if (strset_add(&names, from) < 0 || strset_add(&names, t) < 0)
                goto nomem;
        }
    }
    size_t nv = names.n;
    fwd = calloc(nv, sizeof *fwd);
    bwd = calloc(nv, sizeof *bwd);
    stack = malloc((nv + 1) * sizeof *stack);
    if (!fwd || !bwd || !stack)
        goto nomem;

    /* Fixed-point walks: graphs are small enough that a worklist over the
     * arc list per popped vertex stays cheap (bounded by vertices x arcs). */
    size_t start = strset_index(&names, "START"), end = strset_index(&names, "END");
    size_t sp = 0;
    stack[sp++] = start;
    while (sp) {
        const char *cur = names.v[stack[--sp]];
        for (size_t a = 0; a < narcs; a++) {
            if (strcmp(arcs[a].from, cur) != 0)
                continue;
            size_t t = strset_index(&names, arcs[a].to);
            if (t != end && !fwd[t]) {
                fwd[t] = true;
                stack[sp++] = t;
            }
        }
    }
    sp = 0;
    stack[sp++] = end;
    while (sp) {
        const char *cur = names.v[stack[--sp]];
        for (size_t a = 0; a < narcs; a++) {
            if (strcmp(arcs[a].to, cur) != 0)
                continue;
            size_t f = strset_index(&names, arcs[a].from);
            if (f != start && !bwd[f]) {
                bwd[f] = true;
                stack[sp++] = f;
            }
        }
    }
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const char *node = NODE_NAME(ctx, i);
        size_t v = strset_index(&names, node);
        if (!fwd[v])
            lint_add(ctx, "W002", YG_LINT_WARNING, NODE_KEY(ctx, i),
                     strf("Node '%s' is not reachable from START", node),
                     strf("Add edge from START or another node to '%s'", node));
        else if (!bwd[v])
            lint_add(ctx, "W003", YG_LINT_WARNING, NODE_KEY(ctx, i),
                     strf("Node '%s' has no path to END", node),
                     strf("Add edge from '%s' to END or another node", node));
    }
    goto done;
nomem:
    ctx->nomem = true;
done:
    free(stack);
    free(fwd);
    free(bwd);
    free(arcs);
    strset_free(&names);
}

/* ------------------------------------------------------------------------ */
/* E005: node types                                                           */

static void check_types(lint_ctx_t *ctx)
{
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        const yg_ynode_t *t = yg_ynode_get(def, "type");
        if (!t || !node_truthy(t))
            continue;
        const char *text = t->kind == YG_YNODE_SCALAR ? t->text : NULL;
        bool ok = false;
        for (size_t k = 0; text && k < ARRAY_LEN(LINT_NODE_TYPES); k++)
            ok = ok || strcmp(text, LINT_NODE_TYPES[k]) == 0;
        if (ok)
            continue;
        lint_add(ctx, "E005", YG_LINT_ERROR, t,
                 text ? strf("Invalid node type '%s' in node '%s'", text, NODE_NAME(ctx, i))
                      : strf("Node type of node '%s' must be a name", NODE_NAME(ctx, i)),
                 strf("Use one of: " LINT_NODE_TYPES_TEXT));
    }
}

/* ------------------------------------------------------------------------ */
/* E101, W101, E103: routers (E102 is checked with the prompt files)          */

static void check_routers(lint_ctx_t *ctx)
{
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        const char *node = NODE_NAME(ctx, i);
        if (!node_is(def, "router"))
            continue;
        const yg_ynode_t *routes = yg_ynode_get(def, "routes");
        if (routes && routes->kind == YG_YNODE_SEQ)
            lint_add(ctx, "E101", YG_LINT_ERROR, routes,
                     strf("Router node '%s' has routes as list; must be a mapping", node),
                     strf("Change routes to a mapping: {route_label: target_node}"));
        else if (routes && !yg_ynode_is_null(routes) && routes->kind != YG_YNODE_MAP)
            lint_add(ctx, "E101", YG_LINT_ERROR, routes,
                     strf("Router node '%s' routes must be a mapping, got a scalar", node),
                     strf("Routes should be: {positive: handle_positive, negative: "
                          "handle_negative}"));
        else if (!routes || yg_ynode_is_null(routes) || routes->count == 0)
            lint_add(ctx, "E101", YG_LINT_ERROR, routes ? routes : NODE_KEY(ctx, i),
                     strf("Router node '%s' has no routes", node),
                     strf("Add routes: {route_label: target_node, ...}"));
        if (!has_key(def, "default_route"))
            lint_add(ctx, "W101", YG_LINT_WARNING, NODE_KEY(ctx, i),
                     strf("Router node '%s' missing default_route field", node),
                     strf("Add default_route: <fallback node> for unhandled classifications"));
        for (size_t e = 0; ctx->edges && e < ctx->edges->count; e++) {
            const yg_ynode_t *edge = ctx->edges->items[e];
            const char *to = scalar_text(yg_ynode_get(edge, "to"));
            if (to && strcmp(to, node) == 0 && has_key(edge, "condition"))
                lint_add(ctx, "E103", YG_LINT_ERROR, edge,
                         strf("Conditional edge %zu targets router '%s' with single node", e + 1,
                              node),
                         strf("Route into '%s' with a plain edge, or use 'to: [%s]' with "
                              "'type: conditional'",
                              node, node));
        }
    }
}

/* ------------------------------------------------------------------------ */
/* E201-E205, W201, W202: maps                                                */

static void check_maps(lint_ctx_t *ctx)
{
    static const struct {
        const char *key;
        const char *code;
        const char *fix;
    } required[] = {
        {"over", "E201", "Add 'over: \"{state.list_field}\"' to name the list to iterate over"},
        {"as", "E202", "Add 'as: item' to name the variable holding each item"},
        {"node", "E203", "Add a nested 'node:' with prompt and state_key to process each item"},
        {"collect", "E204", "Add 'collect: results' to name the key collecting the results"},
    };
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        const char *node = NODE_NAME(ctx, i);
        if (!node_is(def, "map"))
            continue;
        for (size_t k = 0; k < ARRAY_LEN(required); k++)
            if (!has_key(def, required[k].key))
                lint_add(ctx, required[k].code, YG_LINT_ERROR, NODE_KEY(ctx, i),
                         strf("Map node '%s' missing required field '%s'", node,
                              required[k].key),
                         strf("%s", required[k].fix));
        if (has_key(def, "prompt"))
            lint_add(ctx, "E205", YG_LINT_ERROR, yg_ynode_key(def, "prompt"),
                     strf("Map node '%s' should not have top-level 'prompt' field", node),
                     strf("Move 'prompt' into the nested 'node' definition"));
        const yg_ynode_t *over = yg_ynode_get(def, "over");
        const char *over_text = scalar_text(over);
        if (over_text && over_text[0] &&
            !(strncmp(over_text, "{state.", 7) == 0 && ends_with(over_text, "}")))
            lint_add(ctx, "W201", YG_LINT_WARNING, over,
                     strf("Map node '%s' 'over' field should reference a state list", node),
                     strf("Use a state reference: over: \"{state.list_field}\""));
        const yg_ynode_t *sub = yg_ynode_get(def, "node");
        if (sub && sub->kind == YG_YNODE_MAP && sub->count > 0 && !has_key(sub, "prompt") &&
            !has_key(sub, "type"))
            lint_add(ctx, "W202", YG_LINT_WARNING, sub,
                     strf("Map node '%s' nested node missing prompt or type", node),
                     strf("Add 'prompt' to the nested node for LLM processing"));
    }
}

/* ------------------------------------------------------------------------ */
/* E301-E304, W301, W302: interrupts and the checkpointer                     */

static void check_interrupts(lint_ctx_t *ctx)
{
    const yg_ynode_t *first = NULL;
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        const char *node = NODE_NAME(ctx, i);
        if (!node_is(def, "interrupt"))
            continue;
        if (!first)
            first = NODE_KEY(ctx, i);
        if (!has_key(def, "resume_key"))
            lint_add(ctx, "E301", YG_LINT_ERROR, NODE_KEY(ctx, i),
                     strf("Interrupt node '%s' missing required field 'resume_key'", node),
                     strf("Add 'resume_key: <state key>' to store the user's response (and "
                          "declare it under state:)"));
        bool has_prompt = has_key(def, "prompt"), has_message = has_key(def, "message");
        if (!has_prompt && !has_message && !has_key(def, "state_key"))
            lint_add(ctx, "E302", YG_LINT_ERROR, NODE_KEY(ctx, i),
                     strf("Interrupt node '%s' missing 'prompt', 'message', or 'state_key' field",
                          node),
                     strf("Add 'message' (static text), 'prompt' (LLM-generated question) or "
                          "'state_key' (pre-computed text)"));
        else if (has_prompt && has_message)
            lint_add(ctx, "W302", YG_LINT_WARNING, NODE_KEY(ctx, i),
                     strf("Interrupt node '%s' has both 'prompt' and 'message' fields (prompt "
                          "wins)",
                          node),
                     strf("Use either 'prompt' (dynamic) or 'message' (static), not both"));
        const char *keys[] = {"state_key", "resume_key"};
        for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
            const yg_ynode_t *v = yg_ynode_get(def, keys[k]);
            const char *text = scalar_text(v);
            if (text && text[0] && !has_key(ctx->state, text))
                lint_add(ctx, "E303", YG_LINT_ERROR, v,
                         strf("Interrupt node '%s' %s '%s' not declared in state section", node,
                              keys[k], text),
                         strf("Add '%s: str' to the state section", text));
        }
    }
    const yg_ynode_t *cp = yg_ynode_get(ctx->doc, "checkpointer");
    bool cp_present = cp && !yg_ynode_is_null(cp) && !(cp->kind != YG_YNODE_SCALAR && cp->count == 0);
    if (cp_present && cp->kind != YG_YNODE_MAP)
        lint_add(ctx, "E304", YG_LINT_ERROR, cp, strf("Graph checkpointer must be a mapping"),
                 strf("Use: checkpointer: {type: memory}"));
    else if (cp_present && !has_key(cp, "type"))
        lint_add(ctx, "E304", YG_LINT_ERROR, cp,
                 strf("Graph checkpointer missing required 'type' field"),
                 strf("Add a type: checkpointer: {type: memory} (or sqlite, redis, redis-simple)"));
    if (first && !cp_present)
        lint_add(ctx, "W301", YG_LINT_WARNING, first,
                 strf("Graph with interrupt nodes missing checkpointer configuration"),
                 strf("Add a checkpointer section: checkpointer: {type: memory} or {type: "
                      "sqlite, path: checkpoints.db}"));
}

/* ------------------------------------------------------------------------ */
/* W401, E401: agents                                                         */

static void check_agents(lint_ctx_t *ctx)
{
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        const char *node = NODE_NAME(ctx, i);
        if (!node_is(def, "agent"))
            continue;
        const yg_ynode_t *list = yg_ynode_get(def, "tools");
        if (!node_truthy(list)) {
            lint_add(ctx, "W401", YG_LINT_WARNING, NODE_KEY(ctx, i),
                     strf("Agent node '%s' has no tools configured", node),
                     strf("Add 'tools: [tool1, tool2]' naming entries of the tools section"));
            continue;
        }
        for (size_t k = 0; list->kind == YG_YNODE_SEQ && k < list->count; k++) {
            const char *t = scalar_text(list->items[k]);
            if (!t || has_key(ctx->tools, t) || strcmp(t, "websearch") == 0)
                continue;
            lint_add(ctx, "E401", YG_LINT_ERROR, list->items[k],
                     strf("Agent node '%s' references undefined tool '%s'", node, t),
                     strf("Define tool '%s' in the tools section", t));
        }
    }
}

/* ------------------------------------------------------------------------ */
/* E501, E502, W501, W502: subgraphs                                          */

static void check_subgraphs(lint_ctx_t *ctx)
{
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        const char *node = NODE_NAME(ctx, i);
        if (!node_is(def, "subgraph"))
            continue;
        const yg_ynode_t *g = yg_ynode_get(def, "graph");
        const char *gp = scalar_text(g);
        if (!gp || !gp[0]) {
            lint_add(ctx, "E501", YG_LINT_ERROR, NODE_KEY(ctx, i),
                     strf("Subgraph node '%s' missing required 'graph' field", node),
                     strf("Add 'graph: subgraphs/<name>.yaml' (relative to this file)"));
            continue;
        }
        char *p1 = path_join(ctx->graph_dir, gp);
        char *p2 = path_join(ctx->root, gp);
        if (!p1 || !p2)
            ctx->nomem = true;
        else if (!file_exists(p1) && !file_exists(p2))
            lint_add(ctx, "E502", YG_LINT_ERROR, g,
                     strf("Subgraph node '%s' references non-existent graph file '%s' (looked "
                          "for %s)",
                          node, gp, p1),
                     strf("Create the subgraph file at '%s' or fix the path (it is relative to "
                          "this graph's folder)",
                          p1));
        free(p1);
        free(p2);
        const char *mode = scalar_text(yg_ynode_get(def, "mode"));
        if (mode && strcmp(mode, "direct") == 0)
            continue;
        if (!has_key(def, "input_mapping"))
            lint_add(ctx, "W501", YG_LINT_WARNING, NODE_KEY(ctx, i),
                     strf("Subgraph node '%s' missing input_mapping (the child starts with an "
                          "empty state)",
                          node),
                     strf("Add input_mapping: {parent_key: child_key} (or 'auto')"));
        if (!has_key(def, "output_mapping"))
            lint_add(ctx, "W502", YG_LINT_WARNING, NODE_KEY(ctx, i),
                     strf("Subgraph node '%s' missing output_mapping (nothing comes back to the "
                          "parent)",
                          node),
                     strf("Add output_mapping: {parent_key: child_key} (or 'auto')"));
    }
}

/* ------------------------------------------------------------------------ */
/* Ours: E007, I601, W602 (tools this runtime runs differently)               */

#define WORKER_HINT                                                                              \
    "it runs only in a process that registers a native function for it with "                  \
    "yg_native_register: an embedding host, or a yamlgraph worker built with yg_worker_api.h "   \
    "serving this node (see docs/deployment.md)"

static void check_python_node(lint_ctx_t *ctx, size_t i, bool shell)
{
    const yg_ynode_t *def = NODE_DEF(ctx, i);
    const char *node = NODE_NAME(ctx, i);
    const yg_ynode_t *tn = yg_ynode_get(def, "tool");
    if (!shell && !tn)
        tn = yg_ynode_get(def, "function");
    const char *t = scalar_text(tn);
    const char *kind = shell ? "shell" : "python";
    if (!t) {
        lint_add(ctx, "E007", YG_LINT_ERROR, NODE_KEY(ctx, i),
                 strf("%s node '%s' has no 'tool'", shell ? "Tool" : "Python", node),
                 strf("Add 'tool: <name>' naming a %s tool of the tools section", kind));
        return;
    }
    const yg_ynode_t *td = tool_def(ctx, t);
    tool_kind_t k = tool_kind(td);
    if (!td)
        lint_add(ctx, "E007", YG_LINT_ERROR, tn,
                 strf("Node '%s' uses tool '%s', which is not defined in the tools section",
                      node, t),
                 strf("Define '%s' under tools: with type: %s", t, kind));
    else if (shell && k != TOOL_SHELL)
        lint_add(ctx, "E007", YG_LINT_ERROR, tn,
                 strf("Tool node '%s' uses tool '%s', which is not a shell tool", node, t),
                 strf("Give '%s' a 'command', or use a python node for python tools", t));
    else if (!shell && k != TOOL_PYTHON)
        lint_add(ctx, "E007", YG_LINT_ERROR, tn,
                 strf("Python node '%s' uses tool '%s', which is not a python tool with module "
                      "and function",
                      node, t),
                 strf("Define '%s' as {type: python, module: ..., function: ...}", t));
    else if (!shell)
        lint_add(ctx, "I601", YG_LINT_INFO, NODE_KEY(ctx, i),
                 strf("Node '%s' uses python tool '%s' (%s.%s): " WORKER_HINT, node, t,
                      scalar_text(yg_ynode_get(td, "module")),
                      scalar_text(yg_ynode_get(td, "function"))),
                 strf("Serve this node from a worker that registers the function, or "
                      "replace the node with a native one"));
}

static void check_agent_python(lint_ctx_t *ctx, size_t i)
{
    const yg_ynode_t *list = yg_ynode_get(NODE_DEF(ctx, i), "tools");
    size_t len = 1;
    for (size_t k = 0; list && list->kind == YG_YNODE_SEQ && k < list->count; k++) {
        const char *t = scalar_text(list->items[k]);
        if (t && tool_kind(tool_def(ctx, t)) == TOOL_PYTHON)
            len += strlen(t) + 4;
    }
    if (len == 1)
        return;
    char *names = malloc(len);
    if (!names) {
        ctx->nomem = true;
        return;
    }
    names[0] = '\0';
    for (size_t k = 0; k < list->count; k++) {
        const char *t = scalar_text(list->items[k]);
        if (!t || tool_kind(tool_def(ctx, t)) != TOOL_PYTHON)
            continue;
        if (names[0])
            strcat(names, ", ");
        strcat(names, "'");
        strcat(names, t);
        strcat(names, "'");
    }
    lint_add(ctx, "I601", YG_LINT_INFO, NODE_KEY(ctx, i),
             strf("Agent node '%s' uses python tools %s: " WORKER_HINT, NODE_NAME(ctx, i), names),
             strf("Serve this node from a worker that registers the functions, or give "
                  "the agent shell tools"));
    free(names);
}

static void check_runtime_support(lint_ctx_t *ctx)
{
    for (size_t i = 0; i < NODE_COUNT(ctx); i++) {
        const yg_ynode_t *def = NODE_DEF(ctx, i);
        const char *node = NODE_NAME(ctx, i);
        if (node_is(def, "python"))
            check_python_node(ctx, i, false);
        else if (node_is(def, "tool"))
            check_python_node(ctx, i, true);
        else if (node_is(def, "agent"))
            check_agent_python(ctx, i);
        else if (node_is(def, "tool_call") ||
                 (node_is(def, "map") && node_is(get_map(def, "node"), "tool_call")))
            lint_add(ctx, "I601", YG_LINT_INFO, NODE_KEY(ctx, i),
                     strf("Node '%s' calls python tools chosen at run time (tool_call): " WORKER_HINT,
                          node),
                     strf("Serve this node from a worker that registers the functions"));
    }
    for (size_t i = 0; ctx->tools && i < ctx->tools->count; i++) {
        if (tool_kind(ctx->tools->items[i]) != TOOL_WEBSEARCH)
            continue;
        const char *name = ctx->tools->keys[i]->text;
        lint_add(ctx, "W602", YG_LINT_WARNING, ctx->tools->keys[i],
                 strf("Tool '%s' is a websearch tool: this runtime does not search the web, so "
                      "agents calling it get a search error instead of results",
                      name),
                 strf("Replace '%s' with a shell tool that fetches what the agent needs, or "
                      "remove it",
                      name));
    }
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                               */

static void sort_issues(yg_lint_report_t *r)
{
    /* Insertion sort keeps it stable without extra memory; reports are small
     * and mostly in order already. */
    for (size_t i = 1; i < r->count; i++) {
        yg_lint_issue_t tmp = r->issues[i];
        size_t seq = r->seq[i];
        size_t j = i;
        while (j > 0) {
            const yg_lint_issue_t *p = &r->issues[j - 1];
            bool after = p->line > tmp.line || (p->line == tmp.line && p->column > tmp.column);
            if (!after)
                break;
            r->issues[j] = r->issues[j - 1];
            r->seq[j] = r->seq[j - 1];
            j--;
        }
        r->issues[j] = tmp;
        r->seq[j] = seq;
    }
}

static bool flag_value(const yg_ynode_t *n, bool *out)
{
    if (!n || yg_ynode_is_null(n))
        return false;
    *out = node_truthy(n);
    return true;
}

yg_lint_report_t *yg_lint_file_in(const char *path, const char *project_root, yg_error_t *err)
{
    if (!path) {
        yg_error_set(err, YG_EINVAL, "no graph file given");
        return NULL;
    }
    yg_ynode_t *doc = yg_yaml_load_file(path, err);
    if (!doc)
        return NULL;
    lint_ctx_t ctx = {0};
    ctx.doc = doc;
    ctx.path = path;
    ctx.root = project_root && *project_root ? project_root : ".";
    ctx.report = report_new(path);
    ctx.graph_dir = path_dirname(path);
    if (!ctx.report || !ctx.graph_dir) {
        yg_lint_report_destroy(&ctx.report);
        free(ctx.graph_dir);
        yg_ynode_destroy(&doc);
        yg_error_set(err, YG_ENOMEM, "out of memory while linting %s", path);
        return NULL;
    }
    const yg_ynode_t *nodes = yg_ynode_get(doc, "nodes");
    const yg_ynode_t *edges = yg_ynode_get(doc, "edges");
    ctx.nodes = nodes && nodes->kind == YG_YNODE_MAP ? nodes : NULL;
    ctx.edges = edges && edges->kind == YG_YNODE_SEQ ? edges : NULL;
    ctx.tools = get_map(doc, "tools");
    ctx.state = get_map(doc, "state");
    const yg_ynode_t *defaults = get_map(doc, "defaults");
    ctx.prompts_dir = scalar_text(yg_ynode_get(doc, "prompts_dir"));
    if (!ctx.prompts_dir || !ctx.prompts_dir[0])
        ctx.prompts_dir = scalar_text(yg_ynode_get(defaults, "prompts_dir"));
    if (ctx.prompts_dir && !ctx.prompts_dir[0])
        ctx.prompts_dir = NULL;
    if (!flag_value(yg_ynode_get(doc, "prompts_relative"), &ctx.prompts_relative))
        flag_value(yg_ynode_get(defaults, "prompts_relative"), &ctx.prompts_relative);
    flag_value(yg_ynode_get(doc, "prompts_relative"), &ctx.prompts_relative_top);

    check_structure(&ctx);
    build_declared(&ctx);
    check_e001(&ctx);
    check_tool_refs(&ctx);
    check_prompts(&ctx);
    check_reachability(&ctx);
    check_types(&ctx);
    check_routers(&ctx);
    check_maps(&ctx);
    check_interrupts(&ctx);
    check_agents(&ctx);
    check_subgraphs(&ctx);
    check_runtime_support(&ctx);

    strset_free(&ctx.declared);
    free(ctx.graph_dir);
    yg_ynode_destroy(&doc);
    if (ctx.nomem) {
        yg_lint_report_destroy(&ctx.report);
        yg_error_set(err, YG_ENOMEM, "out of memory while linting %s", path);
        return NULL;
    }
    sort_issues(ctx.report);
    if (ctx.report->truncated) {
        ctx.finishing = true;
        lint_add(&ctx, "I000", YG_LINT_INFO, NULL,
                 strf("Too many issues: only the first %d are reported", YG_LINT_MAX_ISSUES - 1),
                 strf("Fix the reported issues and lint again"));
        if (ctx.nomem) {
            yg_lint_report_destroy(&ctx.report);
            yg_error_set(err, YG_ENOMEM, "out of memory while linting %s", path);
            return NULL;
        }
    }
    return ctx.report;
}

yg_lint_report_t *yg_lint_file(const char *path, yg_error_t *err)
{
    return yg_lint_file_in(path, NULL, err);
}
