/*
 * cmd_serve.c - `yamlgraph serve`: load graphs into a runtime and serve
 * them through the gateway (docs/protocol.md) until SIGINT or SIGTERM.
 *
 * Signals: CZMQ's handlers are off; SIGINT/SIGTERM are blocked in every
 * thread and waited for by the main thread with sigsuspend, so whichever
 * thread the kernel picks, the main thread wakes up.  Shutdown is bounded
 * by an alarm; a second signal during it ends the process at once.
 */
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "yamlgraph/yamlgraph.h"
#include "yamlgraph/yg_gateway_api.h"
#include "yamlgraph/yg_worker_api.h"

/* Graph files one server loads (a command line, not a config system). */
#define SERVE_MAX_GRAPHS 256
/* Seconds the shutdown may take before the process is ended anyway. */
#define SERVE_SHUTDOWN_TIMEOUT_S 10
/* Bounds of --max-steps and --max-frame. */
#define SERVE_MAX_STEPS 1000000
#define SERVE_MAX_FRAME (128L * 1024L * 1024L)

typedef struct serve_args {
    const char *graphs[SERVE_MAX_GRAPHS];
    int ngraphs;
    const char *bind;
    const char *checkpointer;
    const char *provider;
    const char *mock;
    int max_steps;
    long max_frame;
    bool verbose;
    const char *workers;      /* worker endpoint (tcp) or NULL */
    const char *remote_nodes; /* "*" with --remote-only */
    yg_durability_t durability; /* --durability: the runtime default */
} serve_args_t;

/* Returns 0, a CLI_EXIT_* code, or -1 after printing --help. */
static int parse_args(int argc, char **argv, serve_args_t *a)
{
    const char *cmd = "serve";
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool takes_value = strcmp(o, "--bind") == 0 || strcmp(o, "--checkpointer") == 0 ||
                           strcmp(o, "--provider") == 0 || strcmp(o, "--mock") == 0 ||
                           strcmp(o, "--max-steps") == 0 || strcmp(o, "--max-frame") == 0 ||
                           strcmp(o, "--workers") == 0 || strcmp(o, "--worker-bind") == 0 ||
                           strcmp(o, "--remote-nodes") == 0 || strcmp(o, "--durability") == 0;
        if (cli_is_help(o)) {
            cli_print_usage(cmd);
            return -1;
        }
        if (takes_value && i + 1 >= argc)
            return cli_usage_error(cmd, "option %s needs a value", o);
        long n = 0;
        if (strcmp(o, "--bind") == 0) {
            a->bind = argv[++i];
        } else if (strcmp(o, "--checkpointer") == 0) {
            a->checkpointer = argv[++i];
        } else if (strcmp(o, "--provider") == 0) {
            a->provider = argv[++i];
        } else if (strcmp(o, "--mock") == 0) {
            a->mock = argv[++i];
        } else if (strcmp(o, "--max-steps") == 0) {
            if (cli_parse_long(argv[++i], 1, SERVE_MAX_STEPS, &n) != 0)
                return cli_usage_error(cmd, "--max-steps needs a number 1..%d", SERVE_MAX_STEPS);
            a->max_steps = (int)n;
        } else if (strcmp(o, "--max-frame") == 0) {
            if (cli_parse_long(argv[++i], 1024, SERVE_MAX_FRAME, &n) != 0)
                return cli_usage_error(cmd, "--max-frame needs a byte count 1024..%ld",
                                       SERVE_MAX_FRAME);
            a->max_frame = n;
        } else if (strcmp(o, "--workers") == 0 || strcmp(o, "--worker-bind") == 0) {
            a->workers = argv[++i];
        } else if (strcmp(o, "--durability") == 0) {
            if (yg_durability_parse(argv[++i], &a->durability) != YG_OK)
                return cli_usage_error(cmd, "--durability needs sync or async, got '%s'",
                                       argv[i]);
        } else if (strcmp(o, "--remote-only") == 0) {
            a->remote_nodes = "*";
        } else if (strcmp(o, "--remote-nodes") == 0) {
            a->remote_nodes = argv[++i];
            if (!a->remote_nodes[0])
                return cli_usage_error(cmd, "--remote-nodes needs node names (a,b,...)");
        } else if (strcmp(o, "--verbose") == 0) {
            a->verbose = true;
        } else if (o[0] == '-' && o[1]) {
            return cli_usage_error(cmd, "unknown option '%s'", o);
        } else if (a->ngraphs >= SERVE_MAX_GRAPHS) {
            return cli_usage_error(cmd, "at most %d graph files", SERVE_MAX_GRAPHS);
        } else {
            a->graphs[a->ngraphs++] = o;
        }
    }
    if (a->ngraphs == 0)
        return cli_usage_error(cmd, "at least one GRAPH file is required");
    if (!a->bind)
        return cli_usage_error(cmd, "--bind ENDPOINT is required (e.g. tcp://127.0.0.1:5555)");
    if (a->remote_nodes && !a->workers)
        return cli_usage_error(cmd, "--remote-only/--remote-nodes need --workers ENDPOINT "
                                    "(where workers connect)");
    return 0;
}

static yg_runtime_t *open_runtime(const serve_args_t *a)
{
    yg_runtime_opts_t opts;
    yg_runtime_opts_init(&opts);
    opts.checkpointer = a->checkpointer;
    opts.provider = a->provider ? a->provider : (a->mock ? "mock" : NULL);
    opts.mock_file = a->mock;
    if (a->max_steps > 0)
        opts.step_limit = a->max_steps;
    opts.disable_signal_handlers = true;
    opts.log_level = a->verbose ? YG_LOG_INFO : YG_LOG_WARNING;
    opts.worker_endpoint = a->workers;
    opts.remote_nodes = a->remote_nodes;
    opts.durability = a->durability;
    yg_error_t err = { 0 };
    yg_runtime_t *rt = yg_runtime_new(&opts, &err);
    if (!rt) {
        fprintf(stderr, "❌ ");
        cli_print_error(&err, NULL);
    }
    return rt;
}

/* Load every graph and list it in the gateway. */
static int load_graphs(const serve_args_t *a, yg_runtime_t *rt, yg_gateway_t *gw)
{
    for (int i = 0; i < a->ngraphs; i++) {
        yg_graph_t *g = NULL;
        yg_error_t err = { 0 };
        if (yg_runtime_load_graph(rt, a->graphs[i], &g, &err) != YG_OK) {
            fprintf(stderr, "❌ ");
            cli_print_error(&err, a->graphs[i]);
            return CLI_EXIT_FAIL;
        }
        if (yg_gateway_add_graph(gw, g) != YG_OK) {
            fprintf(stderr, "❌ cannot list %s in the gateway\n", a->graphs[i]);
            return CLI_EXIT_FAIL;
        }
    }
    return CLI_EXIT_OK;
}

int cli_cmd_serve(int argc, char **argv)
{
    serve_args_t a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc == -1 ? CLI_EXIT_OK : rc;

    sigset_t old;
    cli_signals_capture(&old, NULL);
    yg_runtime_t *rt = open_runtime(&a);
    if (!rt) {
        cli_signals_release(&old);
        return CLI_EXIT_FAIL;
    }
    yg_gateway_opts_t gopts;
    yg_gateway_opts_init(&gopts);
    if (a.max_frame > 0)
        gopts.max_frame_bytes = (size_t)a.max_frame;
    gopts.log_level = a.verbose ? YG_LOG_INFO : YG_LOG_WARNING;
    yg_error_t err = { 0 };
    yg_gateway_t *gw = yg_gateway_new(rt, a.bind, &gopts, &err);
    if (!gw) {
        fprintf(stderr, "❌ ");
        cli_print_error(&err, NULL);
        rc = CLI_EXIT_FAIL;
    } else {
        rc = load_graphs(&a, rt, gw);
    }
    if (rc == CLI_EXIT_OK) {
        printf("listening on %s\n", yg_gateway_endpoint(gw));
        if (yg_runtime_worker_endpoint(rt))
            printf("workers on %s\n", yg_runtime_worker_endpoint(rt));
        fflush(stdout);
        while (!cli_signal_received())
            sigsuspend(&old); /* returns after a handled signal */
        fprintf(stderr, "yamlgraph serve: %s received, shutting down\n",
                cli_signal_received() == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    cli_signals_release(&old);
    alarm(SERVE_SHUTDOWN_TIMEOUT_S); /* a stuck shutdown ends the process */
    yg_gateway_destroy(&gw);
    yg_runtime_destroy(&rt);
    alarm(0);
    return rc;
}
