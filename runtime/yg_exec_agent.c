/*
 * yg_exec_agent.c - agent nodes (spec 4.11): a model/tool loop with native
 * tool calling.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlgraph/yg_native.h"
#include "yg_exec_int.h"
#include "yg_pytext.h"
#include "yg_template.h"

typedef struct agent_exec {
    yg_value_t *msgs;    /* the conversation sent to the model */
    yg_value_t *tools;   /* tool descriptions offered, or NULL */
    yg_value_t *log;     /* {tool, args, output, success} per executed call */
    yg_value_t *calls;   /* tool calls of the last reply */
    size_t call_index;
    int64_t k;           /* iterations started */
    char *reply_text;    /* text of the last model reply */
} agent_exec_t;

static void agent_exec_free(yg_task_t *t)
{
    agent_exec_t *x = t->exec;
    yg_value_destroy(&x->msgs);
    yg_value_destroy(&x->tools);
    yg_value_destroy(&x->log);
    yg_value_destroy(&x->calls);
    free(x->reply_text);
    free(x);
    t->exec = NULL;
}

/* Only the tools the node lists (and that exist) may be called. */
static const yg_tool_t *agent_tool(const yg_task_t *t, const char *name)
{
    for (size_t i = 0; name && i < t->node->tools_count; i++)
        if (strcmp(t->node->tools[i], name) == 0)
            return yg_graph_tool(t->env->graph, name);
    return NULL;
}

static yg_value_t *string_param_schema(char **names, size_t count)
{
    yg_value_t *schema = yg_map_new();
    yg_value_t *props = yg_map_new();
    yg_value_t *required = yg_list_new();
    for (size_t i = 0; i < count; i++) {
        yg_value_t *p = yg_map_new();
        yg_map_set(p, "type", yg_str_new("string"));
        yg_map_set(props, names[i], p);
        yg_list_append(required, yg_str_new(names[i]));
    }
    yg_map_set(schema, "type", yg_str_new("object"));
    yg_map_set(schema, "properties", props);
    yg_map_set(schema, "required", required);
    return schema;
}

/* Spec 4.11 tool argument schemas. */
static yg_value_t *agent_tool_list(yg_task_t *t)
{
    yg_value_t *list = yg_list_new();
    for (size_t i = 0; list && i < t->node->tools_count; i++) {
        const yg_tool_t *tool = yg_graph_tool(t->env->graph, t->node->tools[i]);
        if (!tool) {
            exec_log(t, "agent '%s': unknown tool '%s' skipped", t->node->name, t->node->tools[i]);
            continue;
        }
        yg_value_t *params;
        if (tool->type == YG_TOOL_SHELL) {
            params = string_param_schema(tool->placeholders, tool->placeholders_count);
        } else if (tool->type == YG_TOOL_WEBSEARCH) {
            char *query[] = {"query"};
            params = string_param_schema(query, 1);
        } else {
            params = string_param_schema(NULL, 0); /* python signature unknown here */
        }
        yg_value_t *entry = yg_map_new();
        yg_map_set(entry, "name", yg_str_new(tool->name));
        yg_map_set(entry, "description", yg_str_new(tool->description ? tool->description : ""));
        yg_map_set(entry, "parameters", params);
        yg_list_append(list, entry);
    }
    if (yg_list_size(list) == 0)
        yg_value_destroy(&list);
    return list;
}

static void agent_finish(yg_task_t *t, const char *text, bool limit)
{
    agent_exec_t *x = t->exec;
    const yg_node_t *node = t->node;
    yg_value_t *u = yg_map_new();
    yg_map_set(u, node->state_key, yg_str_new(text ? text : ""));
    yg_map_set(u, "current_step", yg_str_new(node->name));
    yg_map_set(u, "_agent_iterations", yg_int_new(limit ? node->max_iterations : x->k));
    if (limit)
        yg_map_set(u, "_agent_limit_reached", yg_bool_new(true));
    yg_map_set(u, "messages", yg_value_copy(x->msgs));
    if (node->tool_results_key && yg_list_size(x->log) > 0)
        yg_map_set(u, node->tool_results_key, yg_value_copy(x->log));
    exec_finish_ok(t, u);
}

static void agent_iterate(yg_task_t *t);
static void agent_run_tools(yg_task_t *t);

/* Record one tool result and move on. */
static void agent_tool_result(yg_task_t *t, const char *output, bool success)
{
    agent_exec_t *x = t->exec;
    const yg_value_t *call = yg_list_get(x->calls, x->call_index);
    const yg_value_t *id = yg_map_get(call, "id");
    yg_value_t *msg = exec_message("tool", output);
    if (yg_value_type(id) == YG_STR)
        yg_map_set(msg, "tool_call_id", yg_value_copy(id));
    else
        yg_map_set(msg, "tool_call_id", yg_str_newf("call_%lld", (long long)(x->k - 1)));
    yg_map_set(msg, "name", yg_value_copy(yg_map_get(call, "name")));
    yg_list_append(x->msgs, msg);
    yg_value_t *entry = yg_map_new();
    yg_map_set(entry, "tool", yg_value_copy(yg_map_get(call, "name")));
    const yg_value_t *args = yg_map_get(call, "args");
    yg_map_set(entry, "args", yg_value_type(args) == YG_MAP ? yg_value_copy(args) : yg_map_new());
    yg_map_set(entry, "output", yg_str_new(output));
    yg_map_set(entry, "success", yg_bool_new(success));
    yg_list_append(x->log, entry);
    x->call_index++;
}

static void agent_on_shell(yg_task_t *t, const exec_shell_outcome_t *o)
{
    if (o->success) {
        char *text = yg_value_type(o->output) == YG_STR ? strdup(yg_value_str(o->output))
                                                        : yg_pytext_str(o->output);
        agent_tool_result(t, text ? text : "", true);
        free(text);
    } else {
        char *text = NULL;
        size_t size = strlen(o->error ? o->error : "") + 8;
        if ((text = malloc(size)))
            snprintf(text, size, "Error: %s", o->error ? o->error : "");
        agent_tool_result(t, text ? text : "Error", false);
        free(text);
    }
    agent_run_tools(t);
}

/* A python tool inside an agent (spec 4.11): the text form of the native
 * function's result, or "Error: <message>"; without a registered function
 * the tool needs a process that registers it (spec 4.8 [C]). */
static void agent_run_python(yg_task_t *t, const yg_tool_t *tool, const char *name,
                             const yg_value_t *args)
{
    void *arg = NULL;
    yg_native_fn *fn = yg_native_lookup(tool->module, tool->function, &arg);
    char text[YG_ERROR_MESSAGE_MAX];
    if (!fn) {
        snprintf(text, sizeof text,
                 "Error: Python tool '%s' needs an external worker or host that registers it "
                 "with yg_native_register (not registered in this process; see "
                 "docs/deployment.md)",
                 name);
        agent_tool_result(t, text, false);
        return;
    }
    yg_value_t *empty = yg_value_type(args) == YG_MAP ? NULL : yg_map_new();
    yg_error_t err = {0};
    yg_value_t *out = fn(empty ? empty : args, arg, &err);
    yg_value_destroy(&empty);
    if (!out) {
        snprintf(text, sizeof text, "Error: %.900s",
                 err.message[0] ? err.message : "native function failed");
        agent_tool_result(t, text, false);
        return;
    }
    char *str = yg_value_type(out) == YG_STR ? strdup(yg_value_str(out)) : yg_pytext_str(out);
    yg_value_destroy(&out);
    agent_tool_result(t, str ? str : "", true);
    free(str);
}

/* Execute the pending tool calls in order; shell tools are asynchronous. */
static void agent_run_tools(yg_task_t *t)
{
    agent_exec_t *x = t->exec;
    while (x->call_index < yg_list_size(x->calls)) {
        const yg_value_t *call = yg_list_get(x->calls, x->call_index);
        const char *name = yg_value_str(yg_map_get(call, "name"));
        const yg_value_t *args = yg_map_get(call, "args");
        const yg_tool_t *tool = agent_tool(t, name);
        char text[YG_ERROR_MESSAGE_MAX];
        if (!tool) {
            snprintf(text, sizeof text, "Error: Unknown tool '%s'", name ? name : "");
            agent_tool_result(t, text, false);
        } else if (tool->type == YG_TOOL_PYTHON) {
            agent_run_python(t, tool, name, args);
        } else if (tool->type == YG_TOOL_WEBSEARCH) {
            const char *query = yg_value_str(yg_map_get(args, "query"));
            if (!query || !query[0])
                snprintf(text, sizeof text, "Search error: Search query is empty");
            else
                snprintf(text, sizeof text, "Search error: Unsupported provider: %s",
                         tool->provider ? tool->provider : "duckduckgo");
            agent_tool_result(t, text, false);
        } else {
            yg_value_t *vars = yg_value_type(args) == YG_MAP ? yg_value_copy(args) : yg_map_new();
            char *immediate = NULL;
            int rc = exec_shell_run(t, tool, vars, agent_on_shell, &immediate);
            yg_value_destroy(&vars);
            if (rc) {
                exec_finish_error(t, rc, "MemoryError", "out of memory starting a command");
                return;
            }
            if (!immediate)
                return; /* agent_on_shell continues */
            snprintf(text, sizeof text, "Error: %.900s", immediate);
            free(immediate);
            agent_tool_result(t, text, false);
        }
    }
    if (x->k >= t->node->max_iterations) {
        const yg_value_t *last = yg_list_get(x->msgs, yg_list_size(x->msgs) - 1);
        agent_finish(t, yg_value_str(yg_map_get(last, "content")), true);
        return;
    }
    agent_iterate(t);
}

static void agent_on_reply(yg_task_t *t, const yg_llm_reply_t *reply,
                           const yg_llm_failure_t *failure)
{
    agent_exec_t *x = t->exec;
    if (failure) {
        exec_finish_error(t, failure->code, failure->exception_type, "%s", failure->message);
        return;
    }
    free(x->reply_text);
    x->reply_text = strdup(reply->text ? reply->text : "");
    yg_value_t *msg = exec_message("assistant", x->reply_text);
    size_t ncalls = yg_list_size(reply->tool_calls);
    if (ncalls > 0)
        yg_map_set(msg, "tool_calls", yg_value_copy(reply->tool_calls));
    yg_list_append(x->msgs, msg);
    if (ncalls == 0) {
        agent_finish(t, x->reply_text, false);
        return;
    }
    yg_value_destroy(&x->calls);
    x->calls = yg_value_copy(reply->tool_calls);
    x->call_index = 0;
    agent_run_tools(t);
}

static void agent_iterate(yg_task_t *t)
{
    agent_exec_t *x = t->exec;
    x->k++;
    yg_llm_request_t req = {
        .provider = yg_provider_resolve(NULL), /* agents ignore node/defaults providers */
        .temperature = 0.7,
        .messages = x->msgs,
        .tools = x->tools,
        .prompt_name = t->node->prompt_name ? t->node->prompt_name : "agent",
    };
    if (exec_llm_call(t, &req, agent_on_reply) != YG_OK)
        exec_finish_error(t, YG_ENOMEM, "MemoryError", "out of memory starting a model call");
}

void exec_agent_start(yg_task_t *t)
{
    const yg_node_t *node = t->node;
    const yg_prompt_t *prompt = node->prompt;
    if (!prompt) {
        exec_finish_error(t, YG_ENOTFOUND, "PromptError", "Prompt not found: %s",
                          node->prompt_name ? node->prompt_name : "agent");
        return;
    }
    agent_exec_t *x = calloc(1, sizeof *x);
    if (!x) {
        exec_finish_error(t, YG_ENOMEM, "MemoryError", "out of memory");
        return;
    }
    t->exec = x;
    t->exec_free = agent_exec_free;
    x->log = yg_list_new();
    x->tools = agent_tool_list(t);
    char *user = yg_tmpl_substitute_words(prompt->user_src ? prompt->user_src : "{input}",
                                          t->state);
    const yg_value_t *history = yg_map_get(t->state, "messages");
    if (yg_value_type(history) == YG_LIST && yg_list_size(history) > 0) {
        x->msgs = yg_value_copy(history);
    } else {
        x->msgs = yg_list_new();
        yg_list_append(x->msgs, exec_message("system", prompt->system_src ? prompt->system_src
                                                                          : ""));
    }
    if (!user || !x->msgs || !x->log) {
        free(user);
        exec_finish_error(t, YG_ENOMEM, "MemoryError", "out of memory");
        return;
    }
    yg_list_append(x->msgs, exec_message("user", user));
    free(user);
    if (node->max_iterations <= 0) {
        agent_finish(t, NULL, true);
        return;
    }
    agent_iterate(t);
}
