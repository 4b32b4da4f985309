/*  lot_desk - the winners desk: queries held until the draw, and the answers  */
#include "lot_desk.h"
#include "lot_conn_metrics.h"
#include "lot_codec.h"
#include "lot_log.h"
#include "lot_msg.h"

struct _lot_desk_t {
    const lot_settings_t *settings;
    zlistx_t *held;             //  Winners queries waiting for the draw
    size_t *held_of;            //  By agency: how many of them
    zchunk_t **answers;         //  By agency: the encoded winners answer
    lot_conn_metrics_t *metrics;    //  NULL: metrics off
};

lot_desk_t *
lot_desk_new (const lot_settings_t *settings)
{
    lot_desk_t *self = calloc (1, sizeof *self);
    assert (self);
    *self = (lot_desk_t) {
        .settings = settings,
        .held = zlistx_new (),
        .held_of = calloc ((size_t) settings->agencies + 1, sizeof *self->held_of),
        .metrics = lot_conn_metrics_new (settings->metrics, settings->max_connections),
    };
    assert (self->held && self->held_of);
    return self;
}

void
lot_desk_destroy (lot_desk_t **self_p)
{
    if (*self_p) {
        lot_desk_t *self = *self_p;
        zlistx_destroy (&self->held);
        lot_conn_metrics_destroy (&self->metrics);
        free (self->held_of);
        if (self->answers)
            for (long i = 1; i <= self->settings->agencies; i++)
                zchunk_destroy (&self->answers [i]);
        free (self->answers);
        free (self);
        *self_p = NULL;
    }
}

//  An agency's queries are bounded: a new one closes its oldest (an
//  honest agency asks once, and asks again when its connection drops).
lot_conn_t *
lot_desk_hold (lot_desk_t *self, lot_conn_t *conn)
{
    unsigned agency = lot_conn_agency (conn);
    lot_conn_t *oldest = NULL;
    if (self->held_of [agency] >= (size_t) self->settings->queries_per_agency)
        for (lot_conn_t *old = zlistx_first (self->held); old; old = zlistx_next (self->held))
            if (lot_conn_agency (old) == agency) {
                lot_log_warning ("action: consulta_ganadores | result: fail | agencia: %u"
                                 " | reason: more than %ld queries held for the agency"
                                 " | peer: %s", agency,
                                 self->settings->queries_per_agency, lot_conn_peer (old));
                oldest = old;
                break;
            }
    lot_conn_set_handle (conn, LOT_CONN_LIST_HELD, zlistx_add_end (self->held, conn));
    self->held_of [agency]++;
    lot_conn_metrics_held (self->metrics, zlistx_size (self->held));
    return oldest;
}

void
lot_desk_forget (lot_desk_t *self, lot_conn_t *conn)
{
    void *held = lot_conn_handle (conn, LOT_CONN_LIST_HELD);
    if (held) {
        zlistx_delete (self->held, held);
        self->held_of [lot_conn_agency (conn)]--;
        lot_conn_metrics_held (self->metrics, zlistx_size (self->held));
    }
    lot_conn_set_handle (conn, LOT_CONN_LIST_HELD, NULL);
}

lot_conn_t *
lot_desk_first (lot_desk_t *self)
{
    return zlistx_first (self->held);
}

//  Encodes each agency's answer once.
static zchunk_t *
s_encode_answer (const char *documents, size_t size)
{
    size_t capacity = 2 + 2 * size;
    uint8_t *answer = malloc (capacity);
    size_t used = answer ? lot_codec_winners_encode (answer, capacity, documents, size) : 0;
    zchunk_t *chunk = used ? zchunk_new (answer, used) : NULL;
    free (answer);
    return chunk;
}

int
lot_desk_set_winners (lot_desk_t *self, zmsg_t *msg)
{
    zmsg_t *winners = NULL;
    long agencies = self->settings->agencies;
    if (self->answers || lot_msg_recv_winners (msg, agencies, &winners)) {
        zmsg_destroy (&winners);
        return -1;
    }
    self->answers = calloc ((size_t) agencies + 1, sizeof *self->answers);
    assert (self->answers);
    size_t size;
    const char *documents = lot_msg_winners_first (winners, &size);
    for (long agency = 1; agency <= agencies; agency++) {
        if (!(self->answers [agency] = s_encode_answer (documents, size)))
            lot_log_error ("action: ganadores | result: fail | agencia: %ld"
                           " | reason: more winners than v1 can send", agency);
        documents = lot_msg_winners_next (winners, &size);
    }
    zmsg_destroy (&winners);
    return 0;
}

bool
lot_desk_drawn (lot_desk_t *self)
{
    return self->answers != NULL;
}

zchunk_t *
lot_desk_answer (lot_desk_t *self, unsigned agency)
{
    assert (self->answers && agency <= (unsigned) self->settings->agencies);
    return self->answers [agency];
}
