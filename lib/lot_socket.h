/*  lot_socket - the sockets of the actors, opened and closed alike

    Every actor socket gets the same options (the settings' queue limit as
    high-water marks, the listen backlog, TCP keepalive) and the same log
    lines, so a new socket is one call.
*/
#ifndef LOT_SOCKET_H_INCLUDED
#define LOT_SOCKET_H_INCLUDED

#include "lot_settings.h"

#include <czmq.h>

//  Opens a socket of the given type on an endpoint. Binds when bind is
//  true (a tcp endpoint on every interface), else connects. Logs a fail
//  line naming the actor and the socket and returns NULL when it cannot.
zsock_t *lot_socket_new (int type, const char *endpoint, bool bind,
                         const lot_settings_t *settings,
                         const char *actor, const char *name);

//  Closes a socket and logs it.
void lot_socket_destroy (zsock_t **self_p, const char *actor, const char *name);

#endif
