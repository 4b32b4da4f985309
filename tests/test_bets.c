/*  test_bets - bet validation, bets-file lines, the CSV reader and the
    handler's chunk-to-lines conversion
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lot_bet.h"
#include "lot_codec.h"
#include "lot_csv.h"
#include "lot_handler.h"
#include "testutil.h"

//  Writes size bytes to a fresh file of tu_dir; returns its path (static
//  buffer).
static const char *
s_write_file (const void *data, size_t size)
{
    static char path [32];
    static int number;
    snprintf (path, sizeof path, "file-%d.csv", ++number);
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (data, 1, size, file), size);
    assert_int_equal (fclose (file), 0);
    return path;
}

static lot_csv_t *
s_csv_of (const char *text)
{
    lot_csv_t *csv = lot_csv_new (s_write_file (text, strlen (text)));
    assert_non_null (csv);
    return csv;
}

//  Asserts a check's reason is want (NULL: valid), naming the value.
static void
s_assert_reason (const char *got, const char *want, const char *value)
{
    if (want ? !got || strcmp (got, want) : got != NULL)
        fail_msg ("'%s': %s, expected %s", value, got ? got : "valid", want ? want : "valid");
}

//  --------------------------------------------------------------------------
//  Names, documents, birthdates

static void
test_name_length_and_empty (void **state)
{
    (void) state;
    char name [300];
    memset (name, 'a', sizeof name);
    assert_string_equal (lot_bet_check_name ((lot_span_t) { name, 0 }), "empty");
    assert_null (lot_bet_check_name ((lot_span_t) { name, 1 }));
    assert_null (lot_bet_check_name ((lot_span_t) { name, 255 }));
    assert_string_equal (lot_bet_check_name ((lot_span_t) { name, 256 }),
                         "longer than 255 bytes");
    assert_string_equal (lot_bet_check_name ((lot_span_t) { name, 300 }),
                         "longer than 255 bytes");
    //  Bytes, not characters: 127 two-byte letters and one ASCII = 255
    for (int i = 0; i < 127; i++)
        memcpy (name + 2 * i, "\xc3\xa9", 2);
    name [254] = 'a';
    assert_null (lot_bet_check_name ((lot_span_t) { name, 255 }));
    memcpy (name + 254, "\xc3\xa9", 2);     //  128 letters = 256 bytes
    assert_string_equal (lot_bet_check_name ((lot_span_t) { name, 256 }),
                         "longer than 255 bytes");
}

//  Each value of a row, up to its first NULL.
#define EACH(value, values) \
    for (const char *const *value = (values); \
         value < (values) + sizeof (values) / sizeof *(values) && *value; value++)

//  Texts a field check gives one reason for (NULL: valid).
static const struct {
    const char *(*check) (lot_span_t text);
    const char *reason;
    const char *texts [25];
} s_checks [] = {
    { lot_bet_check_name, NULL, {
        "Valentina", "Jos\xc3\xa9", "M\xc3\xbcller", "\xc3\x91" "and\xc3\xba",
        "O'Brien", "Mar\xc3\xad" "a Jos\xc3\xa9", " spaces ", "a,b", "\"",
        "\xe2\x82\xac",                 //  U+20AC, three bytes
        "\xed\x9f\xbf",                 //  U+D7FF, just below the surrogates
        "\xee\x80\x80",                 //  U+E000, just above
        "\xf0\x9f\x98\x80",             //  U+1F600, four bytes
        "\xf4\x8f\xbf\xbf",             //  U+10FFFF, the last code point
        "\xc2\x80",                     //  U+0080, smallest two-byte
        "\xe0\xa0\x80",                 //  U+0800, smallest three-byte
        "\xf0\x90\x80\x80",             //  U+10000, smallest four-byte
        "\xc2\x85" } },                 //  U+0085: a C1 control, not C0
    { lot_bet_check_name, "not valid UTF-8", {
        "\xc0\x80",                     //  Overlong NUL
        "\xc1\xbf",                     //  Overlong two-byte
        "\xe0\x80\x80",                 //  Overlong three-byte
        "\xe0\x9f\xbf",                 //  Overlong U+07FF
        "\xf0\x80\x80\x80",             //  Overlong four-byte
        "\xf0\x8f\xbf\xbf",             //  Overlong U+FFFF
        "\xed\xa0\x80",                 //  Surrogate U+D800
        "\xed\xbf\xbf",                 //  Surrogate U+DFFF
        "\xed\xa0\xbd\xed\xb8\x80",     //  A surrogate pair, CESU style
        "\xf4\x90\x80\x80",             //  U+110000
        "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xff", "\xfe",
        "Jos\xc3",                      //  Truncated at the end
        "\xe2\x82",
        "\xf0\x9f\x98",
        "Jos\xc3" "a",                  //  Truncated in the middle
        "\xe2\x82" "abc",
        "\xf0\x9f\x98" "a",
        "\x80",                         //  A lone continuation byte
        "abc\xbf",
        "Jos\xe9",                      //  Latin-1, not UTF-8
        "\xc3\xa9\xa9" } },             //  One continuation too many
    //  No control character: CR, LF, TAB, ESC, DEL, anywhere (NUL below)
    { lot_bet_check_name, "holds a control character", {
        "Ana\rPaz", "Ana\nPaz", "\tAna", "Ana\x1b", "Ana\x7f", "\x01" } },
    { lot_bet_check_document, NULL, { "1", "0", "30170921", "1234567890", "0000000000" } },
    { lot_bet_check_document, "not 1 to 10 decimal digits", {
        "", "12345678901", "12a4", "-1", "+1", " 1", "1 ", "1.0", "30.170.921", "\xd9\xa1" } },
    { lot_bet_check_birthdate, NULL, {
        "1982-05-22", "2000-02-29", "2024-02-29", "1900-01-01", "1999-12-31",
        "2001-01-01", "1999-04-30", "1999-01-31" } },
    { lot_bet_check_birthdate, "not a calendar date", {
        "1900-02-29", "2100-02-29", "2023-02-29", "1999-02-30", "1999-02-31",
        "1999-04-31", "1999-06-31", "1999-09-31", "1999-11-31", "2024-01-00",
        "2024-00-10", "0000-01-01" } },
    { lot_bet_check_birthdate, "not YYYY-MM-DD", {
        "2024-13-01", "2024-01-32", "2024-99-99",
        "", "1982/05/22", "82-05-22", "1982-5-22", "1982-05-2", "1982-05-223",
        "19820522", "1982-05-22 ", " 1982-05-22", "abcd-ef-gh", "1982-05-+2",
        "1982-+5-22", "-982-05-22", "1982--5-22", "1982-05--2", "22-05-1982",
        "1982_05_22", "１982-05-22" } },
    //  From 1900 to today: nobody bets before being born
    { lot_bet_check_birthdate, "before 1900", { "1899-12-31", "0001-01-01" } },
    { lot_bet_check_birthdate, "in the future", { "2400-02-29", "9999-12-31" } },
};

static void
test_field_checks (void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof s_checks / sizeof s_checks [0]; i++)
        EACH (text, s_checks [i].texts)
            s_assert_reason (s_checks [i].check (tu_span (*text)), s_checks [i].reason, *text);
}

//  Judged by the span, never by a terminator: the bytes after the span
//  are never read; and a birthdate is judged against today.
static void
test_checks_by_span_and_today (void **state)
{
    (void) state;
    assert_string_equal (lot_bet_check_name ((lot_span_t) { "Ana\0Paz", 7 }),
                         "holds a control character");
    assert_string_equal (lot_bet_check_name ((lot_span_t) { "Jos\xc3\xa9", 4 }),
                         "not valid UTF-8");
    assert_null (lot_bet_check_name ((lot_span_t) { "Jos\xc3\xa9", 5 }));
    assert_string_equal (lot_bet_check_birthdate ((lot_span_t) { "1982-05-22", 9 }),
                         "not YYYY-MM-DD");
    time_t now = time (NULL);
    struct tm day;
    char text [16];
    time_t past = now - 2 * 24 * 3600;
    localtime_r (&past, &day);
    strftime (text, sizeof text, "%Y-%m-%d", &day);
    assert_null (lot_bet_check_birthdate (tu_span (text)));
    now += 2 * 24 * 3600;       //  Two days on, whatever the hour
    localtime_r (&now, &day);
    strftime (text, sizeof text, "%Y-%m-%d", &day);
    assert_string_equal (lot_bet_check_birthdate (tu_span (text)), "in the future");
}

static void
test_parse_uint (void **state)
{
    (void) state;
    //  In turn: a failure leaves the value as the row before set it
    const struct {
        const char *text;
        size_t digits;
        unsigned max;
        int rc;
        unsigned value;
    } cases [] = {
        { "0", 4, 9999, 0, 0 }, { "9999", 4, 9999, 0, 9999 }, { "0012", 4, 9999, 0, 12 },
        { "00012", 4, 9999, -1, 12 }, { "10000", 10, 9999, -1, 12 },
        { "", 4, 9999, -1, 12 }, { "-1", 4, 9999, -1, 12 }, { "+1", 4, 9999, -1, 12 },
        { " 1", 4, 9999, -1, 12 }, { "1a", 4, 9999, -1, 12 },
        //  Ten digits do not wrap around
        { "4294967295", 10, 4294967295u, 0, 4294967295u },
        { "9999999999", 10, 4294967295u, -1, 4294967295u },
        { "4294967296", 10, 4294967295u, -1, 4294967295u },
    };
    unsigned value = 777;
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        int rc = lot_bet_parse_uint (tu_span (cases [i].text), cases [i].digits,
                                     cases [i].max, &value);
        if (rc != cases [i].rc || value != cases [i].value)
            fail_msg ("'%s': %d, %u; expected %d, %u", cases [i].text, rc, value,
                      cases [i].rc, cases [i].value);
    }
}

//  --------------------------------------------------------------------------
//  lot_bet_from_fields, and the same bets in a chunk

enum { AGENCY = -1 };                   //  Beside lot_bet_field_t's five

//  One field of a good bet made bad, and the reason the bet (or the chunk
//  holding it) gets.
static const struct {
    int field;
    const char *reason;
    const char *values [12];
} s_bad_fields [] = {
    //  Agencies: 1..max, canonical (no two spellings name one agency)
    { AGENCY, "unknown agency", {
        "0", "6", "", "a", "-1", "+1", " 1", "5 ", "00", "05", "01", "99999999999" } },
    { LOT_BET_FIRST_NAME, "invalid first name", { "", "Jos\xc3" } },
    { LOT_BET_LAST_NAME, "invalid last name", { "", "\xed\xa0\x80", "\xc0\x80" } },
    { LOT_BET_DOCUMENT, "invalid document", { "", "12345678901", "12a" } },
    { LOT_BET_BIRTHDATE, "invalid birthdate", {
        "1999-02-30", "1999/02/03", "1900-02-29", "22/05/1982" } },
    //  Numbers: 0..9999, leading zeros accepted
    { LOT_BET_NUMBER, "invalid number", {
        "10000", "-1", "+1", "", "12a", " 12", "7574 ", "00000000001" } },
};
#define BAD_FIELDS (sizeof s_bad_fields / sizeof s_bad_fields [0])

//  A good bet ("1", "A", "B", "1", "2000-02-29", "1") with one field set.
static const char *
s_from (lot_bet_t *bet, int field, const char *value, unsigned max_agency)
{
    lot_span_t fields [6] = {
        tu_span ("1"), tu_span ("A"), tu_span ("B"),
        tu_span ("1"), tu_span ("2000-02-29"), tu_span ("1")
    };
    fields [1 + field] = tu_span (value);
    return lot_bet_from_fields (bet, fields, max_agency);
}

static void
test_from_fields (void **state)
{
    (void) state;
    lot_bet_t bet;
    lot_span_t fields [6] = {
        tu_span ("5"), tu_span ("Valentina"), tu_span ("Vera"),
        tu_span ("30170921"), tu_span ("1982-05-22"), tu_span ("6053")
    };
    assert_null (lot_bet_from_fields (&bet, fields, 5));
    assert_int_equal (bet.agency, 5);
    assert_int_equal (bet.number, 6053);
    //  Views of the caller's fields
    assert_ptr_equal (bet.first_name.data, fields [1].data);
    assert_int_equal (bet.first_name.size, 9);
    assert_ptr_equal (bet.last_name.data, fields [2].data);
    assert_ptr_equal (bet.document.data, fields [3].data);
    assert_ptr_equal (bet.birthdate.data, fields [4].data);
    tu_assert_span (bet.birthdate, "1982-05-22");

    const struct { int field; const char *value; unsigned max, parsed; } good [] = {
        { LOT_BET_NUMBER, "0", 5, 0 }, { LOT_BET_NUMBER, "0012", 5, 12 },
        { LOT_BET_NUMBER, "9999", 5, 9999 }, { LOT_BET_NUMBER, "0000000007", 5, 7 },
        { AGENCY, "1", 5, 1 }, { AGENCY, "5", 5, 5 }, { AGENCY, "65535", 65535, 65535 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++) {
        assert_null (s_from (&bet, good [i].field, good [i].value, good [i].max));
        assert_int_equal (good [i].field == AGENCY ? bet.agency : bet.number, good [i].parsed);
    }
    for (size_t i = 0; i < BAD_FIELDS; i++)
        EACH (value, s_bad_fields [i].values)
            s_assert_reason (s_from (&bet, s_bad_fields [i].field, *value, 5),
                             s_bad_fields [i].reason, *value);
    assert_string_equal (s_from (&bet, AGENCY, "1", 0), "unknown agency");
    assert_string_equal (s_from (&bet, AGENCY, "3", 2), "unknown agency");
    char long_name [257];
    memset (long_name, 'n', 256);
    long_name [256] = 0;
    assert_string_equal (s_from (&bet, LOT_BET_FIRST_NAME, long_name, 5), "invalid first name");
    long_name [255] = 0;
    lot_span_t longest [6] = { tu_span ("1"), tu_span (long_name), tu_span (long_name),
                               tu_span ("1"), tu_span ("2000-02-29"), tu_span ("1") };
    assert_null (lot_bet_from_fields (&bet, longest, 5));
}

//  lot_bet_check_fields: the one set of rules, for the client and the
//  server. The server names the field in its answer; the client logs the
//  field's name and the rule's own reason, the same reason each check
//  gives alone.
static void
test_check_fields (void **state)
{
    (void) state;
    static const struct {
        lot_bet_field_t field;
        const char *value;
        const char *name;
        const char *reason;             //  The client's
        const char *invalid;            //  The server's
    } cases [] = {
        { LOT_BET_FIRST_NAME, "", "first_name", "empty", "invalid first name" },
        { LOT_BET_FIRST_NAME, "Eve\n", "first_name", "holds a control character",
          "invalid first name" },
        { LOT_BET_LAST_NAME, "Jos\xc3", "last_name", "not valid UTF-8", "invalid last name" },
        { LOT_BET_DOCUMENT, "12a", "document", "not 1 to 10 decimal digits",
          "invalid document" },
        { LOT_BET_BIRTHDATE, "1999-02-30", "birthdate", "not a calendar date",
          "invalid birthdate" },
        { LOT_BET_BIRTHDATE, "2400-01-01", "birthdate", "in the future", "invalid birthdate" },
        { LOT_BET_NUMBER, "10000", "number", "not a number from 0 to 9999",
          "invalid number" },
        { LOT_BET_NUMBER, "-1", "number", "not a number from 0 to 9999", "invalid number" },
    };
    const char *good [5] = { "Valentina", "Vera", "30170921", "1982-05-22", "0042" };
    lot_bet_t bet;
    lot_bet_field_t field = LOT_BET_NUMBER;
    lot_span_t fields [6] = { tu_span ("5") };
    for (int f = 0; f < 5; f++)
        fields [1 + f] = tu_span (good [f]);
    assert_null (lot_bet_check_fields (&bet, fields + 1, &field));
    assert_int_equal (bet.number, 42);
    assert_ptr_equal (bet.document.data, fields [1 + LOT_BET_DOCUMENT].data);
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        for (int f = 0; f < 5; f++)
            fields [1 + f] = tu_span (good [f]);
        fields [1 + cases [i].field] = tu_span (cases [i].value);
        const char *reason = lot_bet_check_fields (&bet, fields + 1, &field);
        assert_non_null (reason);
        assert_string_equal (reason, cases [i].reason);
        assert_int_equal (field, cases [i].field);
        assert_string_equal (lot_bet_field_name (field), cases [i].name);
        assert_string_equal (lot_bet_from_fields (&bet, fields, 5), cases [i].invalid);
    }
    //  The first field that fails is the one named
    fields [1 + LOT_BET_LAST_NAME] = tu_span ("");
    fields [1 + LOT_BET_NUMBER] = tu_span ("x");
    assert_string_equal (lot_bet_check_fields (&bet, fields + 1, &field), "empty");
    assert_int_equal (field, LOT_BET_LAST_NAME);
}

//  --------------------------------------------------------------------------
//  lot_bet_format_csv

static lot_bet_t
s_bet (unsigned agency, const char *first, const char *last,
       const char *document, const char *birthdate, unsigned number)
{
    return (lot_bet_t) { agency, tu_span (first), tu_span (last), tu_span (document),
                         tu_span (birthdate), number };
}

//  Formats into every capacity: below the line's size it returns 0 and
//  never writes past capacity; at and above it returns the line.
static void
s_assert_csv (lot_bet_t bet, const char *expected)
{
    size_t size = strlen (expected);
    char out [LOT_BET_CSV_MAX + 64];
    for (size_t capacity = 0; capacity < size + 3; capacity++) {
        memset (out, '#', sizeof out);
        size_t put = lot_bet_format_csv (&bet, out, capacity);
        if (capacity < size)
            assert_int_equal (put, 0);
        else {
            assert_int_equal (put, size);
            assert_memory_equal (out, expected, size);
        }
        for (size_t i = capacity; i < sizeof out; i++)
            assert_int_equal (out [i], '#');
    }
}

static void
test_format_csv (void **state)
{
    (void) state;
    s_assert_csv (s_bet (5, "Valentina", "Vera", "30170921", "1982-05-22", 6053),
                  "5,Valentina,Vera,30170921,1982-05-22,6053\r\n");
    //  Numbers as plain integers: "0012" was stored as 12
    s_assert_csv (s_bet (1, "A", "B", "1", "2000-02-29", 12),
                  "1,A,B,1,2000-02-29,12\r\n");
    s_assert_csv (s_bet (1, "A", "B", "1", "2000-02-29", 0),
                  "1,A,B,1,2000-02-29,0\r\n");
    s_assert_csv (s_bet (65535, "A", "B", "0012345", "2000-02-29", 9999),
                  "65535,A,B,0012345,2000-02-29,9999\r\n");
    //  Minimal quoting: only comma, quote, CR or LF
    s_assert_csv (s_bet (2, "Ana, Mar\xc3\xad" "a", "O'Brien", "1", "2000-01-01", 7574),
                  "2,\"Ana, Mar\xc3\xad" "a\",O'Brien,1,2000-01-01,7574\r\n");
    s_assert_csv (s_bet (2, "Juan \"Pepe\"", "P\xc3\xa9rez", "1", "2000-01-01", 1),
                  "2,\"Juan \"\"Pepe\"\"\",P\xc3\xa9rez,1,2000-01-01,1\r\n");
    s_assert_csv (s_bet (2, "\"", "\"\"", "1", "2000-01-01", 1),
                  "2,\"\"\"\",\"\"\"\"\"\",1,2000-01-01,1\r\n");
    s_assert_csv (s_bet (2, "line\nbreak", "cr\ronly", "1", "2000-01-01", 1),
                  "2,\"line\nbreak\",\"cr\ronly\",1,2000-01-01,1\r\n");
    s_assert_csv (s_bet (2, "crlf\r\n", ",", "1", "2000-01-01", 1),
                  "2,\"crlf\r\n\",\",\",1,2000-01-01,1\r\n");
    s_assert_csv (s_bet (2, " lead", "trail ", "1", "2000-01-01", 1),
                  "2, lead,trail ,1,2000-01-01,1\r\n");
}

static void
test_format_csv_longest_line (void **state)
{
    (void) state;
    //  Two names of 255 quotes each, the largest agency and number
    char quotes [256];
    memset (quotes, '"', 255);
    quotes [255] = 0;
    lot_bet_t bet = s_bet (4294967295u, quotes, quotes, "1234567890", "2000-02-29", 9999);
    char out [LOT_BET_CSV_MAX];
    size_t put = lot_bet_format_csv (&bet, out, sizeof out);
    assert_int_equal (put, LOT_BET_CSV_MAX);
    assert_memory_equal (out, "4294967295,\"\"\"", 14);
    assert_memory_equal (out + put - 30, "\",1234567890,2000-02-29,9999\r\n", 30);
    assert_int_equal (lot_bet_format_csv (&bet, out, sizeof out - 1), 0);
}

//  --------------------------------------------------------------------------
//  lot_csv

static void
s_assert_record (lot_csv_t *csv, size_t line, int count, ...)
{
    lot_span_t fields [8];
    int got = lot_csv_next (csv, fields, 8);
    assert_int_equal (got, count);
    assert_int_equal (lot_csv_line (csv), line);
    va_list args;
    va_start (args, count);
    for (int i = 0; i < count; i++)
        tu_assert_span (fields [i], va_arg (args, const char *));
    va_end (args);
}

static void
s_assert_end (lot_csv_t *csv)
{
    lot_span_t fields [8];
    assert_int_equal (lot_csv_next (csv, fields, 8), 0);
    assert_int_equal (lot_csv_next (csv, fields, 8), 0);
    assert_false (lot_csv_failed (csv));
}

//  The next record is malformed, at line.
static void
s_assert_malformed (lot_csv_t *csv, size_t line)
{
    lot_span_t fields [8];
    assert_int_equal (lot_csv_next (csv, fields, 8), -1);
    assert_int_equal (lot_csv_line (csv), line);
}

static void
test_csv_lf_and_crlf (void **state)
{
    (void) state;
    const char *texts [] = {
        "Valentina,Vera,30170921,1982-05-22,6053\nAna,P\xc3\xa9rez,1,2000-02-29,0012\n",
        "Valentina,Vera,30170921,1982-05-22,6053\r\nAna,P\xc3\xa9rez,1,2000-02-29,0012\r\n",
        "Valentina,Vera,30170921,1982-05-22,6053\r\nAna,P\xc3\xa9rez,1,2000-02-29,0012",
        "Valentina,Vera,30170921,1982-05-22,6053\nAna,P\xc3\xa9rez,1,2000-02-29,0012\r\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts [0]; i++) {
        lot_csv_t *csv = s_csv_of (texts [i]);
        s_assert_record (csv, 1, 5, "Valentina", "Vera", "30170921", "1982-05-22", "6053");
        s_assert_record (csv, 2, 5, "Ana", "P\xc3\xa9rez", "1", "2000-02-29", "0012");
        s_assert_end (csv);
        lot_csv_destroy (&csv);
        assert_null (csv);
    }
    //  An empty file
    lot_csv_t *csv = s_csv_of ("");
    s_assert_end (csv);
    lot_csv_destroy (&csv);
}

static void
test_csv_quoted_fields (void **state)
{
    (void) state;
    lot_csv_t *csv = s_csv_of (
        "\"Ana, Mar\xc3\xad" "a\",\"Juan \"\"Pepe\"\"\",\"two\r\nlines\",plain\r\n"
        "\"\",\"\"\"\",\"a\nb\nc\",\"\"\"x\"\"\"\r\n"
        "x,\"\r\n\r\n\",y\r\n"
        "last,\"quoted\"\n");
    s_assert_record (csv, 1, 4, "Ana, Mar\xc3\xad" "a", "Juan \"Pepe\"", "two\r\nlines", "plain");
    s_assert_record (csv, 3, 4, "", "\"", "a\nb\nc", "\"x\"");
    s_assert_record (csv, 6, 3, "x", "\r\n\r\n", "y");
    s_assert_record (csv, 9, 2, "last", "quoted");
    s_assert_end (csv);
    lot_csv_destroy (&csv);
}

static void
test_csv_empty_fields_and_blank_lines (void **state)
{
    (void) state;
    lot_csv_t *csv = s_csv_of ("\n\r\na,b\n\n\r\n\nc\r\na,,b\n,\n\"\"\n a \n\n");
    s_assert_record (csv, 3, 2, "a", "b");
    s_assert_record (csv, 7, 1, "c");
    s_assert_record (csv, 8, 3, "a", "", "b");
    s_assert_record (csv, 9, 2, "", "");
    s_assert_record (csv, 10, 1, "");
    s_assert_record (csv, 11, 1, " a ");
    s_assert_end (csv);
    lot_csv_destroy (&csv);
}

static void
test_csv_malformed_then_continues (void **state)
{
    (void) state;
    lot_span_t fields [8];
    lot_csv_t *csv = s_csv_of (
        "a,b\"c,d\n"                    //  1: a stray quote in a plain field
        "e,f\n"                         //  2
        "\"ab\"c,d\r\n"                 //  3: text after a closing quote
        "g,h\r\n"                       //  4
        "x\"\"y,z\n"                    //  5: two stray quotes
        "i,j\n"                         //  6
        "1,2,3,4,5,6,7,8,9\n"           //  7: too many fields
        "k,l\n"                         //  8
        "m,\"n\n"                       //  9: a quote never closed
        "o,p\n");                       //  10
    s_assert_malformed (csv, 1);
    s_assert_record (csv, 2, 2, "e", "f");
    s_assert_malformed (csv, 3);
    s_assert_record (csv, 4, 2, "g", "h");
    s_assert_malformed (csv, 5);
    s_assert_record (csv, 6, 2, "i", "j");
    s_assert_malformed (csv, 7);
    s_assert_record (csv, 8, 2, "k", "l");
    //  An unclosed quote runs to the end of the file: -1, then the end
    s_assert_malformed (csv, 9);
    s_assert_end (csv);
    lot_csv_destroy (&csv);

    //  Exactly max_fields is fine, one more is not
    csv = s_csv_of ("1,2,3\n1,2,3,4\n1,2,3\n");
    assert_int_equal (lot_csv_next (csv, fields, 3), 3);
    assert_int_equal (lot_csv_next (csv, fields, 3), -1);
    assert_int_equal (lot_csv_next (csv, fields, 3), 3);
    assert_int_equal (lot_csv_line (csv), 3);
    assert_int_equal (lot_csv_next (csv, fields, 3), 0);
    lot_csv_destroy (&csv);
}

static void
test_csv_open_and_read_errors (void **state)
{
    (void) state;
    errno = 0;
    assert_null (lot_csv_new ("missing.csv"));
    assert_int_equal (errno, ENOENT);

    //  A directory opens but cannot be read: the end, and failed
    lot_csv_t *csv = lot_csv_new (tu_dir ());
    assert_non_null (csv);
    lot_span_t fields [6];
    assert_int_equal (lot_csv_next (csv, fields, 6), 0);
    assert_true (lot_csv_failed (csv));
    lot_csv_destroy (&csv);

    //  A stream the reader owns
    static char text [] = "a,b\r\nc,d\r\n";
    FILE *stream = fmemopen (text, strlen (text), "r");
    assert_non_null (stream);
    csv = lot_csv_new_stream (stream);
    assert_non_null (csv);
    s_assert_record (csv, 1, 2, "a", "b");
    s_assert_record (csv, 2, 2, "c", "d");
    s_assert_end (csv);
    lot_csv_destroy (&csv);
    lot_csv_destroy (&csv);                 //  Harmless twice
}

static void
test_csv_long_record (void **state)
{
    (void) state;
    //  A record much longer than any buffer default
    size_t size = 200000;
    char *text = malloc (size + 16);
    assert_non_null (text);
    text [0] = '"';
    memset (text + 1, 'q', size);
    text [size / 2] = '\n';
    memcpy (text + size + 1, "\",x\nz\n", 7);
    lot_csv_t *csv = s_csv_of (text);
    lot_span_t fields [4];
    assert_int_equal (lot_csv_next (csv, fields, 4), 2);
    assert_int_equal (fields [0].size, size);
    assert_int_equal (fields [0].data [size / 2 - 1], '\n');
    tu_assert_span (fields [1], "x");
    assert_int_equal (lot_csv_next (csv, fields, 4), 1);
    assert_int_equal (lot_csv_line (csv), 3);
    lot_csv_destroy (&csv);
    free (text);
}

//  --------------------------------------------------------------------------
//  Round trip: 1000 bets with tricky names, written and read back

static void
s_tricky_name (tu_rng_t *rng, char *name)
{
    static const char *pieces [] = {
        "Ana", "Mar\xc3\xad" "a", ",", "\"", "\"\"", " ", "O'Brien", "Jos\xc3\xa9",
        "\xc3\xb1", "\xf0\x9f\x98\x80", ",\"", "\",", "x", "\xe2\x82\xac", ";", "'"
    };
    size_t count = sizeof pieces / sizeof pieces [0];
    size_t size = 0;
    size_t parts = 1 + tu_below (rng, 8);
    if (tu_below (rng, 50) == 0)
        parts = 100;                    //  Now and then a long one
    for (size_t i = 0; i < parts; i++) {
        const char *piece = pieces [tu_below (rng, count)];
        if (size + strlen (piece) > LOT_NAME_MAX)
            break;
        memcpy (name + size, piece, strlen (piece));
        size += strlen (piece);
    }
    name [size] = 0;
}

static void
test_csv_round_trip (void **state)
{
    (void) state;
    enum { BETS = 1000 };
    tu_rng_t rng = { 42 };
    typedef struct {
        char fields [6][LOT_NAME_MAX + 1];  //  In bets-file order: the agency first
        size_t line;
    } row_t;
    row_t *rows = calloc (BETS, sizeof *rows);
    char *file = malloc (BETS * LOT_BET_CSV_MAX);
    assert_non_null (rows);
    assert_non_null (file);
    size_t used = 0, line = 1;
    for (int i = 0; i < BETS; i++) {
        char (*field) [LOT_NAME_MAX + 1] = rows [i].fields;
        s_tricky_name (&rng, field [1 + LOT_BET_FIRST_NAME]);
        s_tricky_name (&rng, field [1 + LOT_BET_LAST_NAME]);
        size_t digits = 1 + tu_below (&rng, 10);
        for (size_t d = 0; d < digits; d++)
            field [1 + LOT_BET_DOCUMENT][d] = (char) ('0' + tu_below (&rng, 10));
        snprintf (field [1 + LOT_BET_BIRTHDATE], sizeof field [0], "%04u-%02u-%02u",
                  (unsigned) (1900 + tu_below (&rng, 125)),
                  (unsigned) (1 + tu_below (&rng, 12)), (unsigned) (1 + tu_below (&rng, 28)));
        snprintf (field [0], sizeof field [0], "%u", (unsigned) (1 + tu_below (&rng, 5)));
        snprintf (field [1 + LOT_BET_NUMBER], sizeof field [0], "%u", (unsigned) tu_below (&rng, 10000));
        //  Every generated field is valid
        lot_bet_t bet;
        lot_span_t fields [6];
        for (int f = 0; f < 6; f++)
            fields [f] = tu_span (field [f]);
        assert_null (lot_bet_from_fields (&bet, fields, 5));
        size_t put = lot_bet_format_csv (&bet, file + used, LOT_BET_CSV_MAX);
        assert_true (put > 0);
        assert_memory_equal (file + used + put - 2, "\r\n", 2);
        rows [i].line = line;
        for (size_t k = 0; k < put - 2; k++)
            line += file [used + k] == '\n';
        line++;
        used += put;
    }
    lot_csv_t *csv = lot_csv_new (s_write_file (file, used));
    assert_non_null (csv);
    size_t again = 0;
    for (int i = 0; i < BETS; i++) {
        lot_span_t fields [7];
        assert_int_equal (lot_csv_next (csv, fields, 7), 6);
        assert_int_equal (lot_csv_line (csv), rows [i].line);
        for (int f = 0; f < 6; f++)
            tu_assert_span (fields [f], rows [i].fields [f]);
        //  And the bet read back formats to the very same line
        lot_bet_t bet;
        assert_null (lot_bet_from_fields (&bet, fields, 5));
        char out [LOT_BET_CSV_MAX];
        size_t put = lot_bet_format_csv (&bet, out, sizeof out);
        assert_true (put > 0);
        assert_memory_equal (out, file + again, put);
        again += put;
    }
    assert_int_equal (again, used);
    s_assert_end (csv);
    lot_csv_destroy (&csv);
    free (file);
    free (rows);
}

//  --------------------------------------------------------------------------
//  lot_handler_convert

//  A chunk as a client's encoder (lot_codec) makes it: count bets, bet b
//  being bets [b % kinds].
static void
s_chunk (tu_wire_t *chunk, bool last, const char *agency, size_t count,
         const char *bets [][LOT_BET_FIELDS], size_t kinds)
{
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, chunk->data, sizeof chunk->data,
                                             tu_span (agency)), 0);
    for (size_t b = 0; b < count; b++) {
        lot_span_t fields [LOT_BET_FIELDS];
        for (int f = 0; f < LOT_BET_FIELDS; f++)
            fields [f] = tu_span (bets [b % kinds][f]);
        assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    }
    chunk->size = lot_codec_chunk_finish (&writer, last);
}

typedef struct {
    char *lines;
    size_t capacity;
    size_t used;
    unsigned agency;
    bool last;
    unsigned count;
} out_t;

static const char *
s_convert (const tu_wire_t *chunk, unsigned max_agency, out_t *out)
{
    return lot_handler_convert (chunk->data, chunk->size, max_agency, &out->lines,
                                &out->capacity, &out->used, &out->agency,
                                &out->last, &out->count);
}

static const char *s_good [][LOT_BET_FIELDS] = {
    { "Valentina", "Vera", "30170921", "1982-05-22", "6053" },
    { "Ana, Mar\xc3\xad" "a", "P\xc3\xa9rez \"Pepa\"", "0012345", "2000-02-29", "0012" },
    { "Coma, \"Comillas\"", "O'Brien", "1", "1999-12-31", "7574" },
};

static const char *s_good_lines =
    "5,Valentina,Vera,30170921,1982-05-22,6053\r\n"
    "5,\"Ana, Mar\xc3\xad" "a\",\"P\xc3\xa9rez \"\"Pepa\"\"\",0012345,2000-02-29,12\r\n"
    "5,\"Coma, \"\"Comillas\"\"\",O'Brien,1,1999-12-31,7574\r\n";

static void
test_convert_valid_chunk (void **state)
{
    (void) state;
    tu_wire_t chunk;
    out_t out = { 0 };
    s_chunk (&chunk, false, "5", 3, s_good, 3);
    assert_null (s_convert (&chunk, 5, &out));
    assert_int_equal (out.agency, 5);
    assert_false (out.last);
    assert_int_equal (out.count, 3);
    tu_assert_bytes (out.lines, out.used, s_good_lines, strlen (s_good_lines));
    assert_true (out.capacity >= out.used);

    //  Agency "05" is no spelling of agency 5: nothing is appended
    s_chunk (&chunk, true, "05", 1, s_good, 3);
    assert_string_equal (s_convert (&chunk, 5, &out), "unknown agency");
    assert_int_equal (out.used, strlen (s_good_lines));

    //  Appended after what the buffer held; an 'L' chunk
    s_chunk (&chunk, true, "5", 1, s_good, 3);
    assert_null (s_convert (&chunk, 5, &out));
    assert_int_equal (out.agency, 5);
    assert_true (out.last);
    assert_int_equal (out.count, 1);
    char *both = tu_printf ("%s%s", s_good_lines, "5,Valentina,Vera,30170921,1982-05-22,6053\r\n");
    tu_assert_bytes (out.lines, out.used, both, strlen (both));
    free (both);
    free (out.lines);

    //  The buffer grows for a large chunk, from an existing small one
    s_chunk (&chunk, false, "2", 150, s_good, 3);
    out = (out_t) { .lines = malloc (10), .capacity = 10 };
    assert_null (s_convert (&chunk, 2, &out));
    assert_int_equal (out.count, 150);
    assert_int_equal (out.agency, 2);
    assert_true (out.used > 4096);
    assert_true (out.capacity >= out.used);
    const char *line = out.lines;
    for (int b = 0; b < 150; b++) {
        const char *expected = s_good_lines;
        for (int skip = 0; skip < b % 3; skip++)
            expected = strstr (expected, "\r\n") + 2;
        size_t size = (size_t) (strstr (expected, "\r\n") + 2 - expected);
        assert_int_equal (line [0], '2');
        assert_memory_equal (line + 1, expected + 1, size - 1);
        line += size;
    }
    assert_int_equal ((size_t) (line - out.lines), out.used);
    free (out.lines);
}

//  The handler's first chunk goes into no buffer at all (found by
//  fuzz_codec: formatting at NULL + 0 is undefined behaviour, which make
//  test-asan ends the program on)
static void
test_convert_into_no_buffer (void **state)
{
    (void) state;
    const char *bet [][LOT_BET_FIELDS] = {
        { "Emanuel", "Soto", "22069151", "2004-03-30", "2979" }
    };
    tu_wire_t chunk;
    s_chunk (&chunk, false, "3", 1, bet, 1);
    out_t out = { 0 };
    assert_null (s_convert (&chunk, 5, &out));
    const char *line = "3,Emanuel,Soto,22069151,2004-03-30,2979\r\n";
    tu_assert_bytes (out.lines, out.used, line, strlen (line));
    free (out.lines);
}

static void
test_convert_empty_last_chunk (void **state)
{
    (void) state;
    tu_wire_t chunk;
    out_t out = { .count = 777 };
    s_chunk (&chunk, true, "3", 0, s_good, 3);
    assert_int_equal (chunk.size, 6);
    assert_null (s_convert (&chunk, 5, &out));
    assert_int_equal (out.agency, 3);
    assert_true (out.last);
    assert_int_equal (out.count, 0);
    assert_int_equal (out.used, 0);
    free (out.lines);
}

//  Each bad field of s_bad_fields, in the fourth bet of five, rejects the
//  whole chunk.
static void
test_convert_rejects_whole_chunk (void **state)
{
    (void) state;
    for (size_t i = 0; i < BAD_FIELDS; i++)
        EACH (value, s_bad_fields [i].values) {
            if (s_bad_fields [i].field == AGENCY)
                continue;                   //  Not in a bet: the next test
            const char *bets [5][LOT_BET_FIELDS];
            for (int b = 0; b < 5; b++)
                memcpy (bets [b], s_good [b % 3], sizeof bets [b]);
            bets [3][s_bad_fields [i].field] = *value;
            tu_wire_t chunk;
            s_chunk (&chunk, true, "4", 5, bets, 5);
            out_t out = { 0 };
            s_assert_reason (s_convert (&chunk, 5, &out), s_bad_fields [i].reason, *value);
            assert_int_equal (out.count, 5);
            assert_int_equal (out.agency, 4);
            assert_true (out.last);
            free (out.lines);
        }
}

static void
test_convert_unknown_agency (void **state)
{
    (void) state;
    assert_int_equal (s_bad_fields [0].field, AGENCY);
    EACH (agency, s_bad_fields [0].values) {
        tu_wire_t chunk;
        s_chunk (&chunk, false, *agency, 2, s_good, 3);
        out_t out = { 0 };
        s_assert_reason (s_convert (&chunk, 5, &out), "unknown agency", *agency);
        assert_int_equal (out.count, 2);
        assert_int_equal (out.used, 0);
        free (out.lines);
    }
    //  With no agencies at all, every agency is unknown
    tu_wire_t chunk;
    s_chunk (&chunk, true, "1", 0, s_good, 3);
    out_t out = { 0 };
    assert_string_equal (s_convert (&chunk, 0, &out), "unknown agency");
    assert_int_equal (out.count, 0);
    free (out.lines);
}

//  A head by hand (tu_wire), then s_good's three bets.
static void
s_hand_chunk (tu_wire_t *chunk, char tag, unsigned count)
{
    chunk->size = 0;
    tu_wire_chunk (chunk, tag, count, "5");
    for (int b = 0; b < 3; b++)
        tu_wire_bet (chunk, s_good [b]);
}

static void
test_convert_malformed (void **state)
{
    (void) state;
    tu_wire_t chunk;
    s_hand_chunk (&chunk, 'C', 3);
    out_t out = { 0 };
    //  Truncated anywhere
    size_t whole = chunk.size;
    for (chunk.size = 0; chunk.size < whole; chunk.size++)
        assert_string_equal (s_convert (&chunk, 5, &out), "malformed chunk");
    //  Trailing bytes
    tu_wire_byte (&chunk, 'C');
    assert_string_equal (s_convert (&chunk, 5, &out), "malformed chunk");
    //  A count larger than the bets
    s_hand_chunk (&chunk, 'C', 4);
    assert_string_equal (s_convert (&chunk, 5, &out), "malformed chunk");
    assert_int_equal (out.count, 4);
    //  Unknown tag
    s_hand_chunk (&chunk, 'B', 3);
    assert_string_equal (s_convert (&chunk, 5, &out), "malformed chunk");
    assert_int_equal (out.used, 0);
    //  And the intact chunk still converts
    s_hand_chunk (&chunk, 'C', 3);
    assert_null (s_convert (&chunk, 5, &out));
    tu_assert_bytes (out.lines, out.used, s_good_lines, strlen (s_good_lines));
    free (out.lines);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_name_length_and_empty),
        cmocka_unit_test (test_field_checks),
        cmocka_unit_test (test_checks_by_span_and_today),
        cmocka_unit_test (test_parse_uint),
        cmocka_unit_test (test_from_fields),
        cmocka_unit_test (test_check_fields),
        cmocka_unit_test (test_format_csv),
        cmocka_unit_test (test_format_csv_longest_line),
        cmocka_unit_test (test_csv_lf_and_crlf),
        cmocka_unit_test (test_csv_quoted_fields),
        cmocka_unit_test (test_csv_empty_fields_and_blank_lines),
        cmocka_unit_test (test_csv_malformed_then_continues),
        cmocka_unit_test (test_csv_open_and_read_errors),
        cmocka_unit_test (test_csv_long_record),
        cmocka_unit_test (test_csv_round_trip),
        cmocka_unit_test (test_convert_valid_chunk),
        cmocka_unit_test (test_convert_into_no_buffer),
        cmocka_unit_test (test_convert_empty_last_chunk),
        cmocka_unit_test (test_convert_rejects_whole_chunk),
        cmocka_unit_test (test_convert_unknown_agency),
        cmocka_unit_test (test_convert_malformed),
    };
    return cmocka_run_group_tests_name ("bets", tests, tu_dir_setup, tu_dir_teardown);
}
