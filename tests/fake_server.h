/*
 * fake_server.h - start and stop bench/fake_llm_server as a child process
 * on an ephemeral loopback port, and point providers at it (header-only,
 * shared by the provider and runtime LLM tests).
 */
#ifndef YG_TEST_FAKE_SERVER_H
#define YG_TEST_FAKE_SERVER_H

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAKE_SERVER YG_BINARY_DIR "/fake_llm_server"
#define FIXED_REPLY "This is a fixed reply from the fake LLM."
#define TEST_KEY "sk-test-SECRET-123"

static pid_t g_server = -1;
static int g_port;


/* --- the fake server as a child process ---------------------------------- */

static inline void server_start(void)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    g_server = fork();
    ck_assert_int_ge(g_server, 0);
    if (g_server == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);  /* never outlive us, even on abort */
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(FAKE_SERVER, "fake_llm_server", "--port", "0", (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", FAKE_SERVER, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    char line[32] = "";
    ssize_t n = 0;
    if (poll(&pfd, 1, 5000) == 1)
        n = read(fds[0], line, sizeof line - 1);
    close(fds[0]);
    line[n > 0 ? n : 0] = '\0';
    g_port = atoi(line);
    if (g_port <= 0) {
        fprintf(stderr, "fake LLM server did not start (%s); build the fake_llm_server target\n",
                FAKE_SERVER);
        exit(1);
    }
}

static inline void server_stop(void)
{
    if (g_server > 0) {
        kill(g_server, SIGTERM);
        waitpid(g_server, NULL, 0);
        g_server = -1;
    }
}

/* Point a provider at the fake server, with the given query string. */
static inline void point(const char *env, const char *path, const char *query)
{
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s%s%s", g_port, path, query ? "?" : "",
             query ? query : "");
    setenv(env, url, 1);
}

#endif
