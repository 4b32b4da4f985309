/*  fuzz_stream - a connection's bytes framed as the front-end frames them

    Walks the bytes after the header (fuzz.h) the way s_self_process in
    frontend/lot_frontend.c does, with lib/lot_codec alone: 'B' then v1
    chunks, 'H' hello then 'N' numbered chunks, 'W' and its agency, 'P'.
    Every item is taken as answered at once (fuzz_conn pipelines a window
    of them, answered out of order). The bytes arrive three ways: all at
    once; in pieces whose sizes the header seeds, each piece held in a
    heap block of exactly what has arrived (AddressSanitizer reports any
    read past it); and one byte at a time, so that every prefix of every
    message is measured. What must hold:
    - the three ways frame the same messages at the same offsets and end
      the same way (a complete message is INCOMPLETE at every prefix, and
      what is INVALID was judged on bytes that had arrived);
    - a COMPLETE message lies within the bytes held and the packet limit;
    - bytes held while INCOMPLETE stay under the message's limit, which
      is what bounds a connection's buffer;
    - a chunk framed COMPLETE always opens (the front-end's "malformed
      chunk" after a complete frame cannot happen).
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
}

static void
s_close (s_conn_t *conn)
{
    s_event (conn, 'X', 0);
    conn->state = S_CLOSED;
}

//  A connection's first message. Returns false when it needs more bytes.
static bool
s_take_first (s_conn_t *conn, const uint8_t *data, size_t size)
{
    if (data [0] == LOT_TAG_BETS) {
        conn->state = S_BETS;
        conn->version = 1;
        s_event (conn, 'B', 1);
        return true;
    }
    if (data [0] == LOT_TAG_HELLO) {
        unsigned version;
        lot_span_t agency;
        size_t total;
        lot_codec_status_t status = lot_codec_hello_measure (data, size, &version,
                                                             &agency, &total);
        if (status == LOT_CODEC_INCOMPLETE) {
            assert (size < 5 + LOT_HELLO_AGENCY_MAX);
            return false;
        }
        if (status == LOT_CODEC_INVALID || version != LOT_PROTOCOL_VERSION
        ||  lot_bet_parse_agency (agency, S_AGENCIES, &conn->agency))
            s_close (conn);
        else {
            assert (total <= size);
            conn->state = S_BETS;
            conn->version = 2;
            conn->bound = true;
            s_event (conn, 'H', total);
        }
        return true;
    }
    if (data [0] == LOT_TAG_WINNERS) {
        size_t total;
        lot_codec_status_t status = lot_codec_string_measure (data + 1, size - 1,
                                                              S_AGENCY_DIGITS, &total);
        if (status == LOT_CODEC_INCOMPLETE) {
            assert (size < 3 + S_AGENCY_DIGITS);
            return false;
        }
        unsigned agency;
        if (status == LOT_CODEC_INVALID
        ||  lot_bet_parse_agency ((lot_span_t) { (const char *) data + 3, total - 2 },
                                  S_AGENCIES, &agency))
            s_close (conn);
        else {
            assert (1 + total <= size);
            conn->state = S_WINNERS;
            s_event (conn, 'W', 1 + total);
        }
        return true;
    }
    //  'P' is answered and closed; anything else is an error, and closed
    s_close (conn);
    return true;
}

//  The next chunk of a bets connection. Returns false when it needs more.
static bool
s_take_chunk (s_conn_t *conn, const uint8_t *data, size_t size)
{
    size_t offset = conn->version == 2 ? LOT_NUMBERED_HEADER : 0;
    size_t length;
    uint32_t position;
    const char *reason = NULL;
    lot_codec_status_t status = conn->version == 2
        ? lot_codec_numbered_measure (data, size, conn->max, &position, &length, &reason)
        : lot_codec_chunk_measure (data, size, conn->max, &length, &reason);
    if (status == LOT_CODEC_INCOMPLETE) {
        assert (size < offset + conn->max);
        return false;
    }
    if (status == LOT_CODEC_INVALID) {
        assert (reason);
        s_close (conn);
        return true;
    }
    assert (length <= conn->max && offset + length <= size);
    lot_chunk_reader_t reader;
    assert (lot_codec_chunk_open (&reader, data + offset, length) == 0);
    unsigned agency;
    if (lot_bet_parse_agency (reader.agency, S_AGENCIES, &agency))
        s_event (conn, 'U', offset + length);           //  'E', and go on
    else
    if (conn->bound && agency != conn->agency)
        s_close (conn);
    else {
        conn->bound = true;
        conn->agency = agency;
        s_event (conn, data [0], offset + length);
    }
    return true;
}

//  Handles what has arrived and is not yet handled: data, size bytes.
static void
s_process (s_conn_t *conn, const uint8_t *data, size_t size)
{
    while (size > 0 && conn->state != S_CLOSED) {
        size_t before = conn->consumed;
        if (conn->state == S_WINNERS)
            conn->consumed += size;     //  Nothing may follow 'W': ignored
        else
        if (!(conn->state == S_NEW ? s_take_first (conn, data, size)
                                   : s_take_chunk (conn, data, size)))
            return;
        data += conn->consumed - before;
        size -= conn->consumed - before;
    }
}

//  Delivers the stream in pieces of the given sizes (the last one takes
//  what is left); copied: each time, what is held is copied into a block
//  of its own size.
static void
s_deliver (s_conn_t *conn, const uint8_t *stream, size_t size, const size_t *pieces,
           bool copied)
{
    size_t arrived = 0;
    for (size_t i = 0; arrived < size; i++) {
        arrived += pieces [i] < size - arrived ? pieces [i] : size - arrived;
        size_t held = arrived - conn->consumed;
        if (copied) {
            uint8_t *copy = fuzz_copy (stream + conn->consumed, held);
            s_process (conn, copy, held);
            free (copy);
        }
        else
            s_process (conn, stream + conn->consumed, held);
    }
}

static s_conn_t
s_conn (size_t max, size_t size)
{
    //  Every event but the close takes a byte at least
    s_conn_t conn = { .max = max, .events = calloc (size + 1, sizeof (s_event_t)) };
    assert (conn.events);
    return conn;
}

static void
s_assert_same (const s_conn_t *one, const s_conn_t *other)
{
    assert (one->state == other->state && one->consumed == other->consumed);
    assert (one->count == other->count);
    for (size_t i = 0; i < one->count; i++)
        assert (one->events [i].what == other->events [i].what
            &&  one->events [i].offset == other->events [i].offset
            &&  one->events [i].size == other->events [i].size);
}

int
LLVMFuzzerTestOneInput (const uint8_t *input, size_t input_size)
{
    fuzz_wire_t wire;
    if (fuzz_wire (input, input_size, &wire))
        return -1;              //  Not kept in the corpus
    size_t max = wire.max, size = wire.size;
    const uint8_t *stream = wire.data;

    size_t whole [1] = { size };
    s_conn_t at_once = s_conn (max, size);
    s_deliver (&at_once, stream, size, whole, false);

    //  Pieces as TCP may cut them: mostly small, now and then large
    size_t *pieces = calloc (size + 1, sizeof (size_t));
    unsigned seed = wire.cut * 2654435761u;
    for (size_t i = 0; i < size; i++) {
        seed = seed * 1103515245u + 12345u;
        pieces [i] = 1 + ((seed >> 16) % 8 == 0 ? (seed >> 8) % 4096 : (seed >> 8) % 16);
    }
    s_conn_t in_pieces = s_conn (max, size);
    s_deliver (&in_pieces, stream, size, pieces, true);
    s_assert_same (&at_once, &in_pieces);

    for (size_t i = 0; i < size; i++)
        pieces [i] = 1;
    s_conn_t bytewise = s_conn (max, size);
    s_deliver (&bytewise, stream, size, pieces, false);
    s_assert_same (&at_once, &bytewise);

    free (pieces);
    free (at_once.events);
    free (in_pieces.events);
    free (bytewise.events);
    return 0;
}
