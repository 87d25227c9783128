/*
 * cmd_state.c - `yamlgraph state` and `yamlgraph history`: the latest
 * checkpoint of a thread, or all of them (newest first), as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_run.h"
#include "yamlgraph/yamlgraph.h"

/* Blocking wrappers give up after this long (a store answers in ms). */
#define CLI_STATE_TIMEOUT_MS 60000

static int state_or_history(int argc, char **argv, bool history)
{
    const char *cmd = history ? "history" : "state";
    cli_run_args_t a = { 0 };
    size_t limit = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (cli_is_help(o)) {
            cli_print_usage(cmd);
            return CLI_EXIT_OK;
        }
        bool takes = strcmp(o, "--thread") == 0 || strcmp(o, "-t") == 0 ||
                     strcmp(o, "--checkpointer") == 0 || (history && strcmp(o, "--limit") == 0);
        if (takes && i + 1 >= argc)
            return cli_usage_error(cmd, "option %s needs a value", o);
        if (strcmp(o, "--thread") == 0 || strcmp(o, "-t") == 0)
            a.thread = argv[++i];
        else if (strcmp(o, "--checkpointer") == 0)
            a.checkpointer = argv[++i];
        else if (history && strcmp(o, "--limit") == 0) {
            char *end = NULL;
            long n = strtol(argv[++i], &end, 10);
            if (!end || *end || n < 0)
                return cli_usage_error(cmd, "--limit needs a number >= 0");
            limit = (size_t)n;
        } else if (o[0] == '-' && o[1])
            return cli_usage_error(cmd, "unknown option '%s'", o);
        else if (!a.graph)
            a.graph = o;
        else
            return cli_usage_error(cmd, "unexpected argument '%s'", o);
    }
    if (!a.thread)
        return cli_usage_error(cmd, "--thread ID is required");
    if (!a.graph && !a.checkpointer)
        return cli_usage_error(cmd, "give --checkpointer PATH or a GRAPH with a checkpointer");
    yg_runtime_t *rt = NULL;
    yg_graph_t *graph = NULL;
    int rc = cli_open_runtime(&a, &rt, &graph);
    if (rc != CLI_EXIT_OK)
        return rc;
    yg_client_t *client = yg_client_new(rt);
    yg_result_t r;
    memset(&r, 0, sizeof r);
    int st = !client ? YG_ECLOSED
             : history
                 ? yg_get_history(client, graph, a.thread, limit, CLI_STATE_TIMEOUT_MS, &r)
                 : yg_get_state(client, graph, a.thread, CLI_STATE_TIMEOUT_MS, &r);
    if (st != YG_OK) {
        fprintf(stderr, "❌ %s request failed: %s\n", cmd, yg_strerror(st));
        rc = CLI_EXIT_FAIL;
    } else if (r.status == YG_RUN_ERROR) {
        fprintf(stderr, "❌ %s (%s)\n", r.error.message, yg_strerror(r.error.code));
        rc = CLI_EXIT_FAIL;
    } else {
        char *json = yg_json_encode(history ? r.history : r.snapshot, true, NULL);
        printf("%s\n", json ? json : "null");
        free(json);
    }
    yg_result_release(&r);
    yg_client_destroy(&client);
    yg_runtime_destroy(&rt);
    return rc;
}

int cli_cmd_state(int argc, char **argv)
{
    return state_or_history(argc, argv, false);
}

int cli_cmd_history(int argc, char **argv)
{
    return state_or_history(argc, argv, true);
}
