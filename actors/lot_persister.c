/*  lot_persister - the one owner of the bets file  */
#include "lot_persister.h"
#include "lot_actor.h"
#include "lot_sockets.h"
#include "lot_draw.h"
#include "lot_group.h"
#include "lot_log.h"
#include "lot_msg.h"
#include "lot_store.h"
#include "lot_store_metrics.h"

#define ACTOR "persister"

typedef struct {
    lot_actor_t actor;          //  First: the pipe, the poller, the sockets
    zsock_t *records;           //  PULL from the handlers
    zsock_t *results;           //  PUSH to the broker
    zsock_t *events;            //  DEALER to the coordinator
    lot_store_t *store;         //  The bets file and its journal
    lot_store_metrics_t *metrics;   //  NULL: metrics off
    lot_group_t *group;         //  The group commit: what came, what waits
    int64_t next_status;        //  When STATUS goes out again
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        lot_group_destroy (&self->group);
        lot_store_metrics_destroy (&self->metrics);
        lot_actor_close (&self->actor);
        if (self->store) {
            //  Every group was durable before it was confirmed; this sync
            //  covers BETS_FSYNC=false
            lot_store_sync (self->store);
            lot_store_destroy (&self->store);
            lot_log_info ("action: close | result: success | actor: " ACTOR
                          " | resource: bets_file | path: %s",
                          self->actor.settings->bets_file);
        }
        free (self);
        *self_p = NULL;
    }
}

//  The bets file waits for START, as the sockets do.
static self_t *
s_self_new (zsock_t *pipe, const lot_settings_t *settings)
{
    self_t *self = lot_actor_new (sizeof (self_t), ACTOR, pipe, settings);
    if (self)
        self->metrics = lot_store_metrics_new (settings->metrics, settings->agencies);
    return self;
}

static int
s_self_start (void *args)
{
    self_t *self = args;
    const lot_settings_t *settings = self->actor.settings;
    //  The sockets first: a persister that cannot have them (an endpoint
    //  refused, lot_sockets.h) leaves the bets file untouched, and one
    //  without a store sends no STATUS
    lot_sockets_t *sockets = self->actor.sockets;
    self->records = lot_sockets_bind (sockets, ZMQ_PULL, settings->records_endpoint,
                                      "records");
    self->results = lot_sockets_connect (sockets, ZMQ_PUSH, settings->results_endpoint,
                                         "results", "broker");
    self->events = lot_sockets_connect (sockets, ZMQ_DEALER, settings->events_endpoint,
                                        "events", "coordinator");
    if (!self->records || !self->results || !self->events)
        return -1;
    char *error = NULL;
    self->store = lot_store_new (settings->bets_file, settings->bets_journal,
                                 settings->agencies, settings->bets_fsync, &error);
    if (!self->store) {
        lot_log_error ("action: open | result: fail | actor: " ACTOR
                       " | resource: bets_file | path: %s | reason: %s",
                       settings->bets_file, error ? error : "out of memory");
        free (error);
        return -1;
    }
    lot_store_metrics_batch (self->metrics, self->store, 0);
    self->group = lot_group_new (settings, self->store, self->metrics);
    zpoller_add (self->actor.poller, self->records);
    zpoller_add (self->actor.poller, self->events);
    return 0;
}

//  START, $TERM, or a command: it has none of its own.
static void
s_self_handle_pipe (self_t *self)
{
    lot_actor_serve_pipe (&self->actor, s_self_start, NULL);
}

//  Tells the coordinator every agency that has finished: all of it each
//  time, so a coordinator that restarts learns it again.
static void
s_self_send_status (self_t *self)
{
    long agencies = self->actor.settings->agencies;
    bool *finished = calloc ((size_t) agencies + 1, sizeof *finished);
    assert (finished);
    for (long agency = 1; agency <= agencies; agency++)
        finished [agency] = lot_store_finished (self->store, (uint32_t) agency);
    if (lot_msg_send_status (self->events, finished, agencies) == 0)
        lot_metric_add (self->actor.sent, 1);
    else
        lot_log_warning ("action: entregar | result: in_progress | actor: " ACTOR
                         " | socket: events | reason: the coordinator takes no"
                         " messages; it will be told again");
    free (finished);
    self->next_status = zclock_mono () + self->actor.settings->announce_interval;
}

//  Takes every message waiting into one group, while one more surely
//  fits, writes it in one commit and answers it.
static void
s_self_handle_records (self_t *self)
{
    bool room;
    do {
        zmsg_t *msg = zmsg_recv (self->records);
        lot_metric_add (self->actor.received, msg != NULL);
        room = lot_group_add (self->group, &msg);
    } while (room && (zsock_events (self->records) & ZMQ_POLLIN));
    bool finished = lot_group_commit (self->group);
    lot_metric_add (self->actor.sent, (uint64_t) lot_group_answer (self->group, self->results));
    if (finished)
        s_self_send_status (self);
}

//  Reads the bets back from the file and answers DRAWN with the winning
//  documents of each agency.
static void
s_self_draw (self_t *self)
{
    long agencies = self->actor.settings->agencies;
    const char *path = self->actor.settings->bets_file;
    lot_draw_t *draw = lot_draw_new (agencies);
    if (!draw || lot_draw_read (draw, path)) {
        lot_log_error ("action: leer_apuestas | result: fail | path: %s | reason: %s",
                       path, draw ? strerror (errno) : "out of memory");
        lot_msg_send_drawn (self->events, "cannot read the bets file", NULL);
        lot_draw_destroy (&draw);
        return;
    }
    size_t skips;
    const size_t *skipped = lot_draw_skipped_lines (draw, &skips);
    for (size_t i = 0; i < skips; i++)
        lot_log_error ("action: leer_apuestas | result: fail | path: %s | line: %zu"
                       " | reason: not a bet of this draw", path, skipped [i]);
    zmsg_t *winners = lot_msg_winners_new ();
    for (long agency = 1; agency <= agencies; agency++) {
        size_t size;
        const char *documents = lot_draw_documents (draw, agency, &size);
        lot_msg_winners_add (winners, documents, size);
    }
    char detail [64];
    snprintf (detail, sizeof detail, "%zu bets, %zu winners",
              lot_draw_bets (draw), lot_draw_winners (draw));
    lot_log_info ("action: leer_apuestas | result: success | apuestas: %zu"
                  " | ganadores: %zu | descartadas: %zu", lot_draw_bets (draw),
                  lot_draw_winners (draw), lot_draw_skipped (draw));
    lot_draw_destroy (&draw);
    if (lot_msg_send_drawn (self->events, detail, &winners) == 0)
        lot_metric_add (self->actor.sent, 1);   //  Lost: asked again
}

static void
s_self_handle_events (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->events);
    lot_metric_add (self->actor.received, msg != NULL);
    if (lot_msg_pop_command (msg) == LOT_MSG_CMD_DRAW)
        s_self_draw (self);
    zmsg_destroy (&msg);
}

void
lot_persister_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, args);
    lot_actor_signal (pipe, ACTOR, self != NULL);
    while (self && !self->actor.terminated) {
        //  STATUS goes out on a timer once the bets file is open, at START
        void *which = lot_actor_wait (&self->actor, self->store ? self->next_status : -1);
        if (which == self->actor.pipe)
            s_self_handle_pipe (self);
        else
        if (which == self->records)
            s_self_handle_records (self);
        else
        if (which == self->events)
            s_self_handle_events (self);
        if (self->store && zclock_mono () >= self->next_status)
            s_self_send_status (self);
    }
    s_self_destroy (&self);
}
