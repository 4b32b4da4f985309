/*  lot_actor - what every actor of the server shares  */
#include "lot_actor.h"
#include "lot_log.h"

#include <sys/prctl.h>

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
