/*
 * cmd_run.h - shared pieces of the run/resume/state/history commands.
 */
#ifndef YG_CLI_CMD_RUN_H
#define YG_CLI_CMD_RUN_H

#include <stdbool.h>

#include "yamlgraph/yamlgraph.h"

typedef struct cli_run_args {
    const char *graph;
    yg_value_t *input;        /* run: --input then --var (owned) */
    yg_value_t *value;        /* resume: --value (owned) */
    const char *thread;
    const char *checkpointer;
    const char *provider;
    const char *mock;
    int max_steps;
    yg_durability_t durability; /* --durability; DEFAULT when absent */
    bool json;
    bool export_;
    bool full;
    bool force;
    bool verbose;
} cli_run_args_t;

/* Parse the options of run (resume = false) or resume.  Returns 0, a
 * CLI_EXIT_* code on error, or -1 after printing --help. */
int cli_parse_run_args(const char *cmd, int argc, char **argv, cli_run_args_t *a, bool resume);
void cli_run_args_free(cli_run_args_t *a);
/* JSON, falling back to a plain string. */
yg_value_t *cli_parse_value(const char *text);
/* Start a runtime with the options and load a->graph (when set). */
int cli_open_runtime(const cli_run_args_t *a, yg_runtime_t **rt, yg_graph_t **graph);
/* Drive a run or resume to its end (interactive on a terminal). */
int cli_drive(const cli_run_args_t *a, yg_runtime_t *rt, yg_graph_t *graph, bool resume);

#endif
