/*  lot_broker - the hub between the front-ends and the actors

    The one stable address every front-end connects to. Its ROUTER takes
    each front-end's DEALER: a WORK batch comes in with the routing
    identity of the front-end that sent it, and goes on to the handlers
    (PUSH, round-robin) with that identity as its route (lot_msg.h). The
    handlers and the persister PUSH their RESULT batches back, still
    routed, and the broker sends each to the front-end its route names.
    It reads no item and holds nothing of its own: it moves each message
    whole, without a copy, as zmq_proxy does, and while the handlers'
    queues are full it stops reading the front-ends. So it may restart
    at any time (what was queued in its sockets is sent again by the
    front-ends).

    Front-ends and handlers come and go without anyone reconfiguring: they
    connect here. A RESULT for a front-end that is gone is dropped (its
    agencies lost their connections with it).
*/
#ifndef LOT_BROKER_H_INCLUDED
#define LOT_BROKER_H_INCLUDED

#include <czmq.h>

//  The actor; args is the const lot_settings_t *.
void lot_broker_actor (zsock_t *pipe, void *args);

#endif
