/*
 * cli_daemon.c - what the long-running commands (`yamlgraph serve`,
 * `yamlgraph worker`) share: bounded number options and the handling of
 * SIGINT/SIGTERM.
 *
 * Signals: CZMQ's handlers are off; SIGINT/SIGTERM are blocked before any
 * thread starts (threads inherit the mask), so the main thread alone waits
 * for them (sigsuspend or sigtimedwait) whichever thread the kernel picks.
 * A handler records the signal for sigsuspend; once released, a signal
 * has its default action again (ends the process).
 */
#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static volatile sig_atomic_t s_received;

static void on_signal(int sig)
{
    s_received = sig;
}

int cli_parse_long(const char *text, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || !end || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

void cli_signals_capture(sigset_t *old, sigset_t *wait_set)
{
    zsys_handler_set(NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    if (wait_set)
        *wait_set = block;
    pthread_sigmask(SIG_BLOCK, &block, old);
}

int cli_signal_received(void)
{
    return s_received;
}

void cli_signals_release(const sigset_t *old)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    pthread_sigmask(SIG_SETMASK, old, NULL);
}
