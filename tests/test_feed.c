/*  test_feed - the client's chunks with no socket: the feed (lot_feed)
    over generated bets and over the CSV data file, and its progress pace
*/
#include "client_fake.h"
#include "lot_feed.h"

static size_t
s_bet_size (const char bet [5][64])
{
    size_t size = 0;
    for (int f = 0; f < 5; f++)
        size += 2 + strlen (bet [f]);
    return size;
}

//  Drains a source in chunks of at most max_bets and capacity bytes, and
//  checks every chunk: it decodes, holds the bets in order, only the last
//  is 'L', and each is full (by count or by bytes) except the last.
//  Returns how many chunks, their bet counts in counts (room for 256).
static size_t
s_drain (cf_gen_t *gen, unsigned max_bets, size_t capacity, size_t counts [256])
{
    lot_feed_t *feed = lot_feed_new (cf_gen_next, gen);
    assert_non_null (feed);
    uint8_t *buffer = malloc (capacity);
    assert_non_null (buffer);
    size_t chunks = 0, bets = 0;
    bool last = false;
    while (!last) {
        lot_chunk_writer_t writer;
        assert_int_equal (lot_codec_chunk_start (&writer, buffer, capacity, tu_span ("7")), 0);
        int count = lot_feed_fill (feed, &writer, max_bets, &last);
        assert_true (count >= 0);
        size_t size = lot_codec_chunk_finish (&writer, last);
        assert_true (size <= capacity);
        assert_int_equal (buffer [0], last ? 'L' : 'C');
        assert_int_equal (lot_codec_get_u16 (buffer + 1), count);
        size_t measured;
        const char *reason;
        assert_int_equal (lot_codec_chunk_measure (buffer, size, capacity, &measured, &reason),
                          LOT_CODEC_COMPLETE);
        assert_int_equal (measured, size);
        lot_chunk_reader_t reader;
        assert_int_equal (lot_codec_chunk_open (&reader, buffer, size), 0);
        lot_span_t fields [5];
        for (int i = 0; i < count; i++) {
            assert_int_equal (lot_codec_chunk_next (&reader, fields), 1);
            for (int f = 0; f < 5; f++)
                tu_assert_span (fields [f], gen->bets [bets + i][f]);
        }
        assert_int_equal (lot_codec_chunk_next (&reader, fields), 0);
        if (!last) {
            //  Full: by count, or the next bet would not have fit
            assert_true (bets + (size_t) count < gen->count);
            if ((unsigned) count < max_bets)
                assert_true (size + s_bet_size (gen->bets [bets + count]) > capacity);
        }
        bets += (size_t) count;
        if (chunks < 256)
            counts [chunks] = (size_t) count;
        chunks++;
    }
    assert_int_equal (bets, gen->count);
    free (buffer);
    lot_feed_destroy (&feed);
    assert_null (feed);
    lot_feed_destroy (&feed);           //  Again: nothing
    return chunks;
}

static void
test_chunk_counts (void **)
{
    //  last: the bets in the last chunk
    static const struct { const char *name; unsigned max_bets; size_t bets, chunks, last; } cases [] = {
        { "one a chunk", 1, 250, 250, 1 }, { "64", 64, 250, 4, 58 }, { "99", 99, 250, 3, 52 },
        { "ends on a boundary: no empty chunk after", 99, 198, 2, 99 },
        { "an empty file: one empty 'L' chunk", 10, 0, 1, 0 },
        { "one bet", 10, 1, 1, 1 },
    };
    CF_EACH (i, cases, cases [i].name) {
        cf_gen_t gen;
        cf_gen_init (&gen, cases [i].bets, 3);
        size_t counts [256];
        size_t chunks = s_drain (&gen, cases [i].max_bets, LOT_CHUNK_MAX_DEFAULT, counts);
        assert_int_equal (chunks, cases [i].chunks);
        for (size_t c = 0; c + 1 < chunks; c++)
            assert_int_equal (counts [c], cases [i].max_bets);
        assert_int_equal (counts [chunks - 1], cases [i].last);
        free (gen.bets);
    }
    //  65535 bets would never fit in 8192 bytes: the size decides
    cf_gen_t gen;
    cf_gen_init (&gen, 2000, 17);
    size_t counts [256];
    size_t chunks = s_drain (&gen, 65535, LOT_CHUNK_MAX_DEFAULT, counts);
    assert_true (chunks > 10);
    assert_true (chunks < 256);
    for (size_t c = 0; c + 1 < chunks; c++) {
        assert_true (counts [c] > 50);
        assert_true (counts [c] < 300);
    }
    free (gen.bets);

    //  And a small cap with a count that would also fit in 8192
    cf_gen_init (&gen, 300, 5);
    chunks = s_drain (&gen, 99, 1024, counts);
    assert_true (chunks > 300 / 99 + 1);
    free (gen.bets);
}

//  One bet of agency 5 through the feed, max_bets a chunk, into a buffer
//  of capacity bytes: the bet's count (1), or -1; the chunk's size in *size.
static int
s_fill_one (const char *name, unsigned max_bets, uint8_t *buffer, size_t capacity,
            size_t *size)
{
    char bets [1][5][64] = { { "", "Vera", "30170921", "1982-05-22", "6053" } };
    snprintf (bets [0][0], 64, "%s", name);
    cf_gen_t gen = { .bets = bets, .count = 1 };
    lot_feed_t *feed = lot_feed_new (cf_gen_next, &gen);
    assert_non_null (feed);
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, buffer, capacity, tu_span ("5")), 0);
    bool last = false;
    int count = lot_feed_fill (feed, &writer, max_bets, &last);
    if (count > 0) {
        assert_true (last);
        *size = lot_codec_chunk_finish (&writer, last);
    }
    else
        assert_true (lot_feed_oversized (feed));
    lot_feed_destroy (&feed);
    return count;
}

static void
test_chunk_bytes (void **)
{
    //  protocol.md's captured example, agency 5's first bet
    static const char expected [] =
        "L\x00\x01" "\x00\x01" "5" "\x00\x09" "Valentina" "\x00\x04" "Vera"
        "\x00\x08" "30170921" "\x00\x0a" "1982-05-22" "\x00\x04" "6053";
    uint8_t buffer [8192];
    size_t size = 0;
    assert_int_equal (s_fill_one ("Valentina", 50, buffer, sizeof buffer, &size), 1);
    tu_assert_bytes (buffer, size, expected, sizeof expected - 1);
    //  A bet that does not fit even alone is an error, not an empty chunk
    assert_int_equal (s_fill_one ("Valentina Valentina Valentina", 10, buffer, 64, &size), -1);
}

//  Reads a data file through the client's CSV source into one chunk of
//  agency 3: the bets' count, or -1; the chunk in *chunk.
static int
s_read_data (const char *path, size_t capacity, tu_wire_t *chunk)
{
    lot_feed_file_t *source = lot_feed_file_new (path);
    assert_non_null (source);
    lot_feed_t *feed = lot_feed_new (lot_feed_file_next, source);
    assert_non_null (feed);
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, chunk->data, capacity, tu_span ("3")), 0);
    bool last = false;
    int count = lot_feed_fill (feed, &writer, 100, &last);
    if (count >= 0) {
        assert_true (last);
        chunk->size = lot_codec_chunk_finish (&writer, last);
        assert_int_equal (lot_feed_file_bets (source), count);
    }
    lot_feed_destroy (&feed);
    lot_feed_file_destroy (&source);
    assert_null (source);
    lot_feed_file_destroy (&source);    //  Again: nothing
    return count;
}

//  The three bets, LF or CRLF, make one chunk; a bad record anywhere
//  makes none
static void
test_csv_data_file (void **)
{
    const struct { const char *name, *text; int bets; } files [] = {
        { "LF", cf_three_csv, 3 }, { "CRLF", cf_three_crlf, 3 },
        { "4 fields", "Ana,Paz,22,2000-02-29,1\nBeto,Paz,23,2000-01-01\n", -1 },
        { "6 fields", "Ana,Paz,22,2000-02-29,1\nBeto,Paz,23,2000-01-01,2,3\n", -1 },
        { "unclosed quote", "Ana,Paz,22,2000-02-29,1\n\"Beto,Paz,23,2000-01-01,2\n", -1 },
        { "no such date", "Ana,Paz,22,1999-02-29,1\n", -1 },
        { "document", "Ana,Paz,2x,2000-02-29,1\n", -1 },
        { "number", "Ana,Paz,22,2000-02-29,10000\n", -1 },
        { "empty name", "Ana,,22,2000-02-29,1\n", -1 },
        { "bad UTF-8", "Ana,P\xC3,22,2000-02-29,1\n", -1 },
    };
    tu_wire_t expected = { .size = 0 }, chunk;
    tu_wire_chunk (&expected, 'L', 3, "3");
    for (int i = 0; i < 3; i++)
        tu_wire_bet (&expected, cf_three [i]);
    CF_EACH (i, files, files [i].name) {
        assert_int_equal (s_read_data (cf_write ("data.csv", files [i].text), 8192, &chunk),
                          files [i].bets);
        if (files [i].bets > 0)
            tu_assert_bytes (chunk.data, chunk.size, expected.data, expected.size);
    }
    //  An empty file is no error: an empty last chunk
    assert_int_equal (s_read_data (cf_write ("empty.csv", ""), 64, &chunk), 0);
    tu_assert_bytes (chunk.data, chunk.size, "L\x00\x00\x00\x01" "3", 6);
}

//  The progress lines' pace: none in the first seconds, then at most one
//  a second however often it is asked.
static void
test_feed_pace (void **)
{
    lot_feed_pace_t pace;
    lot_feed_pace_init (&pace, 5000);
    int64_t last = -1;
    size_t lines = 0;
    for (int64_t now = 5000; now < 5000 + 10000; now += 7) {
        if (!lot_feed_pace_due (&pace, now))
            continue;
        assert_true (now >= 5000 + LOT_FEED_PROGRESS_AFTER);
        if (last >= 0)
            assert_true (now - last >= LOT_FEED_PROGRESS_PERIOD);
        last = now;
        lines++;
    }
    //  From 2 s to 10 s, one a second
    assert_int_equal (lines, (10000 - LOT_FEED_PROGRESS_AFTER) / LOT_FEED_PROGRESS_PERIOD);
    //  Asked seldom, it answers each time
    lot_feed_pace_init (&pace, 0);
    assert_false (lot_feed_pace_due (&pace, LOT_FEED_PROGRESS_AFTER - 1));
    assert_true (lot_feed_pace_due (&pace, 60000));
    assert_false (lot_feed_pace_due (&pace, 60999));
    assert_true (lot_feed_pace_due (&pace, 61000));
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        CF_TEST (test_chunk_counts),
        CF_TEST (test_chunk_bytes),
        CF_TEST (test_csv_data_file),
        CF_TEST (test_feed_pace),
    };
    return cmocka_run_group_tests (tests, cf_init, cf_end);
}
