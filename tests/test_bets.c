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

static char *s_dir;                 //  Temp directory of the group
static int s_file_number;

static int
s_setup (void **state)
{
    (void) state;
    s_dir = tu_tempdir ("bets");
    return s_dir ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    tu_remove_dir (s_dir);
    return 0;
}

//  Writes size bytes to a fresh file of the temp directory; returns its
//  path (static buffer).
static const char *
s_write_file (const void *data, size_t size)
{
    static char path [512];
    snprintf (path, sizeof path, "%s/file-%d.csv", s_dir, ++s_file_number);
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

//  --------------------------------------------------------------------------
//  Names

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

static void
test_name_utf8 (void **state)
{
    (void) state;
    const char *valid [] = {
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
        "\xc2\x85",                     //  U+0085: a C1 control, not C0
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid [0]; i++)
        assert_null (lot_bet_check_name (tu_span (valid [i])));

    const char *invalid [] = {
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
        "\xc3\xa9\xa9",                 //  One continuation too many
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid [0]; i++) {
        const char *reason = lot_bet_check_name (tu_span (invalid [i]));
        assert_non_null (reason);
        assert_string_equal (reason, "not valid UTF-8");
    }
    //  No control character: NUL, CR, LF, TAB, ESC, DEL, anywhere
    const char *controls [] = { "Ana\rPaz", "Ana\nPaz", "\tAna", "Ana\x1b", "Ana\x7f",
                                "\x01" };
    for (size_t i = 0; i < sizeof controls / sizeof controls [0]; i++)
        assert_string_equal (lot_bet_check_name (tu_span (controls [i])),
                             "holds a control character");
    assert_string_equal (lot_bet_check_name ((lot_span_t) { "Ana\0Paz", 7 }),
                         "holds a control character");
    //  Truncation must be judged by the span, not by a terminator: the
    //  bytes after the span are never read
    assert_string_equal (lot_bet_check_name ((lot_span_t) { "Jos\xc3\xa9", 4 }),
                         "not valid UTF-8");
    assert_null (lot_bet_check_name ((lot_span_t) { "Jos\xc3\xa9", 5 }));
}

//  --------------------------------------------------------------------------
//  Document, birthdate, numbers

static void
test_document (void **state)
{
    (void) state;
    const char *valid [] = { "1", "0", "30170921", "1234567890", "0000000000" };
    for (size_t i = 0; i < sizeof valid / sizeof valid [0]; i++)
        assert_null (lot_bet_check_document (tu_span (valid [i])));
    const char *invalid [] = {
        "", "12345678901", "12a4", "-1", "+1", " 1", "1 ", "1.0", "30.170.921", "\xd9\xa1"
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid [0]; i++) {
        const char *reason = lot_bet_check_document (tu_span (invalid [i]));
        assert_non_null (reason);
        assert_string_equal (reason, "not 1 to 10 decimal digits");
    }
}

static void
test_birthdate (void **state)
{
    (void) state;
    const char *valid [] = {
        "1982-05-22", "2000-02-29", "2024-02-29", "1900-01-01", "1999-12-31",
        "2001-01-01", "1999-04-30", "1999-01-31"
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid [0]; i++)
        assert_null (lot_bet_check_birthdate (tu_span (valid [i])));

    const char *not_dates [] = {
        "1900-02-29", "2100-02-29", "2023-02-29", "1999-02-30", "1999-02-31",
        "1999-04-31", "1999-06-31", "1999-09-31", "1999-11-31", "2024-01-00",
        "2024-00-10", "0000-01-01"
    };
    for (size_t i = 0; i < sizeof not_dates / sizeof not_dates [0]; i++) {
        const char *reason = lot_bet_check_birthdate (tu_span (not_dates [i]));
        assert_non_null (reason);
        assert_string_equal (reason, "not a calendar date");
    }

    const char *bad_format [] = {
        "2024-13-01", "2024-01-32", "2024-99-99",
        "", "1982/05/22", "82-05-22", "1982-5-22", "1982-05-2", "1982-05-223",
        "19820522", "1982-05-22 ", " 1982-05-22", "abcd-ef-gh", "1982-05-+2",
        "1982-+5-22", "-982-05-22", "1982--5-22", "1982-05--2", "22-05-1982",
        "1982_05_22", "１982-05-22"
    };
    for (size_t i = 0; i < sizeof bad_format / sizeof bad_format [0]; i++) {
        const char *reason = lot_bet_check_birthdate (tu_span (bad_format [i]));
        assert_non_null (reason);
        assert_string_equal (reason, "not YYYY-MM-DD");
    }
    //  From 1900 to today: nobody bets before being born
    assert_string_equal (lot_bet_check_birthdate (tu_span ("1899-12-31")), "before 1900");
    assert_string_equal (lot_bet_check_birthdate (tu_span ("0001-01-01")), "before 1900");
    assert_string_equal (lot_bet_check_birthdate (tu_span ("2400-02-29")), "in the future");
    assert_string_equal (lot_bet_check_birthdate (tu_span ("9999-12-31")), "in the future");
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
    //  Judged by the span: a short span of a longer text
    assert_string_equal (lot_bet_check_birthdate ((lot_span_t) { "1982-05-22", 9 }),
                         "not YYYY-MM-DD");
}

static void
test_parse_uint (void **state)
{
    (void) state;
    unsigned value = 777;
    assert_int_equal (lot_bet_parse_uint (tu_span ("0"), 4, 9999, &value), 0);
    assert_int_equal (value, 0);
    assert_int_equal (lot_bet_parse_uint (tu_span ("9999"), 4, 9999, &value), 0);
    assert_int_equal (value, 9999);
    assert_int_equal (lot_bet_parse_uint (tu_span ("0012"), 4, 9999, &value), 0);
    assert_int_equal (value, 12);
    value = 777;
    assert_int_equal (lot_bet_parse_uint (tu_span ("00012"), 4, 9999, &value), -1);
    assert_int_equal (lot_bet_parse_uint (tu_span ("10000"), 10, 9999, &value), -1);
    assert_int_equal (lot_bet_parse_uint (tu_span (""), 4, 9999, &value), -1);
    assert_int_equal (lot_bet_parse_uint (tu_span ("-1"), 4, 9999, &value), -1);
    assert_int_equal (lot_bet_parse_uint (tu_span ("+1"), 4, 9999, &value), -1);
    assert_int_equal (lot_bet_parse_uint (tu_span (" 1"), 4, 9999, &value), -1);
    assert_int_equal (lot_bet_parse_uint (tu_span ("1a"), 4, 9999, &value), -1);
    assert_int_equal (value, 777);
    //  Ten digits do not wrap around
    assert_int_equal (lot_bet_parse_uint (tu_span ("4294967295"), 10, 4294967295u, &value), 0);
    assert_int_equal (value, 4294967295u);
    assert_int_equal (lot_bet_parse_uint (tu_span ("9999999999"), 10, 4294967295u, &value), -1);
    assert_int_equal (lot_bet_parse_uint (tu_span ("4294967296"), 10, 4294967295u, &value), -1);
    assert_int_equal (value, 4294967295u);
}

//  --------------------------------------------------------------------------
//  lot_bet_from_fields

static const char *
s_from (lot_bet_t *bet, const char *agency, const char *first, const char *last,
        const char *document, const char *birthdate, const char *number,
        unsigned max_agency)
{
    lot_span_t fields [6] = {
        tu_span (agency), tu_span (first), tu_span (last),
        tu_span (document), tu_span (birthdate), tu_span (number)
    };
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

    //  Numbers: 0..9999, leading zeros accepted
    assert_null (s_from (&bet, "1", "A", "B", "1", "2000-02-29", "0", 5));
    assert_int_equal (bet.number, 0);
    assert_null (s_from (&bet, "1", "A", "B", "1", "2000-02-29", "0012", 5));
    assert_int_equal (bet.number, 12);
    assert_null (s_from (&bet, "1", "A", "B", "1", "2000-02-29", "9999", 5));
    assert_int_equal (bet.number, 9999);
    assert_null (s_from (&bet, "1", "A", "B", "1", "2000-02-29", "0000000007", 5));
    assert_int_equal (bet.number, 7);
    const char *bad_numbers [] = { "10000", "-1", "+1", "", "12a", " 12", "7574 ", "00000000001" };
    for (size_t i = 0; i < sizeof bad_numbers / sizeof bad_numbers [0]; i++)
        assert_string_equal (s_from (&bet, "1", "A", "B", "1", "2000-02-29",
                                     bad_numbers [i], 5), "invalid number");

    //  Agencies: 1..max, canonical (no two spellings name one agency)
    assert_null (s_from (&bet, "1", "A", "B", "1", "2000-02-29", "1", 5));
    assert_int_equal (bet.agency, 1);
    assert_null (s_from (&bet, "5", "A", "B", "1", "2000-02-29", "1", 5));
    assert_int_equal (bet.agency, 5);
    assert_null (s_from (&bet, "65535", "A", "B", "1", "2000-02-29", "1", 65535));
    assert_int_equal (bet.agency, 65535);
    const char *bad_agencies [] = { "0", "6", "", "a", "-1", "+1", " 1", "5 ", "00",
                                    "05", "01" };
    for (size_t i = 0; i < sizeof bad_agencies / sizeof bad_agencies [0]; i++)
        assert_string_equal (s_from (&bet, bad_agencies [i], "A", "B", "1",
                                     "2000-02-29", "1", 5), "unknown agency");
    assert_string_equal (s_from (&bet, "1", "A", "B", "1", "2000-02-29", "1", 0),
                         "unknown agency");
    assert_string_equal (s_from (&bet, "3", "A", "B", "1", "2000-02-29", "1", 2),
                         "unknown agency");

    //  Every other field, named in the reason
    assert_string_equal (s_from (&bet, "1", "", "B", "1", "2000-02-29", "1", 5),
                         "invalid first name");
    assert_string_equal (s_from (&bet, "1", "Jos\xc3", "B", "1", "2000-02-29", "1", 5),
                         "invalid first name");
    assert_string_equal (s_from (&bet, "1", "A", "", "1", "2000-02-29", "1", 5),
                         "invalid last name");
    assert_string_equal (s_from (&bet, "1", "A", "\xed\xa0\x80", "1", "2000-02-29", "1", 5),
                         "invalid last name");
    assert_string_equal (s_from (&bet, "1", "A", "B", "", "2000-02-29", "1", 5),
                         "invalid document");
    assert_string_equal (s_from (&bet, "1", "A", "B", "12345678901", "2000-02-29", "1", 5),
                         "invalid document");
    assert_string_equal (s_from (&bet, "1", "A", "B", "1", "1999-02-30", "1", 5),
                         "invalid birthdate");
    assert_string_equal (s_from (&bet, "1", "A", "B", "1", "1999/02/03", "1", 5),
                         "invalid birthdate");
    char long_name [257];
    memset (long_name, 'n', 256);
    long_name [256] = 0;
    assert_string_equal (s_from (&bet, "1", long_name, "B", "1", "2000-02-29", "1", 5),
                         "invalid first name");
    long_name [255] = 0;
    assert_null (s_from (&bet, "1", long_name, long_name, "1", "2000-02-29", "1", 5));
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
    assert_int_equal (lot_csv_next (csv, fields, 8), -1);
    assert_int_equal (lot_csv_line (csv), 1);
    s_assert_record (csv, 2, 2, "e", "f");
    assert_int_equal (lot_csv_next (csv, fields, 8), -1);
    assert_int_equal (lot_csv_line (csv), 3);
    s_assert_record (csv, 4, 2, "g", "h");
    assert_int_equal (lot_csv_next (csv, fields, 8), -1);
    assert_int_equal (lot_csv_line (csv), 5);
    s_assert_record (csv, 6, 2, "i", "j");
    assert_int_equal (lot_csv_next (csv, fields, 8), -1);
    assert_int_equal (lot_csv_line (csv), 7);
    s_assert_record (csv, 8, 2, "k", "l");
    //  An unclosed quote runs to the end of the file: -1, then the end
    assert_int_equal (lot_csv_next (csv, fields, 8), -1);
    assert_int_equal (lot_csv_line (csv), 9);
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
    char path [512];
    snprintf (path, sizeof path, "%s/missing.csv", s_dir);
    errno = 0;
    assert_null (lot_csv_new (path));
    assert_int_equal (errno, ENOENT);

    //  A directory opens but cannot be read: the end, and failed
    lot_csv_t *csv = lot_csv_new (s_dir);
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
        char first [LOT_NAME_MAX + 1];
        char last [LOT_NAME_MAX + 1];
        char document [12];
        char birthdate [12];
        char agency [12];
        char number [8];
        size_t line;
    } row_t;
    row_t *rows = calloc (BETS, sizeof *rows);
    char *file = malloc (BETS * LOT_BET_CSV_MAX);
    assert_non_null (rows);
    assert_non_null (file);
    size_t used = 0, line = 1;
    for (int i = 0; i < BETS; i++) {
        row_t *row = &rows [i];
        s_tricky_name (&rng, row->first);
        s_tricky_name (&rng, row->last);
        size_t digits = 1 + tu_below (&rng, 10);
        for (size_t d = 0; d < digits; d++)
            row->document [d] = (char) ('0' + tu_below (&rng, 10));
        snprintf (row->birthdate, sizeof row->birthdate, "%04u-%02u-%02u",
                  (unsigned) (1900 + tu_below (&rng, 125)),
                  (unsigned) (1 + tu_below (&rng, 12)), (unsigned) (1 + tu_below (&rng, 28)));
        unsigned agency = (unsigned) (1 + tu_below (&rng, 5));
        unsigned number = (unsigned) tu_below (&rng, 10000);
        snprintf (row->agency, sizeof row->agency, "%u", agency);
        snprintf (row->number, sizeof row->number, "%u", number);
        //  Every generated field is valid
        lot_bet_t bet;
        lot_span_t fields [6] = {
            tu_span (row->agency), tu_span (row->first), tu_span (row->last),
            tu_span (row->document), tu_span (row->birthdate), tu_span (row->number)
        };
        assert_null (lot_bet_from_fields (&bet, fields, 5));
        size_t put = lot_bet_format_csv (&bet, file + used, LOT_BET_CSV_MAX);
        assert_true (put > 0);
        assert_memory_equal (file + used + put - 2, "\r\n", 2);
        row->line = line;
        for (size_t k = 0; k < put - 2; k++)
            line += file [used + k] == '\n';
        line++;
        used += put;
    }
    const char *path = s_write_file (file, used);
    lot_csv_t *csv = lot_csv_new (path);
    assert_non_null (csv);
    size_t again = 0;
    for (int i = 0; i < BETS; i++) {
        row_t *row = &rows [i];
        lot_span_t fields [7];
        assert_int_equal (lot_csv_next (csv, fields, 7), 6);
        assert_int_equal (lot_csv_line (csv), row->line);
        tu_assert_span (fields [0], row->agency);
        tu_assert_span (fields [1], row->first);
        tu_assert_span (fields [2], row->last);
        tu_assert_span (fields [3], row->document);
        tu_assert_span (fields [4], row->birthdate);
        tu_assert_span (fields [5], row->number);
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

typedef struct {
    uint8_t data [16384];
    size_t size;
} chunk_t;

static void
s_chunk (chunk_t *chunk, bool last, const char *agency,
         const char *const bets [][LOT_BET_FIELDS], size_t count)
{
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, chunk->data, sizeof chunk->data,
                                             tu_span (agency)), 0);
    for (size_t b = 0; b < count; b++) {
        lot_span_t fields [LOT_BET_FIELDS];
        for (int f = 0; f < LOT_BET_FIELDS; f++)
            fields [f] = tu_span (bets [b][f]);
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
s_convert (const chunk_t *chunk, unsigned max_agency, out_t *out)
{
    return lot_handler_convert (chunk->data, chunk->size, max_agency, &out->lines,
                                &out->capacity, &out->used, &out->agency,
                                &out->last, &out->count);
}

static const char *const s_good [][LOT_BET_FIELDS] = {
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
    chunk_t chunk;
    out_t out = { 0 };
    s_chunk (&chunk, false, "5", s_good, 3);
    assert_null (s_convert (&chunk, 5, &out));
    assert_int_equal (out.agency, 5);
    assert_false (out.last);
    assert_int_equal (out.count, 3);
    assert_int_equal (out.used, strlen (s_good_lines));
    assert_memory_equal (out.lines, s_good_lines, out.used);
    assert_true (out.capacity >= out.used);

    //  Agency "05" is no spelling of agency 5: nothing is appended
    s_chunk (&chunk, true, "05", s_good, 1);
    assert_string_equal (s_convert (&chunk, 5, &out), "unknown agency");
    assert_int_equal (out.used, strlen (s_good_lines));

    //  Appended after what the buffer held; an 'L' chunk
    s_chunk (&chunk, true, "5", s_good, 1);
    assert_null (s_convert (&chunk, 5, &out));
    assert_int_equal (out.agency, 5);
    assert_true (out.last);
    assert_int_equal (out.count, 1);
    size_t first = strlen (s_good_lines);
    assert_int_equal (out.used, first + 43);
    assert_memory_equal (out.lines, s_good_lines, first);
    assert_memory_equal (out.lines + first, "5,Valentina,Vera,30170921,1982-05-22,6053\r\n", 43);
    free (out.lines);

    //  The buffer grows for a large chunk, from an existing small one
    const char *many [150][LOT_BET_FIELDS];
    for (int b = 0; b < 150; b++)
        memcpy (many [b], s_good [b % 3], sizeof s_good [0]);
    s_chunk (&chunk, false, "2", (const char *const (*) [LOT_BET_FIELDS]) many, 150);
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
    const char *const bet [][LOT_BET_FIELDS] = {
        { "Emanuel", "Soto", "22069151", "2004-03-30", "2979" }
    };
    chunk_t chunk;
    s_chunk (&chunk, false, "3", bet, 1);
    out_t out = { 0 };
    assert_null (s_convert (&chunk, 5, &out));
    assert_int_equal (out.used, 41);
    assert_memory_equal (out.lines, "3,Emanuel,Soto,22069151,2004-03-30,2979\r\n", 41);
    free (out.lines);
}

static void
test_convert_empty_last_chunk (void **state)
{
    (void) state;
    chunk_t chunk;
    out_t out = { 0 };
    s_chunk (&chunk, true, "3", s_good, 0);
    assert_int_equal (chunk.size, 6);
    out.count = 777;
    assert_null (s_convert (&chunk, 5, &out));
    assert_int_equal (out.agency, 3);
    assert_true (out.last);
    assert_int_equal (out.count, 0);
    assert_int_equal (out.used, 0);
    free (out.lines);
}

static void
test_convert_rejects_whole_chunk (void **state)
{
    (void) state;
    struct {
        int field;
        const char *value;
        const char *reason;
    } cases [] = {
        { 0, "", "invalid first name" },
        { 0, "Jos\xc3", "invalid first name" },
        { 1, "\xc0\x80", "invalid last name" },
        { 1, "", "invalid last name" },
        { 2, "12a", "invalid document" },
        { 2, "12345678901", "invalid document" },
        { 3, "1999-02-30", "invalid birthdate" },
        { 3, "1900-02-29", "invalid birthdate" },
        { 3, "22/05/1982", "invalid birthdate" },
        { 4, "10000", "invalid number" },
        { 4, "-1", "invalid number" },
        { 4, "", "invalid number" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        //  The bad bet is the fourth of five
        const char *bets [5][LOT_BET_FIELDS];
        for (int b = 0; b < 5; b++)
            memcpy (bets [b], s_good [b % 3], sizeof bets [b]);
        bets [3][cases [i].field] = cases [i].value;
        chunk_t chunk;
        s_chunk (&chunk, true, "4", (const char *const (*) [LOT_BET_FIELDS]) bets, 5);
        out_t out = { 0 };
        const char *reason = s_convert (&chunk, 5, &out);
        assert_non_null (reason);
        assert_string_equal (reason, cases [i].reason);
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
    const char *agencies [] = { "0", "6", "", "a", "-1", "5 ", "99999999999" };
    for (size_t i = 0; i < sizeof agencies / sizeof agencies [0]; i++) {
        chunk_t chunk;
        s_chunk (&chunk, false, agencies [i], s_good, 2);
        out_t out = { 0 };
        assert_string_equal (s_convert (&chunk, 5, &out), "unknown agency");
        assert_int_equal (out.count, 2);
        assert_int_equal (out.used, 0);
        free (out.lines);
    }
    //  With no agencies at all, every agency is unknown
    chunk_t chunk;
    s_chunk (&chunk, true, "1", s_good, 0);
    out_t out = { 0 };
    assert_string_equal (s_convert (&chunk, 0, &out), "unknown agency");
    assert_int_equal (out.count, 0);
    free (out.lines);
}

static void
test_convert_malformed (void **state)
{
    (void) state;
    chunk_t chunk;
    s_chunk (&chunk, false, "5", s_good, 3);
    out_t out = { 0 };

    //  Truncated anywhere
    size_t whole = chunk.size;
    for (size_t size = 0; size < whole; size++) {
        chunk.size = size;
        out.used = 0;
        assert_string_equal (s_convert (&chunk, 5, &out), "malformed chunk");
    }
    //  Trailing bytes
    chunk.size = whole + 1;
    chunk.data [whole] = 'C';
    assert_string_equal (s_convert (&chunk, 5, &out), "malformed chunk");
    //  A count larger than the bets
    chunk.size = whole;
    chunk.data [2] = 4;
    out.used = 0;
    assert_string_equal (s_convert (&chunk, 5, &out), "malformed chunk");
    assert_int_equal (out.count, 4);
    //  Unknown tag
    chunk.data [2] = 3;
    chunk.data [0] = 'B';
    assert_string_equal (s_convert (&chunk, 5, &out), "malformed chunk");
    //  And the intact chunk still converts
    chunk.data [0] = 'C';
    out.used = 0;
    assert_null (s_convert (&chunk, 5, &out));
    assert_int_equal (out.used, strlen (s_good_lines));
    assert_memory_equal (out.lines, s_good_lines, out.used);
    free (out.lines);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_name_length_and_empty),
        cmocka_unit_test (test_name_utf8),
        cmocka_unit_test (test_document),
        cmocka_unit_test (test_birthdate),
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
    return cmocka_run_group_tests_name ("bets", tests, s_setup, s_teardown);
}
