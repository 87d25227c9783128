/*
 * yg_graph.h - the compiled graph (internal).
 *
 * yg_graph_load() parses a graph YAML file, loads its prompt files and
 * subgraph files, validates everything and returns an immutable compiled
 * graph.  Once loaded, a graph is never modified: actors on any thread may
 * read it concurrently without locks.  The public, opaque view is
 * yg_graph_t in include/yamlgraph/yamlgraph.h.
 *
 * Names follow spec/graph-format.md (the "spec").  Positions (line, column)
 * are 1-based and point into the file the item came from.
 */
#ifndef YG_GRAPH_INTERNAL_H
#define YG_GRAPH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"

typedef struct yg_cond yg_cond_t;       /* compiled edge condition (yg_expr.h) */
typedef struct yg_vexpr yg_vexpr_t;     /* compiled value template (yg_expr.h) */
typedef struct yg_tmpl yg_tmpl_t;       /* compiled prompt template (yg_template.h) */
typedef struct yg_graph yg_graph_t;

typedef struct yg_pos {
    int line;
    int column;
} yg_pos_t;

typedef enum {
    YG_NODE_LLM = 0,
    YG_NODE_ROUTER,
    YG_NODE_AGENT,
    YG_NODE_PYTHON,
    YG_NODE_MAP,
    YG_NODE_INTERRUPT,
    YG_NODE_PASSTHROUGH,
    YG_NODE_TOOL,
    YG_NODE_TOOL_CALL,
    YG_NODE_SUBGRAPH
} yg_node_type_t;

typedef enum {
    YG_ON_ERROR_NONE = 0, /* record the error and continue (spec 4.3 "absent") */
    YG_ON_ERROR_SKIP,
    YG_ON_ERROR_RETRY,
    YG_ON_ERROR_FAIL,
    YG_ON_ERROR_FALLBACK
} yg_on_error_t;

/* A loaded prompt file (spec 7.1).  Shared by every node that names it. */
typedef struct yg_prompt {
    char *name;            /* as written in the node, e.g. "router-demo/classify" */
    char *path;            /* resolved file path */
    char *system_src;      /* raw system text ("" when absent) */
    char *user_src;        /* raw user text, NULL when absent */
    yg_tmpl_t *system;     /* compiled; NULL when system_src is "" */
    yg_tmpl_t *user;       /* compiled; NULL when user_src is NULL */
    yg_value_t *schema;    /* JSON Schema (map) converted from schema/output_schema, or NULL */
    char *schema_name;     /* native schema `name`, or NULL */
    char *provider;        /* prompt file `provider`, or NULL */
} yg_prompt_t;

/* A `tools:` entry (spec 8). */
typedef enum {
    YG_TOOL_SHELL = 0,
    YG_TOOL_PYTHON,
    YG_TOOL_WEBSEARCH
} yg_tool_type_t;

typedef struct yg_tool {
    char *name;
    yg_tool_type_t type;
    yg_pos_t pos;
    char *description;     /* "" when absent */
    /* shell */
    char *command;
    char *parse;           /* "text" | "json" | "none" */
    double timeout_s;      /* default 30 */
    char *working_dir;     /* default "." */
    yg_value_t *env;       /* map name -> string, never NULL */
    int64_t *success_codes;
    size_t success_codes_count; /* default {0} */
    char **placeholders;   /* {name} placeholders of command, in order, unique */
    size_t placeholders_count;
    /* python */
    char *module;
    char *function;
    /* websearch */
    char *provider;
    int64_t max_results;
} yg_tool_t;

typedef enum {
    YG_MAPPING_NONE = 0,   /* absent or empty: child gets an empty input */
    YG_MAPPING_MAP,        /* explicit parent key -> child key map */
    YG_MAPPING_ALL         /* "auto" or "*" */
} yg_mapping_kind_t;

typedef struct yg_mapping {
    yg_mapping_kind_t kind;
    yg_value_t *map;       /* parent key -> child key (strings), kind MAP only */
} yg_mapping_t;

typedef struct yg_node yg_node_t;

struct yg_node {
    char *name;
    yg_node_type_t type;
    yg_pos_t pos;
    size_t index;              /* position in graph->nodes */
    bool is_map_sub;           /* true for the hidden `_map_<map>_sub` node */

    /* llm, router, map sub-node, interrupt (prompt), agent */
    char *prompt_name;         /* NULL when absent */
    yg_prompt_t *prompt;       /* resolved at load; NULL when absent */
    yg_value_t *variables;     /* map name -> template value; NULL or empty = whole state */
    yg_vexpr_t **variable_exprs; /* compiled, parallel to variables entries */
    char *state_key;           /* effective output key (defaults applied) */
    bool state_key_explicit;   /* state_key was written in the YAML (map wrapper, spec 4.5) */
    char **requires;
    size_t requires_count;
    bool skip_if_exists;       /* effective (loop detection applied) */
    bool skip_if_exists_explicit;
    bool has_temperature;
    double temperature;        /* effective: node -> defaults -> 0.7 */
    char *provider;            /* effective node -> defaults -> prompt; NULL = env/default */
    yg_on_error_t on_error;
    int max_retries;           /* default 3 */
    char *fallback_provider;   /* NULL when absent */
    bool parse_json;
    bool stream;
    int64_t loop_limit;        /* -1 when none */
    double timeout_s;          /* YAML `timeout` on llm nodes; 0 = provider default */
    int max_concurrency;       /* YAML `max_concurrency`; 0 = runtime default */
    char *output_model;        /* only "GenericReport" accepted */

    /* router */
    yg_value_t *routes;        /* map label -> node name */
    char *default_route;

    /* map */
    char *over;                /* "{state.path}" as written */
    char *over_path;           /* path with braces and state. stripped */
    char *as;
    yg_node_t *sub;            /* the hidden sub-node (owned by the graph's node list) */
    char *collect;
    int64_t max_items;         /* -1 = unlimited */

    /* interrupt */
    yg_value_t *message;       /* any value; NULL when absent */
    yg_tmpl_t *message_tmpl;   /* compiled when message is a template string */
    char *resume_key;          /* default "user_input" */

    /* passthrough */
    yg_value_t *output;        /* map key -> template value (NULL = none) */
    yg_vexpr_t **output_exprs; /* compiled, parallel to output entries */

    /* python, tool */
    char *tool;                /* tools-section name (python/tool); template for tool_call */
    yg_tool_t *tool_def;       /* resolved (python/tool nodes) */

    /* tool_call */
    yg_value_t *tool_tmpl;     /* `tool` as written */
    yg_value_t *args_tmpl;     /* `args` as written */
    yg_vexpr_t *tool_expr;
    yg_vexpr_t *args_expr;

    /* agent */
    char **tools;
    size_t tools_count;
    int64_t max_iterations;    /* default 5 */
    char *tool_results_key;

    /* subgraph */
    char *graph_path;          /* as written */
    yg_graph_t *child;         /* compiled child (shared in a diamond; refcounted graph) */
    bool mode_direct;
    yg_mapping_t input_mapping;
    yg_mapping_t output_mapping;
    yg_mapping_t interrupt_output_mapping;

    /* Top-level state keys this node's task reads, computed at load.
     * reads_all is true when the node needs the whole state (llm/router
     * without variables, python, interrupt, agent, subgraph auto mapping).
     * The coordinator sends only these keys with a task. */
    bool reads_all;
    char **reads;
    size_t reads_count;

    /* Outgoing edges, indexes into graph->edges, in YAML order. */
    size_t *out_edges;
    size_t out_edges_count;
    bool in_loop;              /* lies on a directed cycle (spec 5.6, [C] SCC rule) */
};

typedef enum {
    YG_EDGE_PLAIN = 0,     /* from -> to (to may be END) */
    YG_EDGE_CONDITION,     /* expression edge: condition group member (spec 5.4) */
    YG_EDGE_ROUTER,        /* type: conditional with list target (spec 5.3) */
    YG_EDGE_FANOUT         /* edge into a map node: fan-out (spec 4.5) */
} yg_edge_kind_t;

#define YG_END_INDEX ((size_t)-1)   /* target index meaning END */
#define YG_START_INDEX ((size_t)-2) /* source index meaning START */

typedef struct yg_edge {
    yg_edge_kind_t kind;
    yg_pos_t pos;
    char *from;                /* node name or "START" */
    size_t from_index;         /* YG_START_INDEX for START; for row 5 (from a map) the map
                                * node itself: the runtime fires it once after all items */
    char **to;                 /* one name, or the router list */
    size_t *to_index;          /* YG_END_INDEX for END */
    size_t to_count;
    char *condition_src;       /* NULL unless kind == CONDITION */
    yg_cond_t *condition;
} yg_edge_t;

/* State key declaration (spec 2.1). */
typedef enum {
    YG_REDUCER_REPLACE = 0,
    YG_REDUCER_APPEND,         /* errors, messages (unless redeclared) */
    YG_REDUCER_COLLECT         /* map collect key: append + stable sort by _map_index */
} yg_reducer_t;

typedef struct yg_state_key {
    char *name;
    char *type;                /* "str", "int", ..., "any" */
    yg_reducer_t reducer;
} yg_state_key_t;

typedef enum {
    YG_CKPT_NONE = 0,
    YG_CKPT_MEMORY,
    YG_CKPT_SQLITE,            /* served by our durable embedded store */
    YG_CKPT_REDIS,
    YG_CKPT_REDIS_SIMPLE,
    YG_CKPT_FILE               /* our durable embedded store, by its own name */
} yg_ckpt_type_t;

typedef struct yg_ckpt_config {
    yg_ckpt_type_t type;
    char *type_name;           /* as written */
    char *path;                /* ${VAR} expanded; sqlite default ":memory:" */
    char *url;                 /* ${VAR} expanded */
    char *key_prefix;          /* redis-simple default "lg:" */
    int64_t ttl;               /* redis: minutes (default 60); redis-simple: seconds (-1 none) */
    int durability;            /* `durability:` as a yg_durability_t (yamlgraph.h);
                                  0 (DEFAULT) when absent */
    yg_pos_t pos;
} yg_ckpt_config_t;

typedef struct yg_export {
    char *key;
    char *format;              /* "json", "markdown", other = text */
    char *filename;            /* default "<key>.txt" */
} yg_export_t;

struct yg_graph {
    int refs;                  /* subgraphs may be shared (diamond); see yg_graph_destroy */
    char *path;                /* the file it was loaded from (absolute) */
    char *dir;                 /* directory of path */
    char *name;                /* default "unnamed" */
    char *version;
    char *description;
    uint8_t hash[32];          /* SHA-256 over the graph file and every file it loads */
    char hash_hex[65];

    yg_node_t **nodes;         /* YAML order; map sub-nodes appended after all top-level nodes */
    size_t nodes_count;
    size_t top_nodes_count;    /* the first top_nodes_count entries are top-level nodes */
    yg_edge_t *edges;          /* YAML order (edges into maps keep their place) */
    size_t edges_count;
    size_t *start_edges;       /* indexes of edges from START */
    size_t start_edges_count;

    yg_state_key_t *keys;      /* declared state keys (spec 2.1) */
    size_t keys_count;
    yg_tool_t **tools;
    size_t tools_count;
    yg_prompt_t **prompts;     /* every prompt file loaded, owned here */
    size_t prompts_count;
    yg_export_t *exports;
    size_t exports_count;
    yg_value_t *inputs;        /* `inputs:` as written, or NULL */
    yg_value_t *loop_limits;   /* as written, or NULL */
    yg_ckpt_config_t checkpointer; /* type NONE when absent */
    bool has_checkpointer;

    char *default_provider;    /* defaults.provider */
    bool has_default_temperature;
    double default_temperature;
    bool prompts_relative;
    char *prompts_dir;
    int64_t recursion_limit;   /* config.recursion_limit or 25 */
    int64_t max_map_items;     /* config.max_map_items or -1 */
    bool needs_python;         /* some node needs a python tool */
    /* Lookup indexes built at load (read-only afterwards, safe to share):
     * node name -> index in nodes (int), key name -> index in keys (int). */
    yg_value_t *node_index;
    yg_value_t *key_index;
};

/* Load, validate and compile a graph file.  On failure returns NULL and
 * fills err with file:line:column and what to do.  Loading stops at the
 * first error (one error per call; fix it and load again). */
yg_graph_t *yg_graph_load(const char *path, yg_error_t *err);

/* Drop one reference; frees children and prompts at zero; sets *self_p NULL. */
void yg_graph_destroy(yg_graph_t **self_p);

/* Lookups: NULL / (size_t)-1 when absent. */
yg_node_t *yg_graph_node(const yg_graph_t *self, const char *name);
const yg_state_key_t *yg_graph_key(const yg_graph_t *self, const char *name);
const yg_tool_t *yg_graph_tool(const yg_graph_t *self, const char *name);

const char *yg_node_type_name(yg_node_type_t type);

/* Spec 9.1 expansion of ${NAME} from the environment (unknown names stay
 * verbatim) plus the shell form ${NAME:-default} (default when NAME is unset
 * or empty).  Returns malloc'd text, NULL on ENOMEM. */
char *yg_graph_env_expand(const char *text);

#endif
