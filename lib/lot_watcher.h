/*  lot_watcher - the zmonitors of one actor's sockets, read in a thread of their own

    Every tcp:// or ipc:// socket an actor opens through lot_sockets is
    watched by a czmq zmonitor, started before it binds or connects so no
    event is missed. The watcher owns those monitors in a thread of its
    own and logs and counts each event as it comes (lot_sockets.h shows
    the lines), so the actor's poll loop holds none of them: every socket
    in a poll costs libzmq two system calls each time it polls, and a
    monitor's events are rare. An actor that is busy (a persister in its
    sync) no longer delays its events' lines, and no unread monitor stalls
    libzmq's I/O thread.
*/
#ifndef LOT_WATCHER_H_INCLUDED
#define LOT_WATCHER_H_INCLUDED

#include "lot_settings.h"

#include <czmq.h>

typedef struct _lot_watcher_t lot_watcher_t;

//  What a watched socket is, for its events' lines
typedef struct {
    const char *name;           //  The socket's name in the lines
    bool bound;                 //  Else connected
    bool curve;                 //  Secured with CURVE
    bool agencies;              //  The agencies' CURVE socket
} lot_watched_t;

//  A watcher for the actor's sockets; its thread starts with the first
//  socket it watches. NULL when it cannot be had.
lot_watcher_t *lot_watcher_new (const char *actor, const lot_settings_t *settings);

//  Stops every monitor, then the thread: before the sockets close, as a
//  monitor still speaks to its socket.
void lot_watcher_destroy (lot_watcher_t **self_p);

//  Starts a monitor on sock, before it binds or connects. The caller
//  must not use sock until this returns. 0, or -1 when the monitor could
//  not start (the socket is then not watched).
int lot_watcher_add (lot_watcher_t *self, zsock_t *sock, const lot_watched_t *watched);

//  Logs and counts an event of a socket that is not libzmq's (the
//  front-end's plain port, which reports its own), as a monitor's would be.
void lot_watcher_report (const char *actor, const lot_settings_t *settings,
                         const char *name, const char *event, long value,
                         const char *endpoint);

#endif
