/*
 * test_malformed.c - every file in tests/malformed/ must fail to load with
 * the error its first line announces:
 *
 *     # expect: [<file name>:]<line>:<column>: <substring of the message>
 *
 * The file name is given when the error is inside another file (a prompt
 * fixture); otherwise the error must name the graph file itself.  Adding a
 * file adds a test: the directory is read at run time.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "yg_graph.h"

#define MALFORMED_DIR YG_SOURCE_DIR "/tests/malformed"
#define MAX_CASES 512
#define MIN_CASES 45

static char *cases[MAX_CASES];
static int cases_count;

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect_cases(void)
{
    DIR *d = opendir(MALFORMED_DIR);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && cases_count < MAX_CASES) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0)
            cases[cases_count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(cases, (size_t)cases_count, sizeof cases[0], name_cmp);
}

typedef struct expectation {
    char file[256]; /* "" = the graph file itself */
    int line;
    int column;
    char substring[512];
} expectation_t;

static int parse_expect(const char *text, expectation_t *x)
{
    const char *tag = "# expect: ";
    if (strncmp(text, tag, strlen(tag)) != 0)
        return -1;
    const char *p = text + strlen(tag);
    const char *eol = strchr(p, '\n');
    if (!eol)
        return -1;
    memset(x, 0, sizeof *x);
    if (!(*p >= '0' && *p <= '9')) {
        const char *colon = strchr(p, ':');
        if (!colon || colon > eol || (size_t)(colon - p) >= sizeof x->file)
            return -1;
        memcpy(x->file, p, (size_t)(colon - p));
        p = colon + 1;
    }
    char *end;
    x->line = (int)strtol(p, &end, 10);
    if (*end != ':')
        return -1;
    x->column = (int)strtol(end + 1, &end, 10);
    if (end[0] != ':' || end[1] != ' ')
        return -1;
    p = end + 2;
    if ((size_t)(eol - p) >= sizeof x->substring || eol == p)
        return -1;
    memcpy(x->substring, p, (size_t)(eol - p));
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0 && (a == b || s[a - b - 1] == '/');
}

START_TEST(malformed_file_fails_as_announced)
{
    ck_assert_int_eq(chdir(MALFORMED_DIR), 0);
    const char *name = cases[_i];
    char *text = testutil_read_file(name, NULL);
    ck_assert_ptr_nonnull(text);
    expectation_t x;
    ck_assert_msg(parse_expect(text, &x) == 0, "%s: first line must be '# expect: line:col: text'",
                  name);
    free(text);

    yg_error_t err = {0};
    yg_graph_t *g = yg_graph_load(name, &err);
    char buf[2048];
    yg_error_format(&err, buf, sizeof buf);
    if (g)
        yg_graph_destroy(&g);
    ck_assert_msg(g == NULL && err.code != YG_OK, "%s loaded but should fail", name);
    ck_assert_msg(err.line == x.line && err.column == x.column,
                  "%s: expected %d:%d, got %s", name, x.line, x.column, buf);
    ck_assert_msg(strstr(err.message, x.substring) != NULL, "%s: expected '%s' in %s", name,
                  x.substring, buf);
    ck_assert_msg(ends_with(err.file, x.file[0] ? x.file : name), "%s: error names file %s",
                  name, err.file);
}
END_TEST

START_TEST(enough_cases)
{
    ck_assert_int_ge(cases_count, MIN_CASES);
}
END_TEST

/* The same file fails the same way twice (no state leaks between loads). */
START_TEST(errors_are_deterministic)
{
    ck_assert_int_eq(chdir(MALFORMED_DIR), 0);
    for (int i = 0; i < cases_count; i++) {
        yg_error_t a = {0}, b = {0};
        ck_assert_ptr_null(yg_graph_load(cases[i], &a));
        ck_assert_ptr_null(yg_graph_load(cases[i], &b));
        ck_assert_int_eq(a.code, b.code);
        ck_assert_str_eq(a.message, b.message);
    }
}
END_TEST

/* Robustness: every prefix and many byte mutations of real graphs either
 * load or fail with a message - never crash, hang or leak (run this suite
 * under valgrind / ASan).  The corpus is copied to a temporary directory and
 * mutants are written beside the originals there, so that their relative
 * prompt and subgraph paths still resolve and loading gets past prompts. */
static const char *const fuzz_seeds[] = {
    "examples/demos/reflexion/graph.yaml",
    "examples/book_translator/graph.yaml",
    "examples/demos/router/graph.yaml",
    "examples/demos/subgraph/graph.yaml",
    "examples/codegen/impl-agent.yaml",
};
#define FUZZ_STRIDE 13
#define FUZZ_MUTATIONS 300

static bool load_mutant(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    yg_error_t err = {0};
    yg_graph_t *g = yg_graph_load(path, &err);
    if (g) {
        ck_assert_int_eq(err.code, YG_OK);
        yg_graph_destroy(&g);
        return true;
    } else {
        ck_assert_int_ne(err.code, YG_OK);
        ck_assert_msg(err.message[0] != '\0', "empty error message");
        ck_assert_int_ge(err.line, 0);
    }
    return false;
}

START_TEST(prefixes_and_mutations_never_crash)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", YG_CORPUS_DIR, fuzz_seeds[_i]);
    size_t len = 0;
    char *text = testutil_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    char copy_root[512], cmd[2048], mutant[1024];
    snprintf(copy_root, sizeof copy_root, "%s/corpus", testutil_temp_dir());
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", copy_root, YG_CORPUS_DIR,
             copy_root);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(mutant, sizeof mutant, "%s/%s", copy_root, fuzz_seeds[_i]);
    strcpy(strrchr(mutant, '/') + 1, "fuzz-mutant.yaml");
    ck_assert_int_eq(chdir(copy_root), 0);
    int loaded = 0, failed = 0;
    for (size_t cut = 0; cut < len; cut += FUZZ_STRIDE)
        load_mutant(mutant, text, cut) ? loaded++ : failed++;
    static const char noise[] = "{}[]:-&*!|>'\"#%@`\t\n ~?,.0aSTARTEND";
    unsigned seed = 12345u + (unsigned)_i;
    char *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    for (int m = 0; m < FUZZ_MUTATIONS; m++) {
        memcpy(copy, text, len);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            copy[at] = noise[(seed >> 8) % (sizeof noise - 1)];
        }
        load_mutant(mutant, copy, len) ? loaded++ : failed++;
    }
    /* both outcomes occur: the mutants reach deep into the loader */
    ck_assert_int_gt(loaded, 0);
    ck_assert_int_gt(failed, 0);
    ck_assert(load_mutant(mutant, text, len)); /* the unmodified copy loads */
    free(copy);
    free(text);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("malformed");
    TCase *tc = tcase_create("malformed");
    tcase_add_test(tc, enough_cases);
    tcase_add_loop_test(tc, malformed_file_fails_as_announced, 0, cases_count);
    tcase_add_test(tc, errors_are_deterministic);
    suite_add_tcase(s, tc);
    TCase *fuzz = tcase_create("fuzz");
    tcase_set_timeout(fuzz, 300);
    tcase_add_loop_test(fuzz, prefixes_and_mutations_never_crash, 0,
                        (int)(sizeof fuzz_seeds / sizeof fuzz_seeds[0]));
    suite_add_tcase(s, fuzz);
    return s;
}

int main(void)
{
    collect_cases();
    int rc = testutil_run(suite(), 60);
    for (int i = 0; i < cases_count; i++)
        free(cases[i]);
    return rc;
}
