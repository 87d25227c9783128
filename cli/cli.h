/*
 * cli.h - the yamlgraph command-line front end (internal to cli/).
 *
 * main.c holds the command table: name, one-line summary, usage text and
 * handler.  Adding a command is adding one table entry and one cmd_*.c file
 * with its handler.  A handler gets argv with argv[0] = the command name and
 * returns the process exit code (CLI_EXIT_*).
 */
#ifndef YG_CLI_H
#define YG_CLI_H

#include <signal.h>
#include <stdbool.h>

#include "yamlgraph/yg_error.h"

#define CLI_EXIT_OK 0      /* success */
#define CLI_EXIT_FAIL 1    /* the command ran and found a problem (invalid graph, lint error) */
#define CLI_EXIT_USAGE 2   /* bad command line */

typedef int (*cli_handler_t)(int argc, char **argv);

typedef struct cli_command {
    const char *name;
    const char *summary;     /* one line, shown by `yamlgraph --help` */
    const char *usage;       /* full help, shown by `yamlgraph NAME --help` */
    cli_handler_t handler;
    bool graph_group;        /* also reachable as `yamlgraph graph NAME` (the original's spelling) */
} cli_command_t;

/* Handlers (one cmd_*.c file each). */
int cli_cmd_validate(int argc, char **argv);
int cli_cmd_lint(int argc, char **argv);
int cli_cmd_mermaid(int argc, char **argv);
int cli_cmd_run(int argc, char **argv);     /* cmd_run.c */
int cli_cmd_resume(int argc, char **argv);  /* cmd_run.c */
int cli_cmd_state(int argc, char **argv);   /* cmd_state.c */
int cli_cmd_history(int argc, char **argv); /* cmd_state.c */
int cli_cmd_serve(int argc, char **argv);   /* cmd_serve.c */
int cli_cmd_worker(int argc, char **argv);  /* cmd_worker.c */
int cli_cmd_prompt(int argc, char **argv);  /* cmd_prompt.c */

/* Print the usage text of command `name` on stdout. */
void cli_print_usage(const char *name);

/* Print "yamlgraph NAME: <message> (see 'yamlgraph NAME --help')" on stderr
 * and return CLI_EXIT_USAGE. */
int cli_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print an error as one line "file:line:column: message" on stderr; when
 * err has no file, `path` (may be NULL) is used as the prefix. */
void cli_print_error(const yg_error_t *err, const char *path);
/* Load a graph with yg_graph_load; on failure print its one-line error
 * (file:line:column) to stderr and return NULL. */
struct yg_graph *cli_load_graph(const char *path);

/* True for "-h" and "--help". */
bool cli_is_help(const char *arg);

/* --- long-running commands: serve, worker (cli_daemon.c) --- */

/* Parse text as a decimal number in lo..hi into *out: 0, or -1 when it is
 * not one (nothing else may follow the digits). */
int cli_parse_long(const char *text, long lo, long hi, long *out);

/* Turn CZMQ's signal handlers off and block SIGINT/SIGTERM with a handler
 * that records the signal; call before any thread starts (threads inherit
 * the mask).  *old receives the prior mask (for sigsuspend and release);
 * wait_set, when not NULL, the blocked set (for sigtimedwait). */
void cli_signals_capture(sigset_t *old, sigset_t *wait_set);

/* The signal the handler recorded (SIGINT or SIGTERM), or 0. */
int cli_signal_received(void);

/* Restore the default actions and the mask *old: from here on a signal
 * ends the process. */
void cli_signals_release(const sigset_t *old);

#endif
