/*
 * yg_mermaid.h - render a compiled graph as a Mermaid flowchart (internal).
 *
 * Output is a fenced ```mermaid block holding `flowchart TD`:
 *   - START / END become __start__ / __end__ (stadium shapes);
 *   - node shapes by type: llm [..], router {..}, map [[..]] followed by its
 *     per-item sub-node, interrupt {{⏸ ..}}, passthrough (..), python [/../],
 *     tool [\..\], tool_call [/..\], agent >..], subgraph [[..]];
 *   - plain edges -->, condition edges -.-> labelled with the condition,
 *     router edges -.-> labelled with their route labels, fan-out edges
 *     into a map ==> labelled "map over <path>";
 *   - nodes on a cycle carry class `loop`; loop_limits appear in labels.
 * The same graph always renders to the same text.
 */
#ifndef YG_MERMAID_H
#define YG_MERMAID_H

#include "yamlgraph/yg_error.h"
#include "yg_graph.h"

/* Render graph; returns a malloc'd NUL-terminated text (free()), or NULL
 * with err set (YG_EINVAL for a NULL graph, YG_ENOMEM). */
char *yg_mermaid_render(const yg_graph_t *graph, yg_error_t *err);

#endif
