/*
 * yg_graph_edges.c - edges (spec 5.1-5.3), loop detection (spec 5.6, [C]
 * strongly connected components), node read sets and the engine's final
 * checks (spec 1.1 step 9).
 */
#include "yg_graph_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_expr.h"

/* ------------------------------------------------------------ edges */

typedef struct edge_src {
    const yg_ynode_t *def, *from, *to, *cond, *type;
    char what[96];
} edge_src_t;

static int edge_node(yg_loader_t *l, const edge_src_t *s, const yg_ynode_t *at, const char *name,
                     const char *role, size_t *index)
{
    char hint[160];
    if (strcmp(name, "START") == 0)
        return yg_gl_error(l, at, "%s: START cannot be a '%s' target; use 'from: START' instead",
                           s->what, role);
    if (strcmp(name, "END") == 0) {
        *index = YG_END_INDEX;
        return YG_OK;
    }
    yg_node_t *n = yg_gl_top_node(l->g, name);
    if (!n)
        return yg_gl_error(l, at, "%s: '%s' names unknown node '%s'%s", s->what, role, name,
                           yg_gl_node_hint(l->g, name, hint, sizeof hint));
    *index = n->index;
    return YG_OK;
}

static bool is_map_index(const yg_graph_t *g, size_t index)
{
    return index < g->top_nodes_count && g->nodes[index]->type == YG_NODE_MAP;
}

static int edge_targets(yg_loader_t *l, yg_edge_t *e, const edge_src_t *s)
{
    const yg_ynode_t *to = s->to;
    size_t count = to->kind == YG_YNODE_SEQ ? to->count : 1;
    if (count == 0)
        return yg_gl_error(l, to, "%s: 'to' is an empty list; name at least one node", s->what);
    e->to = calloc(count, sizeof *e->to);
    e->to_index = calloc(count, sizeof *e->to_index);
    if (!e->to || !e->to_index)
        return yg_gl_nomem(l);
    for (size_t i = 0; i < count; i++) {
        const yg_ynode_t *t = to->kind == YG_YNODE_SEQ ? to->items[i] : to;
        if (t->kind != YG_YNODE_SCALAR || yg_ynode_is_null(t))
            return yg_gl_error(l, t, "%s: every 'to' target must be a node name, not %s",
                               s->what, yg_gl_kind(t));
        if (!(e->to[i] = yg_gl_strdup(l, t->text)))
            return YG_ENOMEM;
        e->to_count = i + 1;
        if (edge_node(l, s, t, t->text, "to", &e->to_index[i]) != YG_OK)
            return l->err->code;
    }
    return YG_OK;
}

static int classify_router_edge(yg_loader_t *l, yg_edge_t *e, const edge_src_t *s, size_t self)
{
    const yg_graph_t *g = l->g;
    if (is_map_index(g, e->from_index))
        return yg_gl_error(l, s->to,
                           "%s: an edge leaving map node '%s' must have a single 'to'", s->what,
                           e->from);
    bool conditional = s->type && s->type->kind == YG_YNODE_SCALAR &&
                       strcmp(s->type->text, "conditional") == 0;
    if (!conditional)
        return yg_gl_error(l, s->to,
                           "%s: 'to' is a list, which needs 'type: conditional' (a router edge "
                           "choosing by _route); for parallel branches write one edge per "
                           "target",
                           s->what);
    for (size_t i = 0; i < e->to_count; i++) {
        const yg_ynode_t *t = s->to->items[i];
        if (e->to_index[i] == YG_END_INDEX)
            return yg_gl_error(l, t,
                               "%s: END cannot be a router edge target; route to a node that "
                               "has an edge to END",
                               s->what);
        if (is_map_index(g, e->to_index[i]))
            return yg_gl_error(l, t,
                               "%s: router edges cannot target map node '%s'; route to an "
                               "intermediate node with a plain edge into the map",
                               s->what, e->to[i]);
    }
    for (size_t i = 0; i < self; i++) {
        const yg_edge_t *o = &g->edges[i];
        if (o->kind == YG_EDGE_ROUTER && o->from_index == e->from_index)
            return yg_gl_error(l, s->def,
                               "%s: node '%s' already has a router edge (line %d); merge the "
                               "target lists into one edge",
                               s->what, e->from, o->pos.line);
    }
    e->kind = YG_EDGE_ROUTER;
    return YG_OK;
}

static int compile_condition(yg_loader_t *l, yg_edge_t *e, const edge_src_t *s)
{
    const yg_ynode_t *c = s->cond;
    if (c->kind != YG_YNODE_SCALAR)
        return yg_gl_error(l, c, "%s: 'condition' must be a string such as \"score < 0.8\", not %s",
                           s->what, yg_gl_kind(c));
    if (!(e->condition_src = yg_gl_strdup(l, c->text)))
        return YG_ENOMEM;
    yg_error_t ce = {0};
    e->condition = yg_cond_compile(c->text, &ce);
    if (!e->condition) {
        if (ce.code == YG_ENOMEM)
            return yg_gl_nomem(l);
        int col = c->text_column + (ce.column > 0 ? ce.column - 1 : 0);
        return yg_error_set_at(l->err, ce.code ? ce.code : YG_EEXPR, l->file, c->text_line, col,
                               "%s: %s", s->what, ce.message[0] ? ce.message
                                                                : "invalid condition");
    }
    e->kind = YG_EDGE_CONDITION;
    return YG_OK;
}

static int compile_edge(yg_loader_t *l, yg_edge_t *e, const yg_ynode_t *def, size_t index)
{
    yg_graph_t *g = l->g;
    edge_src_t s = {.def = def};
    snprintf(s.what, sizeof s.what, "edge %zu", index + 1);
    if (def->kind != YG_YNODE_MAP)
        return yg_gl_error(l, def, "%s: must be a mapping {from, to}, not %s", s.what,
                           yg_gl_kind(def));
    e->pos = (yg_pos_t){def->line, def->column};
    s.from = yg_ynode_get(def, "from");
    s.to = yg_ynode_get(def, "to");
    s.cond = yg_ynode_get(def, "condition");
    s.type = yg_ynode_get(def, "type");
    if (s.cond && yg_ynode_is_null(s.cond))
        s.cond = NULL;
    if (!s.from || yg_ynode_is_null(s.from))
        return yg_gl_error(l, def, "%s: missing 'from' (a node name or START)", s.what);
    if (!s.to || yg_ynode_is_null(s.to))
        return yg_gl_error(l, def, "%s: missing 'to' (a node name, END, or a list with "
                           "type: conditional)",
                           s.what);
    if (s.from->kind != YG_YNODE_SCALAR)
        return yg_gl_error(l, s.from, "%s: 'from' must be one node name or START, not %s",
                           s.what, yg_gl_kind(s.from));
    if (s.to->kind == YG_YNODE_MAP)
        return yg_gl_error(l, s.to, "%s: 'to' must be a node name or a list of names, not %s",
                           s.what, yg_gl_kind(s.to));
    snprintf(s.what, sizeof s.what, "edge %zu (from '%.40s')", index + 1, s.from->text);
    if (!(e->from = yg_gl_strdup(l, s.from->text)))
        return YG_ENOMEM;
    if (strcmp(e->from, "START") == 0) {
        e->from_index = YG_START_INDEX;
        if (s.to->kind == YG_YNODE_SEQ)
            return yg_gl_error(l, s.to,
                               "%s: an edge from START needs a single 'to'; write one edge per "
                               "start node",
                               s.what);
    } else if (strcmp(e->from, "END") == 0) {
        return yg_gl_error(l, s.from, "%s: END has no outgoing edges; use END only in 'to'",
                           s.what);
    } else if (edge_node(l, &s, s.from, e->from, "from", &e->from_index) != YG_OK) {
        return l->err->code;
    }
    if (edge_targets(l, e, &s) != YG_OK)
        return l->err->code;
    size_t to0 = e->to_index[0];
    if (s.to->kind == YG_YNODE_SEQ)
        return classify_router_edge(l, e, &s, index);
    if (e->from_index == YG_START_INDEX) { /* rows 1, 2: condition ignored */
        e->kind = is_map_index(g, to0) ? YG_EDGE_FANOUT : YG_EDGE_PLAIN;
        return YG_OK;
    }
    /* Row 3 (map -> map): the original attached the second fan-out to the
     * first map's per-item sub-node (ill-defined).  Here an edge leaving a
     * map fires once after all its items, so map -> map is simply a fan-out
     * of the second map after the first has collected (the corpus relies
     * on it: book_translator, encounter-multi). */
    if (is_map_index(g, to0)) { /* row 4 */
        e->kind = YG_EDGE_FANOUT;
        return YG_OK;
    }
    if (is_map_index(g, e->from_index)) { /* row 5: fires once after all items */
        e->kind = YG_EDGE_PLAIN;
        return YG_OK;
    }
    if (s.cond) /* row 7 */
        return compile_condition(l, e, &s);
    e->kind = YG_EDGE_PLAIN; /* rows 8, 9 */
    return YG_OK;
}

static int size_list_add(size_t **list, size_t *count, size_t value)
{
    size_t *grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (!grown)
        return YG_ENOMEM;
    *list = grown;
    grown[(*count)++] = value;
    return YG_OK;
}

int yg_gl_edges(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    const yg_ynode_t *edges = yg_ynode_get(l->root, "edges");
    g->edges = calloc(edges->count, sizeof *g->edges);
    if (!g->edges)
        return yg_gl_nomem(l);
    for (size_t i = 0; i < edges->count; i++) {
        g->edges_count = i + 1;
        if (compile_edge(l, &g->edges[i], edges->items[i], i) != YG_OK)
            return l->err->code ? l->err->code : YG_EVALIDATE;
    }
    for (size_t i = 0; i < g->edges_count; i++) {
        size_t from = g->edges[i].from_index;
        int rc = from == YG_START_INDEX
                     ? size_list_add(&g->start_edges, &g->start_edges_count, i)
                     : size_list_add(&g->nodes[from]->out_edges, &g->nodes[from]->out_edges_count,
                                     i);
        if (rc != YG_OK)
            return yg_gl_nomem(l);
    }
    return YG_OK;
}

/* ------------------------------------------------------------ loops (5.6) */

/* Iterative Tarjan over the top-level nodes; arcs are every edge target
 * (list targets and conditional edges included).  A node is "in a loop"
 * when its component has more than one node or it has an arc to itself. */
typedef struct tarjan {
    size_t *index, *low, *stack, *comp;
    bool *on_stack;
    size_t sp, next_index, comps;
} tarjan_t;

typedef struct frame {
    size_t node, edge_pos, target_pos;
} frame_t;

static bool next_successor(const yg_graph_t *g, frame_t *f, size_t *succ)
{
    const yg_node_t *n = g->nodes[f->node];
    while (f->edge_pos < n->out_edges_count) {
        const yg_edge_t *e = &g->edges[n->out_edges[f->edge_pos]];
        while (f->target_pos < e->to_count) {
            size_t t = e->to_index[f->target_pos++];
            if (t != YG_END_INDEX && t < g->top_nodes_count) {
                *succ = t;
                return true;
            }
        }
        f->edge_pos++;
        f->target_pos = 0;
    }
    return false;
}

void yg_gl_loops(yg_graph_t *g)
{
    size_t n = g->top_nodes_count;
    if (n == 0)
        return;
    const size_t unvisited = (size_t)-1;
    tarjan_t t = {0};
    t.index = malloc(n * sizeof *t.index);
    t.low = malloc(n * sizeof *t.low);
    t.stack = malloc(n * sizeof *t.stack);
    t.comp = malloc(n * sizeof *t.comp);
    t.on_stack = calloc(n, sizeof *t.on_stack);
    frame_t *frames = malloc(n * sizeof *frames);
    size_t *comp_size = calloc(n, sizeof *comp_size);
    if (!t.index || !t.low || !t.stack || !t.comp || !t.on_stack || !frames || !comp_size)
        goto out; /* out of memory: leave in_loop false (conservative for skip) */
    for (size_t i = 0; i < n; i++)
        t.index[i] = unvisited;
    for (size_t root = 0; root < n; root++) {
        if (t.index[root] != unvisited)
            continue;
        size_t depth = 0;
        frames[depth++] = (frame_t){root, 0, 0};
        t.index[root] = t.low[root] = t.next_index++;
        t.stack[t.sp++] = root;
        t.on_stack[root] = true;
        while (depth > 0) {
            frame_t *f = &frames[depth - 1];
            size_t w;
            if (next_successor(g, f, &w)) {
                if (t.index[w] == unvisited) {
                    t.index[w] = t.low[w] = t.next_index++;
                    t.stack[t.sp++] = w;
                    t.on_stack[w] = true;
                    frames[depth++] = (frame_t){w, 0, 0};
                } else if (t.on_stack[w] && t.index[w] < t.low[f->node]) {
                    t.low[f->node] = t.index[w];
                }
                continue;
            }
            size_t v = f->node;
            if (t.low[v] == t.index[v]) {
                size_t w2;
                do {
                    w2 = t.stack[--t.sp];
                    t.on_stack[w2] = false;
                    t.comp[w2] = t.comps;
                    comp_size[t.comps]++;
                } while (w2 != v);
                t.comps++;
            }
            depth--;
            if (depth > 0) {
                size_t parent = frames[depth - 1].node;
                if (t.low[v] < t.low[parent])
                    t.low[parent] = t.low[v];
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        yg_node_t *node = g->nodes[i];
        bool loop = comp_size[t.comp[i]] > 1;
        for (size_t k = 0; !loop && k < node->out_edges_count; k++) {
            const yg_edge_t *e = &g->edges[node->out_edges[k]];
            for (size_t j = 0; j < e->to_count; j++)
                loop |= e->to_index[j] == i;
        }
        node->in_loop = loop;
        if (loop && !node->skip_if_exists_explicit)
            node->skip_if_exists = false;
    }
out:
    free(t.index);
    free(t.low);
    free(t.stack);
    free(t.comp);
    free(t.on_stack);
    free(frames);
    free(comp_size);
}

/* ------------------------------------------------------------ read sets */

/* `seen` holds the keys already in n->reads (a set, so that a node with
 * many variables stays linear). */
static int reads_add(yg_value_t *seen, yg_node_t *n, const char *key)
{
    if (!key || yg_map_has(seen, key))
        return YG_OK;
    char **grown = realloc(n->reads, (n->reads_count + 1) * sizeof *grown);
    if (!grown)
        return YG_ENOMEM;
    n->reads = grown;
    if (!(grown[n->reads_count] = strdup(key)))
        return YG_ENOMEM;
    n->reads_count++;
    return yg_map_set(seen, key, yg_null_new());
}

static int reads_add_list(yg_value_t *seen, yg_node_t *n, const yg_value_t *list)
{
    for (size_t i = 0; i < yg_list_size(list); i++) {
        const char *s = yg_value_str(yg_list_get(list, i));
        if (s && reads_add(seen, n, s) != YG_OK)
            return YG_ENOMEM;
    }
    return YG_OK;
}

static int reads_exprs(yg_value_t *seen, yg_node_t *n, yg_vexpr_t *const *exprs, size_t count)
{
    yg_value_t *list = yg_list_new();
    if (!list)
        return YG_ENOMEM;
    for (size_t i = 0; exprs && i < count; i++)
        if (exprs[i])
            yg_vexpr_reads(exprs[i], list);
    int rc = reads_add_list(seen, n, list);
    yg_value_destroy(&list);
    return rc;
}

/* The first path segment of a "{state.a.b}" / "{a.b}" reference. */
static int reads_root_of(yg_value_t *seen, yg_node_t *n, const char *path)
{
    if (!path)
        return YG_OK;
    size_t len = strcspn(path, ".");
    char *root = strndup(path, len);
    if (!root)
        return YG_ENOMEM;
    int rc = reads_add(seen, n, root);
    free(root);
    return rc;
}

static int node_reads(yg_value_t *seen, yg_node_t *n)
{
    int rc = YG_OK;
    switch (n->type) {
    case YG_NODE_LLM:
    case YG_NODE_ROUTER:
        if (yg_map_size(n->variables) == 0) {
            n->reads_all = true; /* the prompt gets the whole state (spec 7.2) */
            return YG_OK;
        }
        rc = reads_exprs(seen, n, n->variable_exprs, yg_map_size(n->variables));
        for (size_t i = 0; rc == YG_OK && i < n->requires_count; i++)
            rc = reads_add(seen, n, n->requires[i]);
        if (rc == YG_OK)
            rc = reads_add(seen, n, n->state_key); /* skip_if_exists */
        if (rc == YG_OK)
            rc = reads_add(seen, n, "_loop_counts");
        if (rc == YG_OK && n->is_map_sub && n->as)
            rc = reads_add(seen, n, n->as);
        return rc;
    case YG_NODE_MAP:
        return reads_root_of(seen, n, n->over_path);
    case YG_NODE_PASSTHROUGH:
        rc = reads_exprs(seen, n, n->output_exprs, yg_map_size(n->output));
        /* a null result writes back the current value (spec 4.7) */
        for (size_t i = 0; rc == YG_OK && i < yg_map_size(n->output); i++)
            rc = reads_add(seen, n, yg_map_key_at(n->output, i));
        return rc;
    case YG_NODE_TOOL:
        return reads_exprs(seen, n, n->variable_exprs, yg_map_size(n->variables));
    case YG_NODE_TOOL_CALL: {
        yg_vexpr_t *exprs[2] = {n->tool_expr, n->args_expr};
        rc = reads_exprs(seen, n, exprs, 2);
        return rc == YG_OK ? reads_add(seen, n, "task") : rc; /* envelope task_id (spec 4.10) */
    }
    case YG_NODE_SUBGRAPH:
        if (n->mode_direct || n->input_mapping.kind == YG_MAPPING_ALL) {
            n->reads_all = true;
            return YG_OK;
        }
        for (size_t i = 0; rc == YG_OK && i < yg_map_size(n->input_mapping.map); i++)
            rc = reads_add(seen, n, yg_map_key_at(n->input_mapping.map, i));
        return rc;
    case YG_NODE_INTERRUPT:
    case YG_NODE_PYTHON:
    case YG_NODE_AGENT:
        n->reads_all = true;
        return YG_OK;
    }
    return YG_OK;
}

int yg_gl_reads(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    for (size_t i = 0; i < g->nodes_count; i++) {
        yg_value_t *seen = yg_map_new();
        int rc = seen ? node_reads(seen, g->nodes[i]) : YG_ENOMEM;
        yg_value_destroy(&seen);
        if (rc != YG_OK)
            return yg_gl_nomem(l);
    }
    return YG_OK;
}

/* ------------------------------------------------------------ step 9 */

int yg_gl_engine_checks(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    if (g->start_edges_count == 0) {
        const yg_ynode_t *edges = yg_ynode_key(l->root, "edges");
        return yg_gl_error(l, edges,
                           "no edge leaves START; add an edge '- from: START' with 'to: <first "
                           "node>'");
    }
    return YG_OK;
}
