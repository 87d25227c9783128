/*
 * yg_schema.c - structured-output schema conversion and validation.
 */
#include "yg_schema.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Path text kept for error messages. */
#define SCHEMA_PATH_MAX 256

typedef struct vctx {
    yg_error_t *err;
    char path[SCHEMA_PATH_MAX];
} vctx_t;

static const char *value_kind(const yg_value_t *v)
{
    switch (yg_value_type(v)) {
    case YG_NULL: return "null";
    case YG_BOOL: return "boolean";
    case YG_INT: return "integer";
    case YG_FLOAT: return "number";
    case YG_STR: return "string";
    case YG_LIST: return "array";
    default: return "object";
    }
}

static int vfail(vctx_t *c, const char *fmt, const char *a, const char *b)
{
    char what[512];
    snprintf(what, sizeof what, fmt, a, b);
    if (c->path[0])
        return yg_error_set(c->err, YG_ESCHEMA, "structured output invalid at '%s': %s", c->path,
                            what);
    return yg_error_set(c->err, YG_ESCHEMA, "structured output invalid: %s", what);
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* Does v (already type-checked) match one JSON type name?  *coerced gets a
 * converted copy when a coercion applies. */
static bool type_matches(const char *type, const yg_value_t *v, yg_value_t **coerced)
{
    yg_type_t t = yg_value_type(v);
    if (strcmp(type, "string") == 0)
        return t == YG_STR;
    if (strcmp(type, "integer") == 0) {
        if (t == YG_INT)
            return true;
        if (t == YG_FLOAT) {
            double d = yg_value_float(v);
            if (isfinite(d) && floor(d) == d && fabs(d) < 9.2e18) {
                *coerced = yg_int_new((int64_t)d);
                return *coerced != NULL;
            }
        }
        return false;
    }
    if (strcmp(type, "number") == 0) {
        if (t == YG_FLOAT)
            return true;
        if (t == YG_INT) {
            *coerced = yg_float_new((double)yg_value_int(v));
            return *coerced != NULL;
        }
        return false;
    }
    if (strcmp(type, "boolean") == 0)
        return t == YG_BOOL;
    if (strcmp(type, "null") == 0)
        return t == YG_NULL;
    if (strcmp(type, "array") == 0)
        return t == YG_LIST;
    if (strcmp(type, "object") == 0)
        return t == YG_MAP;
    return true; /* unknown type names do not constrain */
}

static int validate(vctx_t *c, const yg_value_t *schema, const yg_value_t *v, yg_value_t **out,
                    int depth);

static void path_push(vctx_t *c, size_t *saved, const char *seg, long idx)
{
    *saved = strlen(c->path);
    char piece[128];
    if (seg)
        snprintf(piece, sizeof piece, "%s%s", *saved ? "." : "", seg);
    else
        snprintf(piece, sizeof piece, "[%ld]", idx);
    size_t room = sizeof c->path - *saved - 1;
    strncat(c->path, piece, room);
}

static int check_type(vctx_t *c, const yg_value_t *schema, const yg_value_t *v,
                      yg_value_t **coerced)
{
    const yg_value_t *type = yg_map_get(schema, "type");
    if (!type)
        return YG_OK;
    if (yg_value_type(type) == YG_STR) {
        if (type_matches(yg_value_str(type), v, coerced))
            return YG_OK;
        return vfail(c, "expected %s, got %s", yg_value_str(type), value_kind(v));
    }
    if (yg_value_type(type) == YG_LIST) {
        char names[256] = "";
        for (size_t i = 0; i < yg_list_size(type); i++) {
            const char *name = yg_value_str(yg_list_get(type, i));
            if (!name)
                continue;
            if (type_matches(name, v, coerced))
                return YG_OK;
            if (strlen(names) + strlen(name) + 4 < sizeof names) {
                if (names[0])
                    strcat(names, " or ");
                strcat(names, name);
            }
        }
        return vfail(c, "expected %s, got %s", names, value_kind(v));
    }
    return YG_OK;
}

static int check_number(vctx_t *c, const yg_value_t *schema, const yg_value_t *v)
{
    if (yg_value_type(v) != YG_INT && yg_value_type(v) != YG_FLOAT)
        return YG_OK;
    double d = yg_value_float(v);
    const struct { const char *kw; int op; } rules[] = {
        {"minimum", 0}, {"maximum", 1}, {"exclusiveMinimum", 2}, {"exclusiveMaximum", 3}};
    for (size_t i = 0; i < 4; i++) {
        const yg_value_t *lim = yg_map_get(schema, rules[i].kw);
        if (yg_value_type(lim) != YG_INT && yg_value_type(lim) != YG_FLOAT)
            continue;
        double l = yg_value_float(lim);
        bool ok = rules[i].op == 0 ? d >= l : rules[i].op == 1 ? d <= l
                                          : rules[i].op == 2 ? d > l : d < l;
        if (!ok) {
            char num[64];
            snprintf(num, sizeof num, "%.17g", l);
            return vfail(c, "value violates %s %s", rules[i].kw, num);
        }
    }
    return YG_OK;
}

static int check_length(vctx_t *c, const yg_value_t *schema, size_t n, const char *min_kw,
                        const char *max_kw)
{
    const yg_value_t *mn = yg_map_get(schema, min_kw);
    const yg_value_t *mx = yg_map_get(schema, max_kw);
    char num[32];
    if (yg_value_type(mn) == YG_INT && (int64_t)n < yg_value_int(mn)) {
        snprintf(num, sizeof num, "%lld", (long long)yg_value_int(mn));
        return vfail(c, "length below %s %s", min_kw, num);
    }
    if (yg_value_type(mx) == YG_INT && (int64_t)n > yg_value_int(mx)) {
        snprintf(num, sizeof num, "%lld", (long long)yg_value_int(mx));
        return vfail(c, "length above %s %s", max_kw, num);
    }
    return YG_OK;
}

static int check_string(vctx_t *c, const yg_value_t *schema, const yg_value_t *v)
{
    if (yg_value_type(v) != YG_STR)
        return YG_OK;
    int rc = check_length(c, schema, utf8_chars(yg_value_str(v), yg_value_strlen(v)),
                          "minLength", "maxLength");
    if (rc)
        return rc;
    const char *pattern = yg_value_str(yg_map_get(schema, "pattern"));
    if (pattern) {
        regex_t re;
        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
            return vfail(c, "schema pattern '%s' is not a valid regular expression%s", pattern, "");
        int m = regexec(&re, yg_value_str(v), 0, NULL, 0);
        regfree(&re);
        if (m != 0)
            return vfail(c, "string does not match pattern '%s'%s", pattern, "");
    }
    return YG_OK;
}

static int check_enum(vctx_t *c, const yg_value_t *schema, const yg_value_t *v)
{
    const yg_value_t *en = yg_map_get(schema, "enum");
    if (yg_value_type(en) != YG_LIST)
        return YG_OK;
    for (size_t i = 0; i < yg_list_size(en); i++)
        if (yg_value_equal(yg_list_get(en, i), v))
            return YG_OK;
    return vfail(c, "value is not one of the allowed values%s%s", "", "");
}

static int validate_array(vctx_t *c, const yg_value_t *schema, const yg_value_t *v,
                          yg_value_t **out, int depth)
{
    int rc = check_length(c, schema, yg_list_size(v), "minItems", "maxItems");
    if (rc)
        return rc;
    const yg_value_t *items = yg_map_get(schema, "items");
    yg_value_t *copy = yg_list_new();
    if (!copy)
        return yg_error_set(c->err, YG_ENOMEM, "out of memory");
    for (size_t i = 0; i < yg_list_size(v); i++) {
        yg_value_t *item = NULL;
        size_t saved;
        path_push(c, &saved, NULL, (long)i);
        rc = yg_value_type(items) == YG_MAP
                 ? validate(c, items, yg_list_get(v, i), &item, depth + 1)
                 : ((item = yg_value_copy(yg_list_get(v, i))) ? YG_OK : YG_ENOMEM);
        c->path[saved] = '\0';
        if (rc || yg_list_append(copy, item)) {
            yg_value_destroy(&copy);
            return rc ? rc : yg_error_set(c->err, YG_ENOMEM, "out of memory");
        }
    }
    *out = copy;
    return YG_OK;
}

static int validate_object(vctx_t *c, const yg_value_t *schema, const yg_value_t *v,
                           yg_value_t **out, int depth)
{
    const yg_value_t *props = yg_map_get(schema, "properties");
    const yg_value_t *required = yg_map_get(schema, "required");
    const yg_value_t *additional = yg_map_get(schema, "additionalProperties");
    for (size_t i = 0; i < yg_list_size(required); i++) {
        const char *name = yg_value_str(yg_list_get(required, i));
        if (name && !yg_map_has(v, name)) {
            size_t saved;
            path_push(c, &saved, name, 0);
            return vfail(c, "field required%s%s", "", "");
        }
    }
    yg_value_t *copy = yg_map_new();
    if (!copy)
        return yg_error_set(c->err, YG_ENOMEM, "out of memory");
    int rc = YG_OK;
    for (size_t i = 0; i < yg_map_size(v) && rc == YG_OK; i++) {
        const char *key = yg_map_key_at(v, i);
        const yg_value_t *sub = yg_map_get(props, key);
        if (!sub && yg_value_type(additional) == YG_BOOL && !yg_value_bool(additional)) {
            size_t saved;
            path_push(c, &saved, key, 0);
            rc = vfail(c, "unexpected field%s%s", "", "");
            break;
        }
        if (!sub && yg_value_type(additional) == YG_MAP)
            sub = additional;
        yg_value_t *item = NULL;
        size_t saved;
        path_push(c, &saved, key, 0);
        rc = yg_value_type(sub) == YG_MAP
                 ? validate(c, sub, yg_map_value_at(v, i), &item, depth + 1)
                 : ((item = yg_value_copy(yg_map_value_at(v, i))) ? YG_OK : YG_ENOMEM);
        c->path[saved] = '\0';
        if (rc == YG_OK && yg_map_setn(copy, key, yg_map_keylen_at(v, i), item))
            rc = yg_error_set(c->err, YG_ENOMEM, "out of memory");
    }
    /* Fill defaults of absent properties, in schema order. */
    for (size_t i = 0; i < yg_map_size(props) && rc == YG_OK; i++) {
        const char *key = yg_map_key_at(props, i);
        const yg_value_t *sub = yg_map_value_at(props, i);
        if (yg_map_has(copy, key) || !yg_map_has(sub, "default"))
            continue;
        if (yg_map_set(copy, key, yg_value_copy(yg_map_get(sub, "default"))))
            rc = yg_error_set(c->err, YG_ENOMEM, "out of memory");
    }
    if (rc) {
        yg_value_destroy(&copy);
        return rc;
    }
    *out = copy;
    return YG_OK;
}

static int validate_alternatives(vctx_t *c, const yg_value_t *alts, const yg_value_t *v,
                                 yg_value_t **out, int depth)
{
    yg_error_t first = {0};
    for (size_t i = 0; i < yg_list_size(alts); i++) {
        yg_error_t e = {0};
        vctx_t sub = {&e, ""};
        memcpy(sub.path, c->path, sizeof sub.path);
        if (validate(&sub, yg_list_get(alts, i), v, out, depth + 1) == YG_OK)
            return YG_OK;
        if (i == 0)
            first = e;
    }
    if (yg_list_size(alts) == 0)
        return YG_OK;
    if (c->err)
        *c->err = first;
    return first.code ? first.code : YG_ESCHEMA;
}

static int validate(vctx_t *c, const yg_value_t *schema, const yg_value_t *v, yg_value_t **out,
                    int depth)
{
    *out = NULL;
    if (depth > YG_SCHEMA_MAX_DEPTH)
        return vfail(c, "schema or value nested too deeply%s%s", "", "");
    if (yg_value_type(schema) != YG_MAP) {
        *out = yg_value_copy(v);
        return *out ? YG_OK : YG_ENOMEM;
    }
    const yg_value_t *alts = yg_map_get(schema, "anyOf");
    if (!alts)
        alts = yg_map_get(schema, "oneOf");
    if (yg_value_type(alts) == YG_LIST) {
        yg_value_t *tmp = NULL;
        int rc = validate_alternatives(c, alts, v, &tmp, depth);
        if (rc)
            return rc;
        /* the rest of this schema applies to the chosen alternative's result */
        yg_value_t *stripped = yg_value_copy(schema);
        yg_map_remove(stripped, "anyOf");
        yg_map_remove(stripped, "oneOf");
        rc = validate(c, stripped, tmp, out, depth + 1);
        yg_value_destroy(&stripped);
        yg_value_destroy(&tmp);
        return rc;
    }
    yg_value_t *coerced = NULL;
    int rc = check_type(c, schema, v, &coerced);
    if (rc)
        return rc;
    const yg_value_t *val = coerced ? coerced : v;
    if (!(rc = check_enum(c, schema, val)) && !(rc = check_number(c, schema, val)))
        rc = check_string(c, schema, val);
    if (rc == YG_OK) {
        if (yg_value_type(val) == YG_MAP)
            rc = validate_object(c, schema, val, out, depth);
        else if (yg_value_type(val) == YG_LIST)
            rc = validate_array(c, schema, val, out, depth);
        else if (!(*out = yg_value_copy(val)))
            rc = YG_ENOMEM;
    }
    yg_value_destroy(&coerced);
    return rc;
}

int yg_schema_validate(const yg_value_t *schema, const yg_value_t *value, yg_value_t **out,
                       yg_error_t *err)
{
    if (!out)
        return yg_error_set(err, YG_EINVAL, "yg_schema_validate: out is NULL");
    vctx_t c = {err, ""};
    return validate(&c, schema, value, out, 0);
}

/* --- conversion ------------------------------------------------------------ */

/* Basic native type name -> JSON type name, "" for Any, NULL if unknown. */
static const char *native_basic(const char *t, size_t len)
{
    static const struct { const char *native; const char *json; } map[] = {
        {"str", "string"}, {"string", "string"}, {"int", "integer"}, {"integer", "integer"},
        {"float", "number"}, {"number", "number"}, {"bool", "boolean"},
        {"boolean", "boolean"}, {"Any", ""}, {"any", ""}, {"list", "array"},
        {"dict", "object"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].native) == len && strncmp(map[i].native, t, len) == 0)
            return map[i].json;
    return NULL;
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* A schema for a basic type (NULL if unknown). */
static yg_value_t *basic_schema(const char *t, size_t len)
{
    trim(&t, &len);
    const char *json = native_basic(t, len);
    if (!json)
        return NULL;
    yg_value_t *s = yg_map_new();
    if (s && json[0])
        yg_map_set(s, "type", yg_str_new(json));
    return s;
}

/* str | int | float | bool | Any | list[T] | dict[K, V] -> schema, NULL if unknown. */
static yg_value_t *native_type_schema(const char *t)
{
    size_t len = strlen(t);
    trim(&t, &len);
    if (len > 6 && strncmp(t, "list[", 5) == 0 && t[len - 1] == ']') {
        yg_value_t *items = basic_schema(t + 5, len - 6);
        if (!items)
            return NULL;
        yg_value_t *s = yg_map_new();
        yg_map_set(s, "type", yg_str_new("array"));
        yg_map_set(s, "items", items);
        return s;
    }
    if (len > 6 && strncmp(t, "dict[", 5) == 0 && t[len - 1] == ']') {
        const char *comma = memchr(t + 5, ',', len - 6);
        if (!comma)
            return NULL;
        yg_value_t *key = basic_schema(t + 5, (size_t)(comma - (t + 5)));
        yg_value_t *val = basic_schema(comma + 1, (size_t)(t + len - 1 - (comma + 1)));
        bool ok = key && val;
        yg_value_destroy(&key);
        if (!ok) {
            yg_value_destroy(&val);
            return NULL;
        }
        yg_value_t *s = yg_map_new();
        yg_map_set(s, "type", yg_str_new("object"));
        yg_map_set(s, "additionalProperties", val);
        return s;
    }
    return basic_schema(t, len);
}

static void make_nullable(yg_value_t *prop)
{
    const yg_value_t *type = yg_map_get(prop, "type");
    if (yg_value_type(type) != YG_STR)
        return; /* Any: already accepts null */
    yg_value_t *types = yg_list_new();
    yg_list_append(types, yg_str_new(yg_value_str(type)));
    yg_list_append(types, yg_str_new("null"));
    yg_map_set(prop, "type", types);
}

static void apply_constraints(yg_value_t *prop, const yg_value_t *cons)
{
    const char *type = yg_value_str(yg_map_get(prop, "type"));
    bool is_list = type && strcmp(type, "array") == 0;
    static const struct { const char *from; const char *to; const char *to_list; } map[] = {
        {"ge", "minimum", NULL}, {"le", "maximum", NULL},
        {"gt", "exclusiveMinimum", NULL}, {"lt", "exclusiveMaximum", NULL},
        {"min_length", "minLength", "minItems"}, {"max_length", "maxLength", "maxItems"},
        {"pattern", "pattern", NULL}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        const yg_value_t *v = yg_map_get(cons, map[i].from);
        if (!v)
            continue;
        const char *to = is_list && map[i].to_list ? map[i].to_list : map[i].to;
        yg_map_set(prop, to, yg_value_copy(v));
    }
}

yg_value_t *yg_schema_from_native(const yg_value_t *section, yg_error_t *err)
{
    const yg_value_t *fields = yg_map_get(section, "fields");
    if (yg_value_type(section) != YG_MAP || yg_value_type(fields) != YG_MAP) {
        yg_error_set(err, YG_EVALIDATE, "schema: expected a map with 'fields'");
        return NULL;
    }
    yg_value_t *schema = yg_map_new();
    yg_value_t *props = yg_map_new();
    yg_value_t *required = yg_list_new();
    if (!schema || !props || !required)
        goto nomem;
    yg_map_set(schema, "type", yg_str_new("object"));
    if (yg_value_str(yg_map_get(section, "name")))
        yg_map_set(schema, "title", yg_value_copy(yg_map_get(section, "name")));
    for (size_t i = 0; i < yg_map_size(fields); i++) {
        const char *name = yg_map_key_at(fields, i);
        const yg_value_t *f = yg_map_value_at(fields, i);
        const char *type = yg_value_str(yg_map_get(f, "type"));
        if (yg_value_type(f) == YG_STR)
            type = yg_value_str(f); /* shorthand `field: str` */
        yg_value_t *prop = type ? native_type_schema(type) : NULL;
        if (!prop) {
            yg_error_set(err, YG_EVALIDATE, "schema field '%s': unknown type '%s'", name,
                         type ? type : "(none)");
            yg_value_destroy(&required);
            yg_value_destroy(&props);
            yg_value_destroy(&schema);
            return NULL;
        }
        if (yg_value_str(yg_map_get(f, "description")))
            yg_map_set(prop, "description", yg_value_copy(yg_map_get(f, "description")));
        apply_constraints(prop, yg_map_get(f, "constraints"));
        bool optional = yg_value_bool(yg_map_get(f, "optional"));
        bool has_default = yg_map_has(f, "default");
        if (optional)
            make_nullable(prop);
        if (has_default)
            yg_map_set(prop, "default", yg_value_copy(yg_map_get(f, "default")));
        else if (optional)
            yg_map_set(prop, "default", yg_null_new());
        else
            yg_list_append(required, yg_str_new(name));
        yg_map_set(props, name, prop);
    }
    yg_map_set(schema, "properties", props);
    yg_map_set(schema, "required", required);
    return schema;
nomem:
    yg_value_destroy(&required);
    yg_value_destroy(&props);
    yg_value_destroy(&schema);
    yg_error_set(err, YG_ENOMEM, "out of memory");
    return NULL;
}

static const char *json_basic(const char *t)
{
    static const char *known[] = {"string", "integer", "number", "boolean", "array", "object"};
    for (size_t i = 0; t && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(t, known[i]) == 0)
            return known[i];
    return "string";
}

yg_value_t *yg_schema_from_output_schema(const yg_value_t *section, yg_error_t *err)
{
    const char *type = yg_value_str(yg_map_get(section, "type"));
    if (yg_value_type(section) != YG_MAP || !type || strcmp(type, "object") != 0) {
        yg_error_set(err, YG_EVALIDATE, "output_schema: must have type: object");
        return NULL;
    }
    const yg_value_t *in_props = yg_map_get(section, "properties");
    const yg_value_t *in_req = yg_map_get(section, "required");
    yg_value_t *schema = yg_map_new();
    yg_value_t *props = yg_map_new();
    yg_value_t *required = yg_list_new();
    if (!schema || !props || !required) {
        yg_value_destroy(&required);
        yg_value_destroy(&props);
        yg_value_destroy(&schema);
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    yg_map_set(schema, "type", yg_str_new("object"));
    if (yg_value_str(yg_map_get(section, "title")))
        yg_map_set(schema, "title", yg_value_copy(yg_map_get(section, "title")));
    for (size_t i = 0; i < yg_map_size(in_props); i++) {
        const char *name = yg_map_key_at(in_props, i);
        const yg_value_t *p = yg_map_value_at(in_props, i);
        const char *pt = yg_map_has(p, "enum") ? "string"
                                               : json_basic(yg_value_str(yg_map_get(p, "type")));
        yg_value_t *prop = yg_map_new();
        yg_map_set(prop, "type", yg_str_new(pt));
        if (strcmp(pt, "array") == 0) {
            const char *it = yg_value_str(yg_map_get(yg_map_get(p, "items"), "type"));
            if (it) {
                yg_value_t *items = yg_map_new();
                yg_map_set(items, "type", yg_str_new(json_basic(it)));
                yg_map_set(prop, "items", items);
            }
        }
        if (yg_value_str(yg_map_get(p, "description")))
            yg_map_set(prop, "description", yg_value_copy(yg_map_get(p, "description")));
        bool is_required = false;
        for (size_t j = 0; j < yg_list_size(in_req); j++) {
            const char *r = yg_value_str(yg_list_get(in_req, j));
            if (r && strcmp(r, name) == 0)
                is_required = true;
        }
        if (is_required) {
            yg_list_append(required, yg_str_new(name));
        } else {
            make_nullable(prop);
            yg_map_set(prop, "default", yg_null_new());
        }
        yg_map_set(props, name, prop);
    }
    yg_map_set(schema, "properties", props);
    yg_map_set(schema, "required", required);
    return schema;
}

yg_value_t *yg_schema_generic_report(void)
{
    static const char *json =
        "{\"type\":\"object\",\"title\":\"GenericReport\",\"properties\":{"
        "\"title\":{\"type\":\"string\"},"
        "\"summary\":{\"type\":\"string\"},"
        "\"sections\":{\"type\":\"object\",\"default\":{}},"
        "\"findings\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"default\":[]},"
        "\"recommendations\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"default\":[]},"
        "\"metadata\":{\"type\":\"object\",\"default\":{}}},"
        "\"required\":[\"title\",\"summary\"]}";
    return yg_json_decode(json, strlen(json), NULL, NULL);
}

static yg_value_t *placeholder(const yg_value_t *schema, int depth)
{
    if (depth > YG_SCHEMA_MAX_DEPTH || yg_value_type(schema) != YG_MAP)
        return yg_null_new();
    if (yg_map_has(schema, "default"))
        return yg_value_copy(yg_map_get(schema, "default"));
    const yg_value_t *en = yg_map_get(schema, "enum");
    if (yg_list_size(en) > 0)
        return yg_value_copy(yg_list_get(en, 0));
    const yg_value_t *alts = yg_map_get(schema, "anyOf");
    if (!alts)
        alts = yg_map_get(schema, "oneOf");
    if (yg_list_size(alts) > 0)
        return placeholder(yg_list_get(alts, 0), depth + 1);
    const yg_value_t *type = yg_map_get(schema, "type");
    const char *t = yg_value_type(type) == YG_LIST ? yg_value_str(yg_list_get(type, 0))
                                                    : yg_value_str(type);
    if (!t)
        return yg_str_new("mock");
    if (strcmp(t, "string") == 0) {
        int64_t min = yg_value_int(yg_map_get(schema, "minLength"));
        if (min <= 4)
            return yg_str_new("mock");
        if (min > 4096)
            min = 4096;
        char *buf = malloc((size_t)min + 1);
        if (!buf)
            return NULL;
        memset(buf, 'm', (size_t)min);
        buf[min] = '\0';
        yg_value_t *v = yg_str_new(buf);
        free(buf);
        return v;
    }
    if (strcmp(t, "integer") == 0 || strcmp(t, "number") == 0) {
        double v = 0;
        const yg_value_t *mn = yg_map_get(schema, "minimum");
        const yg_value_t *xmn = yg_map_get(schema, "exclusiveMinimum");
        const yg_value_t *mx = yg_map_get(schema, "maximum");
        if (mn)
            v = yg_value_float(mn);
        else if (xmn)
            v = yg_value_float(xmn) + 1;
        else if (mx && yg_value_float(mx) < 0)
            v = yg_value_float(mx);
        return strcmp(t, "integer") == 0 ? yg_int_new((int64_t)ceil(v)) : yg_float_new(v);
    }
    if (strcmp(t, "boolean") == 0)
        return yg_bool_new(false);
    if (strcmp(t, "null") == 0)
        return yg_null_new();
    if (strcmp(t, "array") == 0)
        return yg_list_new();
    yg_value_t *obj = yg_map_new();
    const yg_value_t *props = yg_map_get(schema, "properties");
    for (size_t i = 0; obj && i < yg_map_size(props); i++)
        yg_map_set(obj, yg_map_key_at(props, i), placeholder(yg_map_value_at(props, i), depth + 1));
    return obj;
}

yg_value_t *yg_schema_placeholder(const yg_value_t *schema)
{
    return placeholder(schema, 0);
}
