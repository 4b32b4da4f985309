/*  lot_wait - how long a link waits for the server, and why its last step failed  */
#include "lot_wait.h"
#include "lot_signals.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct _lot_wait_t {
    long server_timeout;            //  Of each read or write, in ms
    long long deadline;             //  zclock_mono () limit of every wait, or -1
    long deadline_ms;               //  The limit as it was set, for the reason
    //  Why the last step failed
    char reason [LOT_WAIT_REASON_MAX];
    bool dropped;                   //  The connection went (EOF, reset...)
    bool timed_out;                 //  The deadline passed
};

lot_wait_t *
lot_wait_new (long server_timeout)
{
    lot_wait_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->server_timeout = server_timeout;
    self->deadline = -1;
    return self;
}

void
lot_wait_destroy (lot_wait_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

void
lot_wait_set_deadline (lot_wait_t *self, long ms)
{
    self->deadline = ms < 0 ? -1 : zclock_mono () + ms;
    self->deadline_ms = ms;
    if (ms >= 0)
        self->timed_out = false;
}

long
lot_wait_patience (lot_wait_t *self)
{
    return self->deadline >= 0 ? -1 : self->server_timeout;
}

int
lot_wait_poll (lot_wait_t *self, struct pollfd *items, nfds_t count, long timeout_ms)
{
    long long deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    bool cut = self->deadline >= 0 && (deadline < 0 || self->deadline <= deadline);
    if (cut)
        deadline = self->deadline;
    //  The signals get in here only
    while (!lot_signals_caught ()) {
        struct timespec left, *limit = NULL;
        if (deadline >= 0) {
            long long ms = deadline - zclock_mono ();
            ms = ms < 0 ? 0 : ms;
            left = (struct timespec) { .tv_sec = ms / 1000,
                                       .tv_nsec = ms % 1000 * 1000000 };
            limit = &left;
        }
        int rc = ppoll (items, count, limit, lot_signals_wait_mask ());
        if (rc > 0)
            return 1;
        if (rc == 0 && !cut)
            return 0;
        if (rc == 0) {
            self->timed_out = true;
            return lot_wait_fail (self, "no answer within %ldms", self->deadline_ms);
        }
        if (errno != EINTR)
            return lot_wait_fail (self, "poll: %s", strerror (errno));
    }
    return lot_wait_fail (self, "stopped by a signal");
}

int
lot_wait_fd (lot_wait_t *self, int fd, short events, long timeout_ms)
{
    struct pollfd item = { .fd = fd, .events = events };
    return lot_wait_poll (self, fd >= 0 ? &item : NULL, fd >= 0, timeout_ms);
}

int
lot_wait_until (lot_wait_t *self, struct pollfd *items, nfds_t count, long long until)
{
    long long left = until - zclock_mono ();
    return lot_wait_poll (self, items, count, until < 0 ? -1 : left > 0 ? (long) left : 0);
}

int
lot_wait_pause (lot_wait_t *self, long ms)
{
    return lot_wait_fd (self, -1, 0, ms) < 0 ? -1 : 0;
}

bool
lot_wait_stopped (lot_wait_t *self)
{
    return lot_signals_caught () || self->timed_out;
}

int
lot_wait_fail (lot_wait_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->reason, sizeof self->reason, format, args);
    va_end (args);
    return -1;
}

int
lot_wait_drop (lot_wait_t *self, const char *reason)
{
    self->dropped = true;
    return lot_wait_fail (self, "%s", reason);
}

int
lot_wait_silent (lot_wait_t *self, long patience)
{
    self->dropped = true;
    return lot_wait_fail (self, "no answer from the server within %ldms", patience);
}

const char *
lot_wait_reason (lot_wait_t *self)
{
    return self->reason;
}

bool
lot_wait_dropped (lot_wait_t *self)
{
    return self->dropped;
}

void
lot_wait_clear_dropped (lot_wait_t *self)
{
    self->dropped = false;
}
