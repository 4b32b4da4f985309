/*  lot_frontend - the TCP front-end: agency connections in, answers out

    The only part that sees agency bytes. Its plain TCP port (lot_port,
    served in the actor's own thread) takes every agency connection; each
    gets a buffer where the v1 protocol is reassembled. A complete chunk becomes a
    WORK item, sent in a batch on a DEALER to the broker (lot_broker), which
    hands it to the handlers; its RESULT, from a handler or the persister,
    comes back the same way and is written to the connection as 'O' or 'E',
    in the order the chunks came. Any number of front-ends may connect to
    one broker, each with agency connections of its own. A v1
    connection has one chunk in flight at a time (stop-and-wait), a v2
    connection up to MAX_IN_FLIGHT (lot_conn keeps them), so a connection
    never holds more than two chunks' worth of bytes, or MAX_IN_FLIGHT + 1
    in v2. Winners queries are held until WINNERS arrives from the
    coordinator's PUB.

    The actor frames each connection's bytes into requests and runs the
    poll loop; the classes beside it in frontend/ do the rest:
    lot_port (the plain TCP port: accepting, reading, writing),
    lot_conn (a connection's bytes and items), lot_conns (the table of
    connections: by key and by agency, idle and stalled ones, making
    room), lot_pipeline (WORK batches, backlog, items in flight, RESULTs,
    resends), lot_desk (winners queries held and the answers) and
    lot_responder (writing answers, ending connections).
*/
#ifndef LOT_FRONTEND_H_INCLUDED
#define LOT_FRONTEND_H_INCLUDED

#include <czmq.h>

//  The actor; args is the const lot_settings_t *.
void lot_frontend_actor (zsock_t *pipe, void *args);

#endif
