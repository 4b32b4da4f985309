/*  lot_actor - what every actor of the server shares

    Actors are czmq actors that take the settings as their argument. Each
    answers "START" on its pipe by opening its sockets and signalling 0,
    or -1 when it cannot (a port in use, a file it cannot open), so the
    program that starts it can report the failure and exit.
*/
#ifndef LOT_ACTOR_H_INCLUDED
#define LOT_ACTOR_H_INCLUDED

#include "lot_settings.h"

#include <czmq.h>

//  Starts an actor and waits for its START answer. Returns NULL when the
//  actor could not start (it has logged why).
zactor_t *lot_actor_start (zactor_fn *actor, const lot_settings_t *settings);

//  An actor's own pipe commands: answers one and returns 0, or returns -1
//  for a command it does not know.
typedef int (lot_actor_command_fn) (void *self, const char *command);

//  Answers one command on an actor's pipe: "START" runs start (0 or -1)
//  and signals the status back; "$TERM", or a broken pipe, returns true:
//  the actor is to stop. Any other command goes to command (may be NULL);
//  those it does not know are logged and ignored.
bool lot_actor_handle_pipe (zsock_t *pipe, const char *actor,
                            int (*start) (void *self),
                            lot_actor_command_fn *command, void *self);

#endif
