/*
 * yg_prompt.c - prompt lookup, prompt file loading and schema conversion.
 */
#include "yg_prompt.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "yg_schema.h"
#include "yg_template.h"

/* ------------------------------------------------------------------ lookup */

typedef struct candidates {
    char *paths[YG_PROMPT_MAX_CANDIDATES];
    size_t count;
} candidates_t;

static char *path_join3(const char *a, const char *b, const char *c)
{
    size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0, lc = c ? strlen(c) : 0;
    char *out = malloc(la + lb + lc + 3);
    if (!out)
        return NULL;
    size_t off = 0;
    const char *parts[3] = {a, b, c};
    size_t lens[3] = {la, lb, lc};
    for (int i = 0; i < 3; i++) {
        if (!parts[i] || !lens[i])
            continue;
        if (off > 0 && out[off - 1] != '/')
            out[off++] = '/';
        memcpy(out + off, parts[i], lens[i]);
        off += lens[i];
    }
    out[off] = '\0';
    return out;
}

/* Add a candidate (takes ownership); duplicates are dropped. */
static void candidates_add(candidates_t *c, char *path)
{
    if (!path)
        return;
    for (size_t i = 0; i < c->count; i++) {
        if (strcmp(c->paths[i], path) == 0) {
            free(path);
            return;
        }
    }
    if (c->count == YG_PROMPT_MAX_CANDIDATES) {
        free(path);
        return;
    }
    c->paths[c->count++] = path;
}

static void candidates_free(candidates_t *c)
{
    for (size_t i = 0; i < c->count; i++)
        free(c->paths[i]);
    c->count = 0;
}

static bool is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Steps 4 and 5 with `root` as the project root (NULL = working directory). */
static void add_root_steps(candidates_t *c, const char *root, const char *dir, const char *file,
                           const char *name)
{
    if (dir && dir[0] == '/') {
        if (!root)
            candidates_add(c, path_join3(dir, file, NULL));
    } else {
        candidates_add(c, path_join3(root, dir ? dir : YG_PROMPT_DEFAULT_DIR, file));
    }
    const char *slash = strrchr(name, '/');
    if (slash && slash != name) {
        size_t plen = (size_t)(slash - name);
        char *parent = malloc(plen + 1);
        if (!parent)
            return;
        memcpy(parent, name, plen);
        parent[plen] = '\0';
        size_t blen = strlen(slash + 1);
        char *base = malloc(blen + sizeof ".yaml");
        if (base) {
            memcpy(base, slash + 1, blen);
            memcpy(base + blen, ".yaml", sizeof ".yaml");
            char *p_prompts = path_join3(root, parent, YG_PROMPT_DEFAULT_DIR);
            if (p_prompts)
                candidates_add(c, path_join3(p_prompts, base, NULL));
            free(p_prompts);
        }
        free(base);
        free(parent);
    }
}

char *yg_prompt_resolve(const char *name, const yg_prompt_lookup_t *lookup, yg_error_t *err)
{
    if (!name || !name[0] || !lookup) {
        yg_error_set(err, YG_EINVAL, "empty prompt name");
        return NULL;
    }
    const char *G = lookup->graph_dir;
    const char *D = lookup->prompts_dir && lookup->prompts_dir[0] ? lookup->prompts_dir : NULL;
    bool R = lookup->prompts_relative;
    if (R && !G && !D) {
        yg_error_set(err, YG_EINVAL,
                     "prompts_relative is set but there is no graph file path and no "
                     "prompts_dir to resolve prompt '%s' against; set prompts_dir",
                     name);
        return NULL;
    }
    size_t nlen = strlen(name);
    char *file = malloc(nlen + sizeof ".yaml");
    if (!file) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(file, name, nlen);
    memcpy(file + nlen, ".yaml", sizeof ".yaml");

    candidates_t c = {.count = 0};
    /* 1. graph dir + prompts_dir */
    if (R && D && (G || D[0] == '/'))
        candidates_add(&c, D[0] == '/' ? path_join3(D, file, NULL) : path_join3(G, D, file));
    /* 2. prompts_dir (relative to the working directory) */
    if (D)
        candidates_add(&c, path_join3(D, file, NULL));
    /* 3. graph dir */
    if (R && G)
        candidates_add(&c, path_join3(G, file, NULL));
    /* 4, 5 with the working directory as project root */
    add_root_steps(&c, NULL, D, file, name);
    size_t original_count = c.count;
    /* Extension: each ancestor of the graph dir as the project root. */
    if (lookup->search_ancestors && G && G[0] == '/') {
        char *dir = strdup(G);
        while (dir) {
            add_root_steps(&c, dir, D, file, name);
            char *slash = strrchr(dir, '/');
            if (!slash || dir[1] == '\0')
                break;
            if (slash == dir)
                slash[1] = '\0'; /* "/x" -> "/" */
            else
                *slash = '\0';
        }
        free(dir);
    }
    (void)original_count;
    char *found = NULL;
    for (size_t i = 0; i < c.count && !found; i++) {
        if (is_regular_file(c.paths[i])) {
            found = realpath(c.paths[i], NULL);
            if (!found)
                found = strdup(c.paths[i]);
        }
    }
    if (!found) {
        char tried[YG_ERROR_MESSAGE_MAX];
        size_t off = 0;
        tried[0] = '\0';
        for (size_t i = 0; i < c.count; i++) {
            int n = snprintf(tried + off, sizeof tried - off, "%s%s", i ? ", " : "", c.paths[i]);
            if (n < 0 || (size_t)n >= sizeof tried - off) {
                off = sizeof tried - 1;
                break;
            }
            off += (size_t)n;
        }
        bool has_ext = nlen > 5 && strcmp(name + nlen - 5, ".yaml") == 0;
        yg_error_set(err, YG_ENOTFOUND, "prompt '%s' not found%s (tried: %s)", name,
                     has_ext ? "; write the name without the .yaml extension" : "", tried);
    }
    candidates_free(&c);
    free(file);
    return found;
}

/* ------------------------------------------------------------------ schema */

/* The conversion itself lives in yg_schema.c (one source of truth for the
 * JSON Schema shape).  Here the YAML tree is checked first so that every
 * error points at the offending line and column of the prompt file. */

static int schema_error(const char *file, const yg_ynode_t *at, yg_error_t *err, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

static int schema_error(const char *file, const yg_ynode_t *at, yg_error_t *err, const char *fmt,
                        ...)
{
    char msg[YG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return yg_error_set_at(err, YG_EVALIDATE, file, at ? at->line : 1, at ? at->column : 1, "%s",
                           msg);
}

static bool trimmed_eq(const char *s, size_t len, const char *word)
{
    while (len && isspace((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    return strlen(word) == len && strncmp(s, word, len) == 0;
}

static bool basic_type_known(const char *s, size_t len)
{
    static const char *const basic[] = {"str", "int", "float", "bool", "Any", "list", "dict"};
    for (size_t i = 0; i < sizeof basic / sizeof basic[0]; i++)
        if (trimmed_eq(s, len, basic[i]))
            return true;
    return false;
}

/* str | int | float | bool | Any | list | dict | list[T] | dict[K, V]. */
static bool native_type_known(const char *t)
{
    while (isspace((unsigned char)*t))
        t++;
    size_t len = strlen(t);
    while (len && isspace((unsigned char)t[len - 1]))
        len--;
    if (len > 6 && strncmp(t, "list[", 5) == 0 && t[len - 1] == ']')
        return basic_type_known(t + 5, len - 6);
    if (len > 6 && strncmp(t, "dict[", 5) == 0 && t[len - 1] == ']') {
        const char *comma = memchr(t + 5, ',', len - 6);
        return comma && basic_type_known(t + 5, (size_t)(comma - (t + 5))) &&
               basic_type_known(comma + 1, (size_t)(t + len - 1 - (comma + 1)));
    }
    return basic_type_known(t, len);
}

static int check_constraints(const yg_ynode_t *cons, const char *field, const char *file,
                             yg_error_t *err)
{
    if (!cons || yg_ynode_is_null(cons))
        return YG_OK;
    if (cons->kind != YG_YNODE_MAP)
        return schema_error(file, cons, err,
                            "schema field '%s': 'constraints' must be a mapping such as {ge: 0, "
                            "le: 1}",
                            field);
    for (size_t i = 0; i < cons->count; i++) {
        const char *k = cons->keys[i]->text;
        const yg_ynode_t *v = cons->items[i];
        double d;
        long long n;
        if (strcmp(k, "ge") == 0 || strcmp(k, "le") == 0 || strcmp(k, "gt") == 0 ||
            strcmp(k, "lt") == 0) {
            if (!yg_ynode_as_number(v, &d))
                return schema_error(file, v, err, "schema field '%s': constraint '%s' must be a "
                                    "number", field, k);
        } else if (strcmp(k, "min_length") == 0 || strcmp(k, "max_length") == 0) {
            if (!yg_ynode_as_int(v, &n) || n < 0)
                return schema_error(file, v, err, "schema field '%s': constraint '%s' must be "
                                    "an integer >= 0", field, k);
        } else if (strcmp(k, "pattern") == 0) {
            if (v->kind != YG_YNODE_SCALAR)
                return schema_error(file, v, err, "schema field '%s': constraint 'pattern' must "
                                    "be a regular expression string", field);
        } else {
            return schema_error(file, cons->keys[i], err,
                                "schema field '%s': unknown constraint '%s' (expected ge, le, gt, "
                                "lt, min_length, max_length or pattern)",
                                field, k);
        }
    }
    return YG_OK;
}

static int check_native(const yg_ynode_t *schema, const char *file, yg_error_t *err)
{
    if (schema->kind != YG_YNODE_MAP)
        return schema_error(file, schema, err,
                            "'schema' must be a mapping with 'name' and 'fields' (spec 7.6)");
    const yg_ynode_t *fields = yg_ynode_get(schema, "fields");
    if (!fields || fields->kind != YG_YNODE_MAP)
        return schema_error(file, fields ? fields : schema, err,
                            "'schema' needs a 'fields' mapping (field name -> {type, "
                            "description})");
    for (size_t i = 0; i < fields->count; i++) {
        const char *name = fields->keys[i]->text;
        const yg_ynode_t *def = fields->items[i];
        const yg_ynode_t *type = def; /* shorthand `field: str` */
        if (def->kind == YG_YNODE_MAP)
            type = yg_ynode_get(def, "type");
        else if (def->kind != YG_YNODE_SCALAR)
            return schema_error(file, def, err,
                                "schema field '%s' must be a mapping {type, description, ...}",
                                name);
        if (!type || type->kind != YG_YNODE_SCALAR || yg_ynode_is_null(type))
            return schema_error(file, type ? type : fields->keys[i], err,
                                "schema field '%s' needs a 'type' (str, int, float, bool, Any, "
                                "list[T] or dict[K, V])",
                                name);
        if (!native_type_known(type->text))
            return schema_error(file, type, err,
                                "schema field '%s': unknown type '%s' (expected str, int, float, "
                                "bool, Any, list, dict, list[T] or dict[K, V] with basic T, K, V)",
                                name, type->text);
        if (def->kind != YG_YNODE_MAP)
            continue;
        const yg_ynode_t *opt = yg_ynode_get(def, "optional");
        bool b;
        if (opt && !yg_ynode_is_null(opt) && !yg_ynode_as_bool(opt, &b))
            return schema_error(file, opt, err,
                                "schema field '%s': 'optional' must be true or false", name);
        if (check_constraints(yg_ynode_get(def, "constraints"), name, file, err) != YG_OK)
            return err ? err->code : YG_EVALIDATE;
    }
    return YG_OK;
}

static int check_output_schema(const yg_ynode_t *schema, const char *file, yg_error_t *err)
{
    if (schema->kind != YG_YNODE_MAP)
        return schema_error(file, schema, err,
                            "'output_schema' must be a mapping with 'type: object'");
    const yg_ynode_t *type = yg_ynode_get(schema, "type");
    if (!type || type->kind != YG_YNODE_SCALAR || strcmp(type->text, "object") != 0)
        return schema_error(file, type ? type : schema, err,
                            "'output_schema' must have 'type: object' at its top level");
    const yg_ynode_t *props = yg_ynode_get(schema, "properties");
    if (props && !yg_ynode_is_null(props) && props->kind != YG_YNODE_MAP)
        return schema_error(file, props, err,
                            "'properties' must be a mapping of property name -> schema");
    for (size_t i = 0; props && props->kind == YG_YNODE_MAP && i < props->count; i++)
        if (props->items[i]->kind != YG_YNODE_MAP)
            return schema_error(file, props->items[i], err,
                                "property '%s' must be a mapping such as {type: string}",
                                props->keys[i]->text);
    const yg_ynode_t *req = yg_ynode_get(schema, "required");
    if (req && !yg_ynode_is_null(req) && req->kind != YG_YNODE_SEQ)
        return schema_error(file, req, err, "'required' must be a list of property names");
    return YG_OK;
}

yg_value_t *yg_prompt_schema_convert(const yg_ynode_t *schema, bool native, const char *file,
                                     yg_error_t *err)
{
    if (!schema) {
        yg_error_set(err, YG_EINVAL, "no schema given");
        return NULL;
    }
    if ((native ? check_native(schema, file, err) : check_output_schema(schema, file, err)) !=
        YG_OK)
        return NULL;
    yg_value_t *section = yg_ynode_to_value(schema);
    if (!section) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    yg_value_t *out = native ? yg_schema_from_native(section, err)
                             : yg_schema_from_output_schema(section, err);
    yg_value_destroy(&section);
    if (!out && err && err->line == 0)
        yg_error_set_at(err, err->code ? err->code : YG_EVALIDATE, file, schema->line,
                        schema->column, "%s", err->message);
    return out;
}

/* ------------------------------------------------------------------ files */

void yg_prompt_destroy(yg_prompt_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_prompt_t *p = *self_p;
    free(p->name);
    free(p->path);
    free(p->system_src);
    free(p->user_src);
    yg_tmpl_destroy(&p->system);
    yg_tmpl_destroy(&p->user);
    yg_value_destroy(&p->schema);
    free(p->schema_name);
    free(p->provider);
    free(p);
    *self_p = NULL;
}

/* A text key: absent/null -> *out stays NULL; a scalar -> copy; else error. */
static int prompt_text(const yg_ynode_t *root, const char *key, const char *path, char **out,
                       const yg_ynode_t **node, yg_error_t *err)
{
    const yg_ynode_t *n = yg_ynode_get(root, key);
    *node = NULL;
    if (!n || yg_ynode_is_null(n))
        return YG_OK;
    if (n->kind != YG_YNODE_SCALAR)
        return schema_error(path, n, err, "'%s' must be text (a string), not %s", key,
                            n->kind == YG_YNODE_SEQ ? "a list" : "a mapping");
    *out = strdup(n->text);
    *node = n;
    return *out ? YG_OK : yg_error_set(err, YG_ENOMEM, "out of memory");
}

/* Put context in front of a message another module wrote. */
static void prefix_error(yg_error_t *err, const char *prefix)
{
    if (!err || err->code == YG_ENOMEM)
        return;
    char msg[2 * YG_ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s%s", prefix, err->message);
    msg[YG_ERROR_MESSAGE_MAX - 1] = '\0';
    memcpy(err->message, msg, YG_ERROR_MESSAGE_MAX);
}

yg_prompt_t *yg_prompt_load_text(const char *name, const char *path, const char *text,
                                 size_t len, yg_error_t *err)
{
    yg_ynode_t *root = yg_yaml_load_string(text, len, path, err);
    if (!root)
        return NULL;
    yg_prompt_t *p = calloc(1, sizeof *p);
    if (!p || !(p->name = strdup(name ? name : "")) || !(p->path = strdup(path))) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        goto fail;
    }
    const yg_ynode_t *sys_node, *user_node, *prov_node;
    if (prompt_text(root, "system", path, &p->system_src, &sys_node, err) != YG_OK ||
        prompt_text(root, "user", path, &p->user_src, &user_node, err) != YG_OK ||
        prompt_text(root, "provider", path, &p->provider, &prov_node, err) != YG_OK)
        goto fail;
    if (!p->system_src && !(p->system_src = strdup(""))) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        goto fail;
    }
    if (sys_node && p->system_src[0]) {
        p->system = yg_tmpl_compile(p->system_src, strlen(p->system_src), path,
                                    sys_node->text_line, sys_node->text_column, err);
        if (!p->system) {
            prefix_error(err, "'system' template: ");
            goto fail;
        }
    }
    if (user_node) {
        p->user = yg_tmpl_compile(p->user_src, strlen(p->user_src), path, user_node->text_line,
                                  user_node->text_column, err);
        if (!p->user) {
            prefix_error(err, "'user' template: ");
            goto fail;
        }
    }
    const yg_ynode_t *schema = yg_ynode_get(root, "schema");
    const yg_ynode_t *oschema = yg_ynode_get(root, "output_schema");
    if (schema && !yg_ynode_is_null(schema)) {
        p->schema = yg_prompt_schema_convert(schema, true, path, err);
        if (!p->schema)
            goto fail;
        const yg_ynode_t *sname = yg_ynode_get(schema, "name");
        if (sname && sname->kind == YG_YNODE_SCALAR && !yg_ynode_is_null(sname) &&
            !(p->schema_name = strdup(sname->text))) {
            yg_error_set(err, YG_ENOMEM, "out of memory");
            goto fail;
        }
    } else if (oschema && !yg_ynode_is_null(oschema)) {
        p->schema = yg_prompt_schema_convert(oschema, false, path, err);
        if (!p->schema)
            goto fail;
    }
    yg_ynode_destroy(&root);
    return p;
fail:
    yg_ynode_destroy(&root);
    yg_prompt_destroy(&p);
    return NULL;
}

yg_prompt_t *yg_prompt_load_file(const char *name, const char *path, yg_error_t *err)
{
    size_t len = 0;
    char *text = yg_yaml_read_file(path, &len, err);
    if (!text)
        return NULL;
    yg_prompt_t *p = yg_prompt_load_text(name, path, text, len, err);
    free(text);
    return p;
}
