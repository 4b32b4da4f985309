/*  lot_coordinator - counts finished agencies and announces the draw  */
#include "lot_coordinator.h"
#include "lot_actor.h"
#include "lot_sockets.h"
#include "lot_draw_metrics.h"
#include "lot_log.h"
#include "lot_msg.h"

#define ACTOR "coordinator"

typedef struct {
    lot_actor_t actor;          //  First: the pipe, the poller, the sockets
    zsock_t *events;            //  ROUTER: persisters report here
    zsock_t *winners;           //  PUB: winner-ready
    bool *done;                 //  By agency, as the persister last said
    long done_count;
    zframe_t *persister;        //  Routing id of the persister to ask
    zmsg_t *result;             //  The draw's winners, once drawn
    char *detail;               //  and its summary, until the sorteo line
    int64_t settled_at;         //  No sorteo line before: see LOG_SETTLE
    int64_t next_action;        //  When to log, re-announce or ask again
    int64_t asked_at;           //  When the draw was first asked for
    lot_draw_metrics_t *metrics;    //  NULL: metrics off
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        lot_actor_close (&self->actor);
        lot_draw_metrics_destroy (&self->metrics);
        zframe_destroy (&self->persister);
        zmsg_destroy (&self->result);
        zstr_free (&self->detail);
        free (self->done);
        free (self);
        *self_p = NULL;
    }
}

static self_t *
s_self_new (zsock_t *pipe, const lot_settings_t *settings)
{
    self_t *self = lot_actor_new (sizeof (self_t), ACTOR, pipe, settings);
    if (self) {
        self->done = calloc ((size_t) settings->agencies + 1, sizeof (bool));
        self->metrics = lot_draw_metrics_new (settings->metrics, settings->agencies);
    }
    if (self && !self->done)
        s_self_destroy (&self);
    return self;
}

static int
s_self_start (void *args)
{
    self_t *self = args;
    const lot_settings_t *settings = self->actor.settings;
    self->events = lot_sockets_bind (self->actor.sockets, ZMQ_ROUTER,
                                     settings->events_endpoint, "events");
    self->winners = lot_sockets_bind (self->actor.sockets, ZMQ_PUB,
                                      settings->winners_endpoint, "winners");
    if (!self->events || !self->winners)
        return -1;
    zpoller_add (self->actor.poller, self->events);
    return 0;
}

//  START, $TERM, or a command: it has none of its own.
static void
s_self_handle_pipe (self_t *self)
{
    lot_actor_serve_pipe (&self->actor, s_self_start, NULL);
}

static bool
s_all_done (self_t *self)
{
    long agencies = self->actor.settings->agencies;
    return agencies > 0 && self->done_count == agencies;
}

static void
s_self_ask_draw (self_t *self)
{
    if (lot_msg_send_draw (self->events, self->persister) == 0)   //  Lost: asked again
        lot_metric_add (self->actor.sent, 1);
    self->next_action = zclock_mono () + self->actor.settings->announce_interval;
}

static void
s_self_announce (self_t *self)
{
    if (lot_msg_send_winners (self->winners, self->result) == 0)  //  Lost: said again
        lot_metric_add (self->actor.sent, 1);
    self->next_action = zclock_mono () + self->actor.settings->announce_interval;
}

//  The persister's word on who has finished: all it says, every time, so
//  a coordinator that restarts knows again within one announce interval.
//  An agency once finished stays so.
static void
s_self_handle_status (self_t *self, zframe_t *sender, zmsg_t *msg)
{
    zframe_destroy (&self->persister);
    self->persister = zframe_dup (sender);
    long agencies = self->actor.settings->agencies;
    bool was_done = s_all_done (self);
    bool *said = calloc ((size_t) agencies + 1, sizeof *said);
    assert (said);
    if (lot_msg_recv_status (msg, said, agencies) < 0)
        lot_log_error ("action: agencias_finalizadas | result: fail"
                       " | reason: malformed STATUS");
    for (long agency = 1; agency <= agencies; agency++)
        if (said [agency] && !self->done [agency]) {
            self->done [agency] = true;
            self->done_count++;
            lot_log_info ("action: agencia_finalizada | result: success | agencia: %ld"
                          " | finalizadas: %ld", agency, self->done_count);
            lot_draw_metrics_finished (self->metrics, agency, self->done_count);
        }
    free (said);
    //  Graders order the lines of all containers by when docker read them,
    //  which lags by milliseconds and not alike for each: the sorteo line
    //  waits LOG_SETTLE, so the last apuesta_recibida is read before it.
    //  The draw itself runs meanwhile.
    if (s_all_done (self) && !was_done && !self->result) {
        self->asked_at = zclock_mono ();
        self->settled_at = self->asked_at + self->actor.settings->log_settle;
        s_self_ask_draw (self);
    }
}

static void
s_self_handle_drawn (self_t *self, zmsg_t *msg)
{
    char *detail;
    zmsg_t *winners;
    lot_msg_recv_drawn (msg, self->actor.settings->agencies, &detail, &winners);
    //  The first answer stands; an answer nobody asked for is ignored
    bool awaited = !self->result && s_all_done (self);
    if (awaited && winners) {
        self->result = winners;
        winners = NULL;
        self->detail = detail;
        detail = NULL;
        self->next_action = self->settled_at;
        lot_draw_metrics_drawn (self->metrics, self->result, zclock_mono () - self->asked_at);
    }
    else
    if (awaited)
        lot_log_error ("action: sorteo | result: fail | reason: %s",
                       detail ? detail : "malformed answer");
    zstr_free (&detail);
    zmsg_destroy (&winners);
}

static void
s_self_handle_events (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->events);
    lot_metric_add (self->actor.received, msg != NULL);
    zframe_t *sender = msg ? zmsg_pop (msg) : NULL;
    lot_msg_command_t command = lot_msg_pop_command (msg);
    if (command == LOT_MSG_CMD_STATUS)
        s_self_handle_status (self, sender, msg);
    else
    if (command == LOT_MSG_CMD_DRAWN)
        s_self_handle_drawn (self, msg);
    zframe_destroy (&sender);
    zmsg_destroy (&msg);
}

//  The draw is asked for again until answered, then logged, then
//  announced for ever.
static void
s_self_handle_timer (self_t *self)
{
    if (self->detail) {
        lot_log_info ("action: sorteo | result: success | detalle: %s", self->detail);
        zstr_free (&self->detail);
        //  And the sorteo line is read before any agency hears the winners
        self->next_action = zclock_mono () + self->actor.settings->log_settle;
    }
    else
    if (self->result)
        s_self_announce (self);
    else
    if (s_all_done (self))
        s_self_ask_draw (self);
}

//  No timer until every agency has finished: then the draw is asked for
//  until answered, logged, and announced again and again.
static int64_t
s_self_deadline (self_t *self)
{
    return self->result || s_all_done (self) ? self->next_action : -1;
}

void
lot_coordinator_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, args);
    lot_actor_signal (pipe, ACTOR, self != NULL);
    while (self && !self->actor.terminated) {
        void *which = lot_actor_wait (&self->actor, s_self_deadline (self));
        if (which == self->actor.pipe)
            s_self_handle_pipe (self);
        else
        if (which == self->events)
            s_self_handle_events (self);
        else
        if (zpoller_expired (self->actor.poller))
            s_self_handle_timer (self);
    }
    s_self_destroy (&self);
}
