/*
 * yg_llm_anthropic.c - the Anthropic messages wire dialect: request JSON
 * (system apart, tool_use / tool_result blocks, structured output as a
 * forced tool), reply parsing, and the named stream events (message_start,
 * content_block_*, message_delta, message_stop, ping, error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_llm_http.h"

static int64_t anthropic_max_tokens(void)
{
    const char *v = getenv("ANTHROPIC_MAX_TOKENS");
    long long n = v ? strtoll(v, NULL, 10) : 0;
    return n > 0 ? (int64_t)n : YG_LLM_ANTHROPIC_MAX_TOKENS;
}

static yg_value_t *text_block(const char *text)
{
    yg_value_t *b = yg_map_new();
    yg_map_set(b, "type", yg_str_new("text"));
    yg_map_set(b, "text", yg_str_new(text));
    return b;
}

static yg_value_t *assistant_content(const yg_value_t *m)
{
    const yg_value_t *calls = yg_map_get(m, "tool_calls");
    const char *text = yg_llm_msg_text(m);
    if (yg_list_size(calls) == 0)
        return yg_str_new(text);
    yg_value_t *blocks = yg_list_new();
    if (text[0])
        yg_list_append(blocks, text_block(text));
    for (size_t i = 0; i < yg_list_size(calls); i++) {
        const yg_value_t *c = yg_list_get(calls, i);
        const char *id = yg_value_str(yg_map_get(c, "id"));
        const char *name = yg_value_str(yg_map_get(c, "name"));
        const yg_value_t *args = yg_map_get(c, "args");
        yg_value_t *b = yg_map_new();
        yg_map_set(b, "type", yg_str_new("tool_use"));
        yg_map_set(b, "id", id ? yg_str_new(id) : yg_str_newf("call_%zu", i));
        yg_map_set(b, "name", yg_str_new(name ? name : ""));
        yg_map_set(b, "input", yg_value_type(args) == YG_MAP ? yg_value_copy(args) : yg_map_new());
        yg_list_append(blocks, b);
    }
    return blocks;
}

/* Anthropic keeps the system prompt apart and carries tool results as
 * tool_result blocks in a user turn (consecutive results share one). */
static yg_value_t *anthropic_messages(const yg_value_t *messages, yg_value_t *system,
                                      yg_error_t *err)
{
    yg_value_t *out = yg_list_new();
    for (size_t i = 0; out && i < yg_list_size(messages); i++) {
        const yg_value_t *m = yg_list_get(messages, i);
        const char *role = yg_value_str(yg_map_get(m, "role"));
        const char *text = yg_llm_msg_text(m);
        if (!role) {
            yg_error_set(err, YG_EINVAL, "message %zu has no role", i);
            yg_value_destroy(&out);
            return NULL;
        }
        if (strcmp(role, "system") == 0) {
            if (text[0])
                yg_list_append(system, yg_str_new(text));
            continue;
        }
        yg_value_t *o = yg_map_new();
        if (strcmp(role, "tool") == 0) {
            yg_value_t *b = yg_map_new();
            const char *id = yg_value_str(yg_map_get(m, "tool_call_id"));
            yg_map_set(b, "type", yg_str_new("tool_result"));
            yg_map_set(b, "tool_use_id", yg_str_new(id ? id : ""));
            yg_map_set(b, "content", yg_str_new(text));
            yg_value_t *prev = yg_list_get(out, yg_list_size(out) - 1);
            yg_value_t *pc = yg_map_get(prev, "content");
            if (yg_list_size(out) > 0 && yg_value_type(pc) == YG_LIST &&
                strcmp(yg_value_str(yg_map_get(prev, "role")), "user") == 0) {
                yg_list_append(pc, b);
                yg_value_destroy(&o);
                continue;
            }
            yg_value_t *blocks = yg_list_new();
            yg_list_append(blocks, b);
            yg_map_set(o, "role", yg_str_new("user"));
            yg_map_set(o, "content", blocks);
        } else if (strcmp(role, "assistant") == 0) {
            yg_map_set(o, "role", yg_str_new("assistant"));
            yg_map_set(o, "content", assistant_content(m));
        } else if (strcmp(role, "user") == 0 || strcmp(role, "human") == 0) {
            yg_map_set(o, "role", yg_str_new("user"));
            yg_map_set(o, "content", yg_str_new(text));
        } else {
            yg_error_set(err, YG_EINVAL, "message %zu has role '%s' (user, assistant, system or tool)",
                         i, role);
            yg_value_destroy(&o);
            yg_value_destroy(&out);
            return NULL;
        }
        yg_list_append(out, o);
    }
    return out;
}

static char *anthropic_build_body(const yg_llm_request_t *req, const char *model, size_t *len,
                                  yg_error_t *err)
{
    yg_value_t *system = yg_list_new();
    yg_value_t *msgs = anthropic_messages(req->messages, system, err);
    if (!msgs) {
        yg_value_destroy(&system);
        return NULL;
    }
    yg_value_t *root = yg_map_new();
    yg_map_set(root, "model", yg_str_new(model));
    yg_map_set(root, "max_tokens", yg_int_new(anthropic_max_tokens()));
    if (yg_list_size(system) > 0) {
        size_t total = 0;
        for (size_t i = 0; i < yg_list_size(system); i++)
            total += yg_value_strlen(yg_list_get(system, i)) + 2;
        char *joined = calloc(1, total + 1);
        for (size_t i = 0; joined && i < yg_list_size(system); i++) {
            if (i)
                strcat(joined, "\n\n");
            strcat(joined, yg_value_str(yg_list_get(system, i)));
        }
        yg_map_set(root, "system", yg_str_new(joined ? joined : ""));
        free(joined);
    }
    yg_value_destroy(&system);
    yg_map_set(root, "messages", msgs);
    yg_map_set(root, "temperature", yg_float_new(req->temperature));
    if (req->stream)
        yg_map_set(root, "stream", yg_bool_new(true));
    yg_value_t *tools = yg_list_new();
    for (size_t i = 0; i < yg_list_size(req->tools); i++) {
        const yg_value_t *t = yg_list_get(req->tools, i);
        const char *name = yg_value_str(yg_map_get(t, "name"));
        const char *desc = yg_value_str(yg_map_get(t, "description"));
        const yg_value_t *params = yg_map_get(t, "parameters");
        yg_value_t *o = yg_map_new();
        yg_map_set(o, "name", yg_str_new(name ? name : ""));
        yg_map_set(o, "description", yg_str_new(desc ? desc : ""));
        if (params) {
            yg_map_set(o, "input_schema", yg_value_copy(params));
        } else {
            yg_value_t *empty = yg_map_new();
            yg_map_set(empty, "type", yg_str_new("object"));
            yg_map_set(empty, "properties", yg_map_new());
            yg_map_set(o, "input_schema", empty);
        }
        yg_list_append(tools, o);
    }
    if (req->schema) {
        /* Structured output: one tool whose input is the schema, forced. */
        yg_value_t *o = yg_map_new();
        yg_map_set(o, "name", yg_str_new(YG_LLM_SCHEMA_TOOL));
        yg_map_set(o, "description",
                   yg_str_new("Return the answer as structured output matching this schema."));
        yg_map_set(o, "input_schema", yg_value_copy(req->schema));
        yg_list_append(tools, o);
        yg_value_t *choice = yg_map_new();
        yg_map_set(choice, "type", yg_str_new("tool"));
        yg_map_set(choice, "name", yg_str_new(YG_LLM_SCHEMA_TOOL));
        yg_map_set(root, "tool_choice", choice);
    }
    if (yg_list_size(tools) > 0)
        yg_map_set(root, "tools", tools);
    else
        yg_value_destroy(&tools);
    char *body = yg_json_encode(root, false, len);
    yg_value_destroy(&root);
    if (!body)
        yg_error_set(err, YG_ENOMEM, "out of memory");
    return body;
}

static void set_finish(yg_llm_acc_t *acc, const char *stop_reason)
{
    if (!stop_reason)
        return;
    const char *f = strcmp(stop_reason, "end_turn") == 0 || strcmp(stop_reason, "stop_sequence") == 0
                        ? "stop"
                    : strcmp(stop_reason, "tool_use") == 0   ? "tool_calls"
                    : strcmp(stop_reason, "max_tokens") == 0 ? "length"
                                                             : stop_reason;
    snprintf(acc->finish_reason, sizeof acc->finish_reason, "%s", f);
}

/* The forced structured-output tool becomes acc->structured, not a call. */
static void take_schema_tool(yg_llm_acc_t *acc)
{
    if (!acc->want_structured || acc->fail_code)
        return;
    for (size_t i = 0; i < acc->tools_count; i++) {
        yg_llm_tool_part_t *t = &acc->tools[i];
        if (!t->name || strcmp(t->name, acc->schema_tool) != 0)
            continue;
        yg_error_t err = {0};
        yg_value_t *v = t->args_len ? yg_json_decode(t->args, t->args_len, NULL, &err) : yg_map_new();
        if (!v || yg_value_type(v) != YG_MAP) {
            yg_llm_acc_fail(acc, YG_ESCHEMA, "OutputParserException", false,
                            "structured output is not a JSON object: %s",
                            v ? "got another JSON type" : err.message);
            yg_value_destroy(&v);
            return;
        }
        acc->structured = v;
        free(t->id);
        free(t->name);
        free(t->args);
        memmove(t, t + 1, (acc->tools_count - i - 1) * sizeof *t);
        acc->tools_count--;
        if (acc->tools_count == 0 && strcmp(acc->finish_reason, "tool_calls") == 0)
            snprintf(acc->finish_reason, sizeof acc->finish_reason, "stop");
        return;
    }
}

static void anthropic_parse_reply(yg_llm_acc_t *acc, const char *body, size_t len)
{
    yg_error_t err = {0};
    yg_value_t *root = yg_json_decode(body, len, NULL, &err);
    if (!root) {
        yg_llm_acc_fail(acc, YG_EPARSE, "APIResponseValidationError", false,
                        "the response is not valid JSON: %s", err.message);
        return;
    }
    const char *type = yg_value_str(yg_map_get(root, "type"));
    if (type && strcmp(type, "error") == 0) {
        char msg[400];
        yg_llm_error_message(body, len, msg, sizeof msg);
        yg_llm_acc_fail(acc, YG_ELLM, "APIError", false, "error in the response: %s", msg);
        yg_value_destroy(&root);
        return;
    }
    const yg_value_t *content = yg_map_get(root, "content");
    if (yg_value_type(content) != YG_LIST) {
        yg_llm_acc_fail(acc, YG_EPARSE, "APIResponseValidationError", false,
                        "the response has no content list");
        yg_value_destroy(&root);
        return;
    }
    int tool_index = 0;
    for (size_t i = 0; i < yg_list_size(content) && !acc->fail_code; i++) {
        const yg_value_t *b = yg_list_get(content, i);
        const char *bt = yg_value_str(yg_map_get(b, "type"));
        if (bt && strcmp(bt, "text") == 0) {
            const yg_value_t *t = yg_map_get(b, "text");
            yg_llm_acc_text(acc, yg_value_str(t), yg_value_strlen(t), false);
        } else if (bt && strcmp(bt, "tool_use") == 0) {
            yg_llm_tool_part_t *t = yg_llm_acc_tool(acc, tool_index++);
            if (!t)
                break;
            const char *id = yg_value_str(yg_map_get(b, "id"));
            const char *name = yg_value_str(yg_map_get(b, "name"));
            t->id = strdup(id ? id : "");
            t->name = strdup(name ? name : "");
            t->args = yg_json_encode(yg_map_get(b, "input"), false, NULL);
            t->args_len = t->args && strcmp(t->args, "null") != 0 ? strlen(t->args) : 0;
        }
    }
    set_finish(acc, yg_value_str(yg_map_get(root, "stop_reason")));
    acc->done = true;
    take_schema_tool(acc);
    yg_value_destroy(&root);
}

static int anthropic_stream_event(yg_llm_acc_t *acc, const yg_sse_event_t *ev)
{
    if (acc->done)
        return 0;
    yg_error_t err = {0};
    yg_value_t *data = yg_json_decode(ev->data, ev->data_len, NULL, &err);
    if (!data)
        return yg_llm_acc_fail(acc, YG_EPARSE, "APIResponseValidationError", false,
                               "malformed stream event '%s' (not JSON): %s", ev->event, err.message);
    /* The SSE event name and the payload's type agree; prefer the name. */
    const char *type = strcmp(ev->event, "message") != 0 ? ev->event
                                                        : yg_value_str(yg_map_get(data, "type"));
    if (!type)
        type = "";
    if (strcmp(type, "error") == 0) {
        const yg_value_t *e = yg_map_get(data, "error");
        const char *etype = yg_value_str(yg_map_get(e, "type"));
        const char *msg = yg_value_str(yg_map_get(e, "message"));
        /* overloaded / api errors are transient: retry while nothing was shown */
        bool transient = etype && (strcmp(etype, "overloaded_error") == 0 ||
                                   strcmp(etype, "api_error") == 0 ||
                                   strcmp(etype, "rate_limit_error") == 0);
        yg_llm_acc_fail(acc, YG_ELLM, transient ? "OverloadedError" : "APIError",
                        transient && !acc->emitted, "error event in the stream: %s (%s)",
                        msg ? msg : "no message", etype ? etype : "error");
    } else if (strcmp(type, "content_block_start") == 0) {
        const yg_value_t *b = yg_map_get(data, "content_block");
        const char *bt = yg_value_str(yg_map_get(b, "type"));
        if (bt && strcmp(bt, "tool_use") == 0) {
            yg_llm_tool_part_t *t = yg_llm_acc_tool(acc, (int)yg_value_int(yg_map_get(data, "index")));
            if (t && !t->name) {
                const char *id = yg_value_str(yg_map_get(b, "id"));
                const char *name = yg_value_str(yg_map_get(b, "name"));
                t->id = strdup(id ? id : "");
                t->name = strdup(name ? name : "");
            }
        } else if (bt && strcmp(bt, "text") == 0) {
            const yg_value_t *t = yg_map_get(b, "text");
            yg_llm_acc_text(acc, yg_value_str(t), yg_value_strlen(t), true);
        }
    } else if (strcmp(type, "content_block_delta") == 0) {
        const yg_value_t *d = yg_map_get(data, "delta");
        const char *dt = yg_value_str(yg_map_get(d, "type"));
        if (dt && strcmp(dt, "text_delta") == 0) {
            const yg_value_t *t = yg_map_get(d, "text");
            yg_llm_acc_text(acc, yg_value_str(t), yg_value_strlen(t), true);
        } else if (dt && strcmp(dt, "input_json_delta") == 0) {
            yg_llm_tool_part_t *t = yg_llm_acc_tool(acc, (int)yg_value_int(yg_map_get(data, "index")));
            const yg_value_t *pj = yg_map_get(d, "partial_json");
            size_t n = yg_value_strlen(pj);
            if (t && n) {
                char *p = realloc(t->args, t->args_len + n + 1);
                if (!p)
                    return yg_llm_acc_fail(acc, YG_ENOMEM, "MemoryError", false, "out of memory");
                memcpy(p + t->args_len, yg_value_str(pj), n + 1);
                t->args = p;
                t->args_len += n;
            }
        }
    } else if (strcmp(type, "message_delta") == 0) {
        set_finish(acc, yg_value_str(yg_map_get(yg_map_get(data, "delta"), "stop_reason")));
    } else if (strcmp(type, "message_stop") == 0) {
        acc->done = true;
        take_schema_tool(acc);
    }
    /* message_start, content_block_stop, ping and unknown events: nothing */
    yg_value_destroy(&data);
    return acc->fail_code;
}

const yg_llm_dialect_t yg_llm_anthropic_dialect = {
    anthropic_build_body,
    anthropic_parse_reply,
    anthropic_stream_event,
};
