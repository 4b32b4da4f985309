/*  fuzz_stream - a connection's bytes framed as the front-end frames them

    Walks the bytes after the header (fuzz.h) as s_self_process in
    frontend/lot_frontend.c does, with lib/lot_codec alone, taking every
    item as answered at once (fuzz_conn pipelines them). The bytes arrive
    all at once, in pieces whose sizes the header seeds (each held in a
    heap block of exactly what has arrived), and a byte at a time, so that
    every prefix of every message is measured: the three must frame alike.
*/
#include "fuzz.h"
#include "lot_codec.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_AGENCIES          5       //  AGENCIES' default
#define S_AGENCY_DIGITS     10      //  The front-end's limit for 'W'

typedef enum { S_NEW, S_BETS, S_WINNERS, S_CLOSED } s_state_t;

//  What the front-end did with the bytes at offset.
typedef struct {
    char what;                  //  A message's tag; 'U' a chunk of an
                                //  unknown agency, skipped; 'X' closed
    size_t offset;
    size_t size;
} s_event_t;

typedef struct {
    size_t max;
    s_state_t state;
    int version;
    bool bound;
    unsigned agency;
    size_t consumed;            //  Bytes of the stream handled
    s_event_t *events;
    size_t count;
} s_conn_t;

static void
s_event (s_conn_t *conn, char what, size_t size)
{
    conn->events [conn->count++] = (s_event_t) { what, conn->consumed, size };
    conn->consumed += size;
    if (what == 'X')
        conn->state = S_CLOSED;
}

//  A connection's first message: 'B', 'H' with a known agency, 'W' with
//  one; 'P' is answered and closed, anything else an error, and closed.
//  Returns false when it needs more bytes.
static bool
s_take_first (s_conn_t *conn, const uint8_t *data, size_t size)
{
    unsigned version, agency;
    lot_span_t span;
    size_t total;
    lot_codec_status_t status;
    if (data [0] == LOT_TAG_BETS) {
        conn->state = S_BETS;
        conn->version = 1;
        s_event (conn, 'B', 1);
    }
    else
    if (data [0] == LOT_TAG_HELLO) {
        status = lot_codec_hello_measure (data, size, &version, &span, &total);
        if (status == LOT_CODEC_INCOMPLETE)
            assert (size < 5 + LOT_HELLO_AGENCY_MAX);
        else
        if (status == LOT_CODEC_INVALID || !lot_codec_version_known (version)
        ||  lot_bet_parse_agency (span, S_AGENCIES, &conn->agency))
            s_event (conn, 'X', 0);
        else {
            assert (total <= size);
            conn->state = S_BETS;
            conn->version = (int) version;
            conn->bound = true;
            s_event (conn, 'H', total);
        }
        return status != LOT_CODEC_INCOMPLETE;
    }
    else
    if (data [0] == LOT_TAG_WINNERS) {
        status = lot_codec_string_measure (data + 1, size - 1, S_AGENCY_DIGITS, &total);
        if (status == LOT_CODEC_INCOMPLETE)
            assert (size < 3 + S_AGENCY_DIGITS);
        else
        if (status == LOT_CODEC_INVALID
        ||  lot_bet_parse_agency ((lot_span_t) { (const char *) data + 3, total - 2 },
                                  S_AGENCIES, &agency))
            s_event (conn, 'X', 0);
        else {
            assert (1 + total <= size);
            conn->state = S_WINNERS;
            s_event (conn, 'W', 1 + total);
        }
        return status != LOT_CODEC_INCOMPLETE;
    }
    else
        s_event (conn, 'X', 0);
    return true;
}

//  The next chunk of a bets connection: an unknown agency's is answered
//  'E' and skipped, another agency's than the connection's closes it.
//  Returns false when it needs more bytes.
static bool
s_take_chunk (s_conn_t *conn, const uint8_t *data, size_t size)
{
    bool numbered = conn->version >= LOT_PROTOCOL_V2;     //  v2 or v3, alike here
    size_t offset = numbered ? LOT_NUMBERED_HEADER : 0;
    size_t length;
    uint32_t position;
    unsigned agency;
    const char *reason = NULL;
    lot_chunk_reader_t reader;
    lot_codec_status_t status = numbered
        ? lot_codec_numbered_measure (data, size, conn->max, &position, &length, &reason)
        : lot_codec_chunk_measure (data, size, conn->max, &length, &reason);
    if (status == LOT_CODEC_INCOMPLETE) {
        assert (size < offset + conn->max);
        return false;
    }
    assert (status == LOT_CODEC_COMPLETE || reason);
    if (status == LOT_CODEC_INVALID)
        s_event (conn, 'X', 0);
    else {
        assert (length <= conn->max && offset + length <= size);
        assert (lot_codec_chunk_open (&reader, data + offset, length) == 0);
        if (lot_bet_parse_agency (reader.agency, S_AGENCIES, &agency))
            s_event (conn, 'U', offset + length);
        else
        if (conn->bound && agency != conn->agency)
            s_event (conn, 'X', 0);
        else {
            conn->bound = true;
            conn->agency = agency;
            s_event (conn, data [0], offset + length);
        }
    }
    return true;
}

//  Handles what has arrived and is not yet handled: data, size bytes.
//  Nothing may follow 'W': ignored.
static void
s_process (s_conn_t *conn, const uint8_t *data, size_t size)
{
    while (size > 0 && conn->state != S_CLOSED) {
        size_t before = conn->consumed;
        if (conn->state == S_WINNERS)
            conn->consumed += size;
        else
        if (!(conn->state == S_NEW ? s_take_first (conn, data, size)
                                   : s_take_chunk (conn, data, size)))
            return;
        data += conn->consumed - before;
        size -= conn->consumed - before;
    }
}

//  The stream delivered in pieces of the given sizes (the last one takes
//  what is left); copied: each time, what is held is copied into a block
//  of its own size. Every event but the close takes a byte at least.
static s_conn_t
s_deliver (size_t max, const uint8_t *stream, size_t size, const size_t *pieces,
           bool copied)
{
    s_conn_t conn = { .max = max, .events = calloc (size + 1, sizeof (s_event_t)) };
    assert (conn.events);
    size_t arrived = 0;
    for (size_t i = 0; arrived < size; i++) {
        arrived += pieces [i] < size - arrived ? pieces [i] : size - arrived;
        size_t held = arrived - conn.consumed;
        uint8_t *copy = copied ? fuzz_copy (stream + conn.consumed, held) : NULL;
        s_process (&conn, copied ? copy : stream + conn.consumed, held);
        free (copy);
    }
    return conn;
}

//  Another delivery framed the same as the first; freed.
static void
s_assert_same (const s_conn_t *one, s_conn_t other)
{
    assert (one->state == other.state && one->consumed == other.consumed);
    assert (one->count == other.count);
    for (size_t i = 0; i < one->count; i++)
        assert (one->events [i].what == other.events [i].what
            &&  one->events [i].offset == other.events [i].offset
            &&  one->events [i].size == other.events [i].size);
    free (other.events);
}

int
LLVMFuzzerTestOneInput (const uint8_t *input, size_t input_size)
{
    fuzz_wire_t wire;
    if (fuzz_wire (input, input_size, &wire))
        return -1;              //  Not kept in the corpus
    size_t size = wire.size;
    size_t *pieces = calloc (size + 1, sizeof (size_t));
    pieces [0] = size;
    s_conn_t at_once = s_deliver (wire.max, wire.data, size, pieces, false);

    //  Pieces as TCP may cut them: mostly small, now and then large
    unsigned seed = wire.cut * 2654435761u;
    for (size_t i = 0; i < size; i++) {
        seed = seed * 1103515245u + 12345u;
        pieces [i] = 1 + ((seed >> 16) % 8 == 0 ? (seed >> 8) % 4096 : (seed >> 8) % 16);
    }
    s_assert_same (&at_once, s_deliver (wire.max, wire.data, size, pieces, true));
    for (size_t i = 0; i < size; i++)
        pieces [i] = 1;
    s_assert_same (&at_once, s_deliver (wire.max, wire.data, size, pieces, false));
    free (pieces);
    free (at_once.events);
    return 0;
}
