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

//  Opens a socket of the given type on an endpoint, with the settings'
//  queue limit as its high-water marks, the listen backlog and TCP
//  keepalive. Binds when bind is true (a tcp
//  endpoint on every interface), else connects. Logs a fail line naming
//  the actor and the socket and returns NULL when it cannot.
zsock_t *lot_socket_new (int type, const char *endpoint, bool bind,
                         const lot_settings_t *settings,
                         const char *actor, const char *name);

//  Closes a socket and logs it.
void lot_socket_destroy (zsock_t **self_p, const char *actor, const char *name);

#endif
