/*  lot_broker - the hub between the front-ends and the actors  */
#include "lot_broker.h"
#include "lot_actor.h"
#include "lot_log.h"
#include "lot_sockets.h"

#define ACTOR "broker"
#define RETRY_MSECS 10          //  Retry interval while the handlers are full
                                //  and nothing else comes
#define PASS_MAX 64             //  Messages taken from a socket at once

typedef struct {
    lot_actor_t actor;          //  First: the pipe, the poller, the sockets
    zsock_t *frontends;         //  ROUTER: every front-end's DEALER
    zsock_t *work;              //  PUSH to the handlers
    zsock_t *results;           //  PULL from the handlers and the persister
    bool full;                  //  The handlers' queues take nothing now, and
                                //  frontends is out of the poller
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        lot_actor_close (&self->actor);
        free (self);
        *self_p = NULL;
    }
}

//  It holds nothing of its own: what every actor has.
static self_t *
s_self_new (zsock_t *pipe, const lot_settings_t *settings)
{
    return lot_actor_new (sizeof (self_t), ACTOR, pipe, settings);
}

static int
s_self_start (void *args)
{
    self_t *self = args;
    const lot_settings_t *settings = self->actor.settings;
    lot_sockets_t *sockets = self->actor.sockets;
    self->frontends = lot_sockets_bind (sockets, ZMQ_ROUTER, settings->broker_endpoint,
                                        "frontends");
    self->work = lot_sockets_bind (sockets, ZMQ_PUSH, settings->work_endpoint, "work");
    self->results = lot_sockets_bind (sockets, ZMQ_PULL, settings->results_endpoint,
                                      "results");
    if (!self->frontends || !self->work || !self->results)
        return -1;
    //  Neither side may block the other: a full queue is retried, an
    //  unknown route is an error instead of a silent drop
    zsock_set_sndtimeo (self->work, 0);
    zsock_set_sndtimeo (self->frontends, 0);
    zsock_set_router_mandatory (self->frontends, 1);
    zpoller_add (self->actor.poller, self->frontends);
    zpoller_add (self->actor.poller, self->results);
    return 0;
}

//  START, $TERM, or a command: it has none of its own.
static void
s_self_handle_pipe (self_t *self)
{
    lot_actor_serve_pipe (&self->actor, s_self_start, NULL);
}

//  Moves one whole message from one socket to another, frame by frame and
//  without a copy, as zmq_proxy does. A message the destination refuses
//  (a front-end that is gone) is read to its end and dropped. Returns 1,
//  0 when nothing came, or -1 when it was dropped (errno says why).
static int
s_forward (void *from, void *to)
{
    zmq_msg_t frame;
    int refused = 0;
    int more;
    do {
        zmq_msg_init (&frame);
        if (zmq_msg_recv (&frame, from, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close (&frame);
            return 0;
        }
        more = zmq_msg_more (&frame);
        if (!refused && zmq_msg_send (&frame, to, more ? ZMQ_SNDMORE : 0) < 0)
            refused = zmq_errno ();
        if (refused)
            zmq_msg_close (&frame);
    }
    while (more);
    errno = refused;
    return refused ? -1 : 1;
}

//  Forwards one message, counted: in when one came, out when it went.
static int
s_self_forward (self_t *self, void *from, void *to)
{
    int rc = s_forward (from, to);
    if (rc != 0)
        lot_metric_add (self->actor.received, 1);
    if (rc == 1)
        lot_metric_add (self->actor.sent, 1);
    return rc;
}

//  Whether the handlers' queues take nothing now. Room for one message is
//  room for all of its frames.
static bool
s_self_full (self_t *self)
{
    return !(zsock_events (self->work) & ZMQ_POLLOUT);
}

//  WORK from the front-ends, on to the handlers while their queues have
//  room: the identity the ROUTER puts first is the route. While they take
//  nothing, the front-ends are not read: the work waits in the queues
//  from them, then in their backlogs.
static void
s_self_handle_work (self_t *self)
{
    void *frontends = zsock_resolve (self->frontends);
    void *work = zsock_resolve (self->work);
    bool was_full = self->full;
    self->full = s_self_full (self);
    for (int taken = 0; !self->full && taken < PASS_MAX
                    &&  (zsock_events (self->frontends) & ZMQ_POLLIN); taken++) {
        if (s_self_forward (self, frontends, work) < 0)
            lot_log_warning ("action: entregar | result: in_progress | actor: " ACTOR
                             " | socket: work | reason: %s; the front-end will send"
                             " its chunks again", strerror (errno));
        self->full = s_self_full (self);
    }
    if (self->full && !was_full)
        zpoller_remove (self->actor.poller, self->frontends);
    if (!self->full && was_full)
        zpoller_add (self->actor.poller, self->frontends);
}

//  RESULTs, each batch to the front-end its route names. One for a
//  front-end that is gone (EHOSTUNREACH) is dropped: so were the
//  connections that waited for it.
static void
s_self_handle_results (self_t *self)
{
    void *results = zsock_resolve (self->results);
    void *frontends = zsock_resolve (self->frontends);
    int taken = 0;
    do
        if (s_self_forward (self, results, frontends) < 0)
            lot_log_debug ("action: entregar | result: fail | actor: " ACTOR
                           " | socket: frontends | reason: %s", strerror (errno));
    while (++taken < PASS_MAX && (zsock_events (self->results) & ZMQ_POLLIN));
}

void
lot_broker_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, args);
    lot_actor_signal (pipe, ACTOR, self != NULL);
    while (self && !self->actor.terminated) {
        void *which = zpoller_wait (self->actor.poller, self->full ? RETRY_MSECS : -1);
        if (which == self->actor.pipe)
            s_self_handle_pipe (self);
        else
        if (which == self->frontends)
            s_self_handle_work (self);
        else
        if (which == self->results)
            s_self_handle_results (self);
        //  Answers flow while the handlers are full: they are what makes
        //  room, so the front-ends are tried after each, not only when idle
        if (self->full)
            s_self_handle_work (self);
    }
    s_self_destroy (&self);
}
