/*
 * main.c - yamlgraph command-line entry: the command table and dispatch.
 *
 *   yamlgraph [--help | --version]
 *   yamlgraph COMMAND [ARGS...]
 *   yamlgraph graph COMMAND [ARGS...]   (the original's grouped spelling)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "yg_graph.h"

#ifndef YG_VERSION_STRING
#define YG_VERSION_STRING "unknown"
#endif

static const cli_command_t CLI_COMMANDS[] = {
    {"validate", "load and validate graph files (exit 1 if any is invalid)",
     "usage: yamlgraph validate GRAPH...\n"
     "\n"
     "Load each graph file with its prompt and subgraph files, exactly as a run\n"
     "would, and report whether it is valid.\n"
     "\n"
     "  valid:    'ok: GRAPH (NAME: N nodes, M edges)' on stdout\n"
     "  invalid:  'FILE:LINE:COLUMN: message' on stderr\n"
     "\n"
     "Exit status: 0 all valid, 1 some graph invalid, 2 usage error.\n",
     cli_cmd_validate, true},
    {"lint", "check graph files for likely mistakes (rules E001-W502 and more)",
     "usage: yamlgraph lint [--json] [--root DIR] GRAPH...\n"
     "\n"
     "Run the linter on each graph file.  Each issue is printed as\n"
     "  FILE:LINE:COLUMN: CODE SEVERITY: message (fix: suggestion)\n"
     "followed by a summary line per file.  The linter reads the YAML only,\n"
     "so it also reports on graphs that fail to load.\n"
     "\n"
     "  --json       print one JSON array of {file, valid, issues[]} instead\n"
     "  --root DIR   project root for prompt and subgraph lookup (default: the\n"
     "               working directory)\n"
     "\n"
     "Exit status: 0 no errors (warnings and info allowed), 1 some error-severity\n"
     "issue or unreadable file, 2 usage error.\n",
     cli_cmd_lint, true},
    {"mermaid", "print a graph as a Mermaid flowchart",
     "usage: yamlgraph mermaid [-o FILE] GRAPH\n"
     "\n"
     "Load the graph and print it as a ```mermaid fenced 'flowchart TD' block.\n"
     "\n"
     "  -o, --output FILE   write the diagram to FILE instead of stdout\n"
     "\n"
     "Exit status: 0 written, 1 graph invalid or FILE not writable, 2 usage error.\n",
     cli_cmd_mermaid, true},
    {"run", "run a graph to completion or to its first interrupt",
     "usage: yamlgraph run GRAPH [--var KEY=VALUE]... [--input JSON|@FILE] [--thread ID]\n"
     "                     [--checkpointer memory|PATH] [--provider NAME] [--mock FILE]\n"
     "                     [--max-steps N] [--durability sync|async] [--json]\n"
     "                     [--export] [--full] [--verbose]\n"
     "\n"
     "Run the graph once.  --var values are strings (split at the first '='),\n"
     "applied over --input.  On a terminal, progress is shown node by node and an\n"
     "interrupt asks its question on stdin, resuming until the run completes.\n"
     "Otherwise (or with --json) one JSON object {status, thread_id, run_id,\n"
     "state, interrupts, error} is printed; a paused run has status\n"
     "\"interrupted\" and is continued with 'yamlgraph resume'.\n"
     "\n"
     "  --checkpointer S  memory, a file PATH (durable store) or a redis://HOST:PORT\n"
     "                    URL (Redis store, docs/redis.md) for every graph\n"
     "  --mock FILE       mock provider reply script (implies --provider mock)\n"
     "  --max-steps N     superstep limit (default: config.recursion_limit or 25)\n"
     "  --durability M    sync (default): each step waits for its checkpoint; async:\n"
     "                    steps do not wait, the result waits for every checkpoint\n"
     "                    (docs/checkpoints.md \"Durability\")\n"
     "  --export          write the graph's exports under outputs/<thread>/\n"
     "\n"
     "Exit status: 0 completed or interrupted, 1 run error, 2 usage error.\n",
     cli_cmd_run, true},
    {"resume", "continue a paused thread with an answer",
     "usage: yamlgraph resume GRAPH --thread ID --value V [--checkpointer PATH]\n"
     "                        [--provider NAME] [--mock FILE] [--json] [--force]\n"
     "                        [--durability sync|async]\n"
     "\n"
     "Load the thread's latest checkpoint and resume its pending interrupt with V\n"
     "(parsed as JSON, else taken as a plain string).  With several pending\n"
     "interrupts V must be a JSON object {interrupt id: value}.  --force resumes\n"
     "a thread checkpointed by a different version of the graph.\n"
     "\n"
     "Exit status: 0 completed or interrupted, 1 run error, 2 usage error.\n",
     cli_cmd_resume, true},
    {"state", "print the latest checkpoint of a thread as JSON",
     "usage: yamlgraph state --thread ID [--checkpointer PATH] [GRAPH]\n"
     "\n"
     "Print {thread_id, step, values, next, tasks, interrupts, ...} of the\n"
     "thread's latest checkpoint, from --checkpointer or the GRAPH's own store.\n"
     "\n"
     "Exit status: 0 printed, 1 unknown thread or store error, 2 usage error.\n",
     cli_cmd_state, true},
    {"history", "print every checkpoint of a thread as JSON (newest first)",
     "usage: yamlgraph history --thread ID [--checkpointer PATH] [--limit N] [GRAPH]\n"
     "\n"
     "Print the thread's checkpoints, newest first ([] for an unknown thread).\n"
     "\n"
     "Exit status: 0 printed, 1 store error, 2 usage error.\n",
     cli_cmd_history, true},
    {"serve", "serve graphs to clients over ZeroMQ (the wire protocol, docs/protocol.md)",
     "usage: yamlgraph serve GRAPH... --bind ENDPOINT [--checkpointer memory|PATH]\n"
     "                       [--provider NAME] [--mock FILE] [--max-steps N]\n"
     "                       [--max-frame BYTES] [--workers ENDPOINT]\n"
     "                       [--remote-only | --remote-nodes a,b]\n"
     "                       [--durability sync|async] [--verbose]\n"
     "\n"
     "Load the graphs into one runtime and answer wire-protocol requests (run,\n"
     "resume, stream, state, history, cancel, graphs, ping) from DEALER or REQ\n"
     "clients on ENDPOINT: tcp://HOST:PORT (PORT * picks a free port),\n"
     "ipc://PATH.  Prints 'listening on ENDPOINT' (with the real port) once ready\n"
     "and runs until SIGINT or SIGTERM.\n"
     "\n"
     "  --checkpointer S  memory, a file PATH (durable store) or a redis://HOST:PORT\n"
     "                    URL (Redis store, docs/redis.md) for every graph\n"
     "  --mock FILE       mock provider reply script (implies --provider mock)\n"
     "  --max-steps N     default superstep limit of a run (default 25)\n"
     "  --max-frame BYTES largest request frame answered (default 16 MiB)\n"
     "  --workers EP      also accept remote workers (yamlgraph worker --connect)\n"
     "                    on EP, e.g. tcp://0.0.0.0:5560; prints 'workers on EP'\n"
     "                    (--worker-bind is the same option)\n"
     "  --remote-only     start no local node actors: every node runs on workers;\n"
     "                    tasks wait (bounded) until a worker serves their node\n"
     "  --remote-nodes a,b  only these nodes run on workers only\n"
     "  --durability M    default checkpoint durability of runs whose request and\n"
     "                    graph set none: sync (default) or async\n"
     "\n"
     "Exit status: 0 stopped by a signal, 1 a graph or the endpoint failed,\n"
     "2 usage error.\n",
     cli_cmd_serve, false},
    {"worker", "serve graph nodes to a remote coordinator (yamlgraph serve --workers)",
     "usage: yamlgraph worker GRAPH... --connect tcp://HOST:PORT [--nodes a,b,...]\n"
     "                        [--concurrency N] [--provider NAME] [--mock FILE]\n"
     "                        [--id NAME] [--heartbeat MS] [--verbose]\n"
     "\n"
     "Load the graphs (the same files as the coordinator: the graph hash must\n"
     "match), start one node actor per node and serve them to the coordinator\n"
     "whose worker endpoint is --connect.  Prints 'registered with ENDPOINT'\n"
     "once the coordinator accepted every node, and runs until SIGINT or SIGTERM\n"
     "(the coordinator re-dispatches what was in flight here).  ZeroMQ reconnects\n"
     "by itself; after a reconnection the nodes announce themselves again.\n"
     "\n"
     "  --nodes a,b       serve only these nodes (one GRAPH); a map node's name\n"
     "                    selects its item sub-node\n"
     "  --concurrency N   tasks in flight per node (default: the node's\n"
     "                    max_concurrency, else 1024)\n"
     "  --mock FILE       mock provider reply script (implies --provider mock)\n"
     "  --id NAME         worker name in the coordinator's logs (default HOST-PID)\n"
     "  --heartbeat MS    heartbeat interval (default 1000; dead after 3 missed)\n"
     "\n"
     "Exit status: 0 stopped by a signal, 1 a graph failed to load or the\n"
     "coordinator rejected it (different graph hash, unknown node), 2 usage error.\n",
     cli_cmd_worker, false},
    {"prompt", "render one prompt file and print the model's reply",
     "usage: yamlgraph prompt PROMPT [--var KEY=VALUE]... [--provider P] [--stream]\n"
     "                        [--mock FILE] [--prompts-dir DIR] [--timeout S] [--temperature T]\n"
     "\n"
     "Render PROMPT (a name looked up as prompts/PROMPT.yaml, or a .yaml path)\n"
     "with the variables and call the model.  Prints the reply text, or the\n"
     "validated object as JSON when the prompt has a schema.\n"
     "\n"
     "  -v, --var KEY=VALUE  a template variable (split at the first '=')\n"
     "  -p, --provider P     provider (default: prompt file, env PROVIDER, anthropic)\n"
     "  --stream             print tokens as they arrive (no structured output)\n"
     "  --mock FILE          mock reply script for --provider mock\n"
     "  --prompts-dir DIR    look in DIR first\n"
     "  --timeout S          request timeout in seconds\n"
     "  --temperature T      sampling temperature (default 0.7)\n"
     "\n"
     "Providers, keys and local servers: docs/providers.md.\n"
     "Exit status: 0 reply printed, 1 the call failed, 2 usage error.\n",
     cli_cmd_prompt, false},
};

#define CLI_COMMANDS_COUNT (sizeof CLI_COMMANDS / sizeof CLI_COMMANDS[0])

static const cli_command_t *find_command(const char *name, bool graph_group)
{
    for (size_t i = 0; i < CLI_COMMANDS_COUNT; i++)
        if (strcmp(CLI_COMMANDS[i].name, name) == 0 && (!graph_group || CLI_COMMANDS[i].graph_group))
            return &CLI_COMMANDS[i];
    return NULL;
}

static void print_main_help(FILE *out)
{
    fprintf(out, "usage: yamlgraph [--help] [--version] COMMAND [ARGS...]\n"
                 "\n"
                 "Run and inspect YamlGraph graphs (YAML-defined LLM pipelines).\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < CLI_COMMANDS_COUNT; i++)
        fprintf(out, "  %-10s %s\n", CLI_COMMANDS[i].name, CLI_COMMANDS[i].summary);
    fprintf(out, "\n"
                 "'yamlgraph graph COMMAND' is accepted for the graph commands too.\n"
                 "'yamlgraph COMMAND --help' shows the help of one command.\n");
}

void cli_print_usage(const char *name)
{
    const cli_command_t *cmd = find_command(name, false);
    if (cmd)
        fputs(cmd->usage, stdout);
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "yamlgraph %s: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'yamlgraph %s --help')\n", name);
    return CLI_EXIT_USAGE;
}

void cli_print_error(const yg_error_t *err, const char *path)
{
    char buf[YG_ERROR_FILE_MAX + YG_ERROR_MESSAGE_MAX + 64];
    yg_error_format(err, buf, sizeof buf);
    /* One line per error: messages never carry newlines, but be safe. */
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (!err->file[0] && path)
        fprintf(stderr, "%s: %s\n", path, buf);
    else
        fprintf(stderr, "%s\n", buf);
}

yg_graph_t *cli_load_graph(const char *path)
{
    yg_error_t err = {0};
    yg_graph_t *graph = yg_graph_load(path, &err);
    if (!graph) {
        if (err.code == YG_OK)
            yg_error_set(&err, YG_EVALIDATE, "graph failed to load");
        cli_print_error(&err, path);
    }
    return graph;
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/* `yamlgraph graph ...`: dispatch among the graph-group commands. */
static int run_graph_group(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: yamlgraph graph COMMAND [ARGS...]\n\ncommands:\n");
        for (size_t i = 0; i < CLI_COMMANDS_COUNT; i++)
            if (CLI_COMMANDS[i].graph_group)
                fprintf(out, "  %-10s %s\n", CLI_COMMANDS[i].name, CLI_COMMANDS[i].summary);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const cli_command_t *cmd = find_command(argv[1], true);
    if (!cmd) {
        fprintf(stderr, "yamlgraph graph: unknown command '%s' (see 'yamlgraph graph --help')\n",
                argv[1]);
        return CLI_EXIT_USAGE;
    }
    return cmd->handler(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    /* Runtime log lines (zsys) go to stderr: stdout carries the --json
     * document and other command output.  An explicit setting wins. */
    setenv("ZSYS_LOGSTREAM", "stderr", 0);
    if (argc < 2) {
        print_main_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (cli_is_help(first)) {
        print_main_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
        printf("yamlgraph %s\n", YG_VERSION_STRING);
        return CLI_EXIT_OK;
    }
    if (first[0] == '-') {
        fprintf(stderr, "yamlgraph: unknown option '%s' (see 'yamlgraph --help')\n", first);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(first, "graph") == 0)
        return run_graph_group(argc - 1, argv + 1);
    const cli_command_t *cmd = find_command(first, false);
    if (!cmd) {
        fprintf(stderr, "yamlgraph: unknown command '%s' (see 'yamlgraph --help')\n", first);
        return CLI_EXIT_USAGE;
    }
    return cmd->handler(argc - 1, argv + 1);
}
