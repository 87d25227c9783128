/*
 * cmd_prompt.c - `yamlgraph prompt PROMPT [--var k=v]... [--provider P]
 * [--stream] [--mock FILE] [--prompts-dir DIR] [--timeout S] [--temperature T]`:
 * render one prompt file and print the model's reply (spec 11's
 * execute_prompt), through the asynchronous prompt API on a zloop.
 */
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "yamlgraph/yg_prompt_api.h"

typedef struct {
    bool done;
    int code;
    yg_value_t *value;
    yg_error_t error;
    bool streamed;
} prompt_cli_t;

static void on_token(const char *text, size_t len, void *arg)
{
    prompt_cli_t *p = arg;
    p->streamed = true;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
}

static void on_done(const yg_prompt_result_t *r, void *arg)
{
    prompt_cli_t *p = arg;
    p->done = true;
    p->code = r->code;
    p->error = r->error;
    p->value = r->value ? yg_value_copy(r->value) : NULL;
}

static int on_check(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    return ((prompt_cli_t *)arg)->done ? -1 : 0;
}

static bool parse_double(const char *s, double *out)
{
    char *end = NULL;
    *out = strtod(s, &end);
    return end && end != s && *end == '\0';
}

int cli_cmd_prompt(int argc, char **argv)
{
    const char *cmd = "prompt";
    const char *prompt = NULL;
    const char *mock_file = NULL;
    bool stream = false;
    yg_prompt_opts_t opts = {0};
    yg_value_t *vars = yg_map_new();
    int rc = CLI_EXIT_OK;
    for (int i = 1; i < argc && rc == CLI_EXIT_OK; i++) {
        const char *o = argv[i];
        bool has_next = i + 1 < argc;
        if (cli_is_help(o)) {
            cli_print_usage(cmd);
            yg_value_destroy(&vars);
            return CLI_EXIT_OK;
        } else if ((strcmp(o, "--var") == 0 || strcmp(o, "-v") == 0) && has_next) {
            const char *kv = argv[++i];
            const char *eq = strchr(kv, '=');
            if (!eq || eq == kv)
                rc = cli_usage_error(cmd, "--var needs KEY=VALUE, got '%s'", kv);
            else
                yg_map_setn(vars, kv, (size_t)(eq - kv), yg_str_new(eq + 1));
        } else if ((strcmp(o, "--provider") == 0 || strcmp(o, "-p") == 0) && has_next) {
            opts.provider = argv[++i];
        } else if (strcmp(o, "--stream") == 0) {
            stream = true;
        } else if (strcmp(o, "--mock") == 0 && has_next) {
            mock_file = argv[++i];
        } else if (strcmp(o, "--prompts-dir") == 0 && has_next) {
            opts.prompts_dir = argv[++i];
        } else if (strcmp(o, "--timeout") == 0 && has_next) {
            if (!parse_double(argv[++i], &opts.timeout_s) || opts.timeout_s <= 0)
                rc = cli_usage_error(cmd, "--timeout needs a positive number of seconds");
        } else if (strcmp(o, "--temperature") == 0 && has_next) {
            opts.has_temperature = true;
            if (!parse_double(argv[++i], &opts.temperature))
                rc = cli_usage_error(cmd, "--temperature needs a number");
        } else if (o[0] == '-' && o[1]) {
            rc = cli_usage_error(cmd, "unknown or incomplete option '%s'", o);
        } else if (!prompt) {
            prompt = o;
        } else {
            rc = cli_usage_error(cmd, "only one PROMPT may be given");
        }
    }
    if (rc == CLI_EXIT_OK && !prompt)
        rc = cli_usage_error(cmd, "a PROMPT name or file is required");
    if (rc != CLI_EXIT_OK) {
        yg_value_destroy(&vars);
        return rc;
    }

    zloop_t *loop = zloop_new();
    yg_prompt_exec_opts_t eo = {.mock_file = mock_file};
    yg_error_t err = {0};
    yg_prompt_exec_t *ex = loop ? yg_prompt_exec_new(loop, &eo, &err) : NULL;
    prompt_cli_t p = {0};
    if (ex) {
        int64_t id = stream ? yg_prompt_stream_async(ex, prompt, vars, &opts, on_token, &p, on_done, &p)
                            : yg_prompt_execute_async(ex, prompt, vars, &opts, on_done, &p);
        if (id > 0) {
            int tid = zloop_timer(loop, 5, 0, on_check, &p);
            zloop_start(loop);  /* Ctrl-C ends the loop early: reported below */
            zloop_timer_end(loop, tid);
        } else {
            yg_error_set(&err, (int)id, "cannot start the prompt (%s)", yg_strerror((int)id));
        }
    }
    yg_prompt_exec_destroy(&ex);
    zloop_destroy(&loop);
    yg_value_destroy(&vars);

    if (!p.done) {
        fprintf(stderr, "❌ %s\n", err.code ? err.message : "interrupted");
        return CLI_EXIT_FAIL;
    }
    if (p.code != YG_OK) {
        if (p.streamed)
            fputc('\n', stdout);
        fprintf(stderr, "❌ %s\n", p.error.message);
        yg_value_destroy(&p.value);
        return CLI_EXIT_FAIL;
    }
    if (stream) {
        fputc('\n', stdout);
    } else if (yg_value_type(p.value) == YG_STR) {
        printf("%s\n", yg_value_str(p.value));
    } else {
        char *json = yg_json_encode(p.value, true, NULL);
        printf("%s\n", json ? json : "null");
        free(json);
    }
    yg_value_destroy(&p.value);
    return CLI_EXIT_OK;
}
