/*  test_codec - the agency wire protocol, byte for byte

    s_cases lists every message by its fields: lot_codec encodes them to
    the bytes tu_wire_* writes after protocol.md; every cut of those is
    INCOMPLETE, the whole COMPLETE with the fields back. Then bytes that
    are no message: INVALID, with the reason, once enough came.
    Buffers under test end right before a PROT_NONE page, so reading one
    byte past what was handed in crashes the test instead of passing.
*/
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

//  Strings of n 'x' (up to 65535): the tail of one long string
static char s_x [65535 + 1];
#define XS(n) (s_x + sizeof s_x - 1 - (n))

static int
s_setup (void **state)
{
    memset (s_x, 'x', sizeof s_x - 1);
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
s_teardown (void **state)
{
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

static lot_codec_status_t
s_frame (const void *data, size_t size, size_t max, size_t *chunk_size,
         const char **reason)
{
    return lot_codec_chunk_measure (s_guarded (data, size), size, max, chunk_size, reason);
}

#define TAG     "unknown message tag"
#define LIMIT   .reason = "chunk larger than the packet limit"     //  For rows

//  --------------------------------------------------------------------------
//  Bets

//  The captured example of protocol.md: agency 5, first bet of its chunk,
//  45 bytes on the wire
static const char *const s_valentina [][LOT_BET_FIELDS] = {
    { "Valentina", "Vera", "30170921", "1982-05-22", "6053" }
};
//  Framing does not validate: any bytes, an empty field
static const char *const s_varied [][LOT_BET_FIELDS] = {
    { "Valentina", "Vera", "30170921", "1982-05-22", "6053" },
    { "Jos\xc3\xa9 Mar\xc3\xad" "a", "O'Brien, Jr.", "1", "2000-02-29", "0" },
    { "A", "", "1234567890", "1999-12-31", "9999" },
};
#define BET(...)    (const char *const [][LOT_BET_FIELDS]) { { __VA_ARGS__ } }

//  --------------------------------------------------------------------------
//  The tables' harness

typedef enum { CHUNK, NUMBERED, HELLO, QUERY, STORED, ERROR, WINNERS, STRING } s_kind_t;

//  The digest every v3 'S' of the tables carries
static const uint8_t s_digest [LOT_DIGEST_SIZE] = "0123456789abcdefghijklmnopqrstuv";

typedef struct {
    const char *name;
    s_kind_t kind;
    size_t max;                 //  The measure's limit; 0: 8192 for chunks,
                                //  LOT_DOCUMENT_MAX for documents
    //  The fields
    bool last;                  //  A chunk's tag: 'L', else 'C'
    const char *agency;         //  A chunk's, 'H''s, 'W''s
    const char *const (*bets) [LOT_BET_FIELDS];
    unsigned count;             //  A chunk's bets (bets [i % distinct], when
    unsigned distinct;          //  distinct), the winners' documents
    uint32_t position;          //  'N'
    unsigned version;           //  'H'; 'S': 2 or 3, its size
    uint32_t stored;            //  'S'
    bool finished;
    const char *text;           //  'E' reason, a string, the winners'
                                //  documents (each followed by a newline)
    const char *input;          //  The reason 'E' is encoded from, when it cuts
    bool decode_only;           //  Another server's: our encoders never write it
    //  No message: these bytes (else the fields'), INVALID from judged
    //  bytes on, with reason (chunks); or still INCOMPLETE when waits
    const char *bytes;
    size_t size;
    size_t judged;
    const char *reason;
    bool waits;
    bool refused;               //  The encoder refuses the fields (0)
    //  protocol.md's capture: the bytes start so, and are wire_size long
    const char *captured;
    size_t captured_size, wire_size;
} s_case_t;

#define BYTES(literal) .bytes = literal, .size = sizeof literal - 1
#define CAPTURED(literal) .captured = literal, .captured_size = sizeof literal - 1

static const char *const *
s_bet (const s_case_t *c, unsigned i)
{
    return c->bets [c->distinct ? i % c->distinct : i];
}

//  The message as protocol.md lays it out, by hand.
static void
s_write (tu_wire_t *wire, const s_case_t *c)
{
    switch (c->kind) {
        case NUMBERED:
            tu_wire_byte (wire, 'N');
            tu_wire_u32 (wire, c->position);
            //  fall through - then a chunk
        case CHUNK:
            tu_wire_chunk (wire, c->last ? 'L' : 'C', c->count, c->agency);
            for (unsigned i = 0; i < c->count; i++)
                tu_wire_bet (wire, s_bet (c, i));
            break;
        case HELLO:
            tu_wire_byte (wire, 'H');
            tu_wire_u16 (wire, c->version);
            tu_wire_str (wire, c->agency);
            break;
        case QUERY:
            tu_wire_byte (wire, 'W');
            tu_wire_str (wire, c->agency);
            break;
        case STORED:
            tu_wire_byte (wire, 'S');
            tu_wire_u32 (wire, c->stored);
            tu_wire_byte (wire, c->finished);
            if (c->version == 3)
                tu_wire_bytes (wire, s_digest, LOT_DIGEST_SIZE);
            break;
        case ERROR:
            tu_wire_byte (wire, 'E');
            tu_wire_str (wire, c->text);
            break;
        case WINNERS:
            tu_wire_u16 (wire, c->count);
            for (const char *at = c->text, *end; (end = strchr (at, '\n')); at = end + 1) {
                tu_wire_u16 (wire, (unsigned) (end - at));
                tu_wire_bytes (wire, at, (size_t) (end - at));
            }
            break;
        case STRING:
            tu_wire_str (wire, c->text);
            break;
    }
}

//  A chunk through the writer: 0 when it does not fit.
static size_t
s_encode_chunk (const s_case_t *c, uint8_t *out, size_t capacity)
{
    lot_chunk_writer_t writer;
    if (lot_codec_chunk_start (&writer, out, capacity, tu_span (c->agency)))
        return 0;
    for (unsigned i = 0; i < c->count; i++) {
        lot_span_t fields [LOT_BET_FIELDS];
        for (int f = 0; f < LOT_BET_FIELDS; f++)
            fields [f] = tu_span (s_bet (c, i) [f]);
        if (lot_codec_chunk_add (&writer, fields))
            return 0;
    }
    assert_int_equal (writer.count, c->count);
    //  Finish may be called again: only the tag changes
    lot_codec_chunk_finish (&writer, !c->last);
    assert_int_equal (out [0], c->last ? 'C' : 'L');
    size_t size = lot_codec_chunk_finish (&writer, c->last);
    assert_int_equal (writer.size, size);
    return size;
}

//  The message through lot_codec: 0 when it does not fit or is refused.
static size_t
s_encode (const s_case_t *c, uint8_t *out, size_t cap)
{
    size_t head, chunk;
    switch (c->kind) {
        case NUMBERED:
            head = lot_codec_numbered_encode (out, cap, c->position);
            chunk = head ? s_encode_chunk (c, out + head, cap - head) : 0;
            return chunk ? head + chunk : 0;
        case CHUNK:   return s_encode_chunk (c, out, cap);
        case HELLO:   return lot_codec_hello_encode (out, cap, c->version, tu_span (c->agency));
        case QUERY:   return lot_codec_query_encode (out, cap, tu_span (c->agency));
        case STORED:  return lot_codec_stored_encode (out, cap, c->version, c->stored,
                                                      c->finished, s_digest);
        case ERROR:   return lot_codec_error_encode (out, cap, c->input ? c->input : c->text);
        case WINNERS: return lot_codec_winners_encode (out, cap, c->text, strlen (c->text));
        case STRING:  return lot_codec_put_string (out, cap, tu_span (c->text));
    }
    return 0;
}

//  What a measure gave: its fields are set only when COMPLETE.
typedef struct {
    size_t total;               //  SIZE_MAX until set
    const char *reason;         //  Why INVALID: chunks, numbered chunks
    unsigned count;             //  Bets or documents announced, from any prefix
    uint32_t position, stored;
    unsigned version;
    bool finished;
    const uint8_t *digest;      //  'S'
    lot_span_t text;            //  'H' and 'W' agency, 'E' reason
    lot_winners_reader_t winners;
} s_got_t;

static lot_codec_status_t
s_measure (const s_case_t *c, const uint8_t *d, size_t n, s_got_t *g)
{
    *g = (s_got_t) { .total = SIZE_MAX };
    size_t max = c->max ? c->max : c->kind == WINNERS ? LOT_DOCUMENT_MAX
                                 : c->kind == STRING ? 0 : LOT_CHUNK_MAX_DEFAULT;
    lot_codec_status_t status;
    switch (c->kind) {
        case CHUNK:
            g->count = lot_codec_chunk_count (d, n, false);
            return lot_codec_chunk_measure (d, n, max, &g->total, &g->reason);
        case NUMBERED:          //  Its total: the chunk and the header before it
            g->count = lot_codec_chunk_count (d, n, true);
            status = lot_codec_numbered_measure (d, n, max, &g->position, &g->total,
                                                 &g->reason);
            g->total += status == LOT_CODEC_COMPLETE ? LOT_NUMBERED_HEADER : 0;
            return status;
        case HELLO:   return lot_codec_hello_measure (d, n, &g->version, &g->text, &g->total);
        case QUERY:   return lot_codec_query_measure (d, n, &g->text, &g->total);
        case STORED:  return lot_codec_stored_measure (d, n, c->version, &g->stored,
                                                       &g->finished, &g->digest, &g->total);
        case ERROR:   return lot_codec_error_measure (d, n, &g->text, &g->total);
        case WINNERS:
            g->count = lot_codec_winners_count (d, n);
            return lot_codec_winners_measure (d, n, max, &g->winners, &g->total);
        case STRING:  return lot_codec_string_measure (d, n, max, &g->total);
    }
    return LOT_CODEC_INVALID;
}

//  Reads a chunk of the table: its header, then every bet, each field a
//  view into data right after its length, no copy.
static void
s_check_chunk (const s_case_t *c, const uint8_t *data, size_t size)
{
    lot_chunk_reader_t reader;
    assert_int_equal (lot_codec_chunk_open (&reader, data, size), 0);
    assert_int_equal (reader.last, c->last);
    assert_int_equal (reader.count, c->count);
    assert_int_equal (reader.left, c->count);
    tu_assert_span (reader.agency, c->agency);
    assert_ptr_equal (reader.agency.data, data + 5);
    const uint8_t *at = data + 5 + reader.agency.size;
    lot_span_t fields [LOT_BET_FIELDS];
    for (unsigned i = 0; i < c->count; i++) {
        assert_int_equal (lot_codec_chunk_next (&reader, fields), 1);
        for (int f = 0; f < LOT_BET_FIELDS; f++) {
            tu_assert_span (fields [f], s_bet (c, i) [f]);
            assert_ptr_equal (fields [f].data, at + 2);
            at += 2 + fields [f].size;
        }
        assert_int_equal (reader.left, c->count - i - 1);
    }
    assert_ptr_equal (at, data + size);
    assert_int_equal (lot_codec_chunk_next (&reader, fields), 0);
    assert_int_equal (lot_codec_chunk_next (&reader, fields), 0);
}

//  The fields of a complete measure of data are the case's.
static void
s_check_fields (const s_case_t *c, const uint8_t *data, s_got_t *got)
{
    uint32_t stored;
    bool finished;
    const uint8_t *digest;
    size_t total;
    const char *documents = c->text;
    lot_span_t document;
    unsigned read = 0;
    switch (c->kind) {
        case NUMBERED:
            assert_int_equal (got->position, c->position);
            s_check_chunk (c, data + LOT_NUMBERED_HEADER, got->total - LOT_NUMBERED_HEADER);
            break;
        case CHUNK:   s_check_chunk (c, data, got->total); break;
        case HELLO:   assert_int_equal (got->version, c->version);
                      tu_assert_span (got->text, c->agency); break;
        case QUERY:   tu_assert_span (got->text, c->agency); break;
        case ERROR:   tu_assert_span (got->text, c->text); break;
        case STRING:  break;
        case STORED:
            assert_int_equal (got->stored, c->stored);
            assert_int_equal (got->finished, c->finished);
            if (c->version == 3)
                assert_memory_equal (got->digest, s_digest, LOT_DIGEST_SIZE);
            else
                assert_null (got->digest);
            assert_int_equal (got->total, lot_codec_stored_size (c->version));
            //  Its first lot_codec_stored_size bytes alone say the same
            assert_int_equal (lot_codec_stored_measure (data, got->total, c->version,
                                                        &stored, &finished, &digest,
                                                        &total),
                              LOT_CODEC_COMPLETE);
            assert_int_equal (stored, c->stored);
            assert_int_equal (finished, c->finished);
            break;
        case WINNERS:
            assert_int_equal (got->winners.count, c->count);
            for (; lot_codec_winners_next (&got->winners, &document); read++) {
                const char *newline = strchr (documents, '\n');
                assert_non_null (newline);
                assert_int_equal (document.size, newline - documents);
                assert_memory_equal (document.data, documents, document.size);
                documents = newline + 1;
            }
            assert_int_equal (read, c->count);
            assert_string_equal (documents, "");
            assert_int_equal (lot_codec_winners_next (&got->winners, &document), 0);
            break;
    }
}

//  A row of the table: its bytes by hand, through the encoder, and
//  measured at every cut.
static void
s_check (const s_case_t *c)
{
    static tu_wire_t bytes;
    static uint8_t out [sizeof bytes.data + 1];
    bool message = !c->judged && !c->waits;        //  Else bytes that are none
    tu_case ("%s", c->name);
    bytes.size = 0;
    if (c->bytes)
        tu_wire_bytes (&bytes, c->bytes, c->size);
    else
        s_write (&bytes, c);
    size_t size = bytes.size;
    //  tu_wire_* writes what was captured, so the rows check lot_codec
    //  against the capture
    assert_true (size >= c->captured_size);
    tu_assert_bytes (bytes.data, c->captured_size, c->captured, c->captured_size);
    if (c->wire_size)
        assert_int_equal (size, c->wire_size);
    if (message && !c->decode_only) {
        memset (out, 0xAA, size + 1);
        tu_assert_bytes (out, s_encode (c, out, size), bytes.data, size);
        assert_int_equal (out [size], 0xAA);                //  Never past capacity
        assert_int_equal (s_encode (c, out, size - 1), 0);
        assert_true (c->kind != ERROR || size <= LOT_ANSWER_MAX);
    }
    if (c->refused)
        assert_int_equal (s_encode (c, out, sizeof out), 0);
    //  After a message, the start of the next changes nothing
    size_t after = message ? 19 : 0;
    for (size_t extra = 0; extra < after; extra++)
        bytes.data [size + extra] = (uint8_t) ('C' + extra + 1);
    //  The count a chunk or an answer announces, for the logs, reads from
    //  any prefix once it came: 0 before
    size_t count_at = c->kind == CHUNK ? 3 : c->kind == NUMBERED ? LOT_NUMBERED_HEADER + 3
                    : c->kind == WINNERS ? 2 : SIZE_MAX;
    //  The two tags of a chunk frame alike
    bool tagged = c->kind == CHUNK && (bytes.data [0] == 'C' || bytes.data [0] == 'L');
    s_got_t got;
    for (int flip = 0; flip <= tagged; flip++) {
        bytes.data [0] ^= flip ? 'C' ^ 'L' : 0;     //  And back after
        for (size_t cut = 0; cut <= size + after; cut++) {
            tu_case ("%s%s, cut to %zu bytes", c->name, flip ? ", other tag" : "", cut);
            lot_codec_status_t want = cut < (message ? size : c->judged) || c->waits
                                    ? LOT_CODEC_INCOMPLETE
                                    : message ? LOT_CODEC_COMPLETE : LOT_CODEC_INVALID;
            assert_int_equal (s_measure (c, s_guarded (bytes.data, cut), cut, &got), want);
            assert_int_equal (got.total, want == LOT_CODEC_COMPLETE ? size : SIZE_MAX);
            assert_string_equal (got.reason ? got.reason : "(none)",
                                 want == LOT_CODEC_INVALID && c->reason ? c->reason : "(none)");
            if (message)
                assert_int_equal (got.count, cut < count_at ? 0 : c->count);
        }
        bytes.data [0] ^= flip ? 'C' ^ 'L' : 0;
    }
    uint32_t stored;
    bool finished;
    const uint8_t *digest;
    size_t total;
    const uint8_t *data = s_guarded (bytes.data, size);
    if (message) {
        tu_case ("%s, its fields", c->name);
        s_measure (c, data, size, &got);
        s_check_fields (c, data, &got);
    }
    else
    if (c->kind == STORED && size >= lot_codec_stored_size (c->version))
        assert_int_equal (lot_codec_stored_measure (data, lot_codec_stored_size (c->version),
                                                    c->version, &stored, &finished,
                                                    &digest, &total),
                          LOT_CODEC_INVALID);
}

//  --------------------------------------------------------------------------
//  Every message, and bytes that are none

//  One bet of agency 5 whose first name has n bytes: a chunk of n + 42
#define FILLED(n)   CHUNK, .agency = "5", .count = 1, \
                    .bets = BET (XS (n), "Vera", "30170921", "1982-05-22", "6053")

//  A chunk of one bet, its tag known bad at the first byte
#define TAGGED(tag) { "chunk tagged " #tag, CHUNK, BYTES (tag "\0\0\0\1" "5"), .judged = 1, \
                      .reason = TAG }

static const s_case_t s_cases [] = {
    //  The captured example: one bet, then fifty, of agency 5
    { "captured chunk, one bet", CHUNK, .agency = "5", .bets = s_valentina, .count = 1,
      CAPTURED ("\x43\x00\x01\x00\x01\x35" "\x00\x09" "Valentina" "\x00\x04" "Vera"
                "\x00\x08" "30170921" "\x00\x0a" "1982-05-22" "\x00\x04" "6053"), .wire_size = 51 },
    { "captured chunk, fifty bets", CHUNK, .agency = "5", .bets = s_valentina, .count = 50,
      .distinct = 1, CAPTURED ("\x43\x00\x32\x00\x01\x35"), .wire_size = 2256 },
    { "varied fields, last", CHUNK, .last = true, .agency = "12", .bets = s_varied,
      .count = 3 },
    { "one bet, last", CHUNK, .last = true, .agency = "3", .bets = s_valentina, .count = 1 },
    { "empty last chunk", CHUNK, .last = true, .agency = "5" },
    { "smallest chunk: no bet, empty agency", CHUNK, .agency = "" },
    { "smallest chunk, max 5", CHUNK, .agency = "", .max = 5 },
    { "258 empty bets", CHUNK, .agency = "3", .bets = BET ("", "", "", "", ""), .count = 258,
      .distinct = 1 },
    { "8192 bytes, max 8192", FILLED (8192 - 42), .max = 8192 },
    { "100 bytes, max 100", FILLED (100 - 42), .max = 100 },
    { "43 bytes, max 43", FILLED (1), .max = 43 },
    //  A first field that leaves room for four empty ones, a last that ends at 8192
    { "first field ends at 8184", CHUNK, .agency = "5", .count = 1,
      .bets = BET (XS (8176), "", "", "", "") },
    { "last field ends at 8192", CHUNK, .last = true, .agency = "5", .count = 1,
      .bets = BET (XS (100), XS (100), XS (100), XS (100), XS (7776)) },
    //  Protocol v2
    { "numbered: position 258, an empty last chunk", NUMBERED, .position = 258,
      .last = true, .agency = "3" },
    { "numbered: 7 bets", NUMBERED, .position = 258, .agency = "3", .bets = s_valentina,
      .count = 7, .distinct = 1 },
    { "hello: version 2, agency 17", HELLO, .version = 2, .agency = "17" },
    { "hello: version 3, agency 17", HELLO, .version = 3, .agency = "17" },
    { "query: agency 17", QUERY, .agency = "17" },
    { "query: agency 5, as captured", QUERY, .agency = "5", CAPTURED ("\x57\x00\x01\x35") },
    //  'S', every case of it: v3 with the digest (38 bytes), v2 without (6)
    { "stored 0", STORED, .version = 3, .stored = 0 },
    { "stored 1, finished", STORED, .version = 3, .stored = 1, .finished = true,
      CAPTURED ("S\0\0\0\1\1" "0123456789abcdefghijklmnopqrstuv"), .wire_size = 38 },
    { "stored 65538, finished", STORED, .version = 3, .stored = 65538, .finished = true },
    { "stored UINT32_MAX", STORED, .version = 3, .stored = UINT32_MAX },
    { "stored, finished 2", STORED, .version = 3, BYTES ("S\0\0\0\0\2"), .judged = 6 },
    { "stored, finished 255", STORED, .version = 3, BYTES ("S\0\0\0\0\377"), .judged = 6 },
    { "stored, an 'E'", STORED, .version = 3, BYTES ("E\0\1x"), .judged = 1 },
    { "stored, an 'O'", STORED, .version = 3, BYTES ("O"), .judged = 1 },
    { "v2: stored 0", STORED, .version = 2, .stored = 0 },
    { "v2: stored 65538, finished", STORED, .version = 2, .stored = 65538,
      .finished = true },
    { "v2: stored 1, finished, as a v2 client reads it", STORED, .version = 2,
      .stored = 1, .finished = true, CAPTURED ("S\0\0\0\1\1"), .wire_size = 6 },
    { "v2: stored, finished 2", STORED, .version = 2, BYTES ("S\0\0\0\0\2"), .judged = 6 },
    { "v2: stored, an 'E'", STORED, .version = 2, BYTES ("E\0\1x"), .judged = 1 },
    //  The answers an agency reads
    { "error: busy", ERROR, .text = "busy" },
    { "error: empty reason", ERROR, .text = "" },
    { "error: agency busy", ERROR, .text = LOT_REASON_BUSY },
    { "error: a reason cut at LOT_REASON_MAX", ERROR, .text = XS (LOT_REASON_MAX),
      .input = XS (LOT_REASON_MAX + 45) },
    { "error: another server's longer reason, read whole", ERROR, .text = XS (300),
      .decode_only = true },
    { "winners: two", WINNERS, .text = "111\n22\n", .count = 2 },
    { "winners: none", WINNERS, .text = "" },
    { "winners: one", WINNERS, .text = "111\n", .count = 1 },
    { "winners: one repeats", WINNERS, .text = "30170921\n7\n30170921\n", .count = 3 },
    { "winners: the longest document", WINNERS, .text = "1234567890\n", .count = 1 },
    { "string abc, max 100", STRING, .text = "abc", .max = 100 },
    { "string abc, exactly max 3", STRING, .text = "abc", .max = 3 },
    { "empty string, max 0", STRING, .text = "" },

    //  Bytes that are no message
    TAGGED ("B"), TAGGED ("W"), TAGGED ("O"), TAGGED ("E"), TAGGED ("c"), TAGGED ("l"),
    TAGGED ("X"), TAGGED ("\0"), TAGGED ("\377"), TAGGED ("\303"),      //  'C' | 0x80
    //  Every string takes two bytes at least: with max 8192 a count of
    //  818 might fit (3 + 2 * (1 + 5 * 818) = 8185), 819 cannot (8195)
    { "count 818, max 8192", CHUNK, BYTES ("C\x03\x32"), .max = 8192, .waits = true },
    { "count 819, max 8192", CHUNK, BYTES ("C\x03\x33"), .max = 8192, .judged = 3, LIMIT },
    { "count 65535, max 8192", CHUNK, BYTES ("C\377\377"), .max = 8192, .judged = 3, LIMIT },
    //  3 + 2 * 6 = 15 <= 17, then 15 > 14
    { "count 1, max 17", CHUNK, BYTES ("C\0\1"), .max = 17, .waits = true },
    { "count 1, max 14", CHUNK, BYTES ("C\0\1"), .max = 14, .judged = 3, LIMIT },
    { "count 0, max 5", CHUNK, BYTES ("C\0\0"), .max = 5, .waits = true },
    { "count 0, max 4", CHUNK, BYTES ("C\0\0"), .max = 4, .judged = 3, LIMIT },
    { "smallest chunk, max 4", CHUNK, .agency = "", .max = 4, .judged = 3, LIMIT },
    //  3 + 2 * 327676
    { "count 65535, max 655355", CHUNK, BYTES ("C\377\377"), .max = 655355, .waits = true },
    { "count 65535, max 655354", CHUNK, BYTES ("C\377\377"), .max = 655354, .judged = 3,
      LIMIT },
    //  A string past the limit: rejected once its length is in
    { "agency of 9000", CHUNK, BYTES ("C\0\0\x23\x28"), .judged = 5, LIMIT },
    { "agency of 0xFFFF", CHUNK, BYTES ("C\0\0\377\377"), .judged = 5, LIMIT },
    { "first field ends at 8185: no room for four more", CHUNK, .agency = "5", .count = 1,
      .bets = BET (XS (8177), "", "", "", ""), .judged = 8, LIMIT },
    { "last field ends at 8193", CHUNK, .last = true, .agency = "5", .count = 1,
      .bets = BET (XS (100), XS (100), XS (100), XS (100), XS (7777)),
      .judged = 6 + 4 * 102 + 2, LIMIT },
    //  One byte more than max, or max one less: rejected at the length of
    //  "6053", the last string, before its bytes
    { "8193 bytes, max 8192", FILLED (8192 - 41), .max = 8192, .judged = 8193 - 4, LIMIT },
    { "8192 bytes, max 8191", FILLED (8192 - 42), .max = 8191, .judged = 8192 - 4, LIMIT },
    { "101 bytes, max 100", FILLED (100 - 41), .max = 100, .judged = 101 - 4, LIMIT },
    { "100 bytes, max 99", FILLED (100 - 42), .max = 99, .judged = 100 - 4, LIMIT },
    { "44 bytes, max 43", FILLED (2), .max = 43, .judged = 44 - 4, LIMIT },
    { "43 bytes, max 42", FILLED (1), .max = 42, .judged = 43 - 4, LIMIT },
    //  Protocol v2
    { "numbered, a chunk tagged X", NUMBERED, BYTES ("N\0\0\0\0X"), .judged = 6,
      .reason = TAG },
    { "numbered, tagged B", NUMBERED, BYTES ("B"), .judged = 1, .reason = TAG },
    { "hello, agency of 11", HELLO, .version = 2, .agency = "12345678901", .judged = 5,
      .refused = true },
    { "hello, tagged B", HELLO, BYTES ("B"), .judged = 1 },
    { "query, agency of 11", QUERY, .agency = "12345678901", .judged = 3, .refused = true },
    { "query, tagged B", QUERY, BYTES ("B"), .judged = 1 },
    { "error, an 'O'", ERROR, BYTES ("O"), .judged = 1 },
    { "error, an 'S'", ERROR, BYTES ("S\0\0\0\0\1"), .judged = 1 },
    { "error, tagged e", ERROR, BYTES ("e\0\0"), .judged = 1 },
    //  Invalid once the length of a document past LOT_DOCUMENT_MAX came
    { "winners, a document of 11 digits", WINNERS, .text = "111\n12345678901\n",
      .count = 2, .judged = 9 },
    { "winners, a document of 0xFFFF", WINNERS, BYTES ("\0\1\377\377"), .judged = 4 },
    { "string abc, max 2", STRING, BYTES ("\0\3abc"), .max = 2, .judged = 2 },
    { "string of 0xFFFF, max 65534", STRING, BYTES ("\377\377"), .max = 65534, .judged = 2 },
    { "string of 0xFFFF, max 65535", STRING, BYTES ("\377\377"), .max = 65535, .waits = true },
};

static void
test_tables (void **state)
{
    assert_int_equal (LOT_TAG_BETS, 0x42);
    assert_int_equal (LOT_TAG_CHUNK, 0x43);
    assert_int_equal (LOT_TAG_LAST, 0x4c);
    assert_int_equal (LOT_TAG_OK, 0x4f);
    assert_int_equal (LOT_TAG_ERROR, 0x45);
    assert_int_equal (LOT_CHUNK_HEADER_MIN, 5);         //  Tag, count, empty agency
    for (size_t i = 0; i < sizeof s_cases / sizeof *s_cases; i++)
        s_check (&s_cases [i]);
    tu_case_done ();
}

//  --------------------------------------------------------------------------
//  What the table does not say

//  The largest chunk of one bet a u16 allows, 65535 + 42 bytes, is too
//  large for tu_wire_t: its first name is filled in place.
static void
test_chunk_of_the_largest_string (void **state)
{
    static uint8_t chunk [65535 + 42];
    size_t max = sizeof chunk;
    tu_wire_t wire = { .size = 0 };
    tu_wire_chunk (&wire, 'C', 1, "5");
    tu_wire_u16 (&wire, 65535);
    memcpy (chunk, wire.data, wire.size);
    memset (chunk + wire.size, 'x', 65535);
    wire.size = 0;
    for (int f = 1; f < LOT_BET_FIELDS; f++)
        tu_wire_str (&wire, s_valentina [0][f]);
    memcpy (chunk + 8 + 65535, wire.data, wire.size);
    assert_int_equal (8 + 65535 + wire.size, max);
    size_t chunk_size = 0;
    const char *reason = NULL;
    assert_int_equal (s_frame (chunk, max, max, &chunk_size, &reason), LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, max);
    assert_null (reason);
    chunk_size = 777;
    assert_int_equal (s_frame (chunk, max, max - 1, &chunk_size, &reason), LOT_CODEC_INVALID);
    assert_string_equal (reason, "chunk larger than the packet limit");
    assert_int_equal (chunk_size, 777);
}

//  How the reader took a chunk: bets is -1 when it did not open it; end
//  is how reading stopped, 0 at the chunk's end, -1 on bytes that do not
//  fit. Every span it gave lies inside the bytes.
typedef struct {
    int bets;
    int end;
    unsigned count;
    bool last;
} s_read_t;

static s_read_t
s_read (const void *bytes, size_t size)
{
    const uint8_t *data = s_guarded (bytes, size);
    lot_chunk_reader_t reader;
    s_read_t read = { .bets = -1 };
    if (lot_codec_chunk_open (&reader, data, size))
        return read;
    read = (s_read_t) { .count = reader.count, .last = reader.last };
    assert_true ((const uint8_t *) reader.agency.data >= data + 5);
    assert_true ((const uint8_t *) reader.agency.data + reader.agency.size <= data + size);
    lot_span_t fields [LOT_BET_FIELDS];
    while ((read.end = lot_codec_chunk_next (&reader, fields)) == 1) {
        assert_true (++read.bets <= (int) reader.count);
        for (int f = 0; f < LOT_BET_FIELDS; f++) {
            assert_true ((const uint8_t *) fields [f].data >= data + 7);
            assert_true ((const uint8_t *) fields [f].data + fields [f].size <= data + size);
        }
    }
    if (read.end == 0)
        assert_int_equal (read.bets, reader.count);
    else
        assert_int_equal (read.end, -1);
    return read;
}

//  The reader over cut and broken chunks; then chunks back to back, as
//  they arrive on a connection: each framed and read in turn, the last
//  one not yet whole.
static void
test_reader (void **state)
{
    tu_wire_t chunk = { .size = 0 };
    tu_wire_chunk (&chunk, 'L', 3, "12");
    size_t ends [3];
    for (int b = 0; b < 3; b++) {
        tu_wire_bet (&chunk, s_varied [b]);
        ends [b] = chunk.size;
    }
    //  Too short for a header, or a truncated agency
    for (size_t size = 0; size < 7; size++)
        assert_int_equal (s_read (chunk.data, size).bets, -1);
    //  Cut anywhere in the bets: the bets before the cut read, then -1
    for (size_t size = 7; size < chunk.size; size++) {
        tu_case ("the sample cut to %zu bytes", size);
        s_read_t read = s_read (chunk.data, size);
        assert_int_equal (read.bets, size >= ends [1] ? 2 : size >= ends [0] ? 1 : 0);
        assert_int_equal (read.end, -1);
    }
    //  The sample's bets under another head, or with a byte after them
    const struct {
        const char *name;
        char tag;
        unsigned count;         //  Announced
        unsigned bets;          //  Of the sample's, that follow
        int after;              //  A byte after them, or -1
        int read;               //  Bets read: then -1 (none: not opened)
    } cases [] = {
        { "tag B", 'B', 3, 3, -1, -1 },
        { "a byte after the last bet", 'L', 3, 3, 0, 3 },
        { "a byte after an empty chunk", 'L', 0, 0, 'L', 0 },
        { "4 bets announced, 3 come", 'L', 4, 3, -1, 3 },
        { "2 bets announced, 3 come", 'L', 2, 3, -1, 2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tu_case ("%s", cases [i].name);
        tu_wire_t wire = { .size = 0 };
        tu_wire_chunk (&wire, cases [i].tag, cases [i].count, "12");
        for (unsigned b = 0; b < cases [i].bets; b++)
            tu_wire_bet (&wire, s_varied [b]);
        if (cases [i].after >= 0)
            tu_wire_byte (&wire, (unsigned) cases [i].after);
        s_read_t read = s_read (wire.data, wire.size);
        assert_int_equal (read.bets, cases [i].read);
        if (read.bets >= 0) {
            assert_int_equal (read.count, cases [i].count);
            assert_int_equal (read.end, -1);
        }
    }
    tu_case_done ();
    //  A length that runs past the end: of a field, of the agency
    chunk.size = 0;
    tu_wire_chunk (&chunk, 'C', 1, "5");
    tu_wire_u16 (&chunk, 0xFFFF);
    tu_wire_str (&chunk, "abc");
    s_read_t read = s_read (chunk.data, chunk.size);
    assert_int_equal (read.bets, 0);
    assert_int_equal (read.end, -1);
    chunk.size = 3;
    tu_wire_u16 (&chunk, 0xFFFF);
    assert_int_equal (s_read (chunk.data, chunk.size).bets, -1);

    tu_wire_t stream = { .size = 0 };
    size_t sizes [3];
    tu_wire_chunk (&stream, 'C', 3, "12");             //  The varied bets
    for (int b = 0; b < 3; b++)
        tu_wire_bet (&stream, s_varied [b]);
    sizes [0] = stream.size;
    //  A chunk from the writer
    lot_chunk_writer_t writer;
    lot_span_t fields [LOT_BET_FIELDS];
    for (int f = 0; f < LOT_BET_FIELDS; f++)
        fields [f] = tu_span (s_valentina [0][f]);
    assert_int_equal (lot_codec_chunk_start (&writer, stream.data + stream.size, 1000,
                                             tu_span ("5")), 0);
    for (int i = 0; i < 7; i++)
        assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    stream.size += sizes [1] = lot_codec_chunk_finish (&writer, false);
    tu_wire_chunk (&stream, 'L', 0, "5");                //  An empty last chunk
    sizes [2] = 6;
    tu_wire_bytes (&stream, stream.data, 10);           //  The start of a fourth

    const uint8_t *data = s_guarded (stream.data, stream.size);
    size_t offset = 0;
    for (int i = 0; i < 3; i++) {
        size_t chunk_size = 0;
        const char *reason = NULL;
        assert_int_equal (lot_codec_chunk_measure (data + offset, stream.size - offset,
                                                   8192, &chunk_size, &reason),
                          LOT_CODEC_COMPLETE);
        assert_int_equal (chunk_size, sizes [i]);
        s_read_t read = s_read (data + offset, chunk_size);
        data = s_guarded (stream.data, stream.size);    //  s_read moved it
        assert_int_equal (read.end, 0);
        assert_int_equal (read.bets, i == 0 ? 3 : i == 1 ? 7 : 0);
        assert_int_equal (read.last, i == 2);
        offset += chunk_size;
    }
    size_t chunk_size = 777;
    const char *reason = NULL;
    assert_int_equal (lot_codec_chunk_measure (data + offset, stream.size - offset, 8192,
                                               &chunk_size, &reason), LOT_CODEC_INCOMPLETE);
    assert_int_equal (chunk_size, 777);
    assert_int_equal (stream.size - offset, 10);
}

//  --------------------------------------------------------------------------
//  The writer at its limits

//  Every capacity up to five bets: the writer takes the bets that fit,
//  refuses the next and leaves the chunk as it was, never past capacity.
//  A bet fails whole on any field; a string longer than 65535 bytes is
//  refused; a chunk holds 65535 bets and the winners answer 65535
//  documents, no more: what a u16 counts.
static void
test_writer_limits (void **state)
{
    uint8_t out [512 + 64];
    lot_span_t fields [LOT_BET_FIELDS];
    for (int f = 0; f < LOT_BET_FIELDS; f++)
        fields [f] = tu_span (s_valentina [0][f]);
    size_t bet = 45;                        //  s_valentina's on the wire

    for (size_t capacity = 0; capacity <= 6 + 5 * bet + 3; capacity++) {
        tu_case ("capacity %zu", capacity);
        memset (out, 0xAA, sizeof out);
        lot_chunk_writer_t writer;
        int rc = lot_codec_chunk_start (&writer, out, capacity, tu_span ("5"));
        assert_int_equal (rc, capacity < 6 ? -1 : 0);
        size_t size = 0;
        unsigned expected = capacity < 6 ? 0 : (unsigned) ((capacity - 6) / bet);
        if (rc == 0) {
            assert_int_equal (writer.size, 6);
            for (unsigned b = 0; b < expected; b++)
                assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
            assert_int_equal (writer.count, expected);
            size = writer.size;
            assert_int_equal (size, 6 + expected * bet);
            //  The next one does not fit: refused, chunk unchanged
            uint8_t copy [512];
            memcpy (copy, out, capacity);
            assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
            assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
            assert_int_equal (writer.size, size);
            assert_int_equal (writer.count, expected);
            assert_int_equal (lot_codec_chunk_finish (&writer, true), size);
            assert_memory_equal (out + 3, copy + 3, size - 3);
            //  What was written is a chunk of exactly those bets
            s_read_t read = s_read (out, size);
            assert_int_equal (read.bets, expected);
            assert_int_equal (read.end, 0);
            assert_true (read.last);
        }
        //  Never past capacity
        for (size_t i = capacity; i < sizeof out; i++)
            assert_int_equal (out [i], 0xAA);
    }
    tu_case_done ();

    //  The bet fails on its last field: the four before must not count
    memset (out, 0xAA, sizeof out);
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, out, 6 + 44, tu_span ("5")), 0);
    assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
    assert_int_equal (writer.size, 6);
    assert_int_equal (writer.count, 0);
    assert_int_equal (lot_codec_chunk_finish (&writer, false), 6);
    tu_wire_t empty = { .size = 0 };
    tu_wire_chunk (&empty, 'C', 0, "5");
    tu_assert_bytes (out, 6, empty.data, empty.size);
    for (size_t i = 50; i < sizeof out; i++)
        assert_int_equal (out [i], 0xAA);

    //  A string longer than 65535 bytes
    static uint8_t big [200000];
    assert_int_equal (lot_codec_chunk_start (&writer, big, sizeof big, tu_span ("5")), 0);
    fields [1] = (lot_span_t) { .data = XS (65535), .size = 65536 };
    assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
    assert_int_equal (writer.size, 6);
    fields [1] = (lot_span_t) { .data = XS (65535), .size = 65535 };
    assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    assert_int_equal (writer.size, 6 + 45 - 4 + 65535);
    assert_int_equal (lot_codec_chunk_start (&writer, big, sizeof big,
                                             (lot_span_t) { .data = XS (65535), .size = 65536 }),
                      -1);

    size_t capacity = 6 + 65536 * 10;
    uint8_t *empties = malloc (capacity);
    assert_non_null (empties);
    for (int f = 0; f < LOT_BET_FIELDS; f++)
        fields [f] = tu_span ("");
    assert_int_equal (lot_codec_chunk_start (&writer, empties, capacity, tu_span ("5")), 0);
    for (unsigned i = 0; i < 65535; i++)
        assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    assert_int_equal (lot_codec_chunk_add (&writer, fields), -1);
    assert_int_equal (writer.count, 65535);
    size_t size = lot_codec_chunk_finish (&writer, true);
    assert_int_equal (size, 6 + 65535 * 10);
    tu_wire_t head = { .size = 0 };
    tu_wire_chunk (&head, 'L', 65535, "5");
    tu_assert_bytes (empties, head.size, head.data, head.size);
    size_t chunk_size = 0;
    const char *reason = NULL;
    assert_int_equal (lot_codec_chunk_measure (empties, size, size, &chunk_size, &reason),
                      LOT_CODEC_COMPLETE);
    assert_int_equal (chunk_size, size);
    s_read_t read = s_read (empties, size);
    assert_int_equal (read.end, 0);
    assert_int_equal (read.bets, 65535);
    free (empties);

    size = 65536 * 2;
    char *many = malloc (size);
    for (size_t i = 0; i < size; i += 2)
        memcpy (many + i, "7\n", 2);
    uint8_t *answer = malloc (2 + 2 * size);
    assert_int_equal (lot_codec_winners_encode (answer, 2 + 2 * size, many, size), 0);
    assert_int_equal (lot_codec_winners_encode (answer, 2 + 2 * size, many, size - 2),
                      2 + 65535 * 3);
    free (answer);
    free (many);
}

//  Each put writes its value big-endian within capacity, or refuses (0)
//  and writes nothing; get reads back what put wrote.
static void
test_primitives (void **state)
{
    const struct {
        const char *name;
        size_t capacity;
        const char *text;           //  A string, else a u16
        unsigned value;
        bool refused;
    } cases [] = {
        { "u16 0x1234", 2, .value = 0x1234 },
        { "u16 0xFFFF", 2, .value = 0xFFFF },
        { "u16 256", 2, .value = 256 },
        { "u16 0: no winners", 8, .value = 0 },
        { "u16 past 16 bits", 2, .value = 0x10000, .refused = true },
        { "u16 in one byte", 1, .value = 1, .refused = true },
        { "string abc", 5, .text = "abc" },
        { "string 5: the captured query's agency", 7, .text = "5" },
        { "empty string", 2, .text = "" },
        { "string abc in 4", 4, .text = "abc", .refused = true },
        { "empty string in 1", 1, .text = "", .refused = true },
        { "empty string in 0", 0, .text = "", .refused = true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tu_case ("%s", cases [i].name);
        const char *text = cases [i].text;
        uint8_t out [8];
        memset (out, 0xAA, sizeof out);
        size_t size = text ? lot_codec_put_string (out, cases [i].capacity, tu_span (text))
                           : lot_codec_put_u16 (out, cases [i].capacity, cases [i].value);
        tu_wire_t want = { .size = 0 };
        if (!cases [i].refused && text)
            tu_wire_str (&want, text);
        else
        if (!cases [i].refused)
            tu_wire_u16 (&want, cases [i].value);
        tu_assert_bytes (out, size, want.data, want.size);
        for (size_t at = size; at < sizeof out; at++)
            assert_int_equal (out [at], 0xAA);
        if (!text && !cases [i].refused)
            assert_int_equal (lot_codec_get_u16 (out), cases [i].value);
    }
    tu_case_done ();
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
s_random_chunk (tu_rng_t *rng, tu_wire_t *wire)
{
    wire->size = 0;
    unsigned count = (unsigned) s_below_or_zero (rng, 6);
    tu_wire_byte (wire, s_below_or_zero (rng, 2) ? 'C' : 'L');
    tu_wire_u16 (wire, count);
    for (size_t i = 0; i < 1 + count * LOT_BET_FIELDS; i++) {
        size_t length = s_below_or_zero (rng, 4) ? s_below_or_zero (rng, 12)
                                                 : s_below_or_zero (rng, 300);
        tu_wire_u16 (wire, (unsigned) length);
        for (size_t k = 0; k < length; k++)
            tu_wire_byte (wire, (uint8_t) tu_rand (rng));
    }
}

static bool
s_reader_accepts (const uint8_t *data, size_t size)
{
    s_read_t read = s_read (data, size);
    return read.bets >= 0 && read.end == 0;
}

static void
test_fuzz (void **state)
{
    tu_rng_t rng = { 20240531 };
    static tu_wire_t buf;
    size_t complete = 0, invalid = 0, incomplete = 0;
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
                    buf.data [s_below_or_zero (&rng, buf.size)] ^=
                        (uint8_t) (1u << s_below_or_zero (&rng, 8));
                break;
            default: {                      //  A valid chunk with bytes after
                s_random_chunk (&rng, &buf);
                size_t extra = 1 + s_below_or_zero (&rng, 20);
                for (size_t i = 0; i < extra; i++)
                    tu_wire_byte (&buf, (uint8_t) tu_rand (&rng));
                break;
            }
        }
        size_t max = maxes [s_below_or_zero (&rng, sizeof maxes / sizeof maxes [0])];
        size_t chunk_size = SIZE_MAX;
        const char *reason = NULL;
        lot_codec_status_t status = s_frame (buf.data, buf.size, max, &chunk_size, &reason);
        if (status == LOT_CODEC_COMPLETE) {
            complete++;
            assert_true (chunk_size >= LOT_CHUNK_HEADER_MIN);
            assert_true (chunk_size <= buf.size);
            assert_true (chunk_size <= max);
            //  Exactly those bytes decode, every bet of them
            assert_true (s_reader_accepts (buf.data, chunk_size));
            //  Any shorter prefix is incomplete
            size_t shorter = 777;
            assert_int_equal (s_frame (buf.data, s_below_or_zero (&rng, chunk_size), max,
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
        bool accepts = s_reader_accepts (buf.data, buf.size);
        chunk_size = SIZE_MAX;
        status = s_frame (buf.data, buf.size, SIZE_MAX, &chunk_size, &reason);
        assert_int_equal (accepts, status == LOT_CODEC_COMPLETE && chunk_size == buf.size);
    }
    //  The mix really covered every outcome
    assert_true (complete > 10000);
    assert_true (invalid > 10000);
    assert_true (incomplete > 10000);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_teardown (test_tables, tu_case_teardown),
        cmocka_unit_test_teardown (test_chunk_of_the_largest_string, tu_case_teardown),
        cmocka_unit_test_teardown (test_reader, tu_case_teardown),
        cmocka_unit_test_teardown (test_writer_limits, tu_case_teardown),
        cmocka_unit_test_teardown (test_primitives, tu_case_teardown),
        cmocka_unit_test_teardown (test_fuzz, tu_case_teardown),
    };
    return cmocka_run_group_tests_name ("codec", tests, s_setup, s_teardown);
}
