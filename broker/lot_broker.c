/*  lot_broker - the hub between the front-ends and the actors  */
#include "lot_broker.h"
#include "lot_actor.h"
#include "lot_log.h"
#include "lot_msg.h"
#include "lot_sockets.h"

#define ACTOR "broker"
#define RETRY_MSECS 10          //  Retry interval while the handlers are full
                                //  and nothing else comes
#define PASS_MAX 64             //  Messages taken from a socket at once

typedef struct {
    zsock_t *pipe;
    const lot_settings_t *settings;
    zsock_t *frontends;         //  ROUTER: every front-end's DEALER
    zsock_t *work;              //  PUSH to the handlers
    zsock_t *results;           //  PULL from the handlers and the persister
    zpoller_t *poller;
    lot_sockets_t *sockets;     //  Owns the three sockets
    zmsg_t *pending;            //  A WORK batch the handlers could not take yet
    bool reading;               //  Whether frontends is in the poller
    bool terminated;
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zmsg_destroy (&self->pending);
        lot_sockets_destroy (&self->sockets);
        zpoller_destroy (&self->poller);
        free (self);
        *self_p = NULL;
    }
}

static int
s_self_start (void *args)
{
    self_t *self = args;
    const lot_settings_t *settings = self->settings;
    self->frontends = lot_sockets_bind (self->sockets, ZMQ_ROUTER,
                                        settings->broker_endpoint, "frontends");
    self->work = lot_sockets_bind (self->sockets, ZMQ_PUSH, settings->work_endpoint, "work");
    self->results = lot_sockets_bind (self->sockets, ZMQ_PULL,
                                      settings->results_endpoint, "results");
    if (!self->frontends || !self->work || !self->results)
        return -1;
    //  Neither side may block the other: a full queue is retried, an
    //  unknown route is an error instead of a silent drop
    zsock_set_sndtimeo (self->work, 0);
    zsock_set_sndtimeo (self->frontends, 0);
    zsock_set_router_mandatory (self->frontends, 1);
    zpoller_add (self->poller, self->frontends);
    zpoller_add (self->poller, self->results);
    self->reading = true;
    return 0;
}

static void
s_self_read_frontends (self_t *self, bool reading)
{
    if (reading && !self->reading)
        zpoller_add (self->poller, self->frontends);
    if (!reading && self->reading)
        zpoller_remove (self->poller, self->frontends);
    self->reading = reading;
}

//  Hands the pending batch to the handlers once their queues have room.
//  While they take nothing, the front-ends are not read: their own queues
//  fill, and what comes then waits in their backlogs.
static void
s_self_flush_pending (self_t *self)
{
    //  Room for one message is room for all of its frames
    if (!(zsock_events (self->work) & ZMQ_POLLOUT)) {
        s_self_read_frontends (self, false);
        return;
    }
    if (lot_msg_send (&self->pending, self->work))
        lot_log_warning ("action: entregar | result: in_progress | actor: " ACTOR
                         " | socket: work | reason: %s; the front-end will send"
                         " its chunks again", zmq_strerror (zmq_errno ()));
    s_self_read_frontends (self, true);
}

//  WORK from a front-end: the identity the ROUTER puts first is the route.
static void
s_self_handle_work (self_t *self)
{
    int taken = 0;
    do {
        self->pending = zmsg_recv (self->frontends);
        if (self->pending && lot_msg_is_empty (self->pending))
            zmsg_destroy (&self->pending);
        if (self->pending)
            s_self_flush_pending (self);
    }
    while (!self->pending && ++taken < PASS_MAX
       &&  (zsock_events (self->frontends) & ZMQ_POLLIN));
}

//  RESULTs, each batch to the front-end its route names.
static void
s_self_handle_results (self_t *self)
{
    int taken = 0;
    do {
        zmsg_t *batch = zmsg_recv (self->results);
        if (batch && lot_msg_is_empty (batch))
            zmsg_destroy (&batch);
        if (batch && lot_msg_send (&batch, self->frontends))
            //  EHOSTUNREACH: that front-end is gone, and so are the
            //  connections that waited for these answers
            lot_log_debug ("action: entregar | result: fail | actor: " ACTOR
                           " | socket: frontends | reason: %s", zmq_strerror (zmq_errno ()));
    }
    while (++taken < PASS_MAX && (zsock_events (self->results) & ZMQ_POLLIN));
}

void
lot_broker_actor (zsock_t *pipe, void *args)
{
    self_t *self = calloc (1, sizeof *self);
    assert (self);
    self->pipe = pipe;
    self->settings = args;
    self->poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (self->poller, true);
    self->sockets = lot_sockets_new (ACTOR, self->settings, self->poller);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, self->pending ? RETRY_MSECS : -1);
        if (which == self->pipe)
            self->terminated = lot_actor_handle_pipe (self->pipe, ACTOR,
                                                      s_self_start, NULL, self);
        else
        if (which == self->frontends)
            s_self_handle_work (self);
        else
        if (which == self->results)
            s_self_handle_results (self);
        else
        if (which)
            lot_sockets_handle_event (self->sockets, which);
        //  Answers flow while the handlers are full: they are what makes
        //  room, so the held batch is tried after each, not only when idle
        if (self->pending)
            s_self_flush_pending (self);
    }
    s_self_destroy (&self);
}
