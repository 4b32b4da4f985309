/*  lot_handler - turns chunks into bets-file lines, all or nothing  */
#include "lot_handler.h"
#include "lot_actor.h"
#include "lot_sockets.h"
#include "lot_chunk_metrics.h"
#include "lot_codec.h"
#include "lot_log.h"
#include "lot_msg.h"

#define ACTOR "handler"

typedef struct {
    lot_actor_t actor;          //  First: the pipe, the poller, the sockets
    zsock_t *work;              //  PULL from the broker
    zsock_t *records;           //  PUSH to the persister
    zsock_t *results;           //  PUSH rejections to the broker
    char *lines;                //  Reused for every chunk
    size_t capacity;
    lot_chunk_metrics_t *metrics;   //  Its rejections; NULL: metrics off
} self_t;

//  Nothing but what every actor has until START, and its metrics: the
//  lines buffer grows with the first chunk.
static self_t *
s_self_new (zsock_t *pipe, const lot_settings_t *settings)
{
    self_t *self = lot_actor_new (sizeof (self_t), ACTOR, pipe, settings);
    if (self)
        self->metrics = lot_chunk_metrics_new (settings->metrics, ACTOR, settings->agencies);
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        free (self->lines);
        lot_chunk_metrics_destroy (&self->metrics);
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

//  Formats one valid bet onto the end of *lines, growing it as needed.
//  A buffer not yet allocated is never formatted into: NULL + 0 is
//  undefined behaviour (found by fuzz_codec).
static const char *
s_append_line (const lot_bet_t *bet, char **lines, size_t *capacity, size_t *used)
{
    size_t put;
    while (!*lines
       ||  (put = lot_bet_format_csv (bet, *lines + *used, *capacity - *used)) == 0) {
        size_t grown = *capacity ? *capacity * 2 : 4096;
        char *bigger = realloc (*lines, grown);
        if (!bigger)
            return "out of memory";
        *lines = bigger;
        *capacity = grown;
    }
    *used += put;
    return NULL;
}

const char *
lot_handler_convert (const uint8_t *chunk, size_t size, unsigned max_agency,
                     char **lines, size_t *capacity, size_t *used,
                     unsigned *agency, bool *last, unsigned *count)
{
    lot_chunk_reader_t reader;
    if (lot_codec_chunk_open (&reader, chunk, size))
        return "malformed chunk";
    *count = reader.count;
    *last = reader.last;
    if (lot_bet_parse_agency (reader.agency, max_agency, agency))
        return "unknown agency";
    size_t start = *used;
    lot_span_t fields [1 + LOT_BET_FIELDS] = { reader.agency };
    const char *reason = NULL;
    int rc;
    lot_bet_t bet;
    while (!reason && (rc = lot_codec_chunk_next (&reader, fields + 1)) == 1)
        if (!(reason = lot_bet_from_fields (&bet, fields, max_agency)))
            reason = s_append_line (&bet, lines, capacity, used);
    if (!reason && rc != 0)
        reason = "malformed chunk";
    if (reason)
        *used = start;          //  All or nothing
    return reason;
}

//  Converts one chunk of a batch, adding its records to one batch or its
//  rejection to the other.
static void
s_self_convert (self_t *self, lot_records_t *records, const lot_work_t *work,
                zmsg_t *accepted, zmsg_t *rejected)
{
    unsigned agency = 0, count = 0;
    size_t used = 0;
    const char *reason = NULL;
    records->query = work->size == 0;
    if (!records->query) {
        reason = lot_handler_convert (work->chunk, work->size,
                                      (unsigned) self->actor.settings->agencies,
                                      &self->lines, &self->capacity, &used,
                                      &agency, &records->last, &count);
        //  The front-end named the chunk after the agency in it
        if (!reason && agency != records->agency)
            reason = "chunk for another agency";
    }
    records->count = count;
    if (reason) {
        lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                       " | reason: %s", count, reason);
        lot_chunk_metrics_answered (self->metrics, records->agency, reason);
        lot_result_t result = {
            .agency = records->agency, .position = records->position,
            .count = count, .reason = (char *) reason
        };
        lot_msg_add_result (rejected, &result);
    }
    else
        lot_msg_add_records (accepted, records, self->lines, used);
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
            lot_records_t records = {
                .agency = work.agency, .position = work.position, .follows = work.follows
            };
            s_self_convert (self, &records, &work, accepted, rejected);
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
        else
            lot_sockets_handle_event (self->actor.sockets, which);
    }
    s_self_destroy (&self);
}
