/*  lot_persister - the one owner of the bets file  */
#include "lot_persister.h"
#include "lot_actor.h"
#include "lot_sockets.h"
#include "lot_csv.h"
#include "lot_draw.h"
#include "lot_log.h"
#include "lot_msg.h"
#include "lot_store.h"
#include "lot_store_metrics.h"

#define ACTOR "persister"
#define BATCH_MAX 256           //  Chunks per write and fdatasync
#define PARKED_MAX 256          //  Chunks that wait for the bets before them

typedef struct {
    lot_actor_t actor;          //  First: the pipe, the poller, the sockets
    zsock_t *records;           //  PULL from the handlers
    zsock_t *results;           //  PUSH to the broker
    zsock_t *events;            //  DEALER to the coordinator
    lot_store_t *store;         //  The bets file and its journal
    lot_store_metrics_t *metrics;   //  NULL: metrics off
    int64_t next_status;        //  When STATUS goes out again
    //  A batch: what came, then what was parked
    lot_records_t batch [BATCH_MAX + PARKED_MAX];
    lot_store_chunk_t chunks [BATCH_MAX + PARKED_MAX];
    lot_store_verdict_t verdicts [BATCH_MAX + PARKED_MAX];
    const char *reasons [BATCH_MAX + PARKED_MAX];
    lot_records_t parked [PARKED_MAX];  //  In agency and position order
    zlistx_t *routes;           //  Front-ends to answer (s_route_t): those
                                //  of this group, and of the parked chunks
    int parked_count;
} self_t;

//  A front-end, as the broker routes to it, and the group's answers for it
typedef struct {
    zframe_t *route;
    zmsg_t *answers;            //  The group's RESULT batch, when it has one
} s_route_t;

static void
s_route_destroy (void **item)
{
    s_route_t *self = *item;
    if (self) {
        zframe_destroy (&self->route);
        zmsg_destroy (&self->answers);
        free (self);
        *item = NULL;
    }
}

//  The entry for a batch's route, which it takes: NULL when the batch has
//  none. A few front-ends at most: a list is the fastest to search.
static s_route_t *
s_self_route (self_t *self, zframe_t **route_p)
{
    if (!*route_p)
        return NULL;
    s_route_t *route;
    for (route = zlistx_first (self->routes); route; route = zlistx_next (self->routes))
        if (zframe_eq (route->route, *route_p)) {
            zframe_destroy (route_p);
            return route;
        }
    route = calloc (1, sizeof *route);
    assert (route);
    route->route = *route_p;
    *route_p = NULL;
    zlistx_add_end (self->routes, route);
    return route;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zlistx_destroy (&self->routes);
        lot_store_metrics_destroy (&self->metrics);
        lot_actor_close (&self->actor);
        for (int i = 0; i < self->parked_count; i++)
            zframe_destroy (&self->parked [i].frame);
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
    if (self) {
        self->routes = zlistx_new ();
        zlistx_set_destructor (self->routes, s_route_destroy);
        self->metrics = lot_store_metrics_new (settings->metrics, settings->agencies);
    }
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

static void
s_log_stored_bets (const lot_records_t *records)
{
    FILE *stream = fmemopen ((void *) records->lines, records->size, "r");
    lot_csv_t *csv = stream ? lot_csv_new_stream (stream) : NULL;
    lot_span_t fields [6];
    while (csv && lot_csv_next (csv, fields, 6) == 6)
        lot_log_debug ("action: apuesta_almacenada | result: success"
                       " | dni: %.*s | numero: %.*s",
                       (int) fields [3].size, fields [3].data,
                       (int) fields [5].size, fields [5].data);
    lot_csv_destroy (&csv);
}

//  Adds an answer to the group's RESULT batch for the front-end that sent
//  the chunk. stored and finished are the agency's, as durable now, and
//  for a query the digest of its stored bets, which 'S' carries.
static void
s_self_send_result (self_t *self, const lot_records_t *records, bool ok,
                    const char *reason)
{
    bool known = records->agency >= 1 && records->agency <= self->actor.settings->agencies;
    lot_result_t result = {
        .agency = records->agency, .position = records->position,
        .query = records->query, .ok = ok, .count = records->count,
        .reason = (char *) reason,
        .stored = known ? lot_store_stored (self->store, records->agency) : 0,
        .finished = known && lot_store_finished (self->store, records->agency)
    };
    if (known && records->query
    &&  lot_store_digest (self->store, records->agency, result.digest)) {
        //  No 'S' without its digest: the front-end asks again
        lot_log_error ("action: leer_apuestas | result: fail | agencia: %" PRIu32
                       " | reason: %s", records->agency, strerror (errno));
        return;
    }
    s_route_t *route = records->sender;
    if (!route->answers)
        route->answers = lot_msg_new_routed (route->route);
    lot_msg_add_result (route->answers, &result);
}

//  Sends each front-end its answers, and forgets the front-ends no parked
//  chunk waits to answer. A batch that cannot be handed on in
//  SEND_TIMEOUT is dropped: the front-end sends its items again and gets
//  their answers then.
static void
s_self_send_answers (self_t *self)
{
    s_route_t *route = zlistx_first (self->routes);
    while (route) {
        if (route->answers && lot_msg_send (&route->answers, self->results) == 0)
            lot_metric_add (self->actor.sent, 1);
        else
        if (route->answers)
            lot_log_warning ("action: entregar | result: in_progress | actor: " ACTOR
                             " | socket: results | reason: the broker takes no"
                             " messages; the front-end will send the chunks again");
        bool waited_for = false;
        for (int i = 0; i < self->parked_count && !waited_for; i++)
            waited_for = self->parked [i].sender == route;
        void *handle = zlistx_cursor (self->routes);
        route = zlistx_next (self->routes);
        if (!waited_for)
            zlistx_delete (self->routes, handle);
    }
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

//  Orders a batch by agency, then position; of two copies of a chunk,
//  one that follows an unanswered chunk comes first.
static int
s_records_compare (const void *one, const void *other)
{
    const lot_records_t *a = one, *b = other;
    if (a->agency != b->agency)
        return a->agency < b->agency ? -1 : 1;
    if (a->position != b->position)
        return a->position < b->position ? -1 : 1;
    return (int) b->follows - (int) a->follows;
}

//  Puts the parked chunks back in the batch, and the batch in agency and
//  position order: a chunk whose predecessor another handler delivered
//  later, in this batch or an earlier one, joins the same group.
static int
s_self_rejoin (self_t *self, int received)
{
    memcpy (self->batch + received, self->parked,
            (size_t) self->parked_count * sizeof *self->parked);
    received += self->parked_count;
    self->parked_count = 0;
    qsort (self->batch, (size_t) received, sizeof *self->batch, s_records_compare);
    return received;
}

//  A chunk came before the bets ahead of it. If the front-end sent it
//  while an earlier chunk of its connection was unanswered, another
//  handler may still have that one: it waits, unanswered, and rejoins
//  every batch until they are stored. A newer copy takes its place. At
//  most MAX_IN_FLIGHT wait per agency and PARKED_MAX in all: one more is
//  dropped unanswered, and the front-end sends it again. Returns false
//  when the chunk is to be answered now (it followed nothing: what it
//  waits for never comes).
static bool
s_self_park (self_t *self, lot_records_t *records)
{
    //  The batch is confirmed in order, so parked is in agency and position
    //  order: a copy of this chunk is the last one, its agency's the last
    lot_records_t *copy = self->parked_count
                        ? &self->parked [self->parked_count - 1] : NULL;
    if (copy && copy->agency == records->agency && copy->position == records->position) {
        zframe_destroy (&copy->frame);
        self->parked_count--;
    }
    if (!records->follows)
        return false;
    long waiting = 0;
    while (waiting < self->parked_count
       &&  self->parked [self->parked_count - 1 - waiting].agency == records->agency)
        waiting++;
    if (waiting >= self->actor.settings->max_in_flight || self->parked_count == PARKED_MAX) {
        lot_log_warning ("action: aplazar | result: in_progress | agencia: %u"
                         " | posicion: %u | reason: %ld chunks wait already for the"
                         " bets before them; it will come again", records->agency,
                         records->position, waiting);
        zframe_destroy (&records->frame);
    }
    else {
        self->parked [self->parked_count++] = *records;
        records->frame = NULL;
    }
    return true;
}

//  Answers one chunk of the batch once the batch's write is done (failure
//  is its reason, or NULL), or parks it.
static void
s_self_confirm (self_t *self, int i, const char *failure)
{
    lot_records_t *records = &self->batch [i];
    lot_store_verdict_t verdict = self->verdicts [i];
    if (verdict == LOT_STORE_EARLY && s_self_park (self, records))
        return;
    const char *reason = verdict == LOT_STORE_REJECT || verdict == LOT_STORE_EARLY
                       ? self->reasons [i]
                       : verdict == LOT_STORE_STORED ? NULL
                       : failure;
    lot_store_metrics_chunk (self->metrics, records->agency, records->count, verdict, reason);
    if (reason) {
        lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                       " | reason: %s", records->count, reason);
        s_self_send_result (self, records, false, reason);
        return;
    }
    if (verdict == LOT_STORE_APPEND) {
        if (lot_log_enabled (LOT_LOG_DEBUG))
            s_log_stored_bets (records);
        lot_log_info ("action: apuesta_recibida | result: success | cantidad: %u",
                      records->count);
    }
    else
        lot_log_debug ("action: duplicado | result: success | agencia: %u"
                       " | posicion: %u", records->agency, records->position);
    s_self_send_result (self, records, true, NULL);
}

//  Takes every message waiting, up to BATCH_MAX, decides each against
//  the store, writes the new chunks in one group commit, then answers all
//  (queries last, so they count this batch).
static void
s_self_handle_records (self_t *self)
{
    //  Every batch waiting, while one more surely fits
    int received = 0;
    do {
        zmsg_t *msg = zmsg_recv (self->records);
        lot_metric_add (self->actor.received, msg != NULL);
        zframe_t *from = msg ? lot_msg_take_route (msg) : NULL;
        s_route_t *route = s_self_route (self, &from);
        int rc;
        while (route && (rc = lot_msg_next_records (msg, &self->batch [received])) != 0)
            if (rc == 1 && received < BATCH_MAX)
                self->batch [received++].sender = route;
            else
            if (rc == 1)        //  No room: the front-end sends it again
                zframe_destroy (&self->batch [received].frame);
        zmsg_destroy (&msg);
    } while (received + LOT_MSG_BATCH_MAX <= BATCH_MAX
         &&  (zsock_events (self->records) & ZMQ_POLLIN));
    received = s_self_rejoin (self, received);

    int appended = 0;
    bool finishing = false;
    for (int i = 0; i < received; i++) {
        lot_records_t *records = &self->batch [i];
        if (records->query)
            continue;
        self->chunks [i] = (lot_store_chunk_t) {
            .agency = records->agency, .position = records->position,
            .count = records->count, .last = records->last,
            .lines = records->lines, .size = records->size
        };
        self->verdicts [i] = lot_store_admit (self->store, &self->chunks [i],
                                              &self->reasons [i]);
        if (self->verdicts [i] == LOT_STORE_APPEND) {
            appended++;
            finishing |= records->last;
        }
    }
    const char *failure = appended ? lot_store_commit (self->store) : NULL;
    //  The group's lines go out before any of its answers
    lot_log_hold ();
    for (int i = 0; i < received; i++)
        if (!self->batch [i].query)
            s_self_confirm (self, i, failure);
    lot_log_release ();
    lot_store_metrics_batch (self->metrics, self->store, self->parked_count);
    for (int i = 0; i < received; i++)
        if (self->batch [i].query)
            s_self_send_result (self, &self->batch [i], true, NULL);
    s_self_send_answers (self);
    for (int i = 0; i < received; i++)
        zframe_destroy (&self->batch [i].frame);
    if (finishing && !failure)
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
        else
        if (which)
            lot_sockets_handle_event (self->actor.sockets, which);
        if (self->store && zclock_mono () >= self->next_status)
            s_self_send_status (self);
    }
    s_self_destroy (&self);
}
