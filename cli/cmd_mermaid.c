/*
 * cmd_mermaid.c - `yamlgraph mermaid [-o FILE] GRAPH`: print the compiled
 * graph as a Mermaid flowchart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "yg_graph.h"
#include "yg_mermaid.h"

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    size_t len = strlen(text);
    bool ok = fwrite(text, 1, len, f) == len;
    if (fclose(f) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "%s: write failed: %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_cmd_mermaid(int argc, char **argv)
{
    const char *output = NULL;
    const char *path = NULL;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0) {
            if (path)
                return cli_usage_error("mermaid", "one graph file at a time ('%s' is extra)", a);
            path = a;
        } else if (strcmp(a, "--") == 0) {
            options_done = true;
        } else if (cli_is_help(a)) {
            cli_print_usage("mermaid");
            return CLI_EXIT_OK;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("mermaid", "%s needs a file name", a);
            output = argv[++i];
        } else if (strncmp(a, "--output=", 9) == 0 && a[9]) {
            output = a + 9;
        } else {
            return cli_usage_error("mermaid", "unknown option '%s'", a);
        }
    }
    if (!path)
        return cli_usage_error("mermaid", "no graph file given");

    yg_graph_t *graph = cli_load_graph(path);
    if (!graph)
        return CLI_EXIT_FAIL;
    yg_error_t err = {0};
    char *text = yg_mermaid_render(graph, &err);
    yg_graph_destroy(&graph);
    if (!text) {
        cli_print_error(&err, path);
        return CLI_EXIT_FAIL;
    }
    int rc = CLI_EXIT_OK;
    if (output)
        rc = write_text(output, text);
    else
        fputs(text, stdout);
    free(text);
    return rc;
}
