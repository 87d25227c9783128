/*
 * yg_export.h - graph `exports:` (spec 12.1): write selected state keys to
 * files under outputs/<thread id>/ after a run.
 */
#ifndef YG_EXPORT_H
#define YG_EXPORT_H

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"
#include "yg_graph.h"

/* Render one value in an export format: "json" (pretty, indent 2),
 * "markdown" (maps as "# Title", "## Field" + "- item" lists or
 * "**Field**: value"), anything else the text form (strings verbatim, other
 * values as JSON).  title names a map's heading.  malloc'd; NULL on ENOMEM. */
char *yg_export_render(const yg_value_t *value, const char *format, const char *title);

/* For each exports entry whose key is non-null in state, write
 * <base_dir>/outputs/<thread_id or "unknown">/<filename>.  base_dir NULL
 * means the working directory.  written (a list, may be NULL) receives
 * each path written.  Filenames that are absolute or contain ".." are
 * refused (YG_EINVAL); I/O failures give YG_EIO naming the file. */
int yg_export_write(const yg_graph_t *graph, const yg_value_t *state, const char *thread_id,
                    const char *base_dir, yg_value_t *written, yg_error_t *err);

#endif
