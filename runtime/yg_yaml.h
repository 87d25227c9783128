/*
 * yg_yaml.h - a YAML document as a tree with source positions (internal).
 *
 * Built on libyaml's event parser.  Every node keeps the 1-based line and
 * column where it starts so that the loader, the linter and the validators
 * can report file:line:column.  Duplicate mapping keys, multiple documents,
 * non-scalar mapping keys and a non-mapping top level are errors reported
 * at their position.  Aliases are resolved (expanded) with a bound on the
 * total expanded size; anchors and tags are otherwise ignored.
 */
#ifndef YG_YAML_H
#define YG_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"

typedef enum {
    YG_YNODE_SCALAR = 0,
    YG_YNODE_SEQ,
    YG_YNODE_MAP
} yg_ynode_kind_t;

typedef struct yg_ynode yg_ynode_t;

struct yg_ynode {
    yg_ynode_kind_t kind;
    int line;              /* 1-based */
    int column;            /* 1-based */
    /* scalar */
    char *text;            /* NUL-terminated scalar text */
    size_t len;
    bool quoted;           /* single/double quoted or block scalar: always a string */
    /* seq: items[0..count); map: keys[i] (scalars) -> items[i] */
    yg_ynode_t **keys;
    yg_ynode_t **items;
    size_t count;
    /* scalar: where the text itself starts (added for template positions):
     * the line after the indicator for block scalars (| >), one column
     * after the quote for quoted scalars, else line/column. */
    int text_line;
    int text_column;
    bool block;            /* literal or folded block scalar */
};

/* Files larger than this are rejected before parsing (a graph or prompt
 * file is a few KiB; the bound keeps a hostile file from exhausting memory). */
#define YG_YAML_MAX_FILE_SIZE (16u * 1024u * 1024u)
/* Bound on nodes after alias expansion ("billion laughs" protection). */
#define YG_YAML_MAX_NODES 1000000u
/* Bound on nesting depth of sequences and mappings. */
#define YG_YAML_MAX_DEPTH 128u

/* Read a whole file (at most YG_YAML_MAX_FILE_SIZE bytes) into a malloc'd
 * NUL-terminated buffer.  NULL + err (YG_ENOTFOUND, YG_EIO, YG_ELIMIT). */
char *yg_yaml_read_file(const char *path, size_t *len, yg_error_t *err);

/* Parse a file.  The top level must be a mapping.  NULL + err on failure. */
yg_ynode_t *yg_yaml_load_file(const char *path, yg_error_t *err);
/* Parse text; `name` is used as the file name in errors. */
yg_ynode_t *yg_yaml_load_string(const char *text, size_t len, const char *name,
                                yg_error_t *err);
void yg_ynode_destroy(yg_ynode_t **self_p);

/* Map lookup by key text; NULL when absent or self is not a map. */
yg_ynode_t *yg_ynode_get(const yg_ynode_t *self, const char *key);
/* The key node of a map entry (for positions); NULL when absent. */
yg_ynode_t *yg_ynode_key(const yg_ynode_t *self, const char *key);

/* Convert to a value with the YAML 1.2 core schema for plain scalars:
 * null/Null/NULL/~/empty -> null, true/false (any case) -> bool, decimal,
 * 0x, 0o integers -> int, floats (incl. .inf/.nan) -> float, anything else
 * and every quoted scalar -> string.  Returns a new value (NULL on ENOMEM). */
yg_value_t *yg_ynode_to_value(const yg_ynode_t *self);

/* Convenience predicates on plain scalars (false for non-scalars). */
bool yg_ynode_is_null(const yg_ynode_t *self);
bool yg_ynode_as_bool(const yg_ynode_t *self, bool *out);     /* false if not a bool */
bool yg_ynode_as_int(const yg_ynode_t *self, long long *out); /* false if not an int */
bool yg_ynode_as_number(const yg_ynode_t *self, double *out); /* int or float */

#endif
