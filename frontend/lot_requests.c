/*  lot_requests - an agency connection's requests, framed from its bytes  */
#include "lot_requests.h"
#include "lot_codec.h"
#include "lot_log.h"

struct _lot_requests_t {
    const lot_settings_t *settings;
    lot_conns_t *conns;
    lot_pipeline_t *pipeline;
    lot_desk_t *desk;
    lot_responder_t *responder;
    lot_gate_t *gate;
    size_t window_limit;        //  Bytes a v2 upload may hold: one more
                                //  chunk than MAX_IN_FLIGHT
};

lot_requests_t *
lot_requests_new (const lot_settings_t *settings, lot_conns_t *conns,
                  lot_pipeline_t *pipeline, lot_desk_t *desk,
                  lot_responder_t *responder, lot_gate_t *gate)
{
    lot_requests_t *self = calloc (1, sizeof *self);
    assert (self);
    *self = (lot_requests_t) {
        .settings = settings, .conns = conns, .pipeline = pipeline, .desk = desk,
        .responder = responder, .gate = gate,
        .window_limit = (size_t) (settings->max_in_flight + 1)
                      * (LOT_NUMBERED_HEADER + (size_t) settings->max_chunk_bytes)
    };
    return self;
}

void
lot_requests_destroy (lot_requests_t **self_p)
{
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

//  A winners query: 'W' then the agency as a string.
static void
s_take_query (lot_requests_t *self, lot_conn_t *conn)
{
    size_t size, total;
    const uint8_t *next = lot_conn_next (conn, &size);
    lot_span_t named;
    lot_codec_status_t status = lot_codec_query_measure (next, size, &named, &total);
    if (status == LOT_CODEC_INCOMPLETE)
        return;
    unsigned agency = 0;
    const char *reason = "unknown agency";
    if (status == LOT_CODEC_INVALID
    ||  lot_bet_parse_agency (named, (unsigned) self->settings->agencies, &agency)
    ||  (reason = lot_gate_admit (self->gate, conn, agency))) {
        lot_log_error ("action: consulta_ganadores | result: fail"
                       " | reason: %s | peer: %s", reason, lot_conn_peer (conn));
        //  v1 has no error form for a winners query: close without answer;
        //  our client on the secure port reads 'E'
        lot_responder_close (self->responder, conn, lot_conn_proven (conn) ? reason : NULL);
        return;
    }
    lot_conn_skip (conn, total);
    lot_conn_set_state (conn, LOT_CONN_WINNERS);
    lot_conn_set_agency (conn, agency);
    if (lot_desk_drawn (self->desk))
        lot_responder_answer_winners (self->responder, conn);
    else {
        lot_conn_t *oldest = lot_desk_hold (self->desk, conn);
        if (oldest)
            lot_responder_close (self->responder, oldest, NULL);
    }
}

//  Binds a bets connection to the agency it names, if it may speak for
//  it. A connection whose key proved the agency replaces the agency's
//  older one: an agency whose link died is not locked out by it.
static const char *
s_bind (lot_requests_t *self, lot_conn_t *conn, lot_span_t named)
{
    unsigned agency;
    if (lot_bet_parse_agency (named, (unsigned) self->settings->agencies, &agency))
        return "unknown agency";
    const char *reason = lot_gate_admit (self->gate, conn, agency);
    lot_conn_t *older = lot_conns_bets_of (self->conns, agency);
    if (!reason && older && lot_conn_proven (conn)) {
        lot_log_warning ("action: conexion | result: success | reason: replaced by a newer"
                         " connection of its agency | agencia: %u | peer: %s", agency,
                         lot_conn_peer (older));
        lot_responder_close (self->responder, older, "replaced by a newer connection"
                             " of its agency");
    }
    return reason ? reason : lot_conns_bind (self->conns, conn, named);
}

//  A v2 or v3 'H': version and agency, answered 'S' (in that version's
//  form) once the persister says how far the agency is stored.
static void
s_take_hello (lot_requests_t *self, lot_conn_t *conn)
{
    unsigned version;
    lot_span_t agency;
    size_t size, total;
    const uint8_t *next = lot_conn_next (conn, &size);
    lot_codec_status_t status = lot_codec_hello_measure (next, size, &version,
                                                         &agency, &total);
    if (status == LOT_CODEC_INCOMPLETE)
        return;
    if (status == LOT_CODEC_INVALID) {
        lot_responder_fail (self->responder, conn, "malformed hello");
        return;
    }
    bool known = lot_codec_version_known (version);
    lot_conn_set_version (conn, known ? (int) version : LOT_PROTOCOL_V2);
    const char *reason = known ? s_bind (self, conn, agency) : LOT_REASON_VERSION;
    if (reason) {
        lot_responder_refuse (self->responder, conn, reason, agency);
        return;
    }
    lot_conn_skip (conn, total);
    lot_conn_set_limit (conn, self->window_limit);
    lot_conn_set_state (conn, LOT_CONN_BETS);
    lot_pipeline_dispatch (self->pipeline, lot_conn_take_query (conn));
}

//  A v3 client whose own first bets are not those the 'S' describes
//  (their digest differs) sends 'E' and why instead of a chunk, and
//  closes: the conflict is logged, for the operator to look at, and the
//  connection closed. Returns -1: nothing more is done with it.
static int
s_take_conflict (lot_requests_t *self, lot_conn_t *conn)
{
    size_t size, total;
    const uint8_t *next = lot_conn_next (conn, &size);
    lot_span_t reason;
    if (lot_codec_error_measure (next, size, &reason, &total) == LOT_CODEC_INCOMPLETE)
        return -1;
    char text [LOT_REASON_MAX + 1];
    lot_log_printable (reason.data, reason.size, text, sizeof text);
    lot_log_error ("action: reanudar | result: fail | reason: %s | agencia: %u"
                   " | peer: %s", text, lot_conn_agency (conn), lot_conn_peer (conn));
    lot_responder_close (self->responder, conn, NULL);
    return -1;
}

//  The next complete chunk of a bets connection, to the handlers; a v1
//  connection's first chunk binds its agency and asks for its position
//  first. A v2 chunk sent while others of its connection are unanswered
//  must start where the last of them ends: the persister waits for the
//  bets before a chunk that came early, and none may be missing for good.
//  Returns -1 when nothing more can be done now.
static int
s_take_chunk (lot_requests_t *self, lot_conn_t *conn)
{
    size_t max = (size_t) self->settings->max_chunk_bytes;
    bool numbered = lot_conn_numbered (conn);
    size_t header = numbered ? LOT_NUMBERED_HEADER : 0;
    size_t size, length;
    const uint8_t *next = lot_conn_next (conn, &size);
    //  'E' comes where a chunk could, with none unanswered (docs/protocol.md);
    //  v2 has no digest to differ, and its 'E' stays an unknown tag
    if (lot_conn_version (conn) >= LOT_PROTOCOL_VERSION && next [0] == LOT_TAG_ERROR
    &&  lot_conn_items (conn) == 0)
        return s_take_conflict (self, conn);
    uint32_t position = (uint32_t) lot_conn_next_position (conn);
    const char *reason = NULL;
    lot_codec_status_t status = numbered
        ? lot_codec_numbered_measure (next, size, max, &position, &length, &reason)
        : lot_codec_chunk_measure (next, size, max, &length, &reason);
    if (status == LOT_CODEC_INCOMPLETE)
        return -1;
    lot_chunk_reader_t reader;
    if (status == LOT_CODEC_INVALID
    ||  lot_codec_chunk_open (&reader, next + header, length)) {
        lot_responder_fail (self->responder, conn, reason ? reason : "malformed chunk");
        return -1;
    }
    unsigned agency;
    if (lot_bet_parse_agency (reader.agency, (unsigned) self->settings->agencies,
                              &agency)) {
        //  Framing is intact: the connection may go on
        return lot_responder_reject (self->responder, conn, header + length, reader.count,
                                     "unknown agency");
    }
    bool bound = lot_conns_bets_of (self->conns, lot_conn_agency (conn)) == conn;
    if (bound && agency != lot_conn_agency (conn)) {
        lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                       " | reason: chunk for another agency | agencia: %u"
                       " | peer: %s", reader.count, lot_conn_agency (conn),
                       lot_conn_peer (conn));
        lot_responder_count_rejected (self->responder, conn, "chunk for another agency");
        lot_responder_close (self->responder, conn, "chunk for another agency");
        return -1;
    }
    if (!bound && (reason = s_bind (self, conn, reader.agency))) {
        lot_responder_log_rejected (self->responder, conn, reader.count, reason);
        lot_responder_refuse (self->responder, conn, reason, reader.agency);
        return -1;
    }
    if (numbered && lot_conn_items (conn) > 0
    &&  position != lot_conn_next_position (conn))
        return lot_responder_reject (self->responder, conn, header + length, reader.count,
                                     "chunk out of order");
    if (!numbered && !lot_conn_positioned (conn))
        lot_pipeline_dispatch (self->pipeline, lot_conn_take_query (conn));
    else {
        lot_pipeline_dispatch (self->pipeline, lot_conn_take (conn, header + length, header,
                                                              position, reader.count));
        if (numbered)
            lot_conn_set_next_position (conn, (uint64_t) position + reader.count);
    }
    return 0;
}

//  True when the connection may put another item in the pipeline: a v2
//  connection up to MAX_IN_FLIGHT chunks once its query is answered, any
//  other one item at a time (stop-and-wait). Past that its bytes wait.
static bool
s_has_room (lot_requests_t *self, lot_conn_t *conn)
{
    size_t items = lot_conn_items (conn);
    if (items == 0)
        return true;
    lot_item_t *last = lot_conn_item (conn, items - 1);
    return lot_conn_numbered (conn) && !lot_item_is_query (last)
        && items < (size_t) self->settings->max_in_flight;
}

void
lot_requests_process (lot_requests_t *self, lot_conn_t *conn)
{
    size_t size;
    const uint8_t *next;
    while ((next = lot_conn_next (conn, &size), size > 0)
       &&  s_has_room (self, conn)) {
        if (lot_conn_state (conn) == LOT_CONN_NEW) {
            if (next [0] == LOT_TAG_BETS) {
                lot_conn_set_state (conn, LOT_CONN_BETS);
                lot_conn_set_version (conn, 1);
                lot_conn_skip (conn, 1);
            }
            else
            if (next [0] == LOT_TAG_HELLO) {
                s_take_hello (self, conn);
                return;
            }
            else
            if (next [0] == LOT_TAG_WINNERS) {
                s_take_query (self, conn);
                return;
            }
            else
            if (next [0] == LOT_TAG_PING) {
                uint8_t answer = LOT_TAG_OK;
                if (lot_responder_answer (self->responder, conn, &answer, 1) == 0) {
                    lot_log_debug ("action: ping | result: success | peer: %s",
                                   lot_conn_peer (conn));
                    lot_responder_close (self->responder, conn, NULL);
                }
                return;
            }
            else {
                lot_responder_fail (self->responder, conn, "unknown message tag");
                return;
            }
        }
        else
        if (lot_conn_state (conn) == LOT_CONN_BETS) {
            if (s_take_chunk (self, conn))
                return;
        }
        else {
            //  Nothing may follow a winners query
            lot_conn_skip (conn, size);
        }
    }
}
