/*
 * cmd_worker.c - `yamlgraph worker`: host node actors of one or more graphs
 * and serve them to a coordinator (`yamlgraph serve --workers ...`) over
 * tcp until SIGINT or SIGTERM (yg_worker_api.h, docs/deployment.md).
 *
 * Signals are handled like `yamlgraph serve`: blocked in every thread, the
 * main thread waits for them (sigtimedwait, so it also notices a worker
 * the coordinator rejected).  Shutdown is bounded by an alarm.
 */
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "yamlgraph/yamlgraph.h"
#include "yamlgraph/yg_worker_api.h"

/* Graph files one worker process loads. */
#define WORKER_MAX_GRAPHS 64
/* Seconds the shutdown may take before the process is ended anyway. */
#define WORKER_SHUTDOWN_TIMEOUT_S 10
/* How often the main thread checks the workers while waiting for a signal. */
#define WORKER_POLL_MS 100
/* Bound of --concurrency. */
#define WORKER_MAX_CONCURRENCY 1000000

typedef struct worker_args {
    const char *graphs[WORKER_MAX_GRAPHS];
    int ngraphs;
    const char *connect;
    const char *nodes;
    const char *provider;
    const char *mock;
    const char *id;
    int concurrency;
    int heartbeat_ms;
    bool verbose;
} worker_args_t;

/* Returns 0, a CLI_EXIT_* code, or -1 after printing --help. */
static int parse_args(int argc, char **argv, worker_args_t *a)
{
    const char *cmd = "worker";
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        long n = 0;
        bool takes_value = strcmp(o, "--connect") == 0 || strcmp(o, "--nodes") == 0 ||
                           strcmp(o, "--provider") == 0 || strcmp(o, "--mock") == 0 ||
                           strcmp(o, "--id") == 0 || strcmp(o, "--concurrency") == 0 ||
                           strcmp(o, "--heartbeat") == 0;
        if (cli_is_help(o)) {
            cli_print_usage(cmd);
            return -1;
        }
        if (takes_value && i + 1 >= argc)
            return cli_usage_error(cmd, "option %s needs a value", o);
        if (strcmp(o, "--connect") == 0) {
            a->connect = argv[++i];
        } else if (strcmp(o, "--nodes") == 0) {
            a->nodes = argv[++i];
        } else if (strcmp(o, "--provider") == 0) {
            a->provider = argv[++i];
        } else if (strcmp(o, "--mock") == 0) {
            a->mock = argv[++i];
        } else if (strcmp(o, "--id") == 0) {
            a->id = argv[++i];
            if (!a->id[0] || strlen(a->id) > YG_WORKER_ID_MAX)
                return cli_usage_error(cmd, "--id needs 1..%d characters", YG_WORKER_ID_MAX);
        } else if (strcmp(o, "--concurrency") == 0) {
            if (cli_parse_long(argv[++i], 1, WORKER_MAX_CONCURRENCY, &n) != 0)
                return cli_usage_error(cmd, "--concurrency needs a number 1..%d",
                                       WORKER_MAX_CONCURRENCY);
            a->concurrency = (int)n;
        } else if (strcmp(o, "--heartbeat") == 0) {
            if (cli_parse_long(argv[++i], YG_WORKER_MIN_HEARTBEAT_MS, YG_WORKER_MAX_HEARTBEAT_MS,
                               &n) != 0)
                return cli_usage_error(cmd, "--heartbeat needs milliseconds %d..%d",
                                       YG_WORKER_MIN_HEARTBEAT_MS, YG_WORKER_MAX_HEARTBEAT_MS);
            a->heartbeat_ms = (int)n;
        } else if (strcmp(o, "--verbose") == 0) {
            a->verbose = true;
        } else if (o[0] == '-' && o[1]) {
            return cli_usage_error(cmd, "unknown option '%s'", o);
        } else if (a->ngraphs >= WORKER_MAX_GRAPHS) {
            return cli_usage_error(cmd, "at most %d graph files", WORKER_MAX_GRAPHS);
        } else {
            a->graphs[a->ngraphs++] = o;
        }
    }
    if (a->ngraphs == 0)
        return cli_usage_error(cmd, "at least one GRAPH file is required");
    if (!a->connect)
        return cli_usage_error(cmd,
                               "--connect ENDPOINT is required (the coordinator's --workers "
                               "endpoint, e.g. tcp://10.0.0.5:5560)");
    if (strncmp(a->connect, "tcp://", 6) != 0 && strncmp(a->connect, "ipc://", 6) != 0)
        return cli_usage_error(cmd, "--connect needs a tcp:// (or ipc://) endpoint, got '%s'",
                               a->connect);
    if (a->nodes && a->ngraphs > 1)
        return cli_usage_error(cmd, "--nodes applies to one GRAPH; run one worker per graph");
    return 0;
}

int cli_cmd_worker(int argc, char **argv)
{
    worker_args_t a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc == -1 ? CLI_EXIT_OK : rc;

    sigset_t old, wait_set;
    cli_signals_capture(&old, &wait_set);
    yg_worker_t *workers[WORKER_MAX_GRAPHS] = { 0 };
    yg_worker_opts_t o;
    yg_worker_opts_init(&o);
    o.nodes = a.nodes;
    o.concurrency = a.concurrency;
    o.provider = a.provider ? a.provider : (a.mock ? "mock" : NULL);
    o.mock_file = a.mock;
    o.worker_id = a.id;
    if (a.heartbeat_ms > 0)
        o.heartbeat_ms = a.heartbeat_ms;
    o.log_level = a.verbose ? YG_LOG_INFO : YG_LOG_WARNING;
    o.disable_signal_handlers = true;
    rc = CLI_EXIT_OK;
    int total_nodes = 0;
    for (int i = 0; i < a.ngraphs && rc == CLI_EXIT_OK; i++) {
        yg_error_t err = { 0 };
        workers[i] = yg_worker_new(a.graphs[i], a.connect, &o, &err);
        if (!workers[i]) {
            fprintf(stderr, "❌ ");
            cli_print_error(&err, a.graphs[i]);
            rc = CLI_EXIT_FAIL;
            break;
        }
        yg_worker_stats_t st;
        yg_worker_stats(workers[i], &st);
        total_nodes += st.nodes;
    }
    if (rc == CLI_EXIT_OK) {
        printf("worker connecting to %s: %d node actor(s) for %d graph(s)\n", a.connect,
               total_nodes, a.ngraphs);
        fflush(stdout);
    }
    bool announced = false;
    int stop = 0; /* the signal that ends the loop */
    while (rc == CLI_EXIT_OK && !(stop = cli_signal_received())) {
        struct timespec ts = { 0, WORKER_POLL_MS * 1000000L };
        int sig = sigtimedwait(&wait_set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            stop = sig;
            break;
        }
        int registered = 0;
        for (int i = 0; i < a.ngraphs; i++) {
            yg_error_t err = { 0 };
            if (yg_worker_status(workers[i], &err) != YG_OK) {
                fprintf(stderr, "yamlgraph worker: %s: %s\n", a.graphs[i], err.message);
                rc = CLI_EXIT_FAIL;
                break;
            }
            yg_worker_stats_t st;
            yg_worker_stats(workers[i], &st);
            registered += st.registered;
        }
        if (rc == CLI_EXIT_OK && !announced && registered == total_nodes) {
            printf("registered with %s\n", a.connect);
            fflush(stdout);
            announced = true;
        }
    }
    if (stop)
        fprintf(stderr, "yamlgraph worker: %s received, shutting down\n",
                stop == SIGTERM ? "SIGTERM" : "SIGINT");
    cli_signals_release(&old);
    alarm(WORKER_SHUTDOWN_TIMEOUT_S); /* a stuck shutdown ends the process */
    for (int i = 0; i < a.ngraphs; i++)
        yg_worker_destroy(&workers[i]);
    alarm(0);
    return rc;
}
