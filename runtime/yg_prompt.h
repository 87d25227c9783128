/*
 * yg_prompt.h - prompt files: lookup (spec 1.4), loading (spec 7.1) and
 * structured-output schema conversion to JSON Schema (spec 7.6) (internal).
 *
 * yg_prompt_t itself is declared in yg_graph.h: a loaded prompt is part of
 * the immutable compiled graph and may be read by any thread.
 */
#ifndef YG_PROMPT_H
#define YG_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"
#include "yg_graph.h"
#include "yg_yaml.h"

/* Bound on candidate paths tried for one prompt name (the ancestor search
 * adds two per directory level). */
#define YG_PROMPT_MAX_CANDIDATES 128
/* Default prompt directory, relative to the working directory (spec 1.4 step 4). */
#define YG_PROMPT_DEFAULT_DIR "prompts"

/* Where to look for a prompt (spec 1.4). */
typedef struct yg_prompt_lookup {
    const char *graph_dir;   /* directory of the graph file (absolute), NULL when none */
    const char *prompts_dir; /* effective prompts_dir, NULL when unset */
    bool prompts_relative;   /* effective prompts_relative */
    /* Extension: when steps 1-5 find nothing, retry steps 4-5 with each
     * ancestor of graph_dir (graph_dir itself first) as the project root
     * instead of the working directory. */
    bool search_ancestors;
} yg_prompt_lookup_t;

/* Resolve prompt `name` (without extension) to an existing file.  Returns a
 * malloc'd absolute path, or NULL with err: YG_ENOTFOUND "prompt 'N' not
 * found (tried: ...)" or YG_EINVAL for prompts_relative without graph_dir
 * and prompts_dir.  err carries no position (the caller adds it). */
char *yg_prompt_resolve(const char *name, const yg_prompt_lookup_t *lookup, yg_error_t *err);

/* Parse a prompt file's text: system, user, schema (checked first),
 * output_schema, provider.  Templates are compiled with positions inside
 * `path`; schemas are converted to JSON Schema.  `name` is the prompt name as
 * written in the graph.  NULL + err (file:line:column) on failure. */
yg_prompt_t *yg_prompt_load_text(const char *name, const char *path, const char *text,
                                 size_t len, yg_error_t *err);
/* Read and parse a prompt file. */
yg_prompt_t *yg_prompt_load_file(const char *name, const char *path, yg_error_t *err);
void yg_prompt_destroy(yg_prompt_t **self_p);

/* Spec 7.6: check a `schema:` (native = true) or `output_schema:` section
 * with positions in `file`, then convert it to JSON Schema with yg_schema.c.
 * NULL + err (file:line:column, e.g. an unknown type string) on failure. */
yg_value_t *yg_prompt_schema_convert(const yg_ynode_t *schema, bool native, const char *file,
                                     yg_error_t *err);

#endif
