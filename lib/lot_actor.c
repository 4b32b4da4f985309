/*  lot_actor - what every actor of the server shares  */
#include "lot_actor.h"
#include "lot_log.h"

#include <sys/prctl.h>

static const lot_metric_family_t s_messages = {
    .name = "lottery_actor_messages_total", .type = LOT_METRIC_COUNTER,
    .help = "Messages an actor took from other actors (direction in) or handed to"
            " them (out)."
};

lot_metric_t *
lot_actor_messages (const lot_settings_t *settings, const char *actor, const char *direction)
{
    return lot_metrics_series (settings->metrics, &s_messages, "actor", actor,
                               "direction", direction, NULL);
}

zactor_t *
lot_actor_start (zactor_fn *actor, const lot_settings_t *settings)
{
    zactor_t *self = zactor_new (actor, (void *) settings);
    if (!self)
        return NULL;
    zstr_send (self, "START");
    if (zsock_wait (self) != 0)
        zactor_destroy (&self);
    return self;
}

void *
lot_actor_new (size_t size, const char *name, zsock_t *pipe,
               const lot_settings_t *settings)
{
    assert (size >= sizeof (lot_actor_t));
    lot_actor_t *self = calloc (1, size);
    if (!self)
        return NULL;
    self->name = name;
    self->pipe = pipe;
    self->settings = settings;
    self->received = lot_actor_messages (settings, name, "in");
    self->sent = lot_actor_messages (settings, name, "out");
    self->poller = zpoller_new (pipe, NULL);
    if (!self->poller) {
        free (self);
        return NULL;
    }
    zpoller_set_nonstop (self->poller, true);
    self->sockets = lot_sockets_new (name, settings);
    return self;
}

void
lot_actor_close (lot_actor_t *self)
{
    lot_sockets_destroy (&self->sockets);
    zpoller_destroy (&self->poller);
}

static int
s_cannot_start (void *self)
{
    (void) self;
    return -1;
}

//  zactor_new takes any signal for the thread's start: only START can
//  tell the starter that the actor cannot run.
void
lot_actor_signal (zsock_t *pipe, const char *name, bool built)
{
    zsock_signal (pipe, 0);
    while (!built && !lot_actor_handle_pipe (pipe, name, s_cannot_start, NULL, NULL))
        ;
}

void *
lot_actor_wait (lot_actor_t *self, int64_t deadline)
{
    int timeout = -1;
    if (deadline >= 0) {
        int64_t left = deadline - zclock_mono ();
        timeout = left > 0 ? (int) left : 0;
    }
    return zpoller_wait (self->poller, timeout);
}

bool
lot_actor_handle_pipe (zsock_t *pipe, const char *actor,
                       int (*start) (void *self), lot_actor_command_fn *own,
                       void *self)
{
    char *command = zstr_recv (pipe);
    bool stop = !command || streq (command, "$TERM");
    if (command && streq (command, "START")) {
        //  Named threads, so top, perf and gdb tell the actors apart
        prctl (PR_SET_NAME, actor);
        zsock_signal (pipe, start (self) == 0 ? 0 : 1);
    }
    else
    if (!stop && !(own && own (self, command) == 0))
        lot_log_error ("action: pipe_command | result: fail | actor: %s"
                       " | command: %s", actor, command);
    zstr_free (&command);
    return stop;
}

void
lot_actor_serve_pipe (lot_actor_t *self, int (*start) (void *self),
                      lot_actor_command_fn *command)
{
    self->terminated = lot_actor_handle_pipe (self->pipe, self->name, start, command,
                                              self);
}
