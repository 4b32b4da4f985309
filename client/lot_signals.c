/*  lot_signals - the client's SIGTERM and SIGINT: a flag its waits see  */
#include "lot_signals.h"

#include <czmq.h>
#include <stdbool.h>

static volatile sig_atomic_t s_signal;
static sigset_t s_wait_mask;        //  The mask while waiting: signals let in
static bool s_caught;

static void
s_on_signal (int signal)
{
    s_signal = signal;
}

void
lot_signals_catch (void)
{
    //  czmq would install its own handlers when the CURVE link opens its
    //  first socket (lot_secure), in place of these
    zsys_handler_set (NULL);
    //  No SA_RESTART: a wait returns EINTR and sees the flag
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    //  Blocked except inside ppoll: a signal that comes between a check
    //  of the flag and a wait is delivered when the wait starts.
    sigset_t blocked;
    sigemptyset (&blocked);
    sigaddset (&blocked, SIGTERM);
    sigaddset (&blocked, SIGINT);
    sigprocmask (SIG_BLOCK, &blocked, &s_wait_mask);
    sigdelset (&s_wait_mask, SIGTERM);
    sigdelset (&s_wait_mask, SIGINT);
    s_caught = true;
}

int
lot_signals_caught (void)
{
    return s_signal;
}

const sigset_t *
lot_signals_wait_mask (void)
{
    return s_caught ? &s_wait_mask : NULL;
}
