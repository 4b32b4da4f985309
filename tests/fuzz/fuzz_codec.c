/*  fuzz_codec - every decoder of lot_codec, on any bytes

    The bytes after the header (fuzz.h) go to each measure and decode
    entry whole, and cut at a point the header picks, as TCP may deliver
    them. Each piece is a heap block of its own size: a read past what has
    arrived is an AddressSanitizer report. What must hold:
    - a piece that holds the whole message frames it as the whole does; a
      shorter one is INCOMPLETE; an INVALID message is INVALID (with the
      same reason) or INCOMPLETE in every piece: it was judged on bytes
      that had arrived;
    - what is COMPLETE lies within the data and the packet limit;
    - a COMPLETE chunk opens, reads exactly its count of bets, ends where
      it was framed and encodes back to the same bytes; so do 'H', 'N'
      and 'S', an 'E' whose reason we could send, and a winners answer
      (documents no longer than the packet limit) whose documents hold
      no newline;
    - the handler's conversion of a valid chunk gives bets-file lines that
      lot_csv reads back as the same fields, as the draw will.
*/
#include "fuzz.h"
#include "lot_codec.h"
#include "lot_csv.h"
#include "lot_handler.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  What a measure said about some bytes.
typedef struct {
    lot_codec_status_t status;
    size_t size;                //  COMPLETE: the message's bytes
    const char *reason;         //  INVALID, when the measure gives one
} s_frame_t;

typedef s_frame_t (s_measure_fn) (const uint8_t *data, size_t size, size_t max);

static s_frame_t
s_chunk (const uint8_t *data, size_t size, size_t max)
{
    s_frame_t frame = { 0 };
    frame.status = lot_codec_chunk_measure (data, size, max, &frame.size, &frame.reason);
    if (frame.status == LOT_CODEC_COMPLETE)
        assert (frame.size >= LOT_CHUNK_HEADER_MIN && frame.size <= max);
    return frame;
}

static s_frame_t
s_numbered (const uint8_t *data, size_t size, size_t max)
{
    s_frame_t frame = { 0 };
    uint32_t position;
    frame.status = lot_codec_numbered_measure (data, size, max, &position,
                                               &frame.size, &frame.reason);
    if (frame.status == LOT_CODEC_COMPLETE) {
        assert (frame.size >= LOT_CHUNK_HEADER_MIN && frame.size <= max);
        uint8_t again [LOT_NUMBERED_HEADER];
        assert (lot_codec_numbered_encode (again, sizeof again, position)
                == LOT_NUMBERED_HEADER);
        assert (memcmp (again, data, LOT_NUMBERED_HEADER) == 0);
        frame.size += LOT_NUMBERED_HEADER;
    }
    return frame;
}

static s_frame_t
s_hello (const uint8_t *data, size_t size, size_t max)
{
    (void) max;
    s_frame_t frame = { 0 };
    unsigned version;
    lot_span_t agency;
    frame.status = lot_codec_hello_measure (data, size, &version, &agency, &frame.size);
    if (frame.status == LOT_CODEC_COMPLETE) {
        assert (agency.size <= LOT_HELLO_AGENCY_MAX);
        assert (frame.size == 5 + agency.size);
        assert ((const uint8_t *) agency.data == data + 5);
        uint8_t again [5 + LOT_HELLO_AGENCY_MAX];
        assert (lot_codec_hello_encode (again, sizeof again, version, agency) == frame.size);
        assert (memcmp (again, data, frame.size) == 0);
    }
    return frame;
}

static s_frame_t
s_string (const uint8_t *data, size_t size, size_t max)
{
    s_frame_t frame = { 0 };
    frame.status = lot_codec_string_measure (data, size, max, &frame.size);
    if (frame.status == LOT_CODEC_COMPLETE)
        assert (frame.size >= 2 && frame.size <= 2 + max);
    return frame;
}

//  'E' reason: a reason we could have sent encodes back to the same bytes.
static s_frame_t
s_error (const uint8_t *data, size_t size, size_t max)
{
    (void) max;
    s_frame_t frame = { 0 };
    lot_span_t reason;
    frame.status = lot_codec_error_measure (data, size, &reason, &frame.size);
    if (frame.status != LOT_CODEC_COMPLETE)
        return frame;
    assert ((const uint8_t *) reason.data == data + 3 && frame.size == 3 + reason.size);
    //  Ours are C strings of at most LOT_REASON_MAX bytes
    if (reason.size <= LOT_REASON_MAX && !memchr (reason.data, 0, reason.size)) {
        char text [LOT_REASON_MAX + 1];
        memcpy (text, reason.data, reason.size);
        text [reason.size] = 0;
        uint8_t again [LOT_ANSWER_MAX];
        assert (lot_codec_error_encode (again, sizeof again, text) == frame.size);
        assert (memcmp (again, data, frame.size) == 0);
    }
    return frame;
}

static s_frame_t
s_stored (const uint8_t *data, size_t size, size_t max)
{
    (void) max;
    s_frame_t frame = { 0 };
    uint32_t stored;
    bool finished;
    const uint8_t *digest;
    frame.status = lot_codec_stored_measure (data, size, &stored, &finished, &digest,
                                             &frame.size);
    if (frame.status == LOT_CODEC_COMPLETE) {
        uint8_t again [LOT_STORED_SIZE];
        assert (digest == data + LOT_STORED_SIZE - LOT_DIGEST_SIZE);
        assert (lot_codec_stored_encode (again, sizeof again, stored, finished, digest)
                == frame.size);
        assert (memcmp (again, data, frame.size) == 0);
    }
    return frame;
}

//  The winners answer, with max as the longest document: it holds what
//  it counts, within itself, and documents with no newline in them
//  encode back to the same bytes.
static s_frame_t
s_winners (const uint8_t *data, size_t size, size_t max)
{
    s_frame_t frame = { 0 };
    lot_winners_reader_t reader;
    frame.status = lot_codec_winners_measure (data, size, max, &reader, &frame.size);
    if (frame.status != LOT_CODEC_COMPLETE)
        return frame;
    assert (reader.count == lot_codec_winners_count (data, size));
    char *documents = malloc (frame.size);
    size_t used = 0;
    bool joined = true;
    unsigned read = 0;
    lot_span_t document;
    while (lot_codec_winners_next (&reader, &document)) {
        assert ((const uint8_t *) document.data >= data + 2
            &&  (const uint8_t *) document.data + document.size <= data + frame.size);
        assert (document.size <= max);
        joined &= !memchr (document.data, '\n', document.size);
        memcpy (documents + used, document.data, document.size);
        used += document.size;
        documents [used++] = '\n';
        read++;
    }
    assert (read == reader.count);
    if (joined) {
        uint8_t *again = malloc (2 + 2 * used);
        assert (lot_codec_winners_encode (again, 2 + 2 * used, documents, used)
                == frame.size);
        assert (memcmp (again, data, frame.size) == 0);
        free (again);
    }
    free (documents);
    return frame;
}

//  Measures the whole and the first split bytes; returns the whole's frame.
static s_frame_t
s_measure (s_measure_fn *measure, const uint8_t *data, size_t size, size_t max,
           size_t split)
{
    uint8_t *copy = fuzz_copy (data, size);
    s_frame_t whole = measure (copy, size, max);
    free (copy);
    if (whole.status == LOT_CODEC_COMPLETE)
        assert (whole.size <= size);
    copy = fuzz_copy (data, split);
    s_frame_t piece = measure (copy, split, max);
    free (copy);
    if (whole.status == LOT_CODEC_COMPLETE && split >= whole.size)
        assert (piece.status == LOT_CODEC_COMPLETE && piece.size == whole.size);
    else
    if (whole.status == LOT_CODEC_INVALID && piece.status == LOT_CODEC_INVALID)
        assert (piece.reason == whole.reason);
    else
        assert (piece.status == LOT_CODEC_INCOMPLETE);
    return whole;
}

//  The handler's lines for a valid chunk, read back as the draw reads the
//  bets file: one record of six fields for each bet, the same fields.
static void
s_check_lines (const uint8_t *chunk, size_t size, const char *lines, size_t used,
               unsigned agency)
{
    FILE *file = fmemopen ((void *) lines, used, "rb");
    assert (file);
    lot_csv_t *csv = lot_csv_new_stream (file);
    assert (csv);
    lot_chunk_reader_t reader;
    assert (lot_codec_chunk_open (&reader, chunk, size) == 0);
    lot_span_t sent [LOT_BET_FIELDS];
    lot_span_t read [1 + LOT_BET_FIELDS + 1];
    while (lot_codec_chunk_next (&reader, sent) == 1) {
        assert (lot_csv_next (csv, read, 1 + LOT_BET_FIELDS + 1) == 1 + LOT_BET_FIELDS);
        unsigned read_agency, read_number, sent_number;
        assert (lot_bet_parse_agency (read [0], UINT16_MAX, &read_agency) == 0);
        assert (read_agency == agency);
        for (int i = 0; i < LOT_BET_FIELDS - 1; i++)
            assert (read [1 + i].size == sent [i].size
                &&  memcmp (read [1 + i].data, sent [i].data, sent [i].size) == 0);
        //  The number is written in its shortest form
        assert (lot_bet_parse_uint (read [5], 10, LOT_NUMBER_MAX, &read_number) == 0);
        assert (lot_bet_parse_uint (sent [4], 10, LOT_NUMBER_MAX, &sent_number) == 0);
        assert (read_number == sent_number);
    }
    assert (lot_csv_next (csv, read, 1 + LOT_BET_FIELDS + 1) == 0);
    assert (!lot_csv_failed (csv));
    lot_csv_destroy (&csv);
}

//  A chunk as framed: read it, encode it again, convert it.
static void
s_check_chunk (const uint8_t *data, size_t size)
{
    uint8_t *chunk = fuzz_copy (data, size);
    lot_chunk_reader_t reader;
    assert (lot_codec_chunk_open (&reader, chunk, size) == 0);
    uint8_t *again = malloc (size);
    lot_chunk_writer_t writer;
    assert (lot_codec_chunk_start (&writer, again, size, reader.agency) == 0);
    lot_span_t fields [LOT_BET_FIELDS];
    unsigned bets = 0;
    int rc;
    while ((rc = lot_codec_chunk_next (&reader, fields)) == 1) {
        for (int i = 0; i < LOT_BET_FIELDS; i++)
            assert ((const uint8_t *) fields [i].data >= chunk
                &&  (const uint8_t *) fields [i].data + fields [i].size <= chunk + size);
        assert (lot_codec_chunk_add (&writer, fields) == 0);
        bets++;
    }
    assert (rc == 0 && bets == reader.count);
    assert (lot_codec_chunk_finish (&writer, reader.last) == size);
    assert (memcmp (again, chunk, size) == 0);
    free (again);

    char *lines = NULL;
    size_t capacity = 0, used = 0;
    unsigned agency, count;
    bool last;
    const char *reason = lot_handler_convert (chunk, size, UINT16_MAX, &lines,
                                              &capacity, &used, &agency, &last, &count);
    assert (count == reader.count && last == reader.last);
    if (reason || count == 0)
        assert (used == 0);
    else
        s_check_lines (chunk, size, lines, used, agency);
    free (lines);
    free (chunk);
}

static void
s_check_stored (const uint8_t *data, size_t size)
{
    if (size < LOT_STORED_SIZE)
        return;
    uint8_t *copy = fuzz_copy (data, LOT_STORED_SIZE);
    uint32_t stored;
    bool finished;
    const uint8_t *digest;
    size_t total;
    if (lot_codec_stored_measure (copy, LOT_STORED_SIZE, &stored, &finished, &digest,
                                  &total) == LOT_CODEC_COMPLETE) {
        uint8_t again [LOT_STORED_SIZE];
        assert (lot_codec_stored_encode (again, sizeof again, stored, finished, digest)
                == LOT_STORED_SIZE);
        assert (memcmp (again, copy, LOT_STORED_SIZE) == 0);
    }
    else
        assert (copy [0] != LOT_TAG_STORED || copy [5] > 1);
    free (copy);
}

int
LLVMFuzzerTestOneInput (const uint8_t *input, size_t input_size)
{
    fuzz_wire_t wire;
    if (fuzz_wire (input, input_size, &wire))
        return -1;              //  Not kept in the corpus
    size_t max = wire.max, size = wire.size;
    const uint8_t *data = wire.data;
    size_t split = size * wire.cut / UINT8_MAX;

    s_frame_t chunk = s_measure (s_chunk, data, size, max, split);
    if (chunk.status == LOT_CODEC_COMPLETE)
        s_check_chunk (data, chunk.size);
    s_frame_t numbered = s_measure (s_numbered, data, size, max, split);
    if (numbered.status == LOT_CODEC_COMPLETE)
        s_check_chunk (data + LOT_NUMBERED_HEADER, numbered.size - LOT_NUMBERED_HEADER);
    s_measure (s_hello, data, size, max, split);
    s_measure (s_string, data, size, max, split);
    s_measure (s_error, data, size, max, split);
    s_measure (s_stored, data, size, max, split);
    s_measure (s_winners, data, size, max, split);
    s_check_stored (data, size);
    //  Any bytes at all, as a handler may be sent them
    char *lines = NULL;
    size_t capacity = 0, used = 0;
    unsigned agency, count;
    bool last;
    if (lot_handler_convert (data, size, UINT16_MAX, &lines, &capacity, &used,
                             &agency, &last, &count))
        assert (used == 0);
    free (lines);
    return 0;
}
