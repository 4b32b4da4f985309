/*  lot_secure - the link's CURVE connection to the server's secure port: a DEALER that proves the agency's key  */
#include "lot_secure.h"
#include "lot_curve.h"

#include <czmq.h>
#include <string.h>

//  Bytes held for one message, at most: a window of chunks goes as one
#define S_OUT_MAX (64 * 1024)

typedef enum {
    S_WAITING,                      //  Connecting, or in the handshake
    S_UP,                           //  Handshake done: the server proved its key
    S_DOWN                          //  Refused, failed or gone: see the reason
} s_state_t;

struct _lot_secure_t {
    const lot_client_config_t *config;
    lot_wait_t *wait;               //  The link's: limits and reasons
    zcert_t *cert;                  //  The agency's own
    zcert_t *server;                //  The key the server must prove
    zsock_t *dealer;                //  The link, or NULL
    zsock_t *monitor;               //  PAIR: the dealer's events
    s_state_t state;
    char reason [256];
    uint8_t *out;                   //  Sent, not flushed yet: S_OUT_MAX
    size_t out_size;
    bool opened;                    //  A socket opened since the last close
};

static void s_close (lot_secure_t *self);
static s_state_t s_state (lot_secure_t *self);
static int s_flush (lot_secure_t *self);

lot_secure_t *
lot_secure_new (const lot_client_config_t *config, lot_wait_t *wait, char **error)
{
    assert (config && config->auth_cert && wait);
    lot_secure_t *self = calloc (1, sizeof *self);
    assert (self);
    self->config = config;
    self->wait = wait;
    self->out = malloc (S_OUT_MAX);
    assert (self->out);
    self->cert = lot_curve_load_secret (config->auth_cert, error);
    self->server = self->cert ? lot_curve_read (config->auth_server, error) : NULL;
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
        s_close (self);
        zcert_destroy (&self->cert);
        zcert_destroy (&self->server);
        free (self->out);
        free (self);
        *self_p = NULL;
    }
}

static int
s_down (lot_secure_t *self, const char *reason)
{
    self->state = S_DOWN;
    snprintf (self->reason, sizeof self->reason, "%s", reason);
    return -1;
}

//  Opens a new socket and connects it to host:port.
static int
s_open (lot_secure_t *self, const char *address)
{
    s_close (self);
    self->state = S_WAITING;
    self->out_size = 0;
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
        s_close (self);
        return s_down (self, "cannot watch the ZeroMQ socket");
    }
    if (zsock_connect (self->dealer, "tcp://%s", address)) {
        s_close (self);
        char reason [200];
        snprintf (reason, sizeof reason, "cannot connect to tcp://%s: %s", address,
                  zmq_strerror (zmq_errno ()));
        return s_down (self, reason);
    }
    return 0;
}

static void
s_close (lot_secure_t *self)
{
    if (self->dealer && s_state (self) == S_UP) {
        //  What is held, then an empty frame: the server hears nothing
        //  when a peer of its ROUTER leaves, and this says so, as the end
        //  of a TCP stream would. They have a second to go out, in the
        //  background
        zsock_set_linger (self->dealer, 1000);
        s_flush (self);
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
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && self->state == S_WAITING)
        self->state = S_UP;
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

//  The link's state, after the monitor's events so far.
static s_state_t
s_state (lot_secure_t *self)
{
    while (self->monitor && self->state != S_DOWN
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

//  Takes data: 0 when taken, 1 when a flush could not go yet (nothing
//  taken), -1 when the link is down.
static int
s_send (lot_secure_t *self, const void *data, size_t size)
{
    if (s_state (self) == S_DOWN)
        return -1;
    if (self->out_size + size > S_OUT_MAX) {
        int rc = s_flush (self);
        if (rc)
            return rc;
    }
    if (size > S_OUT_MAX) {
        //  Larger than the buffer: a message of its own
        if (zmq_send (zsock_resolve (self->dealer), data, size, ZMQ_DONTWAIT) == (int) size)
            return 0;
        return zmq_errno () == EAGAIN ? 1 : s_down (self, zmq_strerror (zmq_errno ()));
    }
    memcpy (self->out + self->out_size, data, size);
    self->out_size += size;
    return 0;
}

//  Sends what is held: 0 when sent (or nothing was), 1 when it cannot go
//  yet, -1 when the link is down.
static int
s_flush (lot_secure_t *self)
{
    if (s_state (self) == S_DOWN)
        return -1;
    if (self->out_size == 0)
        return 0;
    if (zmq_send (zsock_resolve (self->dealer), self->out, self->out_size, ZMQ_DONTWAIT)
        == (int) self->out_size) {
        self->out_size = 0;
        return 0;
    }
    return zmq_errno () == EAGAIN ? 1 : s_down (self, zmq_strerror (zmq_errno ()));
}

//  Takes the messages received into the inbox: 1 when some came, 0 when
//  none yet, -1 when the server closed the link (an empty frame) or the
//  inbox is full.
static int
s_recv (lot_secure_t *self, lot_inbox_t *inbox)
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
    if (!got && s_state (self) == S_DOWN)
        return -1;
    return got;
}

//  ---------------------------------------------------------------------
//  Waits: on the socket's and its monitor's descriptors (libzmq's ZMQ_FD)

//  Waits until the link may have something to say (the descriptors
//  signal a change, not a level: the caller asks the link again), or
//  until, a zclock_mono time, passed (< 0: no limit but the deadline).
//  Returns as lot_wait_poll.
static int
s_wait (lot_secure_t *self, long long until)
{
    struct pollfd items [2] = {
        { .fd = self->dealer ? zsock_fd (self->dealer) : -1, .events = POLLIN },
        { .fd = self->monitor ? zsock_fd (self->monitor) : -1, .events = POLLIN }
    };
    return lot_wait_until (self->wait, items, 2, until);
}

int
lot_secure_connect (lot_secure_t *self)
{
    const lot_client_config_t *config = self->config;
    if (s_open (self, config->auth_address))
        return lot_wait_fail (self->wait, "%s", self->reason);
    self->opened = true;
    long long until = zclock_mono () + config->server_timeout;
    s_state_t state;
    while ((state = s_state (self)) == S_WAITING) {
        int ready = s_wait (self, until);
        if (ready < 0)
            return -1;
        if (ready == 0)
            return lot_wait_fail (self->wait, "no CURVE handshake with %s within %ldms",
                                  config->auth_address, config->server_timeout);
    }
    if (state == S_DOWN)
        return lot_wait_fail (self->wait, "%s", self->reason);
    return 0;
}

//  What the link is asked to do.
typedef enum { S_SEND, S_FLUSH, S_RECV } s_step_t;

//  One try of a step: 0 done, 1 not yet, -1 the link is down.
static int
s_try (lot_secure_t *self, s_step_t step, const void *data, size_t size,
       lot_inbox_t *inbox)
{
    if (step == S_SEND)
        return s_send (self, data, size);
    if (step == S_FLUSH)
        return s_flush (self);
    int got = s_recv (self, inbox);
    return got > 0 ? 0 : got == 0 ? 1 : -1;
}

//  A step tried until it is done, as TCP's send and receive are, on
//  messages. A server silent for server.timeout (or past the deadline)
//  is as good as gone.
static int
s_step (lot_secure_t *self, s_step_t step, const void *data, size_t size,
        lot_inbox_t *inbox)
{
    long patience = lot_wait_patience (self->wait);
    long long until = patience < 0 ? -1 : zclock_mono () + patience;
    while (true) {
        int rc = s_try (self, step, data, size, inbox);
        if (rc == 0)
            return 0;
        if (rc < 0)
            return lot_wait_drop (self->wait, self->reason);
        int ready = s_wait (self, until);
        if (ready < 0)
            return -1;
        if (ready == 0)
            return lot_wait_silent (self->wait, patience);
    }
}

int
lot_secure_send (lot_secure_t *self, const void *data, size_t size)
{
    return s_step (self, S_SEND, data, size, NULL);
}

int
lot_secure_fill (lot_secure_t *self, lot_inbox_t *inbox)
{
    //  What the link holds goes before it waits for the answer
    return s_step (self, S_FLUSH, NULL, 0, NULL) ? -1 : s_step (self, S_RECV, NULL, 0, inbox);
}

bool
lot_secure_close (lot_secure_t *self)
{
    bool opened = self->opened;
    if (opened)
        s_close (self);
    self->opened = false;
    return opened;
}
