/*
 * yg_lint.h - the graph linter (internal).
 *
 * Lints a graph file from its YAML tree (yg_yaml.h), not from the compiled
 * graph, so that it can report on graphs the loader rejects.  It implements
 * every rule of spec section 13 plus a few of our own (see docs/cli.md):
 *
 *   E006  graph structure (nodes/edges missing or of the wrong shape)
 *   E007  python/tool node names a tool that is undefined or of the wrong type
 *   I601  (info) node needs Python: it runs only where a native function is
 *         registered (an embedding host or a worker built with yg_worker_api.h)
 *   W602  websearch tool: not available offline in this runtime
 *
 * Every issue carries a code, a severity, the file, a 1-based line and
 * column (0 when unknown), a message and a suggested fix.  Issues are sorted
 * by position (stable for equal positions).
 */
#ifndef YG_LINT_H
#define YG_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "yamlgraph/yg_error.h"

/* Bound on the issues one report keeps, so a huge generated graph cannot
 * make the linter use unbounded memory; the last slot says "truncated". */
#define YG_LINT_MAX_ISSUES 10000

typedef enum {
    YG_LINT_ERROR = 0,
    YG_LINT_WARNING,
    YG_LINT_INFO
} yg_lint_severity_t;

typedef struct yg_lint_issue {
    const char *code;             /* "E101", "W002", "I601", ... */
    yg_lint_severity_t severity;
    const char *file;             /* the linted graph file, as given */
    int line;                     /* 1-based; 0 when unknown */
    int column;                   /* 1-based; 0 when unknown */
    const char *message;          /* one sentence, no trailing newline */
    const char *fix;              /* suggested fix, never NULL */
} yg_lint_issue_t;

typedef struct yg_lint_report yg_lint_report_t;

/* Lint a graph file; prompt and subgraph files are looked up with the
 * working directory as project root.  Returns NULL + err only when the file
 * cannot be read or is not YAML with a mapping at the top (err then holds
 * file:line:column); every other problem is an issue in the report. */
yg_lint_report_t *yg_lint_file(const char *path, yg_error_t *err);

/* Same, with an explicit project root (NULL = working directory). */
yg_lint_report_t *yg_lint_file_in(const char *path, const char *project_root, yg_error_t *err);

/* Free the report and everything it holds; sets *self_p to NULL. */
void yg_lint_report_destroy(yg_lint_report_t **self_p);

/* The linted file, as given. */
const char *yg_lint_report_file(const yg_lint_report_t *self);

/* Number of issues, and the issue at index (borrowed; NULL if out of range). */
size_t yg_lint_report_count(const yg_lint_report_t *self);
const yg_lint_issue_t *yg_lint_report_issue(const yg_lint_report_t *self, size_t index);

/* Number of issues of one severity. */
size_t yg_lint_report_count_severity(const yg_lint_report_t *self, yg_lint_severity_t severity);

/* True when the report holds no error-severity issue. */
bool yg_lint_report_valid(const yg_lint_report_t *self);

/* First issue with `code` at or after index *from (from may be NULL = 0);
 * on success *from is set past it, so a loop visits every match. */
const yg_lint_issue_t *yg_lint_report_find(const yg_lint_report_t *self, const char *code,
                                           size_t *from);

/* "error", "warning" or "info". */
const char *yg_lint_severity_name(yg_lint_severity_t severity);

#endif
