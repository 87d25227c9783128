/*
 * cmd_run.c - `yamlgraph run` and `yamlgraph resume` (spec 12 [C]).
 *
 * Both start an embedded runtime, load the graph and drive one run through
 * the public client API.  On a terminal (without --json) progress, tokens
 * and interrupt questions are interactive: the answer typed on stdin
 * resumes the run until it completes.  Otherwise one JSON document
 * {status, thread_id, run_id, state, interrupts, error} goes to stdout.
 */
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_run.h"
#include "yamlgraph/yamlgraph.h"
#include "yg_export.h"
#include "yg_graph.h"

/* Values printed on a terminal are cut here unless --full (spec 12). */
#define CLI_TRUNCATE 200
/* Longest answer read from the terminal for an interrupt. */
#define CLI_ANSWER_MAX 65536
/* Largest --input @file accepted. */
#define CLI_INPUT_FILE_MAX (64u * 1024u * 1024u)

void cli_run_args_free(cli_run_args_t *a)
{
    yg_value_destroy(&a->input);
    yg_value_destroy(&a->value);
}

static int need_value(const char *cmd, int argc, char **argv, int i)
{
    if (i + 1 >= argc)
        return cli_usage_error(cmd, "option %s needs a value", argv[i]);
    return 0;
}

/* --input JSON or @file: a map. */
static int parse_input(const char *cmd, const char *text, cli_run_args_t *a)
{
    char *file_text = NULL;
    size_t len = 0;
    if (text[0] == '@') {
        zfile_t *f = zfile_new(NULL, text + 1);
        if (!f || !zfile_is_regular(f) || zfile_cursize(f) > (off_t)CLI_INPUT_FILE_MAX ||
            zfile_input(f) != 0) {
            zfile_destroy(&f);
            fprintf(stderr, "❌ cannot read input file %s\n", text + 1);
            return CLI_EXIT_FAIL;
        }
        zchunk_t *c = zfile_read(f, (size_t)zfile_cursize(f), 0);
        zfile_destroy(&f);
        if (!c)
            return CLI_EXIT_FAIL;
        len = zchunk_size(c);
        file_text = malloc(len + 1);
        if (file_text) {
            memcpy(file_text, zchunk_data(c), len);
            file_text[len] = '\0';
        }
        zchunk_destroy(&c);
        if (!file_text)
            return CLI_EXIT_FAIL;
        text = file_text;
    } else {
        len = strlen(text);
    }
    yg_error_t err = { 0 };
    yg_value_t *v = yg_json_decode(text, len, NULL, &err);
    free(file_text);
    if (!v)
        return cli_usage_error(cmd, "--input is not valid JSON: %s", err.message);
    if (yg_value_type(v) != YG_MAP) {
        yg_value_destroy(&v);
        return cli_usage_error(cmd, "--input must be a JSON object");
    }
    yg_value_destroy(&a->input);
    a->input = v;
    return 0;
}

/* JSON, falling back to the plain string (spec 12 [C] --resume VALUE). */
yg_value_t *cli_parse_value(const char *text)
{
    yg_value_t *v = yg_json_decode(text, strlen(text), NULL, NULL);
    return v ? v : yg_str_new(text);
}

int cli_parse_run_args(const char *cmd, int argc, char **argv, cli_run_args_t *a, bool resume)
{
    memset(a, 0, sizeof *a);
    a->input = yg_map_new();
    if (!a->input)
        return CLI_EXIT_FAIL;
    yg_value_t *vars = yg_map_new();
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *o = argv[i];
        if (cli_is_help(o)) {
            cli_print_usage(cmd);
            rc = -1;
        } else if ((strcmp(o, "--var") == 0 || strcmp(o, "-v") == 0) && !resume) {
            if ((rc = need_value(cmd, argc, argv, i)) != 0)
                break;
            const char *kv = argv[++i];
            const char *eq = strchr(kv, '=');
            if (!eq || eq == kv) {
                rc = cli_usage_error(cmd, "--var needs KEY=VALUE, got '%s'", kv);
                break;
            }
            yg_map_setn(vars, kv, (size_t)(eq - kv), yg_str_new(eq + 1));
        } else if (strcmp(o, "--input") == 0 && !resume) {
            if ((rc = need_value(cmd, argc, argv, i)) == 0)
                rc = parse_input(cmd, argv[++i], a);
        } else if (strcmp(o, "--value") == 0 && resume) {
            if ((rc = need_value(cmd, argc, argv, i)) == 0) {
                yg_value_destroy(&a->value);
                a->value = cli_parse_value(argv[++i]);
            }
        } else if (strcmp(o, "--thread") == 0 || strcmp(o, "-t") == 0) {
            if ((rc = need_value(cmd, argc, argv, i)) == 0)
                a->thread = argv[++i];
        } else if (strcmp(o, "--checkpointer") == 0) {
            if ((rc = need_value(cmd, argc, argv, i)) == 0)
                a->checkpointer = argv[++i];
        } else if (strcmp(o, "--provider") == 0) {
            if ((rc = need_value(cmd, argc, argv, i)) == 0)
                a->provider = argv[++i];
        } else if (strcmp(o, "--mock") == 0) {
            if ((rc = need_value(cmd, argc, argv, i)) == 0)
                a->mock = argv[++i];
        } else if (strcmp(o, "--max-steps") == 0) {
            if ((rc = need_value(cmd, argc, argv, i)) != 0)
                break;
            char *end = NULL;
            long n = strtol(argv[++i], &end, 10);
            if (!end || *end || n < 1 || n > 1000000)
                rc = cli_usage_error(cmd, "--max-steps needs a number 1..1000000");
            a->max_steps = (int)n;
        } else if (strcmp(o, "--durability") == 0) {
            if ((rc = need_value(cmd, argc, argv, i)) == 0 &&
                yg_durability_parse(argv[++i], &a->durability) != YG_OK)
                rc = cli_usage_error(cmd, "--durability needs sync or async, got '%s'", argv[i]);
        } else if (strcmp(o, "--json") == 0) {
            a->json = true;
        } else if (strcmp(o, "--export") == 0 || strcmp(o, "-e") == 0) {
            a->export_ = true;
        } else if (strcmp(o, "--full") == 0 || strcmp(o, "-f") == 0) {
            a->full = true;
        } else if (strcmp(o, "--force") == 0 && resume) {
            a->force = true;
        } else if (strcmp(o, "--verbose") == 0) {
            a->verbose = true;
        } else if (o[0] == '-' && o[1]) {
            rc = cli_usage_error(cmd, "unknown option '%s'", o);
        } else if (!a->graph) {
            a->graph = o;
        } else {
            rc = cli_usage_error(cmd, "unexpected argument '%s'", o);
        }
    }
    if (rc == 0 && !a->graph)
        rc = cli_usage_error(cmd, "a GRAPH file is required");
    if (rc == 0 && resume && !a->thread)
        rc = cli_usage_error(cmd, "--thread ID is required");
    if (rc == 0 && resume && !a->value)
        rc = cli_usage_error(cmd, "--value V is required");
    /* --var wins over --input (applied last) */
    for (size_t i = 0; rc == 0 && i < yg_map_size(vars); i++)
        yg_map_set(a->input, yg_map_key_at(vars, i), yg_value_ref(yg_map_value_at(vars, i)));
    yg_value_destroy(&vars);
    if (rc == -1)
        return -1;
    return rc;
}

int cli_open_runtime(const cli_run_args_t *a, yg_runtime_t **rt, yg_graph_t **graph)
{
    yg_runtime_opts_t opts;
    yg_runtime_opts_init(&opts);
    opts.checkpointer = a->checkpointer;
    opts.provider = a->provider ? a->provider : (a->mock ? "mock" : NULL);
    opts.mock_file = a->mock;
    opts.disable_signal_handlers = true; /* Ctrl-C ends the process */
    opts.log_level = a->verbose ? YG_LOG_INFO : YG_LOG_WARNING;
    yg_error_t err = { 0 };
    *graph = NULL;
    *rt = yg_runtime_new(&opts, &err);
    if (!*rt) {
        fprintf(stderr, "❌ ");
        cli_print_error(&err, NULL);
        return CLI_EXIT_FAIL;
    }
    if (a->graph && yg_runtime_load_graph(*rt, a->graph, graph, &err) != YG_OK) {
        fprintf(stderr, "❌ ");
        cli_print_error(&err, a->graph);
        yg_runtime_destroy(rt);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* ---- driving a run ---------------------------------------------------------- */

typedef struct drive {
    bool done;
    yg_result_t result;   /* owned copy */
    bool progress;        /* print events */
    bool in_tokens;
} drive_t;

static void on_done(const yg_result_t *r, void *arg)
{
    drive_t *d = arg;
    d->result = *r;
    d->result.state = yg_value_ref(r->state);
    d->result.interrupts = r->interrupts ? yg_value_ref(r->interrupts) : yg_list_new();
    d->result.snapshot = yg_value_ref(r->snapshot);
    d->result.history = yg_value_ref(r->history);
    d->done = true;
}

static void on_event(const yg_event_t *ev, void *arg)
{
    drive_t *d = arg;
    if (!d->progress)
        return;
    const char *node = yg_value_str(yg_map_get(ev->data, "node"));
    if (strcmp(ev->kind, "token") == 0) {
        const char *text = yg_value_str(yg_map_get(ev->data, "text"));
        if (text) {
            fputs(text, stderr);
            d->in_tokens = true;
        }
        return;
    }
    if (d->in_tokens) {
        fputc('\n', stderr);
        d->in_tokens = false;
    }
    const char *ns = yg_value_str(yg_map_get(ev->data, "ns"));
    long long step = (long long)yg_value_int(yg_map_get(ev->data, "step"));
    if (strcmp(ev->kind, "node_start") == 0) {
        yg_value_t *mi = yg_map_get(ev->data, "map_index");
        if (mi)
            fprintf(stderr, "  [step %lld] %s%s%s[%lld] ...\n", step, ns ? ns : "", ns ? "/" : "",
                    node ? node : "?", (long long)yg_value_int(mi));
        else
            fprintf(stderr, "  [step %lld] %s%s%s ...\n", step, ns ? ns : "", ns ? "/" : "",
                    node ? node : "?");
    } else if (strcmp(ev->kind, "error") == 0) {
        const char *m = yg_value_str(yg_map_get(yg_map_get(ev->data, "record"), "message"));
        fprintf(stderr, "  ✗ %s: %s\n", node ? node : "run", m ? m : "error");
    }
}

static int wait_done(yg_client_t *client, drive_t *d)
{
    while (!d->done) {
        int rc = yg_client_wait(client, 1000);
        if (rc < 0)
            return rc;
    }
    return YG_OK;
}

/* The interrupt payload as a question for the terminal. */
static void print_question(const yg_value_t *payload)
{
    const char *s = yg_value_str(payload);
    if (!s && yg_value_type(payload) == YG_MAP) {
        s = yg_value_str(yg_map_get(payload, "question"));
        if (!s)
            s = yg_value_str(yg_map_get(payload, "message"));
    }
    if (s) {
        printf("\n%s\n> ", s);
    } else {
        char *json = yg_json_encode(payload, true, NULL);
        printf("\n%s\n> ", json ? json : "?");
        free(json);
    }
    fflush(stdout);
}

/* Read one answer line from stdin (NULL at end of input). */
static char *read_answer(void)
{
    char *line = malloc(CLI_ANSWER_MAX);
    if (!line || !fgets(line, CLI_ANSWER_MAX, stdin)) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

static void print_truncated(const char *key, const yg_value_t *v, bool full)
{
    char *text = yg_value_type(v) == YG_STR ? strdup(yg_value_str(v)) : yg_json_encode(v, false, NULL);
    if (!text)
        return;
    size_t len = strlen(text);
    if (!full && len > CLI_TRUNCATE)
        printf("  %s: %.*s...\n", key, CLI_TRUNCATE, text);
    else
        printf("  %s: %s\n", key, text);
    free(text);
}

/* Spec 12: every key not starting with '_' and not messages/errors, no nulls. */
static void print_state_human(const yg_value_t *state, bool full)
{
    for (size_t i = 0; i < yg_map_size(state); i++) {
        const char *k = yg_map_key_at(state, i);
        const yg_value_t *v = yg_map_value_at(state, i);
        if (k[0] == '_' || strcmp(k, "messages") == 0 || strcmp(k, "errors") == 0 ||
            yg_value_is_null(v))
            continue;
        print_truncated(k, v, full);
    }
}

static void print_json_result(const yg_result_t *r)
{
    yg_value_t *doc = yg_map_new();
    if (!doc)
        return;
    yg_map_set(doc, "status", yg_str_new(yg_run_status_name(r->status)));
    yg_map_set(doc, "thread_id", r->thread_id[0] ? yg_str_new(r->thread_id) : yg_null_new());
    yg_map_set(doc, "run_id", r->run_id[0] ? yg_str_new(r->run_id) : yg_null_new());
    yg_map_set(doc, "state", r->state ? yg_value_ref(r->state) : yg_map_new());
    yg_map_set(doc, "interrupts", r->interrupts ? yg_value_ref(r->interrupts) : yg_list_new());
    if (r->status == YG_RUN_ERROR) {
        yg_value_t *e = yg_map_new();
        yg_map_set(e, "code", yg_str_new(yg_strerror(r->error.code)));
        yg_map_set(e, "message", yg_str_new(r->error.message));
        yg_map_set(doc, "error", e);
    }
    char *json = yg_json_encode(doc, true, NULL);
    if (json)
        printf("%s\n", json);
    free(json);
    yg_value_destroy(&doc);
}

/* Does this run's checkpointer live only in this process (memory store)?
 * Then a pause cannot be resumed by a later `yamlgraph resume`. */
static bool store_is_volatile(const cli_run_args_t *a, const yg_graph_t *graph)
{
    if (a->checkpointer)
        return strcmp(a->checkpointer, "memory") == 0;
    const char *url = graph->checkpointer.url;
    switch (graph->checkpointer.type) {
    case YG_CKPT_SQLITE:
        return !graph->checkpointer.path || strcmp(graph->checkpointer.path, ":memory:") == 0;
    case YG_CKPT_FILE:
        return false;
    case YG_CKPT_REDIS:
    case YG_CKPT_REDIS_SIMPLE: /* memory fallback when the url is empty or unexpanded */
        return !url || !url[0] || strncmp(url, "${", 2) == 0;
    default:
        return true; /* none, memory */
    }
}

static int finish(const cli_run_args_t *a, yg_graph_t *graph, const yg_result_t *r,
                  bool interactive)
{
    if (a->export_ && r->state && r->status != YG_RUN_ERROR) {
        yg_error_t err = { 0 };
        yg_value_t *written = yg_list_new();
        if (yg_export_write(graph, r->state, r->thread_id[0] ? r->thread_id : NULL, NULL, written,
                            &err) != YG_OK) {
            fprintf(stderr, "❌ %s\n", err.message);
            yg_value_destroy(&written);
            return CLI_EXIT_FAIL;
        }
        for (size_t i = 0; i < yg_list_size(written); i++)
            fprintf(stderr, "exported %s\n", yg_value_str(yg_list_get(written, i)));
        yg_value_destroy(&written);
    }
    if (!interactive)
        print_json_result(r);
    if (r->status == YG_RUN_ERROR) {
        fprintf(stderr, "❌ %s (%s)\n", r->error.message, yg_strerror(r->error.code));
        return CLI_EXIT_FAIL;
    }
    if (r->status == YG_RUN_INTERRUPTED) {
        if (store_is_volatile(a, graph))
            fprintf(stderr,
                    "paused at an interrupt (thread %s); the checkpointer is in memory, so this "
                    "pause ends with the process: pass --checkpointer PATH to resume it later\n",
                    r->thread_id[0] ? r->thread_id : "-");
        else
            fprintf(stderr,
                    "paused at an interrupt (thread %s); continue with: yamlgraph resume %s "
                    "--thread %s --value ANSWER%s%s\n",
                    r->thread_id[0] ? r->thread_id : "-", a->graph,
                    r->thread_id[0] ? r->thread_id : "ID",
                    a->checkpointer ? " --checkpointer " : "",
                    a->checkpointer ? a->checkpointer : "");
        return CLI_EXIT_OK;
    }
    if (interactive)
        print_state_human(r->state, a->full);
    return CLI_EXIT_OK;
}

int cli_drive(const cli_run_args_t *a, yg_runtime_t *rt, yg_graph_t *graph, bool resume)
{
    bool interactive = !a->json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    yg_client_t *client = yg_client_new(rt);
    if (!client) {
        fprintf(stderr, "❌ cannot connect to the runtime\n");
        return CLI_EXIT_FAIL;
    }
    char generated[64];
    const char *thread = a->thread;
    if (!thread && (graph->has_checkpointer || a->checkpointer)) {
        zuuid_t *u = zuuid_new();
        snprintf(generated, sizeof generated, "run-%s", u ? zuuid_str_canonical(u) : "x");
        zuuid_destroy(&u);
        thread = generated;
    }
    yg_run_opts_t opts = { .thread_id = thread,
                           .step_limit = a->max_steps,
                           .force = a->force,
                           .durability = a->durability };
    if (thread && !resume)
        yg_map_set(a->input, "thread_id", yg_str_new(thread));
    drive_t d = { .progress = interactive };
    yg_value_t *value = resume ? yg_value_ref(a->value) : NULL;
    int code = CLI_EXIT_OK;
    for (bool first = true;; first = false) {
        memset(&d.result, 0, sizeof d.result);
        d.done = false;
        int64_t req = (first && !resume)
                          ? yg_stream_graph_async(client, graph, a->input, &opts, on_event, &d,
                                                  on_done, &d)
                          : yg_stream_resume_async(client, graph, value, &opts, on_event, &d,
                                                   on_done, &d);
        yg_value_destroy(&value);
        if (req < 0 || wait_done(client, &d) != YG_OK) {
            fprintf(stderr, "❌ cannot submit the run (%s)\n", yg_strerror((int)req));
            code = CLI_EXIT_FAIL;
            break;
        }
        if (!(interactive && d.result.status == YG_RUN_INTERRUPTED && d.result.thread_id[0])) {
            code = finish(a, graph, &d.result, interactive);
            break;
        }
        const yg_value_t *first_int = yg_list_get(d.result.interrupts, 0);
        print_question(yg_map_get(first_int, "value"));
        char *answer = read_answer();
        if (!answer) {
            code = finish(a, graph, &d.result, interactive);
            break;
        }
        value = yg_str_new(answer);
        free(answer);
        yg_result_release(&d.result);
    }
    yg_result_release(&d.result);
    yg_client_destroy(&client);
    return code;
}

static int run_or_resume(int argc, char **argv, bool resume)
{
    const char *cmd = resume ? "resume" : "run";
    cli_run_args_t a;
    int rc = cli_parse_run_args(cmd, argc, argv, &a, resume);
    if (rc != 0) {
        cli_run_args_free(&a);
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    yg_runtime_t *rt = NULL;
    yg_graph_t *graph = NULL;
    rc = cli_open_runtime(&a, &rt, &graph);
    if (rc == CLI_EXIT_OK)
        rc = cli_drive(&a, rt, graph, resume);
    yg_runtime_destroy(&rt);
    cli_run_args_free(&a);
    return rc;
}

int cli_cmd_run(int argc, char **argv)
{
    return run_or_resume(argc, argv, false);
}

int cli_cmd_resume(int argc, char **argv)
{
    return run_or_resume(argc, argv, true);
}
