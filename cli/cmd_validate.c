/*
 * cmd_validate.c - `yamlgraph validate GRAPH...`: load each graph exactly as
 * a run would (prompts, subgraphs, validation) and report ok / the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "yg_graph.h"

static int validate_one(const char *path)
{
    yg_graph_t *graph = cli_load_graph(path);
    if (!graph)
        return CLI_EXIT_FAIL;
    printf("ok: %s (%s: %zu node%s, %zu edge%s)\n", path, graph->name ? graph->name : "unnamed",
           graph->top_nodes_count, graph->top_nodes_count == 1 ? "" : "s", graph->edges_count,
           graph->edges_count == 1 ? "" : "s");
    yg_graph_destroy(&graph);
    return CLI_EXIT_OK;
}

int cli_cmd_validate(int argc, char **argv)
{
    /* argv itself holds the paths: mark options as NULL while checking them. */
    int npaths = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
            npaths++;
        } else if (strcmp(a, "--") == 0) {
            options_done = true;
        } else if (cli_is_help(a)) {
            cli_print_usage("validate");
            return CLI_EXIT_OK;
        } else {
            return cli_usage_error("validate", "unknown option '%s'", a);
        }
    }
    if (npaths == 0)
        return cli_usage_error("validate", "no graph file given");

    int rc = CLI_EXIT_OK;
    options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0)
            if (validate_one(a) != CLI_EXIT_OK)
                rc = CLI_EXIT_FAIL;
    }
    return rc;
}
