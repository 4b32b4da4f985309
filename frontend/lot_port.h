/*  lot_port - the agencies' plain TCP port, served in the front-end's own thread

    The front-end accepts, reads and writes its agencies' connections
    itself, through one epoll set that its poller watches as a file
    descriptor. libzmq's STREAM socket did this work in its I/O thread
    and handed every read and every write across threads, one wake-up of
    each thread per arrival (docs/benchmarks.md, issue 21).

    Events come as STREAM's did: a connection opened, bytes, a connection
    gone. A connection is known by an id that is never used again, so an
    answer for one that has gone finds no one. A write never blocks: what
    the kernel does not take waits in the connection's outbox and goes as
    the peer reads, and a write when 64 KiB wait already is refused
    (the peer does not read). A connection closed from our side sends
    what it holds first (for SEND_TIMEOUT at most), and is not reported.
*/
#ifndef LOT_PORT_H_INCLUDED
#define LOT_PORT_H_INCLUDED

#include "lot_settings.h"
#include "lot_sockets.h"

#include <stddef.h>
#include <stdint.h>

typedef struct _lot_port_t lot_port_t;

typedef enum {
    LOT_PORT_NONE,              //  Nothing more for now
    LOT_PORT_OPENED,            //  A new connection: id and peer
    LOT_PORT_DATA,              //  Bytes from a connection: id, data and size
    LOT_PORT_CLOSED             //  The peer left: id
} lot_port_kind_t;

typedef struct {
    lot_port_kind_t kind;
    uint64_t id;
    const uint8_t *data;        //  Valid until the next call
    size_t size;
    const char *peer;           //  Its address, as libzmq's Peer-Address
} lot_port_event_t;

//  Listens on every interface at SERVER_PORT (0: a port the system
//  picks) with SERVER_LISTEN_BACKLOG. Its bind and its connections'
//  comings and goings (LISTENING, ACCEPTED, DISCONNECTED) are logged and
//  counted through sockets, the actor's, as name. Returns NULL, logged,
//  when it cannot listen.
lot_port_t *lot_port_new (const lot_settings_t *settings, lot_sockets_t *sockets,
                          const char *name);

void lot_port_destroy (lot_port_t **self_p);

//  What a zpoller watches: readable when an event may be waiting.
int *lot_port_handle (lot_port_t *self);

//  The port as bound.
int lot_port_number (lot_port_t *self);

//  The next event. Returns its kind, LOT_PORT_NONE when nothing waits.
lot_port_kind_t lot_port_next (lot_port_t *self, lot_port_event_t *event);

//  Writes bytes to a connection, or queues what the kernel does not take.
//  Returns 0; EHOSTUNREACH when the connection is gone (it is forgotten),
//  or EAGAIN when its outbox is full (its peer does not read).
int lot_port_send (lot_port_t *self, uint64_t id, const void *data, size_t size);

//  Closes a connection once its outbox has gone.
void lot_port_close (lot_port_t *self, uint64_t id);

//  Closes the connections whose outbox has waited SEND_TIMEOUT since
//  they were closed, and accepts again after a pause for descriptors.
//  Returns the milliseconds until the next is due, or -1 when none is.
int64_t lot_port_expire (lot_port_t *self);

#endif
