/*
 * test_shellfmt.c - shell tool quoting and command formatting (spec 8.1,
 * conformance item 45).
 */
#include "testutil.h"

#include "yamlgraph/yg_value.h"
#include "yg_shellfmt.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad fixture %s: %s", json, err.message);
    return v;
}

static void quotes(const char *in, const char *expected)
{
    char *q = yg_shell_quote(in, strlen(in));
    ck_assert_ptr_nonnull(q);
    ck_assert_str_eq(q, expected);
    free(q);
}

static void quotes_value(const char *json, const char *expected)
{
    yg_value_t *v = J(json);
    char *q = yg_shell_quote_value(v);
    ck_assert_ptr_nonnull(q);
    ck_assert_msg(strcmp(q, expected) == 0, "%s: got <%s>, want <%s>", json, q, expected);
    free(q);
    yg_value_destroy(&v);
}

START_TEST(test_item45_quoting)
{
    quotes_value("\"$(rm -rf /)\"", "'$(rm -rf /)'");
    quotes_value("null", "");
    quotes_value("[1, 2, 3]", "'[1, 2, 3]'");
    char *q = yg_shell_quote_value(NULL);
    ck_assert_str_eq(q, "");
    free(q);
}
END_TEST

START_TEST(test_shlex_quote_rules)
{
    quotes("", "''");
    quotes("abc", "abc");
    quotes("a-b_c.d/e@f%g+h=i:j,k", "a-b_c.d/e@f%g+h=i:j,k");
    quotes("hello world", "'hello world'");
    quotes("it's", "'it'\"'\"'s'");
    quotes("'", "''\"'\"''");
    quotes("a;b", "'a;b'");
    quotes("$HOME", "'$HOME'");
    quotes("h\xc3\xa9llo", "'h\xc3\xa9llo'");
    quotes("line\nbreak", "'line\nbreak'");
    quotes("*", "'*'");
    quotes("~", "'~'");
    /* counted bytes: a NUL inside is data (and forces quoting) */
    char *z = yg_shell_quote("a\0b", 3);
    ck_assert_int_eq(memcmp(z, "'a\0b'", 6), 0);
    free(z);
    z = yg_shell_quote(NULL, 5);
    ck_assert_str_eq(z, "''");
    free(z);
}
END_TEST

START_TEST(test_value_text_forms)
{
    quotes_value("true", "True");
    quotes_value("false", "False");
    quotes_value("42", "42");
    quotes_value("-7", "-7");
    quotes_value("1.5", "1.5");
    quotes_value("2.0", "2.0");
    quotes_value("1e20", "1e+20");
    quotes_value("\"plain\"", "plain");
    quotes_value("\"\"", "''");
    /* json.dumps defaults: ", " / ": " separators, ASCII escapes */
    quotes_value("{\"k\": \"\xc3\xa9\", \"n\": [1, null, true]}",
                 "'{\"k\": \"\\u00e9\", \"n\": [1, null, true]}'");
    quotes_value("[\"it's\"]", "'[\"it'\"'\"'s\"]'");
    quotes_value("{}", "'{}'");
}
END_TEST

static char *format(const char *command, const char *vars_json, yg_error_t *err)
{
    yg_value_t *vars = vars_json ? J(vars_json) : NULL;
    char *out = yg_shell_format(command, vars, err);
    yg_value_destroy(&vars);
    return out;
}

static void formats(const char *command, const char *vars_json, const char *expected)
{
    yg_error_t err = {0};
    char *out = format(command, vars_json, &err);
    ck_assert_msg(out != NULL, "%s: %s", command, err.message);
    ck_assert_str_eq(out, expected);
    free(out);
}

static void format_fails(const char *command, const char *vars_json, int code, const char *message)
{
    yg_error_t err = {0};
    char *out = format(command, vars_json, &err);
    ck_assert_msg(out == NULL, "%s: expected failure, got <%s>", command, out);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(strstr(err.message, message) != NULL, "%s: message <%s>", command, err.message);
}

START_TEST(test_item45_format)
{
    formats("echo {a} {b} {c}", "{\"a\": 1, \"b\": 2, \"c\": 3}", "echo 1 2 3");
    formats("git log --author={author}", "{\"author\": \"$(rm -rf /)\"}",
            "git log --author='$(rm -rf /)'");
    formats("echo {x}end", "{\"x\": null}", "echo end");
    formats("cat {f} {f}", "{\"f\": \"a b\"}", "cat 'a b' 'a b'");
    formats("no placeholders", NULL, "no placeholders");
    formats("", "{}", "");
    formats("echo {{literal}} {a} }}{{", "{\"a\": 1}", "echo {literal} 1 }{");
    formats("{a}{b}", "{\"a\": \"x\", \"b\": [1]}", "x'[1]'");
    formats("printf %s {v}", "{\"v\": \"it's\"}", "printf %s 'it'\"'\"'s'");
    /* extra variables are fine */
    formats("echo {a}", "{\"a\": 1, \"unused\": 2}", "echo 1");
}
END_TEST

START_TEST(test_format_errors)
{
    format_fails("echo {x}", "{}", YG_ENOTFOUND, "Missing variable: 'x'");
    ck_assert_ptr_null(format("echo {x}", NULL, NULL));
    yg_error_t err = {0};
    ck_assert_ptr_null(format("echo {x}", "{}", &err));
    ck_assert_str_eq(err.message, "Missing variable: 'x'");
    /* the reference awk example: {print $1} is a placeholder */
    format_fails("wc -l {file} | awk '{print $1}'", "{\"file\": \"a.txt\"}", YG_ENOTFOUND,
                 "Missing variable: 'print $1'");
    /* Python repr() of the name */
    format_fails("echo {it's}", "{}", YG_ENOTFOUND, "Missing variable: \"it's\"");
    format_fails("echo }", "{}", YG_EPARSE, "Single '}'");
    format_fails("echo {a", "{\"a\": 1}", YG_EPARSE, "expected '}'");
    format_fails("echo {", "{}", YG_EPARSE, "expected '}'");
    format_fails("echo {}", "{}", YG_EPARSE, "Replacement index");
    format_fails("echo {0}", "{\"0\": 1}", YG_EPARSE, "Replacement index");
    /* [C] only plain names; a missing argument is still reported first */
    format_fails("echo {a.b}", "{\"a\": {\"b\": 1}}", YG_EPARSE, "Unsupported placeholder");
    format_fails("echo {a[0]}", "{\"a\": [1]}", YG_EPARSE, "Unsupported placeholder");
    format_fails("echo {a!r}", "{\"a\": 1}", YG_EPARSE, "Unsupported placeholder");
    format_fails("echo {a:>5}", "{\"a\": 1}", YG_EPARSE, "Unsupported placeholder");
    format_fails("echo {a:{b}}", "{\"a\": 1, \"b\": 2}", YG_EPARSE, "Unsupported placeholder");
    format_fails("echo {a.b}", "{}", YG_ENOTFOUND, "Missing variable: 'a'");
    /* left to right: the first problem wins */
    format_fails("{x} }", "{}", YG_ENOTFOUND, "Missing variable: 'x'");
    format_fails("} {x}", "{}", YG_EPARSE, "Single '}'");
    ck_assert_ptr_null(yg_shell_format(NULL, NULL, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
}
END_TEST

static void check_placeholders(const char *command, const char *const *expected, size_t n)
{
    char **names = NULL;
    size_t count = yg_shell_placeholders(command, &names);
    ck_assert_uint_eq(count, n);
    for (size_t i = 0; i < count; i++) {
        ck_assert_str_eq(names[i], expected[i]);
        free(names[i]);
    }
    free(names);
}

START_TEST(test_placeholders)
{
    const char *const abc[] = {"a", "b", "c"};
    check_placeholders("cmd {a} {b} {a} {{c}} {d.e} {} {f g} {h", abc, 3);
    const char *const one[] = {"file"};
    check_placeholders("wc -l {file} | awk '{print $1}'", one, 1);
    check_placeholders("plain", NULL, 0);
    check_placeholders("", NULL, 0);
    const char *const nested[] = {"x_1"};
    check_placeholders("{{x_1}", nested, 1);
    char **names = (char **)1;
    ck_assert_uint_eq(yg_shell_placeholders(NULL, &names), 0);
    ck_assert_ptr_null(names);
    ck_assert_uint_eq(yg_shell_placeholders("{a}", NULL), 0);
}
END_TEST

static unsigned fuzz_rand(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

START_TEST(test_fuzz_no_crash)
{
    static const char *const pieces[] = {"{", "}", "{{", "}}", "a", "b", "{a}", "{b}",     ".",
                                         "[", "!", ":",  " ",  "'", "0", "{}",  "\xc3\xa9"};
    const size_t n = sizeof pieces / sizeof pieces[0];
    yg_value_t *vars = J("{\"a\": \"x y\", \"b\": [1, {\"k\": null}]}");
    unsigned seed = 99;
    char buf[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0;
        int k = (int)(fuzz_rand(&seed) % 16);
        for (int i = 0; i < k; i++) {
            const char *p = pieces[fuzz_rand(&seed) % n];
            size_t pl = strlen(p);
            if (len + pl >= sizeof buf)
                break;
            memcpy(buf + len, p, pl);
            len += pl;
        }
        buf[len] = '\0';
        yg_error_t err = {0};
        char *out = yg_shell_format(buf, vars, &err);
        if (!out)
            ck_assert_int_ne(err.code, YG_OK);
        free(out);
        char **names = NULL;
        size_t count = yg_shell_placeholders(buf, &names);
        for (size_t i = 0; i < count; i++)
            free(names[i]);
        free(names);
    }
    yg_value_destroy(&vars);
}
END_TEST

/* --- the real corpus: every shell tool command formats ------------------- */

typedef struct {
    int commands;
    int missing; /* commands whose literal braces the original misreads */
} corpus_counts_t;

static void check_command(const char *path, const char *line, corpus_counts_t *counts)
{
    const char *k = strstr(line, "command:");
    if (!k)
        return;
    const char *v = k + strlen("command:");
    while (*v == ' ')
        v++;
    size_t len = strlen(v);
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\r'))
        len--;
    if (len == 0 || *v == '|' || *v == '>' || len >= 1024)
        return;
    char cmd[1024];
    if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
        v++;
        len -= 2;
    }
    memcpy(cmd, v, len);
    cmd[len] = '\0';
    /* every placeholder the agent schema offers gets a hostile value */
    char **names = NULL;
    size_t n = yg_shell_placeholders(cmd, &names);
    yg_value_t *vars = yg_map_new();
    for (size_t i = 0; i < n; i++) {
        yg_map_set(vars, names[i], yg_str_new("x; rm -rf /"));
        free(names[i]);
    }
    free(names);
    yg_error_t err = {0};
    char *out = yg_shell_format(cmd, vars, &err);
    if (out) {
        ck_assert_msg(strstr(out, "x; rm") == NULL || strstr(out, "'x; rm -rf /'") != NULL,
                      "%s: unquoted value in <%s>", path, out);
        free(out);
    } else {
        /* only the documented awk-style failure is acceptable */
        ck_assert_msg(err.code == YG_ENOTFOUND, "%s: <%s>: %s", path, cmd, err.message);
        counts->missing++;
    }
    yg_value_destroy(&vars);
    counts->commands++;
}

static void walk_yaml(const char *dir, corpus_counts_t *counts)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            walk_yaml(path, counts);
            continue;
        }
        size_t plen = strlen(path);
        if (plen < 5 || strcmp(path + plen - 5, ".yaml") != 0)
            continue;
        char *text = testutil_read_file(path, NULL);
        for (char *line = text; line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            check_command(path, line, counts);
            line = nl ? nl + 1 : NULL;
        }
        free(text);
    }
    closedir(d);
}

START_TEST(test_corpus_commands)
{
    corpus_counts_t counts = {0};
    walk_yaml(YG_CORPUS_DIR, &counts);
    ck_assert_int_ge(counts.commands, 10);
    /* git-report's `awk '{print $1}'` (spec 8.1 [doc!=code]) */
    ck_assert_int_ge(counts.missing, 1);

    /* code-analysis: "{{}}" stays a literal "{}" for find -exec */
    yg_value_t *vars = yg_map_new();
    yg_map_set(vars, "path", yg_str_new("src dir"));
    yg_error_t err = {0};
    char *out = yg_shell_format("find {path} -name \"*.py\" -exec wc -l {{}} \\;", vars, &err);
    ck_assert_str_eq(out, "find 'src dir' -name \"*.py\" -exec wc -l {} \\;");
    free(out);
    yg_value_destroy(&vars);
}
END_TEST

static Suite *shellfmt_suite(void)
{
    Suite *s = suite_create("shellfmt");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_item45_quoting);
    tcase_add_test(tc, test_shlex_quote_rules);
    tcase_add_test(tc, test_value_text_forms);
    tcase_add_test(tc, test_item45_format);
    tcase_add_test(tc, test_format_errors);
    tcase_add_test(tc, test_placeholders);
    tcase_add_test(tc, test_fuzz_no_crash);
    tcase_add_test(tc, test_corpus_commands);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(shellfmt_suite(), 30);
}
