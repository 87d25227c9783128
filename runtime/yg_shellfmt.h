/*
 * yg_shellfmt.h - shell tool command formatting (spec 8.1).
 *
 * A shell tool's command is a Python str.format template whose {name}
 * placeholders are replaced by shlex.quote'd variable values.
 */
#ifndef YG_SHELLFMT_H
#define YG_SHELLFMT_H

#include <stddef.h>

#include "yamlgraph/yg_error.h"
#include "yamlgraph/yg_value.h"

/* POSIX shlex.quote of already-textual bytes.  malloc'd (free()), NULL on ENOMEM. */
char *yg_shell_quote(const char *s, size_t len);
/* Quote one variable value: null -> "" (unquoted, empty); list/map ->
 * Python json.dumps text, quoted; anything else -> Python str() text, quoted. */
char *yg_shell_quote_value(const yg_value_t *v);
/* Substitute {name} placeholders (str.format rules: "{{" and "}}" are literal
 * braces; {name} inserts yg_shell_quote_value(vars[name])).  A missing name
 * -> NULL, YG_ENOTFOUND "Missing variable: 'name'" (Python repr of the
 * name); a stray brace, "{}", "{0}" or [C] any field syntax beyond a plain
 * name ("{a.b}", "{a!r}", "{a:>5}") -> NULL, YG_EPARSE.  malloc'd result. */
char *yg_shell_format(const char *command, const yg_value_t *vars, yg_error_t *err);
/* The distinct {name} placeholders of a command, in first-use order, found
 * as the original does with re.findall(r"\{(\w+)\}") (so "{{x}}" also
 * yields x).  Returns the count and sets *names_out to a malloc'd array of
 * malloc'd strings (NULL when the count is 0, also on ENOMEM); free each
 * and the array. */
size_t yg_shell_placeholders(const char *command, char ***names_out);

#endif
