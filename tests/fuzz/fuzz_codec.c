/*  fuzz_codec - every decoder of lot_codec, on any bytes

    The bytes after the header (fuzz.h) go to each measure whole, and cut
    where the header says, as TCP may deliver them, each piece in a heap
    block of its own size: a read past what has arrived is reported. What
    is decoded encodes back to the same bytes; the handler's lines for a
    valid chunk are read back as the draw reads the bets file.
*/
#include "fuzz.h"
#include "lot_codec.h"
#include "lot_convert.h"

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

//  The written bytes at again are exactly the size bytes at data.
static void
s_same (const uint8_t *again, size_t written, const uint8_t *data, size_t size)
{
    assert (written == size && memcmp (again, data, size) == 0);
}

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
    uint8_t again [LOT_NUMBERED_HEADER];
    frame.status = lot_codec_numbered_measure (data, size, max, &position,
                                               &frame.size, &frame.reason);
    if (frame.status == LOT_CODEC_COMPLETE) {
        assert (frame.size >= LOT_CHUNK_HEADER_MIN && frame.size <= max);
        s_same (again, lot_codec_numbered_encode (again, sizeof again, position), data,
                LOT_NUMBERED_HEADER);
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
    uint8_t again [5 + LOT_HELLO_AGENCY_MAX];
    frame.status = lot_codec_hello_measure (data, size, &version, &agency, &frame.size);
    if (frame.status == LOT_CODEC_COMPLETE) {
        assert (agency.size <= LOT_HELLO_AGENCY_MAX && frame.size == 5 + agency.size);
        assert ((const uint8_t *) agency.data == data + 5);
        s_same (again, lot_codec_hello_encode (again, sizeof again, version, agency), data,
                frame.size);
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

//  'E' reason: a reason we could have sent (a C string of at most
//  LOT_REASON_MAX bytes) encodes back to the same bytes.
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
    if (reason.size <= LOT_REASON_MAX && !memchr (reason.data, 0, reason.size)) {
        char text [LOT_REASON_MAX + 1] = { 0 };
        uint8_t again [LOT_ANSWER_MAX];
        memcpy (text, reason.data, reason.size);
        s_same (again, lot_codec_error_encode (again, sizeof again, text), data, frame.size);
    }
    return frame;
}

//  'S' in a version (the one place that knows its layout): what frames
//  encodes back, and every 'S' whose finished byte is 0 or 1 frames, in
//  v3 with the digest, in v2 as its first 6 bytes alone.
static s_frame_t
s_stored (const uint8_t *data, size_t size, unsigned version)
{
    s_frame_t frame = { 0 };
    uint32_t stored;
    bool finished;
    const uint8_t *digest;
    uint8_t again [LOT_STORED_SIZE_V3];
    size_t want = lot_codec_stored_size (version);
    frame.status = lot_codec_stored_measure (data, size, version, &stored, &finished,
                                             &digest, &frame.size);
    if (frame.status == LOT_CODEC_COMPLETE) {
        assert (frame.size == want);
        assert (version == 2 ? digest == NULL : digest == data + LOT_STORED_SIZE_V2);
        s_same (again, lot_codec_stored_encode (again, sizeof again, version, stored,
                                                finished, digest),
                data, frame.size);
    }
    else
    if (size >= want)
        assert (data [0] != LOT_TAG_STORED || data [5] > 1);
    return frame;
}

static s_frame_t
s_stored_v2 (const uint8_t *data, size_t size, size_t max)
{
    (void) max;
    return s_stored (data, size, 2);
}

static s_frame_t
s_stored_v3 (const uint8_t *data, size_t size, size_t max)
{
    (void) max;
    s_frame_t frame = s_stored (data, size, 3);
    //  v2 reads the same bytes alike, up to its own end
    s_frame_t v2 = s_stored (data, size, 2);
    assert (v2.status == frame.status || (frame.status == LOT_CODEC_INCOMPLETE
                                          && size >= LOT_STORED_SIZE_V2));
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
    uint8_t *again = malloc (2 + 2 * used);
    if (joined)
        s_same (again, lot_codec_winners_encode (again, 2 + 2 * used, documents, used), data,
                frame.size);
    free (again);
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
    assert (whole.status != LOT_CODEC_COMPLETE || whole.size <= size);
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
//  bets file: one record of six fields for each bet, the same fields, the
//  number in its shortest form.
static void
s_check_lines (const uint8_t *chunk, size_t size, const char *lines, size_t used,
               unsigned agency)
{
    lot_csv_t *csv = fuzz_csv (lines, used);
    lot_chunk_reader_t reader;
    assert (lot_codec_chunk_open (&reader, chunk, size) == 0);
    lot_span_t sent [LOT_BET_FIELDS];
    lot_span_t read [1 + LOT_BET_FIELDS + 1];
    unsigned read_agency, read_number, sent_number;
    while (lot_codec_chunk_next (&reader, sent) == 1) {
        assert (lot_csv_next (csv, read, 1 + LOT_BET_FIELDS + 1) == 1 + LOT_BET_FIELDS);
        assert (lot_bet_parse_agency (read [0], UINT16_MAX, &read_agency) == 0);
        assert (read_agency == agency);
        for (int i = 0; i < LOT_BET_FIELDS - 1; i++)
            s_same ((const uint8_t *) read [1 + i].data, read [1 + i].size,
                    (const uint8_t *) sent [i].data, sent [i].size);
        assert (lot_bet_parse_uint (read [5], 10, LOT_NUMBER_MAX, &read_number) == 0);
        assert (lot_bet_parse_uint (sent [4], 10, LOT_NUMBER_MAX, &sent_number) == 0);
        assert (read_number == sent_number);
    }
    assert (lot_csv_next (csv, read, 1 + LOT_BET_FIELDS + 1) == 0);
    assert (!lot_csv_failed (csv));
    lot_csv_destroy (&csv);
}

//  The handler's conversion of any bytes: no lines when it rejects them,
//  nor for a chunk of no bets; a valid chunk's lines checked.
static void
s_convert (const uint8_t *data, size_t size, const lot_chunk_reader_t *framed)
{
    char *lines = NULL;
    size_t capacity = 0, used = 0;
    unsigned agency, count;
    bool last;
    const char *reason = lot_convert_chunk (data, size, UINT16_MAX, &lines,
                                              &capacity, &used, &agency, &last, &count);
    if (framed)
        assert (count == framed->count && last == framed->last);
    if (reason || (framed && count == 0))
        assert (used == 0);
    else
    if (framed)
        s_check_lines (data, size, lines, used, agency);
    free (lines);
}

//  A chunk as framed: read it, encode it again, convert it.
static void
s_check_chunk (const uint8_t *data, size_t size)
{
    uint8_t *chunk = fuzz_copy (data, size);
    uint8_t *again = malloc (size);
    lot_chunk_reader_t reader;
    lot_chunk_writer_t writer;
    lot_span_t fields [LOT_BET_FIELDS];
    unsigned bets = 0;
    int rc;
    assert (lot_codec_chunk_open (&reader, chunk, size) == 0);
    assert (lot_codec_chunk_start (&writer, again, size, reader.agency) == 0);
    while ((rc = lot_codec_chunk_next (&reader, fields)) == 1) {
        for (int i = 0; i < LOT_BET_FIELDS; i++)
            assert ((const uint8_t *) fields [i].data >= chunk
                &&  (const uint8_t *) fields [i].data + fields [i].size <= chunk + size);
        assert (lot_codec_chunk_add (&writer, fields) == 0);
        bets++;
    }
    assert (rc == 0 && bets == reader.count);
    s_same (again, lot_codec_chunk_finish (&writer, reader.last), chunk, size);
    free (again);
    s_convert (chunk, size, &reader);
    free (chunk);
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
    s_measure (s_stored_v2, data, size, max, split);
    s_measure (s_stored_v3, data, size, max, split);
    s_measure (s_winners, data, size, max, split);
    s_convert (data, size, NULL);       //  Any bytes, as a handler may be sent them
    return 0;
}
