/*
 * yg_graph_load.h - private helpers shared by the graph loader's files
 * (yg_graph.c, yg_graph_nodes.c, yg_graph_edges.c).  Not for other modules.
 *
 * Error policy: the loader stops at the first error.  Every error is
 * YG_EVALIDATE (or the code of the failing sub-step, e.g. YG_EPARSE for
 * YAML, YG_EEXPR for a condition, YG_ETEMPLATE for a prompt template) with
 * file:line:column of the offending key or value and a hint what to do.
 */
#ifndef YG_GRAPH_LOAD_H
#define YG_GRAPH_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "yg_graph.h"
#include "yg_sha256.h"
#include "yg_yaml.h"

/* Bound on subgraph nesting (a chain longer than this is almost certainly a
 * mistake; cycles are caught separately). */
#define YG_GRAPH_MAX_SUBGRAPH_DEPTH 32
/* Defaults from the spec. */
#define YG_DEFAULT_TEMPERATURE 0.7
#define YG_DEFAULT_MAX_RETRIES 3
#define YG_DEFAULT_MAX_ITERATIONS 5
#define YG_DEFAULT_RECURSION_LIMIT 25
#define YG_DEFAULT_TOOL_TIMEOUT_S 30.0
#define YG_DEFAULT_WEBSEARCH_RESULTS 5
#define YG_DEFAULT_REDIS_TTL_MINUTES 60
/* Names whose edit distance to an unknown name is at most this are offered
 * as "did you mean". */
#define YG_SUGGEST_MAX_DISTANCE 2

/* Shared by one top-level load and all its subgraph loads. */
typedef struct yg_load_cache_entry {
    char *abs_path;
    yg_graph_t *graph; /* borrowed; every user holds its own reference */
} yg_load_cache_entry_t;

typedef struct yg_load_session {
    char *stack[YG_GRAPH_MAX_SUBGRAPH_DEPTH + 1]; /* absolute paths being loaded */
    size_t depth;
    yg_load_cache_entry_t *cache;
    size_t cache_count;
    size_t cache_cap;
} yg_load_session_t;

typedef struct yg_loader {
    yg_load_session_t *session;
    const char *file;        /* path as shown in errors */
    yg_error_t *err;
    yg_graph_t *g;
    const yg_ynode_t *root;
    yg_sha256_t hash;
    const yg_ynode_t **defs; /* per top-level node: its definition mapping */
    const yg_ynode_t **keys; /* per top-level node: its name key (position) */
} yg_loader_t;

/* Set a validation error at `at` (NULL = file start); returns YG_EVALIDATE. */
int yg_gl_error(yg_loader_t *l, const yg_ynode_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same with an explicit code. */
int yg_gl_error_code(yg_loader_t *l, int code, const yg_ynode_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int yg_gl_nomem(yg_loader_t *l);
/* Put context in front of a message another module wrote (truncating). */
void yg_gl_prefix_error(yg_error_t *err, const char *prefix);

/* "a list", "a mapping", "a string"... for messages. */
const char *yg_gl_kind(const yg_ynode_t *n);

/* Typed getters.  `what` prefixes messages ("node 'x'").  Absent or null
 * keys leave *out unchanged and return YG_OK; `found` (may be NULL) tells
 * whether a non-null value was present. */
int yg_gl_get_str(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                  char **out, bool *found);
int yg_gl_get_bool(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                   bool *out, bool *found);
int yg_gl_get_int(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                  long long min, int64_t *out, bool *found);
int yg_gl_get_number(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                     double min, double *out, bool *found);
/* A list of strings; not a list -> error. */
int yg_gl_get_strlist(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                      char ***out, size_t *count);
/* A mapping or absent/null (-> NULL); anything else -> error. */
int yg_gl_get_map(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                  const yg_ynode_t **out);

char *yg_gl_strdup(yg_loader_t *l, const char *s);
/* Append a copy of s to a string list unless present. */
int yg_gl_strlist_add(char ***list, size_t *count, const char *s);
void yg_gl_strlist_free(char ***list, size_t *count);

/* The closest of names[0..count) to `name` within YG_SUGGEST_MAX_DISTANCE,
 * or NULL. */
const char *yg_gl_suggest(const char *name, const char *const *names, size_t count);
/* " (did you mean 'x'?)" or "" for an unknown node name. */
const char *yg_gl_node_hint(const yg_graph_t *g, const char *name, char *buf, size_t size);

/* A top-level node by name (map sub-nodes excluded), or NULL. */
yg_node_t *yg_gl_top_node(const yg_graph_t *g, const char *name);
/* Add a node (name -> index) to graph->node_index. */
int yg_gl_index_node(yg_loader_t *l, yg_node_t *n);

/* Load a prompt by name for a node (cached per graph, hashed). */
int yg_gl_prompt(yg_loader_t *l, const yg_ynode_t *name_node, const char *what, bool need_user,
                 yg_prompt_t **out);
/* Load a subgraph file relative to the current graph file. */
int yg_gl_subgraph(yg_loader_t *l, const yg_ynode_t *path_node, const char *what,
                   yg_graph_t **out);

/* yg_graph_nodes.c */
int yg_gl_nodes(yg_loader_t *l);
void yg_gl_node_free(yg_node_t *n);
/* yg_graph_edges.c */
int yg_gl_edges(yg_loader_t *l);
void yg_gl_loops(yg_graph_t *g);
int yg_gl_reads(yg_loader_t *l);
int yg_gl_engine_checks(yg_loader_t *l);

/* Internal load shared by yg_graph_load and subgraph nodes. */
yg_graph_t *yg_gl_load_file(yg_load_session_t *session, const char *display_path,
                            const char *abs_path, yg_error_t *err);

#endif
