/*  lot_group - the persister's group commit: the chunks it takes at once  */
#include "lot_group.h"
#include "lot_csv.h"
#include "lot_log.h"
#include "lot_msg.h"

#define ACTOR "persister"       //  Whose lines these are
#define BATCH_MAX 256           //  Chunks per write and fdatasync
#define PARKED_MAX 256          //  Chunks that wait for the bets before them

struct _lot_group_t {
    const lot_settings_t *settings;
    lot_store_t *store;         //  The bets file and its journal
    lot_store_metrics_t *metrics;   //  NULL: metrics off
    //  A batch: what came, then what was parked
    lot_records_t batch [BATCH_MAX + PARKED_MAX];
    lot_store_chunk_t chunks [BATCH_MAX + PARKED_MAX];
    lot_store_verdict_t verdicts [BATCH_MAX + PARKED_MAX];
    const char *reasons [BATCH_MAX + PARKED_MAX];
    int received;               //  Chunks in the batch
    lot_records_t parked [PARKED_MAX];  //  In agency and position order
    zlistx_t *routes;           //  Front-ends to answer (s_route_t): those
                                //  of this group, and of the parked chunks
    int parked_count;
};

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
s_self_route (lot_group_t *self, zframe_t **route_p)
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

lot_group_t *
lot_group_new (const lot_settings_t *settings, lot_store_t *store,
               lot_store_metrics_t *metrics)
{
    assert (settings && store);
    lot_group_t *self = calloc (1, sizeof *self);
    assert (self);
    self->settings = settings;
    self->store = store;
    self->metrics = metrics;
    self->routes = zlistx_new ();
    assert (self->routes);
    zlistx_set_destructor (self->routes, s_route_destroy);
    return self;
}

void
lot_group_destroy (lot_group_t **self_p)
{
    if (*self_p) {
        lot_group_t *self = *self_p;
        zlistx_destroy (&self->routes);
        for (int i = 0; i < self->parked_count; i++)
            zframe_destroy (&self->parked [i].frame);
        free (self);
        *self_p = NULL;
    }
}

//  Each bet of a stored chunk, for DEBUG
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
s_self_add_result (lot_group_t *self, const lot_records_t *records, bool ok,
                   const char *reason)
{
    bool known = records->agency >= 1 && records->agency <= self->settings->agencies;
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
static void
s_self_rejoin (lot_group_t *self)
{
    memcpy (self->batch + self->received, self->parked,
            (size_t) self->parked_count * sizeof *self->parked);
    self->received += self->parked_count;
    self->parked_count = 0;
    qsort (self->batch, (size_t) self->received, sizeof *self->batch, s_records_compare);
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
s_self_park (lot_group_t *self, lot_records_t *records)
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
    if (waiting >= self->settings->max_in_flight || self->parked_count == PARKED_MAX) {
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
s_self_confirm (lot_group_t *self, int i, const char *failure)
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
        s_self_add_result (self, records, false, reason);
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
    s_self_add_result (self, records, true, NULL);
}

bool
lot_group_add (lot_group_t *self, zmsg_t **msg_p)
{
    zmsg_t *msg = *msg_p;
    zframe_t *from = msg ? lot_msg_take_route (msg) : NULL;
    s_route_t *route = s_self_route (self, &from);
    int rc;
    while (route && (rc = lot_msg_next_records (msg, &self->batch [self->received])) != 0)
        if (rc == 1 && self->received < BATCH_MAX)
            self->batch [self->received++].sender = route;
        else
        if (rc == 1)            //  No room: the front-end sends it again
            zframe_destroy (&self->batch [self->received].frame);
    zmsg_destroy (msg_p);
    return self->received + LOT_MSG_BATCH_MAX <= BATCH_MAX;
}

//  Decides each chunk against the store, writes the new ones in one
//  group commit, then answers all (queries last, so they count this
//  group).
bool
lot_group_commit (lot_group_t *self)
{
    s_self_rejoin (self);
    int received = self->received;
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
            s_self_add_result (self, &self->batch [i], true, NULL);
    return finishing && !failure;
}

//  Sends each front-end its answers, then forgets the front-ends no parked
//  chunk waits to answer. A batch that cannot be handed on in
//  SEND_TIMEOUT is dropped: the front-end sends its items again and gets
//  their answers then.
int
lot_group_answer (lot_group_t *self, zsock_t *results)
{
    int sent = 0;
    s_route_t *route = zlistx_first (self->routes);
    while (route) {
        if (route->answers && lot_msg_send (&route->answers, results) == 0)
            sent++;
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
    //  The group is over: its chunks were answered, or parked
    for (int i = 0; i < self->received; i++)
        zframe_destroy (&self->batch [i].frame);
    self->received = 0;
    return sent;
}
