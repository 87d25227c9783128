/*
 * cmd_lint.c - `yamlgraph lint [--json] [--root DIR] GRAPH...`: run the
 * linter (runtime/yg_lint.h) on each file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "yamlgraph/yg_value.h"
#include "yg_lint.h"

typedef struct {
    bool json;
    const char *root;
    const char **paths;
    int npaths;
} lint_args_t;

static void print_issue(const yg_lint_issue_t *is)
{
    if (is->line > 0)
        printf("%s:%d:%d: ", is->file, is->line, is->column > 0 ? is->column : 1);
    else
        printf("%s: ", is->file);
    printf("%s %s: %s (fix: %s)\n", is->code, yg_lint_severity_name(is->severity), is->message,
           is->fix);
}

static void print_summary(const yg_lint_report_t *r)
{
    size_t n = yg_lint_report_count(r);
    if (n == 0) {
        printf("ok: %s (no issues)\n", yg_lint_report_file(r));
        return;
    }
    size_t e = yg_lint_report_count_severity(r, YG_LINT_ERROR);
    size_t w = yg_lint_report_count_severity(r, YG_LINT_WARNING);
    size_t i = yg_lint_report_count_severity(r, YG_LINT_INFO);
    printf("%s: %zu error%s, %zu warning%s, %zu info\n", yg_lint_report_file(r), e,
           e == 1 ? "" : "s", w, w == 1 ? "" : "s", i);
}

/* Returns 0, or -1 on ENOMEM (the value is then incomplete). */
static int set_str(yg_value_t *map, const char *key, const char *s)
{
    yg_value_t *v = yg_str_new(s ? s : "");
    return v && yg_map_set(map, key, v) == YG_OK ? 0 : -1;
}

static int set_int(yg_value_t *map, const char *key, long long n)
{
    yg_value_t *v = yg_int_new(n);
    return v && yg_map_set(map, key, v) == YG_OK ? 0 : -1;
}

static yg_value_t *report_json(const char *path, const yg_lint_report_t *r, const yg_error_t *err)
{
    yg_value_t *entry = yg_map_new();
    if (!entry)
        return NULL;
    int rc = set_str(entry, "file", path);
    yg_value_t *valid = yg_bool_new(r && yg_lint_report_valid(r));
    rc |= valid && yg_map_set(entry, "valid", valid) == YG_OK ? 0 : -1;
    if (!r) {
        yg_value_t *e = yg_map_new();
        if (e) {
            rc |= set_str(e, "message", err->message);
            rc |= set_int(e, "line", err->line);
            rc |= set_int(e, "column", err->column);
        }
        rc |= e && yg_map_set(entry, "error", e) == YG_OK ? 0 : -1;
    }
    yg_value_t *issues = yg_list_new();
    for (size_t k = 0; issues && k < yg_lint_report_count(r); k++) {
        const yg_lint_issue_t *is = yg_lint_report_issue(r, k);
        yg_value_t *m = yg_map_new();
        if (!m) {
            rc = -1;
            break;
        }
        rc |= set_str(m, "code", is->code);
        rc |= set_str(m, "severity", yg_lint_severity_name(is->severity));
        rc |= set_str(m, "file", is->file);
        rc |= set_int(m, "line", is->line);
        rc |= set_int(m, "column", is->column);
        rc |= set_str(m, "message", is->message);
        rc |= set_str(m, "fix", is->fix);
        rc |= yg_list_append(issues, m) == YG_OK ? 0 : -1;
    }
    rc |= issues && yg_map_set(entry, "issues", issues) == YG_OK ? 0 : -1;
    if (rc != 0)
        yg_value_destroy(&entry);
    return entry;
}

static int parse_args(int argc, char **argv, lint_args_t *args)
{
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-' || strcmp(a, "-") == 0)
            args->paths[args->npaths++] = a;
        else if (strcmp(a, "--") == 0)
            options_done = true;
        else if (cli_is_help(a))
            return -1;
        else if (strcmp(a, "--json") == 0)
            args->json = true;
        else if (strcmp(a, "--root") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("lint", "--root needs a directory");
            args->root = argv[++i];
        } else if (strncmp(a, "--root=", 7) == 0 && a[7])
            args->root = a + 7;
        else
            return cli_usage_error("lint", "unknown option '%s'", a);
    }
    if (args->npaths == 0)
        return cli_usage_error("lint", "no graph file given");
    return CLI_EXIT_OK;
}

int cli_cmd_lint(int argc, char **argv)
{
    lint_args_t args = {0};
    args.paths = calloc((size_t)argc, sizeof *args.paths);
    if (!args.paths) {
        fprintf(stderr, "yamlgraph lint: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    int prc = parse_args(argc, argv, &args);
    if (prc != CLI_EXIT_OK) {
        free(args.paths);
        if (prc < 0) {
            cli_print_usage("lint");
            return CLI_EXIT_OK;
        }
        return prc;
    }
    int rc = CLI_EXIT_OK;
    yg_value_t *all = args.json ? yg_list_new() : NULL;
    for (int i = 0; i < args.npaths; i++) {
        yg_error_t err = {0};
        yg_lint_report_t *r = yg_lint_file_in(args.paths[i], args.root, &err);
        if (!r || !yg_lint_report_valid(r))
            rc = CLI_EXIT_FAIL;
        if (args.json) {
            yg_value_t *entry = report_json(args.paths[i], r, &err);
            if (!entry || !all || yg_list_append(all, entry) != YG_OK)
                rc = CLI_EXIT_FAIL;
        } else if (!r) {
            cli_print_error(&err, args.paths[i]);
        } else {
            for (size_t k = 0; k < yg_lint_report_count(r); k++)
                print_issue(yg_lint_report_issue(r, k));
            print_summary(r);
        }
        yg_lint_report_destroy(&r);
    }
    if (args.json) {
        char *text = all ? yg_json_encode(all, true, NULL) : NULL;
        if (text) {
            printf("%s\n", text);
            free(text);
        } else {
            fprintf(stderr, "yamlgraph lint: out of memory\n");
            rc = CLI_EXIT_FAIL;
        }
        yg_value_destroy(&all);
    }
    free(args.paths);
    return rc;
}
