/*
 * yg_coord_edges.c - which tasks run next: edge evaluation (spec 5.2-5.5)
 * and map fan-out (spec 4.5).
 *
 * Each finished task's outgoing edges are evaluated on the previous state
 * plus that task's own update (a "view").  Edges leaving a map node (the
 * loader hangs them on the map node itself) fire once per step after all item tasks, on the
 * merged state.  A node triggered several times in one step runs once, and
 * a map fans out once per step.
 */
#include "yg_coord_internal.h"
#include "yg_expr.h"

#include <stdlib.h>
#include <string.h>

/* What the edges of one step decided. */
typedef struct {
    bool *scheduled;       /* per top-level node: run it next step */
    yg_value_t **fanout;   /* per top-level map node: the item list (owned) */
    size_t nodes;
} next_set_t;

static void schedule_target(next_set_t *next, const yg_graph_t *g, size_t index)
{
    if (index == YG_END_INDEX || index >= g->top_nodes_count)
        return;
    next->scheduled[index] = true;
}

/* Resolve a map node's `over` on view and record its items (spec 4.5). */
static int fan_out(coord_t *self, coord_run_t *run, next_set_t *next, const yg_node_t *map,
                   const yg_value_t *view, yg_error_t *err)
{
    if (next->fanout[map->index])
        return YG_OK; /* fanned out once this step already */
    yg_value_t *expr = yg_str_new(map->over ? map->over : "");
    if (!expr)
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    yg_error_t perr = { 0 };
    yg_value_t *items = yg_path_strict(view, expr, &perr);
    yg_value_destroy(&expr);
    if (!items)
        return yg_error_set(err, YG_ESTATE, "map node '%s': over '%s': %s", map->name,
                            map->over ? map->over : "", perr.message);
    if (yg_value_type(items) != YG_LIST) {
        int rc = yg_error_set(err, YG_ETYPE, "map node '%s': over '%s' must resolve to list, got %s",
                              map->name, map->over ? map->over : "",
                              yg_type_name(yg_value_type(items)));
        yg_value_destroy(&items);
        return rc;
    }
    int64_t n = (int64_t)yg_list_size(items);
    int64_t cap = self->cfg.max_map_items;
    const char *which = "the runtime's map item cap";
    if (map->max_items >= 0 && map->max_items < cap) {
        cap = map->max_items;
        which = "max_items";
    }
    if (run->cg->graph->max_map_items >= 0 && run->cg->graph->max_map_items < cap) {
        cap = run->cg->graph->max_map_items;
        which = "config.max_map_items";
    }
    if (n > cap) {
        yg_value_destroy(&items);
        return yg_error_set(err, YG_ELIMIT, "map node '%s': %lld items exceed %s (%lld)",
                            map->name, (long long)n, which, (long long)cap);
    }
    next->fanout[map->index] = items;
    return YG_OK;
}

/* The condition group of `node` (all its condition edges, YAML order). */
static int condition_group(coord_t *self, coord_run_t *run, next_set_t *next, const yg_node_t *node,
                           const yg_value_t *view)
{
    const yg_graph_t *g = run->cg->graph;
    if (yg_value_truthy(yg_map_get(view, YG_KEY_LOOP_LIMIT_REACHED)))
        return YG_OK; /* 5.4 step 1: straight to END */
    for (size_t i = 0; i < node->out_edges_count; i++) {
        const yg_edge_t *e = &g->edges[node->out_edges[i]];
        if (e->kind != YG_EDGE_CONDITION || !e->condition)
            continue;
        bool ok = false;
        yg_error_t cerr = { 0 };
        if (yg_cond_eval(e->condition, view, &ok, &cerr) != YG_OK) {
            coord_log(self, YG_LOG_WARNING, "run %s: condition '%s' on edge %s -> %s failed: %s",
                      run->id_str, e->condition_src ? e->condition_src : "", e->from, e->to[0],
                      cerr.message);
            continue;
        }
        if (ok) {
            schedule_target(next, g, e->to_index[0]);
            return YG_OK;
        }
    }
    coord_log(self, YG_LOG_WARNING, "run %s: no condition leaving '%s' is true; going to END",
              run->id_str, node->name);
    return YG_OK;
}

/* The router edge of `node`: _route if listed, else the first target. */
static void router_edge(const yg_graph_t *g, next_set_t *next, const yg_edge_t *e,
                        const yg_value_t *view)
{
    const char *route = yg_value_str(yg_map_get(view, YG_KEY_ROUTE));
    size_t chosen = e->to_count ? e->to_index[0] : YG_END_INDEX;
    for (size_t i = 0; route && i < e->to_count; i++) {
        if (strcmp(e->to[i], route) == 0) {
            chosen = e->to_index[i];
            break;
        }
    }
    schedule_target(next, g, chosen);
}

static bool needs_view(const yg_graph_t *g, const size_t *edges, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        yg_edge_kind_t k = g->edges[edges[i]].kind;
        if (k == YG_EDGE_CONDITION || k == YG_EDGE_ROUTER || k == YG_EDGE_FANOUT)
            return true;
    }
    return false;
}

/* Evaluate a list of edges (a node's out_edges, or START's) on view. */
static int follow_edges(coord_t *self, coord_run_t *run, next_set_t *next, const yg_node_t *node,
                        const size_t *edges, size_t count, const yg_value_t *view, yg_error_t *err)
{
    const yg_graph_t *g = run->cg->graph;
    bool group_done = false;
    const yg_edge_t *router = NULL;
    for (size_t i = 0; i < count; i++) {
        const yg_edge_t *e = &g->edges[edges[i]];
        switch (e->kind) {
        case YG_EDGE_PLAIN:
            for (size_t t = 0; t < e->to_count; t++)
                schedule_target(next, g, e->to_index[t]);
            break;
        case YG_EDGE_CONDITION:
            if (!node) { /* START edges ignore conditions (5.2 row 2) */
                schedule_target(next, g, e->to_index[0]);
            } else if (!group_done) {
                condition_group(self, run, next, node, view);
                group_done = true;
            }
            break;
        case YG_EDGE_ROUTER:
            router = e; /* a later router edge replaces an earlier one (5.2 row 6) */
            break;
        case YG_EDGE_FANOUT:
            if (e->to_index[0] < g->top_nodes_count) {
                int rc = fan_out(self, run, next, g->nodes[e->to_index[0]], view, err);
                if (rc != YG_OK)
                    return rc;
            }
            break;
        }
    }
    if (router)
        router_edge(g, next, router, view);
    return YG_OK;
}

/* Edges leaving a map node (plain, or a fan-out into another map): once per
 * step after all its items, on the merged state. */
static int follow_map_edges(coord_t *self, coord_run_t *run, next_set_t *next, const yg_node_t *map,
                            const yg_value_t *merged, yg_error_t *err)
{
    const yg_graph_t *g = run->cg->graph;
    for (size_t i = 0; i < map->out_edges_count; i++) {
        const yg_edge_t *e = &g->edges[map->out_edges[i]];
        if (e->kind == YG_EDGE_FANOUT) {
            int rc = fan_out(self, run, next, g->nodes[e->to_index[0]], merged, err);
            if (rc != YG_OK)
                return rc;
            continue;
        }
        for (size_t t = 0; t < e->to_count; t++)
            schedule_target(next, g, e->to_index[t]);
    }
    return YG_OK;
}

static int evaluate_task_edges(coord_t *self, coord_run_t *run, next_set_t *next,
                               const coord_task_t *task, const yg_value_t *merged, bool *map_done,
                               yg_error_t *err)
{
    const yg_graph_t *g = run->cg->graph;
    const yg_node_t *node = g->nodes[task->node_index];
    if (task->map_node != COORD_NO_INDEX) {
        if (map_done[task->map_node])
            return YG_OK;
        map_done[task->map_node] = true;
        return follow_map_edges(self, run, next, g->nodes[task->map_node], merged, err);
    }
    yg_value_t *view = NULL;
    if (needs_view(g, node->out_edges, node->out_edges_count)) {
        view = yg_merge_view(run->cg->keys, run->state, task->update);
        if (!view)
            return yg_error_set(err, YG_ENOMEM, "out of memory");
    }
    int rc = follow_edges(self, run, next, node, node->out_edges, node->out_edges_count, view, err);
    yg_value_destroy(&view);
    return rc;
}

static int add_task(coord_task_t **tasks, size_t *count, size_t *cap, const coord_task_t *t)
{
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        coord_task_t *grown = realloc(*tasks, ncap * sizeof *grown);
        if (!grown)
            return YG_ENOMEM;
        *tasks = grown;
        *cap = ncap;
    }
    (*tasks)[(*count)++] = *t;
    return YG_OK;
}

/* Turn the decisions into tasks: declaration order, map items by index. */
static int build_tasks(const yg_graph_t *g, next_set_t *next, coord_task_t **tasks, size_t *count)
{
    size_t cap = 0;
    for (size_t n = 0; n < g->top_nodes_count; n++) {
        const yg_node_t *node = g->nodes[n];
        if (next->fanout[n] && node->sub) {
            yg_value_t *items = next->fanout[n];
            for (size_t i = 0; i < yg_list_size(items); i++) {
                /* the item only (shared): its payload map is not built per item */
                coord_task_t t = { .node_index = node->sub->index, .order = n, .map_node = n,
                                   .map_index = (int64_t)i,
                                   .item = yg_value_ref(yg_list_get(items, i)) };
                if (!t.item || add_task(tasks, count, &cap, &t) != YG_OK) {
                    yg_value_destroy(&t.item);
                    return YG_ENOMEM;
                }
            }
        } else if (next->scheduled[n] && node->type != YG_NODE_MAP) {
            coord_task_t t = { .node_index = n, .order = n, .map_node = COORD_NO_INDEX,
                               .map_index = -1 };
            if (add_task(tasks, count, &cap, &t) != YG_OK)
                return YG_ENOMEM;
        }
    }
    return YG_OK;
}

yg_value_t *coord_task_payload(const coord_run_t *run, const coord_task_t *t)
{
    if (t->payload)
        return yg_value_ref(t->payload);
    if (!t->item || t->map_node == COORD_NO_INDEX)
        return NULL;
    const yg_node_t *map = run->cg->graph->nodes[t->map_node];
    yg_value_t *p = yg_map_new();
    if (!p)
        return NULL;
    if (yg_map_set(p, map->as ? map->as : "item", yg_value_ref(t->item)) != YG_OK ||
        yg_map_set(p, YG_KEY_MAP_INDEX, yg_int_new(t->map_index)) != YG_OK)
        yg_value_destroy(&p);
    return p;
}

int coord_next_tasks(coord_t *self, coord_run_t *run, bool from_start, const yg_value_t *merged,
                     coord_task_t **tasks, size_t *count, yg_error_t *err)
{
    const yg_graph_t *g = run->cg->graph;
    *tasks = NULL;
    *count = 0;
    next_set_t next = { .nodes = g->top_nodes_count };
    next.scheduled = calloc(g->top_nodes_count + 1, sizeof *next.scheduled);
    next.fanout = calloc(g->top_nodes_count + 1, sizeof *next.fanout);
    bool *map_done = calloc(g->nodes_count + 1, sizeof *map_done);
    int rc = (next.scheduled && next.fanout && map_done)
                 ? YG_OK
                 : yg_error_set(err, YG_ENOMEM, "out of memory");
    if (rc == YG_OK && from_start) {
        rc = follow_edges(self, run, &next, NULL, g->start_edges, g->start_edges_count, merged, err);
    } else {
        for (size_t i = 0; rc == YG_OK && i < run->ntasks; i++)
            rc = evaluate_task_edges(self, run, &next, &run->tasks[i], merged, map_done, err);
    }
    if (rc == YG_OK && build_tasks(g, &next, tasks, count) != YG_OK)
        rc = yg_error_set(err, YG_ENOMEM, "out of memory scheduling tasks");
    if (rc != YG_OK) {
        coord_tasks_free(tasks, *count);
        *count = 0;
    }
    for (size_t n = 0; next.fanout && n < g->top_nodes_count; n++)
        yg_value_destroy(&next.fanout[n]);
    free(next.scheduled);
    free(next.fanout);
    free(map_done);
    return rc;
}

void coord_tasks_free(coord_task_t **tasks, size_t count)
{
    if (!tasks || !*tasks)
        return;
    for (size_t i = 0; i < count; i++) {
        coord_task_t *t = &(*tasks)[i];
        yg_value_destroy(&t->payload);
        yg_value_destroy(&t->item);
        yg_value_destroy(&t->resume);
        yg_value_destroy(&t->prior_interrupt);
        yg_value_destroy(&t->update);
        yg_value_destroy(&t->interrupt);
        yg_value_destroy(&t->error);
    }
    free(*tasks);
    *tasks = NULL;
}
