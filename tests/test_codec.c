/*  test_codec - the agency wire protocol v1, byte for byte

    Framing (lot_codec_chunk_measure, lot_codec_string_measure), decoding
    (lot_chunk_reader_t), encoding (lot_chunk_writer_t), the answers an
    agency reads ('E', 'S', the winners) and primitives.
    Buffers under test sit right before a PROT_NONE page, so reading one
    byte past what was handed in crashes the test instead of passing.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lot_codec.h"
#include "testutil.h"

//  --------------------------------------------------------------------------
//  Guarded buffers: the data ends exactly where an unreadable page begins

#define GUARD_SPAN  (1 << 20)       //  Largest buffer placed before the guard

static uint8_t *s_guard_base;       //  Mapping start
static uint8_t *s_guard_end;        //  First byte of the PROT_NONE page
static size_t s_page;

static int
s_guard_setup (void **state)
{
    (void) state;
    s_page = (size_t) sysconf (_SC_PAGESIZE);
    size_t span = (GUARD_SPAN + s_page - 1) / s_page * s_page;
    s_guard_base = mmap (NULL, span + s_page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s_guard_base == MAP_FAILED)
        return -1;
    s_guard_end = s_guard_base + span;
    return mprotect (s_guard_end, s_page, PROT_NONE);
}

static int
s_guard_teardown (void **state)
{
    (void) state;
    munmap (s_guard_base, (size_t) (s_guard_end - s_guard_base) + s_page);
    return 0;
}

//  Copies size bytes so that they end at the guard page; returns where.
static const uint8_t *
s_guarded (const void *data, size_t size)
{
    assert_true (size <= GUARD_SPAN);
    uint8_t *place = s_guard_end - size;
    if (size)
        memmove (place, data, size);
    return place;
}

//  --------------------------------------------------------------------------
//  Building chunks by hand

typedef struct {
    uint8_t data [65536 + 64];
    size_t size;
} buf_t;

static void
s_byte (buf_t *buf, uint8_t byte)
{
    buf->data [buf->size++] = byte;
}

static void
s_u16 (buf_t *buf, unsigned value)
{
    s_byte (buf, (uint8_t) (value >> 8));
    s_byte (buf, (uint8_t) value);
}

static void
s_str (buf_t *buf, const char *text)
{
    size_t size = strlen (text);
    s_u16 (buf, (unsigned) size);
    memcpy (buf->data + buf->size, text, size);
    buf->size += size;
}

//  A string of length bytes, all 'x', announced by its length.
static void
s_str_len (buf_t *buf, size_t length)
{
    s_u16 (buf, (unsigned) length);
    memset (buf->data + buf->size, 'x', length);
    buf->size += length;
}

//  The captured example of protocol.md: agency 5, first bet of its chunk
static const char *s_valentina [LOT_BET_FIELDS] = {
    "Valentina", "Vera", "30170921", "1982-05-22", "6053"
};

static const uint8_t s_captured_bet [] = {
    0x00, 0x09, 0x56, 0x61, 0x6c, 0x65, 0x6e, 0x74, 0x69, 0x6e, 0x61,
    0x00, 0x04, 0x56, 0x65, 0x72, 0x61,
    0x00, 0x08, 0x33, 0x30, 0x31, 0x37, 0x30, 0x39, 0x32, 0x31,
    0x00, 0x0a, 0x31, 0x39, 0x38, 0x32, 0x2d, 0x30, 0x35, 0x2d, 0x32, 0x32,
    0x00, 0x04, 0x36, 0x30, 0x35, 0x33
};

static void
s_valentina_fields (lot_span_t fields [LOT_BET_FIELDS])
{
    for (int i = 0; i < LOT_BET_FIELDS; i++)
        fields [i] = tu_span (s_valentina [i]);
}

//  A valid chunk with varied fields: 'L', agency "12", three bets.
static void
s_sample_chunk (buf_t *buf)
{
    buf->size = 0;
    s_byte (buf, 'L');
    s_u16 (buf, 3);
    s_str (buf, "12");
    const char *bets [3][LOT_BET_FIELDS] = {
        { "Valentina", "Vera", "30170921", "1982-05-22", "6053" },
        { "Jos\xc3\xa9 Mar\xc3\xad" "a", "O'Brien, Jr.", "1", "2000-02-29", "0" },
        { "A", "", "1234567890", "1999-12-31", "9999" },
    };
    for (int b = 0; b < 3; b++)
        for (int f = 0; f < LOT_BET_FIELDS; f++)
            s_str (buf, bets [b][f]);
}

static lot_codec_status_t
s_measure (const void *data, size_t size, size_t max, size_t *chunk_size,
           const char **reason)
{
    return lot_codec_chunk_measure (s_guarded (data, size), size, max,
                                    chunk_size, reason);
}

//  --------------------------------------------------------------------------
//  The captured example

static void
test_captured_example_encode (void **state)
{
    (void) state;
    uint8_t out [LOT_CHUNK_MAX_DEFAULT];
    lot_chunk_writer_t writer;
    lot_span_t fields [LOT_BET_FIELDS];
    s_valentina_fields (fields);

    //  One bet: the whole chunk byte for byte
    assert_int_equal (lot_codec_chunk_start (&writer, out, sizeof out, tu_span ("5")), 0);
    assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    size_t size = lot_codec_chunk_finish (&writer, false);
    uint8_t expected [6 + sizeof s_captured_bet] = { 0x43, 0x00, 0x01, 0x00, 0x01, 0x35 };
    memcpy (expected + 6, s_captured_bet, sizeof s_captured_bet);
    assert_int_equal (size, sizeof expected);
    assert_int_equal (writer.size, sizeof expected);
    assert_int_equal (writer.count, 1);
    assert_memory_equal (out, expected, sizeof expected);

    //  Fifty bets, as captured: 43 0032 0001 35 then the bets
    assert_int_equal (lot_codec_chunk_start (&writer, out, sizeof out, tu_span ("5")), 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    size = lot_codec_chunk_finish (&writer, false);
    assert_int_equal (size, 6 + 50 * sizeof s_captured_bet);
    static const uint8_t header [] = { 0x43, 0x00, 0x32, 0x00, 0x01, 0x35 };
    assert_memory_equal (out, header, sizeof header);
    for (int i = 0; i < 50; i++)
        assert_memory_equal (out + 6 + i * sizeof s_captured_bet,
                             s_captured_bet, sizeof s_captured_bet);
}

static void
test_captured_example_decode (void **state)
{
    (void) state;
    buf_t buf = { .size = 0 };
    s_byte (&buf, 0x43);
    s_u16 (&buf, 50);
    s_str (&buf, "5");
    for (int i = 0; i < 50; i++) {
        memcpy (buf.data + buf.size, s_captured_bet, sizeof s_captured_bet);
        buf.size += sizeof s_captured_bet;
    }
    size_t chunk_size = 0;
    const char *reason = NULL;
    assert_int_equal (s_measure (buf.data, buf.size, LOT_CHUNK_MAX_DEFAULT,
                                 &chunk_size, &reason), LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, 2256);
    assert_int_equal (chunk_size, buf.size);

    const uint8_t *data = s_guarded (buf.data, buf.size);
    lot_chunk_reader_t reader;
    assert_int_equal (lot_codec_chunk_open (&reader, data, buf.size), 0);
    assert_false (reader.last);
    assert_int_equal (reader.count, 50);
    assert_int_equal (reader.left, 50);
    tu_assert_span (reader.agency, "5");
    assert_ptr_equal (reader.agency.data, data + 5);
    lot_span_t fields [LOT_BET_FIELDS];
    for (int i = 0; i < 50; i++) {
        assert_int_equal (lot_codec_chunk_next (&reader, fields), 1);
        for (int f = 0; f < LOT_BET_FIELDS; f++)
            tu_assert_span (fields [f], s_valentina [f]);
        //  Views into the buffer, no copies
        assert_ptr_equal (fields [0].data, data + 6 + i * sizeof s_captured_bet + 2);
    }
    assert_int_equal (reader.left, 0);
    assert_int_equal (lot_codec_chunk_next (&reader, fields), 0);
    assert_int_equal (lot_codec_chunk_next (&reader, fields), 0);
}

//  Winners connection of agency 5: 57 0001 35, answered by 0000.
static void
test_captured_winners_query (void **state)
{
    (void) state;
    uint8_t out [8];
    out [0] = LOT_TAG_WINNERS;
    assert_int_equal (lot_codec_put_string (out + 1, sizeof out - 1, tu_span ("5")), 3);
    static const uint8_t query [] = { 0x57, 0x00, 0x01, 0x35 };
    assert_memory_equal (out, query, sizeof query);
    assert_int_equal (lot_codec_put_u16 (out, sizeof out, 0), 2);
    assert_int_equal (out [0], 0);
    assert_int_equal (out [1], 0);
    assert_int_equal (LOT_TAG_BETS, 0x42);
    assert_int_equal (LOT_TAG_CHUNK, 0x43);
    assert_int_equal (LOT_TAG_LAST, 0x4c);
    assert_int_equal (LOT_TAG_OK, 0x4f);
    assert_int_equal (LOT_TAG_ERROR, 0x45);
}

//  --------------------------------------------------------------------------
//  Chunk fields, tags, the empty last chunk

static void
test_every_field_decodes (void **state)
{
    (void) state;
    buf_t buf;
    s_sample_chunk (&buf);
    size_t chunk_size = 0;
    const char *reason = NULL;
    assert_int_equal (s_measure (buf.data, buf.size, LOT_CHUNK_MAX_DEFAULT,
                                 &chunk_size, &reason), LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, buf.size);

    lot_chunk_reader_t reader;
    const uint8_t *data = s_guarded (buf.data, buf.size);
    assert_int_equal (lot_codec_chunk_open (&reader, data, buf.size), 0);
    assert_true (reader.last);
    assert_int_equal (reader.count, 3);
    tu_assert_span (reader.agency, "12");
    lot_span_t f [LOT_BET_FIELDS];
    assert_int_equal (lot_codec_chunk_next (&reader, f), 1);
    tu_assert_span (f [0], "Valentina");
    tu_assert_span (f [1], "Vera");
    tu_assert_span (f [2], "30170921");
    tu_assert_span (f [3], "1982-05-22");
    tu_assert_span (f [4], "6053");
    assert_int_equal (reader.left, 2);
    assert_int_equal (lot_codec_chunk_next (&reader, f), 1);
    tu_assert_span (f [0], "Jos\xc3\xa9 Mar\xc3\xad" "a");
    tu_assert_span (f [1], "O'Brien, Jr.");
    tu_assert_span (f [2], "1");
    tu_assert_span (f [3], "2000-02-29");
    tu_assert_span (f [4], "0");
    assert_int_equal (lot_codec_chunk_next (&reader, f), 1);
    tu_assert_span (f [0], "A");
    tu_assert_span (f [1], "");          //  Framing does not validate
    tu_assert_span (f [2], "1234567890");
    tu_assert_span (f [3], "1999-12-31");
    tu_assert_span (f [4], "9999");
    assert_int_equal (reader.left, 0);
    assert_int_equal (lot_codec_chunk_next (&reader, f), 0);
}

static void
test_tags_more_and_last (void **state)
{
    (void) state;
    uint8_t out [64];
    lot_chunk_writer_t writer;
    lot_span_t fields [LOT_BET_FIELDS];
    s_valentina_fields (fields);
    lot_chunk_reader_t reader;

    assert_int_equal (lot_codec_chunk_start (&writer, out, sizeof out, tu_span ("3")), 0);
    assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    size_t size = lot_codec_chunk_finish (&writer, false);
    assert_int_equal (out [0], 'C');
    assert_int_equal (lot_codec_chunk_open (&reader, out, size), 0);
    assert_false (reader.last);

    //  Finish may be called again: only the tag changes
    size = lot_codec_chunk_finish (&writer, true);
    assert_int_equal (out [0], 'L');
    assert_int_equal (lot_codec_chunk_open (&reader, out, size), 0);
    assert_true (reader.last);
    assert_int_equal (reader.count, 1);

    //  Both tags frame alike
    size_t chunk_size = 0;
    const char *reason = NULL;
    assert_int_equal (s_measure (out, size, 8192, &chunk_size, &reason), LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, size);
    out [0] = 'C';
    chunk_size = 0;
    assert_int_equal (s_measure (out, size, 8192, &chunk_size, &reason), LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, size);
}

static void
test_empty_last_chunk (void **state)
{
    (void) state;
    static const uint8_t empty [] = { 'L', 0x00, 0x00, 0x00, 0x01, '5' };
    size_t chunk_size = 0;
    const char *reason = NULL;
    assert_int_equal (s_measure (empty, sizeof empty, 8192, &chunk_size, &reason),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, 6);

    lot_chunk_reader_t reader;
    const uint8_t *data = s_guarded (empty, sizeof empty);
    assert_int_equal (lot_codec_chunk_open (&reader, data, sizeof empty), 0);
    assert_true (reader.last);
    assert_int_equal (reader.count, 0);
    tu_assert_span (reader.agency, "5");
    lot_span_t fields [LOT_BET_FIELDS];
    assert_int_equal (lot_codec_chunk_next (&reader, fields), 0);

    //  The writer makes exactly these bytes
    uint8_t out [16];
    memset (out, 0xAA, sizeof out);
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, out, 6, tu_span ("5")), 0);
    assert_int_equal (lot_codec_chunk_finish (&writer, true), 6);
    assert_memory_equal (out, empty, sizeof empty);
    assert_int_equal (out [6], 0xAA);

    //  Smallest chunk of all: an empty agency
    static const uint8_t smallest [] = { 'C', 0x00, 0x00, 0x00, 0x00 };
    assert_int_equal (sizeof smallest, LOT_CHUNK_HEADER_MIN);
    assert_int_equal (s_measure (smallest, sizeof smallest, 8192, &chunk_size, &reason),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, 5);
    assert_int_equal (s_measure (smallest, sizeof smallest, 5, &chunk_size, &reason),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (s_measure (smallest, sizeof smallest, 4, &chunk_size, &reason),
                      LOT_CODEC_INVALID);
}

//  --------------------------------------------------------------------------
//  Measure: every error path

static void
test_measure_unknown_tag (void **state)
{
    (void) state;
    const uint8_t tags [] = { 'B', 'W', 'O', 'E', 'c', 'l', 'X', 0x00, 0xFF, 0x43 ^ 0x80 };
    for (size_t i = 0; i < sizeof tags; i++) {
        uint8_t chunk [] = { tags [i], 0x00, 0x00, 0x00, 0x01, '5' };
        //  Known after the first byte already
        for (size_t size = 1; size <= sizeof chunk; size++) {
            size_t chunk_size = 777;
            const char *reason = NULL;
            assert_int_equal (s_measure (chunk, size, 8192, &chunk_size, &reason),
                              LOT_CODEC_INVALID);
            assert_non_null (reason);
            assert_string_equal (reason, "unknown message tag");
            assert_int_equal (chunk_size, 777);
        }
    }
    size_t chunk_size = 777;
    const char *reason = NULL;
    assert_int_equal (s_measure ("", 0, 8192, &chunk_size, &reason), LOT_CODEC_INCOMPLETE);
    assert_null (reason);
    assert_int_equal (chunk_size, 777);
}

static void
test_measure_count_cannot_fit (void **state)
{
    (void) state;
    //  Every string takes two bytes at least: with max 8192 a count of 818
    //  might fit (3 + 2 * (1 + 5 * 818) = 8185), 819 cannot (8195).
    struct { unsigned count; size_t max; lot_codec_status_t status; } cases [] = {
        { .count = 818, .max = 8192, .status = LOT_CODEC_INCOMPLETE },
        { .count = 819, .max = 8192, .status = LOT_CODEC_INVALID },
        { .count = 65535, .max = 8192, .status = LOT_CODEC_INVALID },
        //  3 + 2 * 6 = 15 <= 17, then 15 > 14
        { .count = 1, .max = 17, .status = LOT_CODEC_INCOMPLETE },
        { .count = 1, .max = 14, .status = LOT_CODEC_INVALID },
        { .count = 0, .max = 5, .status = LOT_CODEC_INCOMPLETE },
        { .count = 0, .max = 4, .status = LOT_CODEC_INVALID },
        //  3 + 2 * 327676
        { .count = 65535, .max = 655355, .status = LOT_CODEC_INCOMPLETE },
        { .count = 65535, .max = 655354, .status = LOT_CODEC_INVALID },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        uint8_t header [] = { 'C', (uint8_t) (cases [i].count >> 8), (uint8_t) cases [i].count };
        for (int tag = 0; tag < 2; tag++) {
            header [0] = tag ? 'L' : 'C';
            size_t chunk_size = 777;
            const char *reason = NULL;
            lot_codec_status_t status = s_measure (header, 3, cases [i].max,
                                                   &chunk_size, &reason);
            assert_int_equal (status, cases [i].status);
            if (status == LOT_CODEC_INVALID)
                assert_string_equal (reason, "chunk larger than the packet limit");
            else
                assert_null (reason);
            assert_int_equal (chunk_size, 777);
            //  Fewer than three bytes never decide on the count
            status = s_measure (header, 2, cases [i].max, &chunk_size, &reason);
            assert_int_equal (status, LOT_CODEC_INCOMPLETE);
        }
    }
}

static void
test_measure_string_overruns_max (void **state)
{
    (void) state;
    size_t chunk_size = 777;
    const char *reason = NULL;
    buf_t buf = { .size = 0 };

    //  An agency length beyond the limit is rejected as soon as it is read
    s_byte (&buf, 'C');
    s_u16 (&buf, 0);
    s_u16 (&buf, 9000);
    assert_int_equal (s_measure (buf.data, buf.size, 8192, &chunk_size, &reason),
                      LOT_CODEC_INVALID);
    assert_string_equal (reason, "chunk larger than the packet limit");
    assert_int_equal (chunk_size, 777);
    //  ... and with 4 bytes it is not known yet
    assert_int_equal (s_measure (buf.data, 4, 8192, &chunk_size, &reason),
                      LOT_CODEC_INCOMPLETE);

    //  0xFFFF length
    buf.size = 3;
    s_u16 (&buf, 0xFFFF);
    reason = NULL;
    assert_int_equal (s_measure (buf.data, buf.size, 8192, &chunk_size, &reason),
                      LOT_CODEC_INVALID);
    assert_string_equal (reason, "chunk larger than the packet limit");

    //  A bet's field that overruns, after a fine agency: 'C' 1 "5", then a
    //  first name that would end at 8192 - 8 + 1: the four strings left
    //  need 8 bytes more.
    buf.size = 0;
    s_byte (&buf, 'C');
    s_u16 (&buf, 1);
    s_str (&buf, "5");
    size_t before = buf.size;                   //  6
    size_t fits = 8192 - 8 - before - 2;        //  Ends at 8184: just fits
    s_u16 (&buf, (unsigned) fits);
    reason = NULL;
    assert_int_equal (s_measure (buf.data, buf.size, 8192, &chunk_size, &reason),
                      LOT_CODEC_INCOMPLETE);
    assert_null (reason);
    buf.size = before;
    s_u16 (&buf, (unsigned) fits + 1);
    assert_int_equal (s_measure (buf.data, buf.size, 8192, &chunk_size, &reason),
                      LOT_CODEC_INVALID);
    assert_string_equal (reason, "chunk larger than the packet limit");

    //  The last field of a bet: every earlier length counts
    buf.size = 0;
    s_byte (&buf, 'L');
    s_u16 (&buf, 1);
    s_str (&buf, "5");
    s_str_len (&buf, 100);
    s_str_len (&buf, 100);
    s_str_len (&buf, 100);
    s_str_len (&buf, 100);
    before = buf.size;
    s_u16 (&buf, (unsigned) (8192 - before - 2));       //  Ends at 8192
    assert_int_equal (s_measure (buf.data, buf.size, 8192, &chunk_size, &reason),
                      LOT_CODEC_INCOMPLETE);
    buf.size = before;
    s_u16 (&buf, (unsigned) (8192 - before - 1));       //  Ends at 8193
    assert_int_equal (s_measure (buf.data, buf.size, 8192, &chunk_size, &reason),
                      LOT_CODEC_INVALID);
}

//  A chunk of exactly `total` bytes: 'C', one bet, agency "5", first name
//  sized to fill.
static void
s_chunk_of_size (buf_t *buf, size_t total)
{
    buf->size = 0;
    s_byte (buf, 'C');
    s_u16 (buf, 1);
    s_str (buf, "5");
    //  Other four fields: "Vera", "30170921", "1982-05-22", "6053" = 34
    s_str_len (buf, total - 6 - 2 - 34);
    s_str (buf, "Vera");
    s_str (buf, "30170921");
    s_str (buf, "1982-05-22");
    s_str (buf, "6053");
    assert_int_equal (buf->size, total);
}

static void
test_measure_exactly_max (void **state)
{
    (void) state;
    static buf_t buf;
    size_t chunk_size;
    const char *reason;
    size_t maxes [] = { 8192, 100, 42 + 1, 65535 + 42 };
    for (size_t i = 0; i < sizeof maxes / sizeof maxes [0]; i++) {
        size_t max = maxes [i];
        s_chunk_of_size (&buf, max);
        chunk_size = 0;
        reason = NULL;
        assert_int_equal (s_measure (buf.data, buf.size, max, &chunk_size, &reason),
                          LOT_CODEC_COMPLETE);
        assert_int_equal (chunk_size, max);
        assert_null (reason);
        //  The same bytes against a limit one lower
        chunk_size = 777;
        assert_int_equal (s_measure (buf.data, buf.size, max - 1, &chunk_size, &reason),
                          LOT_CODEC_INVALID);
        assert_string_equal (reason, "chunk larger than the packet limit");
        assert_int_equal (chunk_size, 777);
        //  One byte more than the limit
        if (max - 42 + 1 <= 0xFFFF) {
            s_chunk_of_size (&buf, max + 1);
            reason = NULL;
            assert_int_equal (s_measure (buf.data, buf.size, max, &chunk_size, &reason),
                              LOT_CODEC_INVALID);
            assert_string_equal (reason, "chunk larger than the packet limit");
            //  Rejected as soon as the length that overruns is read,
            //  before its bytes arrive ("6053" is the last string)
            reason = NULL;
            assert_int_equal (s_measure (buf.data, buf.size - 4, max, &chunk_size, &reason),
                              LOT_CODEC_INVALID);
            assert_non_null (reason);
            //  ... while the chunk of exactly max is still waiting there
            s_chunk_of_size (&buf, max);
            assert_int_equal (s_measure (buf.data, buf.size - 4, max, &chunk_size, &reason),
                              LOT_CODEC_INCOMPLETE);
        }
    }
}

static void
test_string_measure (void **state)
{
    (void) state;
    static const uint8_t abc [] = { 0x00, 0x03, 'a', 'b', 'c', 'z' };
    size_t total = 777;
    assert_int_equal (lot_codec_string_measure (s_guarded (abc, 0), 0, 100, &total),
                      LOT_CODEC_INCOMPLETE);
    assert_int_equal (lot_codec_string_measure (s_guarded (abc, 1), 1, 100, &total),
                      LOT_CODEC_INCOMPLETE);
    for (size_t size = 2; size < 5; size++)
        assert_int_equal (lot_codec_string_measure (s_guarded (abc, size), size, 100, &total),
                          LOT_CODEC_INCOMPLETE);
    assert_int_equal (total, 777);
    assert_int_equal (lot_codec_string_measure (s_guarded (abc, 5), 5, 100, &total),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (total, 5);
    total = 0;
    assert_int_equal (lot_codec_string_measure (s_guarded (abc, 6), 6, 100, &total),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (total, 5);

    //  Exactly max accepted, max + 1 rejected (as soon as the length is in)
    assert_int_equal (lot_codec_string_measure (s_guarded (abc, 5), 5, 3, &total),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (lot_codec_string_measure (s_guarded (abc, 2), 2, 3, &total),
                      LOT_CODEC_INCOMPLETE);
    assert_int_equal (lot_codec_string_measure (s_guarded (abc, 5), 5, 2, &total),
                      LOT_CODEC_INVALID);
    assert_int_equal (lot_codec_string_measure (s_guarded (abc, 2), 2, 2, &total),
                      LOT_CODEC_INVALID);

    static const uint8_t empty [] = { 0x00, 0x00 };
    assert_int_equal (lot_codec_string_measure (s_guarded (empty, 2), 2, 0, &total),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (total, 2);

    static const uint8_t big [] = { 0xFF, 0xFF };
    assert_int_equal (lot_codec_string_measure (s_guarded (big, 2), 2, 65534, &total),
                      LOT_CODEC_INVALID);
    assert_int_equal (lot_codec_string_measure (s_guarded (big, 2), 2, 65535, &total),
                      LOT_CODEC_INCOMPLETE);
}

//  --------------------------------------------------------------------------
//  Reader errors

static int
s_open (lot_chunk_reader_t *reader, const buf_t *buf, size_t size)
{
    return lot_codec_chunk_open (reader, s_guarded (buf->data, size), size);
}

static void
test_reader_errors (void **state)
{
    (void) state;
    buf_t buf;
    lot_chunk_reader_t reader;
    lot_span_t f [LOT_BET_FIELDS];
    s_sample_chunk (&buf);

    //  Too short for a header, or a truncated agency
    for (size_t size = 0; size < 7; size++)
        assert_int_equal (s_open (&reader, &buf, size), -1);
    assert_int_equal (s_open (&reader, &buf, 7), 0);

    //  Unknown tag
    buf.data [0] = 'B';
    assert_int_equal (s_open (&reader, &buf, buf.size), -1);
    buf.data [0] = 'L';

    //  Truncated anywhere in the bets: the bets before it decode, then -1
    size_t ends [3];
    {
        lot_chunk_reader_t whole;
        const uint8_t *data = s_guarded (buf.data, buf.size);
        assert_int_equal (lot_codec_chunk_open (&whole, data, buf.size), 0);
        for (int b = 0; b < 3; b++) {
            assert_int_equal (lot_codec_chunk_next (&whole, f), 1);
            ends [b] = (size_t) (whole.cursor - data);
        }
        assert_int_equal (ends [2], buf.size);
    }
    for (size_t size = 7; size < buf.size; size++) {
        assert_int_equal (s_open (&reader, &buf, size), 0);
        int complete = size >= ends [1] ? 2 : size >= ends [0] ? 1 : 0;
        for (int b = 0; b < complete; b++)
            assert_int_equal (lot_codec_chunk_next (&reader, f), 1);
        assert_int_equal (lot_codec_chunk_next (&reader, f), -1);
    }

    //  Trailing bytes after the last bet
    buf_t longer = buf;
    longer.data [longer.size++] = 0;
    assert_int_equal (s_open (&reader, &longer, longer.size), 0);
    for (int b = 0; b < 3; b++)
        assert_int_equal (lot_codec_chunk_next (&reader, f), 1);
    assert_int_equal (lot_codec_chunk_next (&reader, f), -1);

    //  Trailing bytes after an empty chunk
    buf_t empty = { .size = 0 };
    s_byte (&empty, 'L');
    s_u16 (&empty, 0);
    s_str (&empty, "5");
    s_byte (&empty, 'L');
    assert_int_equal (s_open (&reader, &empty, empty.size), 0);
    assert_int_equal (lot_codec_chunk_next (&reader, f), -1);

    //  A count larger than the content
    buf.data [2] = 4;
    assert_int_equal (s_open (&reader, &buf, buf.size), 0);
    assert_int_equal (reader.count, 4);
    for (int b = 0; b < 3; b++)
        assert_int_equal (lot_codec_chunk_next (&reader, f), 1);
    assert_int_equal (lot_codec_chunk_next (&reader, f), -1);

    //  A count smaller than the content: trailing bytes
    buf.data [2] = 2;
    assert_int_equal (s_open (&reader, &buf, buf.size), 0);
    for (int b = 0; b < 2; b++)
        assert_int_equal (lot_codec_chunk_next (&reader, f), 1);
    assert_int_equal (lot_codec_chunk_next (&reader, f), -1);

    //  A string length that runs past the end
    buf_t over = { .size = 0 };
    s_byte (&over, 'C');
    s_u16 (&over, 1);
    s_str (&over, "5");
    s_u16 (&over, 0xFFFF);
    s_str (&over, "abc");
    assert_int_equal (s_open (&reader, &over, over.size), 0);
    assert_int_equal (lot_codec_chunk_next (&reader, f), -1);
    over.size = 3;
    s_u16 (&over, 0xFFFF);
    assert_int_equal (s_open (&reader, &over, over.size), -1);
}

//  --------------------------------------------------------------------------
//  Framing across reads

static void
test_split_at_every_byte (void **state)
{
    (void) state;
    buf_t buf;
    s_sample_chunk (&buf);
    size_t whole = buf.size;
    for (size_t size = 0; size < whole; size++) {
        size_t chunk_size = 777;
        const char *reason = NULL;
        assert_int_equal (s_measure (buf.data, size, 8192, &chunk_size, &reason),
                          LOT_CODEC_INCOMPLETE);
        assert_int_equal (chunk_size, 777);
        assert_null (reason);
    }
    size_t chunk_size = 0;
    const char *reason = NULL;
    assert_int_equal (s_measure (buf.data, whole, 8192, &chunk_size, &reason),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, whole);
    //  The start of the next message does not change the framing
    for (size_t extra = 1; extra < 20; extra++) {
        buf.data [whole + extra - 1] = (uint8_t) ('C' + extra);
        chunk_size = 0;
        assert_int_equal (s_measure (buf.data, whole + extra, 8192, &chunk_size, &reason),
                          LOT_CODEC_COMPLETE);
        assert_int_equal (chunk_size, whole);
    }
}

static void
test_concatenated_chunks (void **state)
{
    (void) state;
    static buf_t stream;
    stream.size = 0;
    buf_t one;
    size_t sizes [4];

    s_sample_chunk (&one);
    one.data [0] = 'C';
    memcpy (stream.data, one.data, one.size);
    stream.size = sizes [0] = one.size;

    //  A chunk from the writer
    lot_chunk_writer_t writer;
    lot_span_t fields [LOT_BET_FIELDS];
    s_valentina_fields (fields);
    assert_int_equal (lot_codec_chunk_start (&writer, stream.data + stream.size,
                                             1000, tu_span ("5")), 0);
    for (int i = 0; i < 7; i++)
        assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    sizes [1] = lot_codec_chunk_finish (&writer, false);
    stream.size += sizes [1];

    //  An empty last chunk
    static const uint8_t empty [] = { 'L', 0, 0, 0, 1, '5' };
    memcpy (stream.data + stream.size, empty, sizeof empty);
    stream.size += sizes [2] = sizeof empty;

    //  The first bytes of a fourth
    memcpy (stream.data + stream.size, one.data, 10);
    stream.size += 10;
    sizes [3] = 0;

    const uint8_t *data = s_guarded (stream.data, stream.size);
    size_t offset = 0;
    for (int i = 0; i < 3; i++) {
        size_t chunk_size = 0;
        const char *reason = NULL;
        assert_int_equal (lot_codec_chunk_measure (data + offset, stream.size - offset,
                                                   8192, &chunk_size, &reason),
                          LOT_CODEC_COMPLETE);
        assert_int_equal (chunk_size, sizes [i]);
        lot_chunk_reader_t reader;
        assert_int_equal (lot_codec_chunk_open (&reader, data + offset, chunk_size), 0);
        unsigned bets = 0;
        int rc;
        while ((rc = lot_codec_chunk_next (&reader, fields)) == 1)
            bets++;
        assert_int_equal (rc, 0);
        assert_int_equal (bets, i == 0 ? 3 : i == 1 ? 7 : 0);
        assert_int_equal (reader.last, i == 2);
        offset += chunk_size;
    }
    size_t chunk_size = 777;
    const char *reason = NULL;
    assert_int_equal (lot_codec_chunk_measure (data + offset, stream.size - offset,
                                               8192, &chunk_size, &reason),
                      LOT_CODEC_INCOMPLETE);
    assert_int_equal (chunk_size, 777);
    assert_int_equal (stream.size - offset, 10);
}

//  --------------------------------------------------------------------------
//  Writer

static void
test_writer_refuses_what_does_not_fit (void **state)
{
    (void) state;
    enum { SENTINEL = 64 };
    uint8_t out [512 + SENTINEL];
    lot_span_t fields [LOT_BET_FIELDS];
    s_valentina_fields (fields);
    size_t bet = sizeof s_captured_bet;     //  45 bytes on the wire

    for (size_t capacity = 0; capacity <= 6 + 5 * bet + 3; capacity++) {
        memset (out, 0xAA, sizeof out);
        lot_chunk_writer_t writer;
        int rc = lot_codec_chunk_start (&writer, out, capacity, tu_span ("5"));
        if (capacity < 6) {
            assert_int_equal (rc, -1);
            for (size_t i = capacity; i < sizeof out; i++)
                assert_int_equal (out [i], 0xAA);
            continue;
        }
        assert_int_equal (rc, 0);
        assert_int_equal (writer.size, 6);
        unsigned expected = (unsigned) ((capacity - 6) / bet);
        for (unsigned b = 0; b < expected; b++)
            assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
        assert_int_equal (writer.count, expected);
        size_t size = writer.size;
        assert_int_equal (size, 6 + expected * bet);
        //  The next one does not fit: refused, chunk unchanged
        uint8_t copy [512];
        memcpy (copy, out, capacity);
        assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
        assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
        assert_int_equal (writer.size, size);
        assert_int_equal (writer.count, expected);
        assert_int_equal (lot_codec_chunk_finish (&writer, true), size);
        //  Never past capacity
        for (size_t i = capacity; i < sizeof out; i++)
            assert_int_equal (out [i], 0xAA);
        //  What was written is a chunk of exactly those bets
        assert_memory_equal (out + 3, copy + 3, size - 3);
        lot_chunk_reader_t reader;
        assert_int_equal (lot_codec_chunk_open (&reader, s_guarded (out, size), size), 0);
        assert_int_equal (reader.count, expected);
        assert_true (reader.last);
        lot_span_t got [LOT_BET_FIELDS];
        for (unsigned b = 0; b < expected; b++)
            assert_int_equal (lot_codec_chunk_next (&reader, got), 1);
        assert_int_equal (lot_codec_chunk_next (&reader, got), 0);
    }
}

static void
test_writer_fails_on_any_field (void **state)
{
    (void) state;
    //  The bet fails on its last field: the four before must not count
    uint8_t out [100];
    memset (out, 0xAA, sizeof out);
    lot_span_t fields [LOT_BET_FIELDS];
    s_valentina_fields (fields);
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, out, 6 + 44, tu_span ("5")), 0);
    assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
    assert_int_equal (writer.size, 6);
    assert_int_equal (writer.count, 0);
    assert_int_equal (lot_codec_chunk_finish (&writer, false), 6);
    static const uint8_t expected [] = { 'C', 0, 0, 0, 1, '5' };
    assert_memory_equal (out, expected, sizeof expected);
    for (size_t i = 50; i < sizeof out; i++)
        assert_int_equal (out [i], 0xAA);

    //  A string longer than 65535 bytes
    static char huge [70000];
    memset (huge, 'x', sizeof huge);
    static uint8_t big [200000];
    assert_int_equal (lot_codec_chunk_start (&writer, big, sizeof big, tu_span ("5")), 0);
    fields [1] = (lot_span_t) { .data = huge, .size = 65536 };
    assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
    assert_int_equal (writer.size, 6);
    fields [1] = (lot_span_t) { .data = huge, .size = 65535 };
    assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    assert_int_equal (writer.size, 6 + 45 - 4 + 65535);
    assert_int_equal (lot_codec_chunk_start (&writer, big, sizeof big,
                                             (lot_span_t) { .data = huge, .size = 65536 }),
                      -1);
}

static void
test_writer_count_limit (void **state)
{
    (void) state;
    //  65535 bets of five empty strings, then no more
    size_t capacity = 6 + 65536 * 10;
    uint8_t *out = malloc (capacity);
    assert_non_null (out);
    lot_span_t fields [LOT_BET_FIELDS] = { { .data = "", .size = 0 } };
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, out, capacity, tu_span ("5")), 0);
    for (unsigned i = 0; i < 65535; i++)
        assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
    assert_int_equal (writer.count, 65535);
    size_t size = lot_codec_chunk_finish (&writer, true);
    assert_int_equal (size, 6 + 65535 * 10);
    assert_int_equal (out [0], 'L');
    assert_int_equal (out [1], 0xFF);
    assert_int_equal (out [2], 0xFF);

    size_t chunk_size = 0;
    const char *reason = NULL;
    assert_int_equal (lot_codec_chunk_measure (out, size, size, &chunk_size, &reason),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, size);
    lot_chunk_reader_t reader;
    assert_int_equal (lot_codec_chunk_open (&reader, out, size), 0);
    unsigned bets = 0;
    int rc;
    while ((rc = lot_codec_chunk_next (&reader, fields)) == 1)
        bets++;
    assert_int_equal (rc, 0);
    assert_int_equal (bets, 65535);
    free (out);
}

//  --------------------------------------------------------------------------
//  Primitives

//  Protocol v2, byte for byte: the handshake, the winners query, the
//  handshake's answer, a numbered chunk, and every prefix of each one
//  incomplete (read no byte past it).
static void
test_v2_messages (void **state)
{
    (void) state;
    uint8_t out [64];
    size_t size = lot_codec_hello_encode (out, sizeof out, 2, tu_span ("17"));
    static const uint8_t hello [] = { 'H', 0, 2, 0, 2, '1', '7' };
    assert_int_equal (size, sizeof hello);
    assert_memory_equal (out, hello, sizeof hello);
    unsigned version;
    lot_span_t agency;
    size_t total;
    for (size_t cut = 0; cut < sizeof hello; cut++)
        assert_int_equal (lot_codec_hello_measure (s_guarded (hello, cut), cut,
                          &version, &agency, &total), LOT_CODEC_INCOMPLETE);
    const uint8_t *guarded = s_guarded (hello, sizeof hello);
    assert_int_equal (lot_codec_hello_measure (guarded, sizeof hello, &version,
                      &agency, &total), LOT_CODEC_COMPLETE);
    assert_int_equal (version, 2);
    assert_int_equal (total, sizeof hello);
    tu_assert_span (agency, "17");
    static const uint8_t long_agency [] = { 'H', 0, 2, 0, 11 };
    assert_int_equal (lot_codec_hello_measure (long_agency, sizeof long_agency,
                      &version, &agency, &total), LOT_CODEC_INVALID);
    assert_int_equal (lot_codec_hello_measure ((const uint8_t *) "B", 1,
                      &version, &agency, &total), LOT_CODEC_INVALID);
    assert_int_equal (lot_codec_hello_encode (out, sizeof out, 2, tu_span ("12345678901")), 0);
    assert_int_equal (lot_codec_hello_encode (out, 6, 2, tu_span ("17")), 0);

    //  The winners query, which v1 has too
    static const uint8_t query [] = { 'W', 0, 2, '1', '7' };
    assert_int_equal (lot_codec_query_encode (out, sizeof out, tu_span ("17")), sizeof query);
    assert_memory_equal (out, query, sizeof query);
    for (size_t cut = 0; cut < sizeof query; cut++)
        assert_int_equal (lot_codec_query_measure (s_guarded (query, cut), cut, &agency,
                          &total), LOT_CODEC_INCOMPLETE);
    assert_int_equal (lot_codec_query_measure (s_guarded (query, sizeof query),
                      sizeof query, &agency, &total), LOT_CODEC_COMPLETE);
    assert_int_equal (total, sizeof query);
    tu_assert_span (agency, "17");
    static const uint8_t long_query [] = { 'W', 0, 11 };
    assert_int_equal (lot_codec_query_measure (long_query, sizeof long_query, &agency,
                      &total), LOT_CODEC_INVALID);
    assert_int_equal (lot_codec_query_measure ((const uint8_t *) "B", 1, &agency, &total),
                      LOT_CODEC_INVALID);
    assert_int_equal (lot_codec_query_encode (out, sizeof out, tu_span ("12345678901")), 0);
    assert_int_equal (lot_codec_query_encode (out, 4, tu_span ("17")), 0);

    static const uint8_t stored [] = { 'S', 0x00, 0x01, 0x00, 0x02, 1 };
    assert_int_equal (lot_codec_stored_encode (out, sizeof out, 65538, true), 6);
    assert_memory_equal (out, stored, sizeof stored);
    uint32_t count;
    bool finished;
    assert_int_equal (lot_codec_stored_decode (s_guarded (stored, 6), &count, &finished), 0);
    assert_int_equal (count, 65538);
    assert_true (finished);
    static const uint8_t bad_flag [] = { 'S', 0, 0, 0, 0, 2 };
    assert_int_equal (lot_codec_stored_decode (bad_flag, &count, &finished), -1);
    assert_int_equal (lot_codec_stored_encode (out, 5, 1, false), 0);

    //  'N', position 258, then an empty 'L' chunk of agency "3"
    static const uint8_t numbered [] = { 'N', 0, 0, 1, 2, 'L', 0, 0, 0, 1, '3' };
    assert_int_equal (lot_codec_numbered_encode (out, sizeof out, 258), 5);
    assert_memory_equal (out, numbered, 5);
    uint32_t position;
    size_t chunk;
    const char *reason = NULL;
    for (size_t cut = 0; cut < sizeof numbered; cut++)
        assert_int_equal (lot_codec_numbered_measure (s_guarded (numbered, cut), cut,
                          8192, &position, &chunk, &reason), LOT_CODEC_INCOMPLETE);
    assert_int_equal (lot_codec_numbered_measure (s_guarded (numbered, sizeof numbered),
                      sizeof numbered, 8192, &position, &chunk, &reason),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (position, 258);
    assert_int_equal (chunk, sizeof numbered - 5);
    static const uint8_t wrong [] = { 'N', 0, 0, 0, 0, 'X' };
    assert_int_equal (lot_codec_numbered_measure (wrong, sizeof wrong, 8192,
                      &position, &chunk, &reason), LOT_CODEC_INVALID);
    assert_string_equal (reason, "unknown message tag");

    static const uint8_t error [] = { 'E', 0, 4, 'b', 'u', 's', 'y' };
    assert_int_equal (lot_codec_error_encode (out, sizeof out, "busy"), sizeof error);
    assert_memory_equal (out, error, sizeof error);
    assert_int_equal (lot_codec_error_encode (out, 6, "busy"), 0);
}

static void
test_primitives (void **state)
{
    (void) state;
    uint8_t out [8];
    memset (out, 0xAA, sizeof out);
    assert_int_equal (lot_codec_put_u16 (out, 2, 0x1234), 2);
    assert_int_equal (out [0], 0x12);
    assert_int_equal (out [1], 0x34);
    assert_int_equal (out [2], 0xAA);
    assert_int_equal (lot_codec_get_u16 (out), 0x1234);
    assert_int_equal (lot_codec_put_u16 (out, 2, 0xFFFF), 2);
    assert_int_equal (lot_codec_get_u16 (out), 0xFFFF);
    assert_int_equal (lot_codec_put_u16 (out, 2, 0x10000), 0);
    assert_int_equal (lot_codec_put_u16 (out, 1, 1), 0);
    assert_int_equal (lot_codec_get_u16 (out), 0xFFFF);     //  Untouched
    static const uint8_t be [] = { 0x01, 0x00 };
    assert_int_equal (lot_codec_get_u16 (be), 256);

    memset (out, 0xAA, sizeof out);
    assert_int_equal (lot_codec_put_string (out, 5, tu_span ("abc")), 5);
    static const uint8_t abc [] = { 0, 3, 'a', 'b', 'c', 0xAA };
    assert_memory_equal (out, abc, sizeof abc);
    memset (out, 0xAA, sizeof out);
    assert_int_equal (lot_codec_put_string (out, 4, tu_span ("abc")), 0);
    assert_int_equal (lot_codec_put_string (out, 0, tu_span ("")), 0);
    assert_int_equal (lot_codec_put_string (out, 1, tu_span ("")), 0);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal (out [i], 0xAA);
    assert_int_equal (lot_codec_put_string (out, 2, tu_span ("")), 2);
    assert_int_equal (out [0], 0);
    assert_int_equal (out [1], 0);
    assert_int_equal (out [2], 0xAA);
}

//  --------------------------------------------------------------------------
//  Fuzz: random and mutated buffers never read out of bounds, and measure
//  and the reader agree

static size_t
s_below_or_zero (tu_rng_t *rng, size_t n)
{
    return n ? tu_below (rng, n) : 0;
}

//  A valid chunk of random shape
static void
s_random_chunk (tu_rng_t *rng, buf_t *buf)
{
    buf->size = 0;
    s_byte (buf, s_below_or_zero (rng, 2) ? 'C' : 'L');
    unsigned count = (unsigned) s_below_or_zero (rng, 6);
    s_u16 (buf, count);
    size_t strings = 1 + count * LOT_BET_FIELDS;
    for (size_t i = 0; i < strings; i++) {
        size_t length = s_below_or_zero (rng, 4) ? s_below_or_zero (rng, 12) : s_below_or_zero (rng, 300);
        s_u16 (buf, (unsigned) length);
        for (size_t k = 0; k < length; k++)
            s_byte (buf, (uint8_t) tu_rand (rng));
    }
}

//  Decodes size bytes at data with the reader; returns true when it reads
//  every announced bet and nothing is left over. Every span must lie inside.
static bool
s_reader_accepts (const uint8_t *data, size_t size)
{
    lot_chunk_reader_t reader;
    if (lot_codec_chunk_open (&reader, data, size))
        return false;
    assert_true ((const uint8_t *) reader.agency.data >= data + 5);
    assert_true ((const uint8_t *) reader.agency.data + reader.agency.size <= data + size);
    lot_span_t fields [LOT_BET_FIELDS];
    unsigned bets = 0;
    int rc;
    while ((rc = lot_codec_chunk_next (&reader, fields)) == 1) {
        bets++;
        assert_true (bets <= reader.count);
        for (int f = 0; f < LOT_BET_FIELDS; f++) {
            assert_true ((const uint8_t *) fields [f].data >= data + 7);
            assert_true ((const uint8_t *) fields [f].data + fields [f].size <= data + size);
        }
    }
    if (rc == 0)
        assert_int_equal (bets, reader.count);
    else
        assert_int_equal (rc, -1);
    return rc == 0;
}

static void
test_fuzz (void **state)
{
    (void) state;
    tu_rng_t rng = { 20240531 };
    static buf_t buf;
    size_t complete = 0, invalid = 0, incomplete = 0, decoded = 0;
    static const size_t maxes [] = { 5, 16, 64, 300, 1000, 8192, 65535 };

    for (int iteration = 0; iteration < 200000; iteration++) {
        switch (s_below_or_zero (&rng, 4)) {
            case 0:                         //  Pure noise, mostly C/L tags
                buf.size = s_below_or_zero (&rng, 80);
                for (size_t i = 0; i < buf.size; i++)
                    buf.data [i] = (uint8_t) (s_below_or_zero (&rng, 3) ? tu_rand (&rng) % 8
                                                                : tu_rand (&rng));
                if (buf.size && s_below_or_zero (&rng, 4))
                    buf.data [0] = s_below_or_zero (&rng, 2) ? 'C' : 'L';
                break;
            case 1:                         //  A valid chunk, as is or cut
                s_random_chunk (&rng, &buf);
                if (s_below_or_zero (&rng, 2))
                    buf.size = s_below_or_zero (&rng, buf.size + 1);
                break;
            case 2:                         //  A valid chunk, bytes flipped
                s_random_chunk (&rng, &buf);
                for (size_t n = 1 + s_below_or_zero (&rng, 3); n && buf.size; n--)
                    buf.data [s_below_or_zero (&rng, buf.size)] ^= (uint8_t) (1u << s_below_or_zero (&rng, 8));
                break;
            default: {                      //  A valid chunk with bytes after
                s_random_chunk (&rng, &buf);
                size_t extra = 1 + s_below_or_zero (&rng, 20);
                for (size_t i = 0; i < extra; i++)
                    s_byte (&buf, (uint8_t) tu_rand (&rng));
                break;
            }
        }
        size_t max = maxes [s_below_or_zero (&rng, sizeof maxes / sizeof maxes [0])];
        size_t chunk_size = SIZE_MAX;
        const char *reason = NULL;
        lot_codec_status_t status = s_measure (buf.data, buf.size, max,
                                               &chunk_size, &reason);
        if (status == LOT_CODEC_COMPLETE) {
            complete++;
            assert_true (chunk_size >= LOT_CHUNK_HEADER_MIN);
            assert_true (chunk_size <= buf.size);
            assert_true (chunk_size <= max);
            //  Exactly those bytes decode, every bet of them
            assert_true (s_reader_accepts (s_guarded (buf.data, chunk_size), chunk_size));
            decoded++;
            //  Any shorter prefix is incomplete
            size_t shorter = 777;
            assert_int_equal (s_measure (buf.data, s_below_or_zero (&rng, chunk_size), max,
                                         &shorter, &reason), LOT_CODEC_INCOMPLETE);
            assert_int_equal (shorter, 777);
        }
        else
        if (status == LOT_CODEC_INVALID) {
            invalid++;
            assert_non_null (reason);
            assert_int_equal (chunk_size, SIZE_MAX);
        }
        else {
            assert_int_equal (status, LOT_CODEC_INCOMPLETE);
            assert_int_equal (chunk_size, SIZE_MAX);
            incomplete++;
        }
        //  The reader over the raw bytes: it accepts exactly what frames as
        //  one whole chunk under no limit
        bool accepts = s_reader_accepts (s_guarded (buf.data, buf.size), buf.size);
        chunk_size = SIZE_MAX;
        status = s_measure (buf.data, buf.size, SIZE_MAX, &chunk_size, &reason);
        assert_int_equal (accepts, status == LOT_CODEC_COMPLETE && chunk_size == buf.size);
    }
    //  The mix really covered every outcome
    assert_true (complete > 10000);
    assert_true (invalid > 10000);
    assert_true (incomplete > 10000);
    assert_int_equal (decoded, complete);
}

//  The winners answer, byte for byte: a count, then each document.
static void
test_winners_encode (void **state)
{
    (void) state;
    uint8_t out [64];
    const uint8_t two [] = { 0, 2, 0, 3, '1', '1', '1', 0, 2, '2', '2' };
    assert_int_equal (lot_codec_winners_encode (out, sizeof out, "111\n22\n", 7), sizeof two);
    assert_memory_equal (out, two, sizeof two);
    const uint8_t none [] = { 0, 0 };
    assert_int_equal (lot_codec_winners_encode (out, sizeof out, "", 0), 2);
    assert_memory_equal (out, none, 2);
    //  Too small a buffer, and more documents than a u16 counts
    assert_int_equal (lot_codec_winners_encode (out, 10, "111\n22\n", 7), 0);
    size_t size = 65536 * 2;
    char *many = malloc (size);
    for (size_t i = 0; i < size; i += 2)
        memcpy (many + i, "7\n", 2);
    uint8_t *big = malloc (2 + 2 * size);
    assert_int_equal (lot_codec_winners_encode (big, 2 + 2 * size, many, size), 0);
    assert_int_equal (lot_codec_winners_encode (big, 2 + 2 * size, many, size - 2),
                      2 + 65535 * 3);
    free (big);
    free (many);
    //  And its count read back, never past what there is
    assert_int_equal (lot_codec_winners_count (s_guarded (two, sizeof two), sizeof two), 2);
    assert_int_equal (lot_codec_winners_count (s_guarded (two, 1), 1), 0);
}

//  --------------------------------------------------------------------------
//  The answers an agency reads: 'E', 'S', the winners

//  What an answer's measure gave.
typedef struct {
    lot_span_t reason;
    uint32_t stored;
    bool finished;
    lot_winners_reader_t reader;
    size_t total;
} s_answer_t;

typedef lot_codec_status_t (s_answer_fn) (const uint8_t *data, size_t size,
                                          s_answer_t *answer);

static lot_codec_status_t
s_error_answer (const uint8_t *data, size_t size, s_answer_t *answer)
{
    return lot_codec_error_measure (data, size, &answer->reason, &answer->total);
}

static lot_codec_status_t
s_stored_answer (const uint8_t *data, size_t size, s_answer_t *answer)
{
    return lot_codec_stored_measure (data, size, &answer->stored, &answer->finished,
                                     &answer->total);
}

static lot_codec_status_t
s_winners_answer (const uint8_t *data, size_t size, s_answer_t *answer)
{
    return lot_codec_winners_measure (data, size, LOT_DOCUMENT_MAX, &answer->reader,
                                      &answer->total);
}

//  Measures every prefix of data, each ending at the guard page: one of
//  fewer than judged bytes is INCOMPLETE, any longer one is status (a
//  COMPLETE one judged bytes long). Returns what all of data gave, which
//  points into the guarded copy until the next s_guarded.
static s_answer_t
s_measure_cuts (s_answer_fn *measure, const void *data, size_t size, size_t judged,
                lot_codec_status_t status)
{
    s_answer_t answer;
    for (size_t cut = 0; cut <= size; cut++) {
        memset (&answer, 0, sizeof answer);
        lot_codec_status_t got = measure (s_guarded (data, cut), cut, &answer);
        assert_int_equal (got, cut < judged ? LOT_CODEC_INCOMPLETE : status);
        if (got == LOT_CODEC_COMPLETE)
            assert_int_equal (answer.total, judged);
    }
    return answer;
}

//  An answer encoded in out, then the first byte of another: every cut
//  before its end INCOMPLETE, then COMPLETE at its size.
static s_answer_t
s_measure_encoded (s_answer_fn *measure, uint8_t *out, size_t size)
{
    out [size] = LOT_TAG_OK;
    return s_measure_cuts (measure, out, size + 1, size, LOT_CODEC_COMPLETE);
}

//  Bytes that are no such answer, and how many must come before that
//  shows.
typedef struct {
    const char *bytes;
    size_t size;
    size_t judged;
} s_invalid_t;

static void
s_assert_invalid (s_answer_fn *measure, const s_invalid_t *cases, size_t count)
{
    for (size_t i = 0; i < count; i++)
        s_measure_cuts (measure, cases [i].bytes, cases [i].size, cases [i].judged,
                        LOT_CODEC_INVALID);
}

//  'E' reason: what error_encode writes reads back, cut where it cuts.
static void
test_error_answer (void **state)
{
    (void) state;
    char longest [LOT_REASON_MAX + 46];
    memset (longest, 'r', sizeof longest - 1);
    longest [sizeof longest - 1] = 0;
    const char *reasons [] = { "", "busy", LOT_REASON_BUSY, longest };
    for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++) {
        uint8_t out [LOT_ANSWER_MAX + 8];
        size_t size = lot_codec_error_encode (out, sizeof out, reasons [i]);
        assert_true (size > 0 && size <= LOT_ANSWER_MAX);
        s_answer_t answer = s_measure_encoded (s_error_answer, out, size);
        size_t kept = strnlen (reasons [i], LOT_REASON_MAX);
        assert_int_equal (answer.reason.size, kept);
        assert_memory_equal (answer.reason.data, reasons [i], kept);
    }
    //  Another server's reason may be longer than ours: read whole
    buf_t other = { .size = 0 };
    s_byte (&other, LOT_TAG_ERROR);
    s_str_len (&other, 300);
    s_answer_t answer = s_measure_cuts (s_error_answer, other.data, other.size, other.size,
                                        LOT_CODEC_COMPLETE);
    assert_int_equal (answer.reason.size, 300);
    const s_invalid_t invalid [] = {
        { .bytes = "O", .size = 1, .judged = 1 },
        { .bytes = "S\0\0\0\0\1", .size = 6, .judged = 1 },
        { .bytes = "e\0\0", .size = 3, .judged = 1 },
    };
    s_assert_invalid (s_error_answer, invalid, sizeof invalid / sizeof *invalid);
}

//  'S' stored finished, each way round.
static void
test_stored_answer (void **state)
{
    (void) state;
    const struct {
        uint32_t stored;
        bool finished;
    } cases [] = {
        { .stored = 0, .finished = false }, { .stored = 1, .finished = true },
        { .stored = 65538, .finished = true }, { .stored = UINT32_MAX, .finished = false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t out [LOT_STORED_SIZE + 1];
        size_t size = lot_codec_stored_encode (out, sizeof out, cases [i].stored,
                                               cases [i].finished);
        assert_int_equal (size, LOT_STORED_SIZE);
        s_answer_t answer = s_measure_encoded (s_stored_answer, out, size);
        assert_int_equal (answer.stored, cases [i].stored);
        assert_int_equal (answer.finished, cases [i].finished);
        //  The decode of bytes already read agrees
        uint32_t stored;
        bool finished;
        assert_int_equal (lot_codec_stored_decode (out, &stored, &finished), 0);
        assert_int_equal (stored, cases [i].stored);
        assert_int_equal (finished, cases [i].finished);
    }
    const s_invalid_t invalid [] = {
        { .bytes = "S\0\0\0\0\2", .size = 6, .judged = 6 },
        { .bytes = "S\0\0\0\0\377", .size = 6, .judged = 6 },
        { .bytes = "E\0\1x", .size = 4, .judged = 1 },
        { .bytes = "O", .size = 1, .judged = 1 },
    };
    s_assert_invalid (s_stored_answer, invalid, sizeof invalid / sizeof *invalid);
}

//  The winners answer: what winners_encode writes reads back document by
//  document; a document longer than the measure's max is no answer.
static void
test_winners_answer (void **state)
{
    (void) state;
    const struct {
        const char *documents;      //  Each followed by a newline
        unsigned count;
    } cases [] = {
        { .documents = "", .count = 0 },
        { .documents = "111\n", .count = 1 },
        { .documents = "30170921\n7\n30170921\n", .count = 3 },    //  One repeats
        { .documents = "1234567890\n", .count = 1 },               //  The longest
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *documents = cases [i].documents;
        uint8_t out [64];
        size_t size = lot_codec_winners_encode (out, sizeof out, documents,
                                                strlen (documents));
        assert_true (size >= 2);
        s_answer_t answer = s_measure_encoded (s_winners_answer, out, size);
        assert_int_equal (answer.reader.count, cases [i].count);
        assert_int_equal (lot_codec_winners_count (out, size), cases [i].count);
        lot_span_t document;
        unsigned read = 0;
        while (lot_codec_winners_next (&answer.reader, &document)) {
            const char *newline = strchr (documents, '\n');
            assert_int_equal (document.size, newline - documents);
            assert_memory_equal (document.data, documents, document.size);
            documents = newline + 1;
            read++;
        }
        assert_int_equal (read, cases [i].count);
        assert_string_equal (documents, "");
        assert_int_equal (lot_codec_winners_next (&answer.reader, &document), 0);
    }
    //  Two documents, the second of 11 digits: INVALID once its length came
    const s_invalid_t invalid [] = {
        { .bytes = "\x00\x02" "\x00\x03" "111" "\x00\x0b" "12345678901", .size = 20,
          .judged = 9 },
        { .bytes = "\x00\x01" "\xff\xff", .size = 4, .judged = 4 },
    };
    s_assert_invalid (s_winners_answer, invalid, sizeof invalid / sizeof *invalid);
}

//  The count a chunk says it holds, for the logs, from any prefix of it:
//  0 until the count has come, never a byte read past what came.
static void
test_chunk_count (void **state)
{
    (void) state;
    static const uint8_t chunk [] = { 'C', 1, 2, 0, 1, '3' };
    static const uint8_t numbered [] = { 'N', 0, 0, 1, 2, 'L', 0, 7, 0, 1, '3' };
    for (size_t cut = 0; cut <= sizeof chunk; cut++)
        assert_int_equal (lot_codec_chunk_count (s_guarded (chunk, cut), cut, false),
                          cut < 3 ? 0 : 258);
    for (size_t cut = 0; cut <= sizeof numbered; cut++)
        assert_int_equal (lot_codec_chunk_count (s_guarded (numbered, cut), cut, true),
                          cut < 8 ? 0 : 7);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_captured_example_encode),
        cmocka_unit_test (test_captured_example_decode),
        cmocka_unit_test (test_captured_winners_query),
        cmocka_unit_test (test_every_field_decodes),
        cmocka_unit_test (test_tags_more_and_last),
        cmocka_unit_test (test_empty_last_chunk),
        cmocka_unit_test (test_measure_unknown_tag),
        cmocka_unit_test (test_measure_count_cannot_fit),
        cmocka_unit_test (test_measure_string_overruns_max),
        cmocka_unit_test (test_measure_exactly_max),
        cmocka_unit_test (test_string_measure),
        cmocka_unit_test (test_reader_errors),
        cmocka_unit_test (test_split_at_every_byte),
        cmocka_unit_test (test_concatenated_chunks),
        cmocka_unit_test (test_writer_refuses_what_does_not_fit),
        cmocka_unit_test (test_writer_fails_on_any_field),
        cmocka_unit_test (test_writer_count_limit),
        cmocka_unit_test (test_v2_messages),
        cmocka_unit_test (test_primitives),
        cmocka_unit_test (test_fuzz),
        cmocka_unit_test (test_winners_encode),
        cmocka_unit_test (test_error_answer),
        cmocka_unit_test (test_stored_answer),
        cmocka_unit_test (test_winners_answer),
        cmocka_unit_test (test_chunk_count),
    };
    return cmocka_run_group_tests_name ("codec", tests, s_guard_setup, s_guard_teardown);
}
