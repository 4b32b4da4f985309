/*  lot_secure - the CURVE link to the server's secure port: a DEALER that proves the agency's key  */
#include "lot_secure.h"
#include "lot_curve.h"

#include <czmq.h>
#include <string.h>

struct _lot_secure_t {
    zcert_t *cert;                  //  The agency's own
    zcert_t *server;                //  The key the server must prove
    zsock_t *dealer;                //  The link, or NULL
    zsock_t *monitor;               //  PAIR: the dealer's events
    lot_secure_state_t state;
    char reason [256];
};

lot_secure_t *
lot_secure_new (const char *cert, const char *server, char **error)
{
    lot_secure_t *self = calloc (1, sizeof *self);
    assert (self);
    self->cert = lot_curve_load_secret (cert, error);
    self->server = self->cert ? lot_curve_read (server, error) : NULL;
    if (!self->server) {
        lot_secure_destroy (&self);
        return NULL;
    }
    return self;
}

void
lot_secure_destroy (lot_secure_t **self_p)
{
    if (*self_p) {
        lot_secure_t *self = *self_p;
        lot_secure_close (self);
        zcert_destroy (&self->cert);
        zcert_destroy (&self->server);
        free (self);
        *self_p = NULL;
    }
}

static int
s_down (lot_secure_t *self, const char *reason)
{
    self->state = LOT_SECURE_DOWN;
    snprintf (self->reason, sizeof self->reason, "%s", reason);
    return -1;
}

int
lot_secure_open (lot_secure_t *self, const char *address)
{
    lot_secure_close (self);
    self->state = LOT_SECURE_WAITING;
    self->dealer = zsock_new (ZMQ_DEALER);
    if (!self->dealer)
        return s_down (self, "cannot open a ZeroMQ socket");
    zcert_apply (self->cert, self->dealer);
    zsock_set_curve_serverkey_bin (self->dealer, zcert_public_key (self->server));
    zsock_set_linger (self->dealer, 0);
    //  Nothing queued for a connection that is not up: a drop loses
    //  nothing the link does not know it sent
    zsock_set_immediate (self->dealer, 1);
    char endpoint [64];
    //  A closed socket's monitor leaves its endpoint a while later: a
    //  new name for each
    static unsigned opened;
    snprintf (endpoint, sizeof endpoint, "inproc://lot-secure-%p-%u", (void *) self, ++opened);
    if (zmq_socket_monitor (zsock_resolve (self->dealer), endpoint,
                            ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
                            | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                            | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_DISCONNECTED
                            | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_CLOSED)
    ||  !(self->monitor = zsock_new_pair (NULL))
    ||  zsock_connect (self->monitor, "%s", endpoint)) {
        lot_secure_close (self);
        return s_down (self, "cannot watch the ZeroMQ socket");
    }
    if (zsock_connect (self->dealer, "tcp://%s", address)) {
        lot_secure_close (self);
        char reason [200];
        snprintf (reason, sizeof reason, "cannot connect to tcp://%s: %s", address,
                  zmq_strerror (zmq_errno ()));
        return s_down (self, reason);
    }
    return 0;
}

void
lot_secure_close (lot_secure_t *self)
{
    if (self->dealer && lot_secure_state (self) == LOT_SECURE_UP) {
        //  The server hears nothing when a peer of its ROUTER leaves: an
        //  empty frame says so, as the end of a TCP stream would. It has
        //  a second to go out, in the background
        zsock_set_linger (self->dealer, 1000);
        zmq_send (zsock_resolve (self->dealer), "", 0, ZMQ_DONTWAIT);
    }
    if (self->dealer)
        zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
}

//  What a failed handshake or a lost connection means to the agency.
static void
s_event (lot_secure_t *self, uint16_t event, uint32_t value)
{
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && self->state == LOT_SECURE_WAITING)
        self->state = LOT_SECURE_UP;
    else
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        s_down (self, value == 400 ? "the server refused this agency's key (not enrolled,"
                                     " or revoked)" : "the server refused this agency's key");
    else
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
    ||  event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        s_down (self, "the CURVE handshake failed: the server did not prove the key"
                      " auth.server pins, or speaks no CURVE");
    else
    if (event == ZMQ_EVENT_CONNECT_RETRIED)
        s_down (self, "connection refused");
    else
    if (event == ZMQ_EVENT_DISCONNECTED || event == ZMQ_EVENT_CLOSED)
        s_down (self, "the server closed the connection");
}

lot_secure_state_t
lot_secure_state (lot_secure_t *self)
{
    while (self->monitor && self->state != LOT_SECURE_DOWN
       &&  (zsock_events (self->monitor) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (self->monitor);
        zframe_t *head = msg ? zmsg_first (msg) : NULL;
        if (head && zframe_size (head) == 6) {
            uint16_t event;
            uint32_t value;
            memcpy (&event, zframe_data (head), 2);
            memcpy (&value, zframe_data (head) + 2, 4);
            s_event (self, event, value);
        }
        zmsg_destroy (&msg);
    }
    return self->state;
}

const char *
lot_secure_reason (lot_secure_t *self)
{
    return self->reason;
}

void
lot_secure_fds (lot_secure_t *self, int fds [2])
{
    fds [0] = self->dealer ? zsock_fd (self->dealer) : -1;
    fds [1] = self->monitor ? zsock_fd (self->monitor) : -1;
}

int
lot_secure_send (lot_secure_t *self, const void *data, size_t size)
{
    if (lot_secure_state (self) == LOT_SECURE_DOWN)
        return -1;
    if (zmq_send (zsock_resolve (self->dealer), data, size, ZMQ_DONTWAIT) == (int) size)
        return 0;
    if (zmq_errno () == EAGAIN)
        return 1;
    return s_down (self, zmq_strerror (zmq_errno ()));
}

int
lot_secure_recv (lot_secure_t *self, lot_inbox_t *inbox)
{
    int got = 0;
    while (self->dealer && (zsock_events (self->dealer) & ZMQ_POLLIN)) {
        zframe_t *frame = zframe_recv (self->dealer);
        size_t size = frame ? zframe_size (frame) : 0;
        const uint8_t *next = frame ? zframe_data (frame) : NULL;
        if (size == 0) {
            //  What came before the close is read first
            zframe_destroy (&frame);
            s_down (self, "the server closed the connection");
            return got ? 1 : -1;
        }
        while (size > 0) {
            size_t room;
            uint8_t *at = lot_inbox_room (inbox, &room);
            if (!at) {
                zframe_destroy (&frame);
                return s_down (self, "an answer too large for the inbox");
            }
            room = room < size ? room : size;
            memcpy (at, next, room);
            lot_inbox_received (inbox, room);
            next += room;
            size -= room;
        }
        zframe_destroy (&frame);
        got = 1;
    }
    if (!got && lot_secure_state (self) == LOT_SECURE_DOWN)
        return -1;
    return got;
}
