/*  lot_handler - turns chunks into bets-file lines, all or nothing  */
#include "lot_handler.h"
#include "lot_actor.h"
#include "lot_sockets.h"
#include "lot_convert.h"
#include "lot_log.h"
#include "lot_msg.h"

#define ACTOR "handler"

typedef struct {
    lot_actor_t actor;          //  First: the pipe, the poller, the sockets
    zsock_t *work;              //  PULL from the broker
    zsock_t *records;           //  PUSH to the persister
    zsock_t *results;           //  PUSH rejections to the broker
    lot_convert_t *convert;     //  Its lines buffer, its rejections counted
} self_t;

//  Nothing but what every actor has until START, and its conversions:
//  their lines buffer grows with the first chunk.
static self_t *
s_self_new (zsock_t *pipe, const lot_settings_t *settings)
{
    self_t *self = lot_actor_new (sizeof (self_t), ACTOR, pipe, settings);
    if (self)
        self->convert = lot_convert_new (settings, ACTOR);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        lot_convert_destroy (&self->convert);
        lot_actor_close (&self->actor);
        free (self);
        *self_p = NULL;
    }
}

static int
s_self_start (void *args)
{
    self_t *self = args;
    const lot_settings_t *settings = self->actor.settings;
    lot_sockets_t *sockets = self->actor.sockets;
    self->work = lot_sockets_connect (sockets, ZMQ_PULL, settings->work_endpoint,
                                      "work", "broker");
    self->records = lot_sockets_connect (sockets, ZMQ_PUSH, settings->records_endpoint,
                                         "records", "persister");
    self->results = lot_sockets_connect (sockets, ZMQ_PUSH, settings->results_endpoint,
                                         "results", "broker");
    if (!self->work || !self->records || !self->results)
        return -1;
    zpoller_add (self->actor.poller, self->work);
    return 0;
}

//  START, $TERM, or a command: it has none of its own.
static void
s_self_handle_pipe (self_t *self)
{
    lot_actor_serve_pipe (&self->actor, s_self_start, NULL);
}

//  Sends a batch on when it holds anything. Dropped after SEND_TIMEOUT:
//  the front-end sends its chunks again.
static void
s_self_pass_on (self_t *self, zmsg_t **batch_p, zsock_t *socket, const char *name)
{
    if (lot_msg_is_empty (*batch_p))
        zmsg_destroy (batch_p);
    else
    if (lot_msg_send (batch_p, socket) == 0)
        lot_metric_add (self->actor.sent, 1);
    else
        lot_log_warning ("action: entregar | result: in_progress | actor: " ACTOR
                         " | socket: %s | reason: the next actor takes no messages", name);
}

static void
s_self_handle_work (self_t *self)
{
    zmsg_t *batch = zmsg_recv (self->work);
    zframe_t *route = batch ? lot_msg_take_route (batch) : NULL;
    if (!route) {
        zmsg_destroy (&batch);
        return;
    }
    lot_metric_add (self->actor.received, 1);
    //  Both go back to the front-end the chunks came from
    zmsg_t *accepted = lot_msg_new_routed (route);
    zmsg_t *rejected = lot_msg_new_routed (route);
    zframe_destroy (&route);
    lot_work_t work;
    int rc;
    while ((rc = lot_msg_next_work (batch, &work)) != 0)
        if (rc == 1) {
            lot_records_t records;
            if (lot_convert_work (self->convert, &work, &records, rejected) == 0)
                lot_msg_add_records (accepted, &records, records.lines, records.size);
            zframe_destroy (&work.frame);
        }
    zmsg_destroy (&batch);
    s_self_pass_on (self, &accepted, self->records, "records");
    s_self_pass_on (self, &rejected, self->results, "results");
}

void
lot_handler_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, args);
    lot_actor_signal (pipe, ACTOR, self != NULL);
    while (self && !self->actor.terminated) {
        void *which = zpoller_wait (self->actor.poller, -1);
        if (which == self->actor.pipe)
            s_self_handle_pipe (self);
        else
        if (which == self->work)
            s_self_handle_work (self);
    }
    s_self_destroy (&self);
}
