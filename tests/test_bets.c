/*  test_bets - bet validation, bets-file lines, the CSV reader and the
    handler's chunk-to-lines conversion
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lot_bet.h"
#include "lot_codec.h"
#include "lot_csv.h"
#include "lot_convert.h"
#include "testutil.h"

//  Asserts a check's reason is want (NULL: valid), naming the value.
static void
s_assert_reason (const char *got, const char *want, const char *value)
{
    if (want ? !got || strcmp (got, want) : got != NULL)
        fail_msg ("'%s': %s, expected %s", value, got ? got : "valid", want ? want : "valid");
}

//  Each value of a row, up to its first NULL.
#define EACH(value, values) \
    for (const char *const *value = (values); \
         value < (values) + sizeof (values) / sizeof *(values) && *value; value++)

//  --------------------------------------------------------------------------
//  The rules of a bet's fields

//  Values of a field and the reason its rule gives them (NULL: valid): its
//  check alone (names, documents and birthdates have one), and
//  lot_bet_check_fields for a bet holding it, the client's, which names
//  the field too. The server's lot_bet_from_fields, and the handler for a
//  chunk holding the bet, say "invalid" and the field instead.
static const struct {
    lot_bet_field_t field;
    const char *reason;
    const char *values [25];
} s_fields [] = {
    { LOT_BET_FIRST_NAME, NULL, {
        "Valentina", "Jos\xc3\xa9", "M\xc3\xbcller", "\xc3\x91" "and\xc3\xba",
        "O'Brien", "Mar\xc3\xad" "a Jos\xc3\xa9", " spaces ", "a,b", "\"",
        "\xe2\x82\xac", "\xf0\x9f\x98\x80",     //  U+20AC, three bytes; U+1F600, four
        "\xed\x9f\xbf", "\xee\x80\x80",         //  U+D7FF and U+E000, around the surrogates
        "\xf4\x8f\xbf\xbf",                     //  U+10FFFF, the last code point
        "\xc2\x80", "\xe0\xa0\x80",             //  U+0080, U+0800: smallest of two,
        "\xf0\x90\x80\x80",                     //  three and four bytes
        "\xc2\x85" } },                         //  U+0085: a C1 control, not C0
    { LOT_BET_FIRST_NAME, "not valid UTF-8", {
        "\xc0\x80", "\xc1\xbf",                 //  Overlong NUL, overlong two-byte
        "\xe0\x80\x80", "\xe0\x9f\xbf",         //  Overlong three-byte, overlong U+07FF
        "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", //  Overlong four-byte, overlong U+FFFF
        "\xed\xa0\x80", "\xed\xbf\xbf",         //  Surrogates U+D800, U+DFFF
        "\xed\xa0\xbd\xed\xb8\x80",             //  A surrogate pair, CESU style
        "\xf4\x90\x80\x80",                     //  U+110000
        "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xff", "\xfe",
        "Jos\xc3", "\xe2\x82", "\xf0\x9f\x98",  //  Truncated at the end
        "Jos\xc3" "a", "\xe2\x82" "abc", "\xf0\x9f\x98" "a",    //  In the middle
        "\x80", "abc\xbf",                      //  A lone continuation byte
        "Jos\xe9",                              //  Latin-1, not UTF-8
        "\xc3\xa9\xa9" } },                     //  One continuation too many
    { LOT_BET_LAST_NAME, "not valid UTF-8", { "Jos\xc3", "\xed\xa0\x80", "\xc0\x80" } },
    //  No control character: CR, LF, TAB, ESC, DEL, anywhere (NUL below)
    { LOT_BET_FIRST_NAME, "holds a control character", {
        "Ana\rPaz", "Ana\nPaz", "\tAna", "Ana\x1b", "Ana\x7f", "\x01", "Eve\n" } },
    { LOT_BET_FIRST_NAME, "empty", { "" } },
    { LOT_BET_LAST_NAME, "empty", { "" } },
    { LOT_BET_DOCUMENT, NULL, { "1", "0", "30170921", "1234567890", "0000000000" } },
    { LOT_BET_DOCUMENT, "not 1 to 10 decimal digits", {
        "", "12345678901", "12a4", "-1", "+1", " 1", "1 ", "1.0", "30.170.921", "\xd9\xa1",
        "12a" } },
    { LOT_BET_BIRTHDATE, NULL, {
        "1982-05-22", "2000-02-29", "2024-02-29", "1900-01-01", "1999-12-31",
        "2001-01-01", "1999-04-30", "1999-01-31" } },
    { LOT_BET_BIRTHDATE, "not a calendar date", {
        "1900-02-29", "2100-02-29", "2023-02-29", "1999-02-30", "1999-02-31",
        "1999-04-31", "1999-06-31", "1999-09-31", "1999-11-31", "2024-01-00",
        "2024-00-10", "0000-01-01" } },
    { LOT_BET_BIRTHDATE, "not YYYY-MM-DD", {
        "2024-13-01", "2024-01-32", "2024-99-99",
        "", "1982/05/22", "82-05-22", "1982-5-22", "1982-05-2", "1982-05-223",
        "19820522", "1982-05-22 ", " 1982-05-22", "abcd-ef-gh", "1982-05-+2",
        "1982-+5-22", "-982-05-22", "1982--5-22", "1982-05--2", "22-05-1982",
        "1982_05_22", "１982-05-22", "1999/02/03", "22/05/1982" } },
    //  From 1900 to today: nobody bets before being born
    { LOT_BET_BIRTHDATE, "before 1900", { "1899-12-31", "0001-01-01" } },
    { LOT_BET_BIRTHDATE, "in the future", { "2400-02-29", "9999-12-31", "2400-01-01" } },
    //  Numbers: 0..9999, leading zeros accepted
    { LOT_BET_NUMBER, NULL, { "0", "0012", "9999", "0000000007" } },
    { LOT_BET_NUMBER, "not a number from 0 to 9999", {
        "10000", "-1", "+1", "", "12a", " 12", "7574 ", "00000000001" } },
};

//  Each field's name, as the client logs it, and the server's reason
static const char *const s_names [][2] = {
    { "first_name", "invalid first name" }, { "last_name", "invalid last name" },
    { "document", "invalid document" }, { "birthdate", "invalid birthdate" },
    { "number", "invalid number" },
};

//  Agencies: 1..max, canonical (no two spellings name one agency)
static const char *const s_bad_agencies [] = {
    "0", "6", "", "a", "-1", "+1", " 1", "5 ", "00", "05", "01", "99999999999"
};

//  A good bet (agency 1 of 5 in the server's fields) with one field set;
//  the client's form is fields + 1.
static void
s_bet_with (lot_span_t fields [6], bool minimal, int field, const char *value)
{
    const char *minimal_bet [6] = { "1", "A", "B", "1", "2000-02-29", "1" };
    const char *valentina [6] = { "5", "Valentina", "Vera", "30170921", "1982-05-22", "0042" };
    for (int f = 0; f < 6; f++)
        fields [f] = tu_span (minimal ? minimal_bet [f] : valentina [f]);
    fields [1 + field] = tu_span (value);
}

//  Every value of s_fields, alone and in a bet (a minimal one and
//  Valentina's) for client and server, and as read back from the bets
//  file (where the clock judges nothing); then spans judged by their size,
//  never by a terminator (the bytes after a span are never read), a
//  name's length in bytes, not characters, and a birthdate against today.
static void
test_field_rules (void **state)
{
    const char *(*checks []) (lot_span_t text) = {
        lot_bet_check_name, lot_bet_check_name, lot_bet_check_document,
        lot_bet_check_birthdate, NULL
    };
    lot_bet_t bet;
    lot_span_t fields [6];
    for (size_t i = 0; i < sizeof s_fields / sizeof s_fields [0]; i++)
        EACH (value, s_fields [i].values) {
            lot_bet_field_t field = s_fields [i].field, named;
            const char *reason = s_fields [i].reason;
            if (checks [field])
                s_assert_reason (checks [field] (tu_span (*value)), reason, *value);
            for (int minimal = 0; minimal < 2; minimal++) {
                s_bet_with (fields, minimal, field, *value);
                s_assert_reason (lot_bet_check_fields (&bet, fields + 1, &named), reason,
                                 *value);
                if (reason)
                    assert_int_equal (named, field);
                s_assert_reason (lot_bet_from_fields (&bet, fields, 5),
                                 reason ? s_names [field][1] : NULL, *value);
                //  Read back from the bets file, the clock judges nothing
                bool clock = reason && streq (reason, "in the future");
                s_assert_reason (lot_bet_from_stored_fields (&bet, fields, 5),
                                 reason && !clock ? s_names [field][1] : NULL, *value);
            }
            assert_string_equal (lot_bet_field_name (field), s_names [field][0]);
        }
    char a [300], e127 [255], e128 [256];       //  'a's; 127 'é' and an 'a'; 128 'é'
    memset (a, 'a', sizeof a);
    for (int i = 0; i < 128; i++)
        memcpy (e128 + 2 * i, "\xc3\xa9", 2);
    memcpy (e127, e128, 254);
    e127 [254] = 'a';
    const struct {
        const char *(*check) (lot_span_t text);
        lot_span_t span;
        const char *reason;
    } spans [] = {
        { lot_bet_check_name, { "Ana\0Paz", 7 }, "holds a control character" },
        { lot_bet_check_name, { "Jos\xc3\xa9", 4 }, "not valid UTF-8" },
        { lot_bet_check_name, { "Jos\xc3\xa9", 5 }, NULL },
        { lot_bet_check_birthdate, { "1982-05-22", 9 }, "not YYYY-MM-DD" },
        { lot_bet_check_name, { a, 0 }, "empty" },
        { lot_bet_check_name, { a, 1 }, NULL },
        { lot_bet_check_name, { a, 255 }, NULL },
        { lot_bet_check_name, { a, 256 }, "longer than 255 bytes" },
        { lot_bet_check_name, { a, 300 }, "longer than 255 bytes" },
        { lot_bet_check_name, { e127, 255 }, NULL },
        { lot_bet_check_name, { e128, 256 }, "longer than 255 bytes" },
    };
    for (size_t i = 0; i < sizeof spans / sizeof spans [0]; i++) {
        char *text = tu_printf ("%.*s (%zu bytes)", (int) spans [i].span.size,
                                spans [i].span.data, spans [i].span.size);
        s_assert_reason (spans [i].check (spans [i].span), spans [i].reason, text);
        free (text);
    }
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

//  What good bets give: lot_bet_from_fields and lot_bet_check_fields

static void
test_good_bets (void **state)
{
    lot_bet_t bet;
    lot_span_t fields [6];
    s_bet_with (fields, false, LOT_BET_NUMBER, "6053");
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
    lot_bet_field_t field = LOT_BET_NUMBER;
    s_bet_with (fields, false, LOT_BET_NUMBER, "0042");
    assert_null (lot_bet_check_fields (&bet, fields + 1, &field));
    assert_int_equal (bet.number, 42);
    assert_ptr_equal (bet.document.data, fields [1 + LOT_BET_DOCUMENT].data);
    //  The first field that fails is the one named
    fields [1 + LOT_BET_LAST_NAME] = tu_span ("");
    fields [1 + LOT_BET_NUMBER] = tu_span ("x");
    assert_string_equal (lot_bet_check_fields (&bet, fields + 1, &field), "empty");
    assert_int_equal (field, LOT_BET_LAST_NAME);

    enum { AGENCY = -1 };               //  Beside lot_bet_field_t's five
    const struct { int field; const char *value; unsigned max, parsed; } good [] = {
        { LOT_BET_NUMBER, "0", 5, 0 }, { LOT_BET_NUMBER, "0012", 5, 12 },
        { LOT_BET_NUMBER, "9999", 5, 9999 }, { LOT_BET_NUMBER, "0000000007", 5, 7 },
        { AGENCY, "1", 5, 1 }, { AGENCY, "5", 5, 5 }, { AGENCY, "65535", 65535, 65535 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++) {
        s_bet_with (fields, true, good [i].field, good [i].value);
        assert_null (lot_bet_from_fields (&bet, fields, good [i].max));
        assert_int_equal (good [i].field == AGENCY ? bet.agency : bet.number, good [i].parsed);
    }
    EACH (agency, s_bad_agencies) {
        s_bet_with (fields, true, AGENCY, *agency);
        s_assert_reason (lot_bet_from_fields (&bet, fields, 5), "unknown agency", *agency);
    }
    s_bet_with (fields, true, AGENCY, "1");
    assert_string_equal (lot_bet_from_fields (&bet, fields, 0), "unknown agency");
    s_bet_with (fields, true, AGENCY, "3");
    assert_string_equal (lot_bet_from_fields (&bet, fields, 2), "unknown agency");
    char long_name [257];
    memset (long_name, 'n', 256);
    long_name [256] = 0;
    s_bet_with (fields, true, LOT_BET_FIRST_NAME, long_name);
    assert_string_equal (lot_bet_from_fields (&bet, fields, 5), "invalid first name");
    long_name [255] = 0;
    fields [1 + LOT_BET_FIRST_NAME] = fields [1 + LOT_BET_LAST_NAME] = tu_span (long_name);
    assert_null (lot_bet_from_fields (&bet, fields, 5));
}

//  --------------------------------------------------------------------------
//  lot_bet_format_csv

//  Formats each bet into every capacity: below the line's size it returns
//  0 and never writes past capacity; at and above it returns the line.
static void
test_format_csv (void **state)
{
    const struct {
        lot_bet_t bet;
        const char *line;
    } cases [] = {
#define BET(agency, first, last, document, birthdate, number) \
        { agency, { first, sizeof first - 1 }, { last, sizeof last - 1 }, \
          { document, sizeof document - 1 }, { birthdate, sizeof birthdate - 1 }, number }
        { BET (5, "Valentina", "Vera", "30170921", "1982-05-22", 6053),
          "5,Valentina,Vera,30170921,1982-05-22,6053\r\n" },
        //  Numbers as plain integers: "0012" was stored as 12
        { BET (1, "A", "B", "1", "2000-02-29", 12), "1,A,B,1,2000-02-29,12\r\n" },
        { BET (1, "A", "B", "1", "2000-02-29", 0), "1,A,B,1,2000-02-29,0\r\n" },
        { BET (65535, "A", "B", "0012345", "2000-02-29", 9999),
          "65535,A,B,0012345,2000-02-29,9999\r\n" },
        //  Minimal quoting: only comma, quote, CR or LF
        { BET (2, "Ana, Mar\xc3\xad" "a", "O'Brien", "1", "2000-01-01", 7574),
          "2,\"Ana, Mar\xc3\xad" "a\",O'Brien,1,2000-01-01,7574\r\n" },
        { BET (2, "Juan \"Pepe\"", "P\xc3\xa9rez", "1", "2000-01-01", 1),
          "2,\"Juan \"\"Pepe\"\"\",P\xc3\xa9rez,1,2000-01-01,1\r\n" },
        { BET (2, "\"", "\"\"", "1", "2000-01-01", 1),
          "2,\"\"\"\",\"\"\"\"\"\",1,2000-01-01,1\r\n" },
        { BET (2, "line\nbreak", "cr\ronly", "1", "2000-01-01", 1),
          "2,\"line\nbreak\",\"cr\ronly\",1,2000-01-01,1\r\n" },
        { BET (2, "crlf\r\n", ",", "1", "2000-01-01", 1),
          "2,\"crlf\r\n\",\",\",1,2000-01-01,1\r\n" },
        { BET (2, " lead", "trail ", "1", "2000-01-01", 1), "2, lead,trail ,1,2000-01-01,1\r\n" },
#undef BET
    };
    char out [LOT_BET_CSV_MAX + 64];
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        size_t size = strlen (cases [i].line);
        for (size_t capacity = 0; capacity < size + 3; capacity++) {
            tu_case ("%s, into %zu bytes", cases [i].line, capacity);
            memset (out, '#', sizeof out);
            size_t put = lot_bet_format_csv (&cases [i].bet, out, capacity);
            tu_assert_bytes (out, put, cases [i].line, capacity < size ? 0 : size);
            for (size_t at = capacity; at < sizeof out; at++)
                assert_int_equal (out [at], '#');
        }
    }
    tu_case_done ();
    //  The longest line: two names of 255 quotes each, the largest agency
    //  and number
    char quotes [255];
    memset (quotes, '"', sizeof quotes);
    lot_bet_t bet = { 4294967295u, { quotes, 255 }, { quotes, 255 }, tu_span ("1234567890"),
                      tu_span ("2000-02-29"), 9999 };
    size_t put = lot_bet_format_csv (&bet, out, LOT_BET_CSV_MAX);
    assert_int_equal (put, LOT_BET_CSV_MAX);
    assert_memory_equal (out, "4294967295,\"\"\"", 14);
    assert_memory_equal (out + put - 30, "\",1234567890,2000-02-29,9999\r\n", 30);
    assert_int_equal (lot_bet_format_csv (&bet, out, LOT_BET_CSV_MAX - 1), 0);
}

//  --------------------------------------------------------------------------
//  lot_csv

//  Reads csv to its end, max_fields at a time, as text: "LINE:[field]...\n"
//  a record, "LINE: malformed\n" a -1; then the end again, not failed.
static void
s_assert_reads (lot_csv_t **csv_p, int max_fields, const char *want)
{
    char *got;
    size_t size;
    FILE *out = open_memstream (&got, &size);
    lot_span_t fields [8];
    int count;
    while ((count = lot_csv_next (*csv_p, fields, max_fields)) != 0) {
        fprintf (out, "%zu:%s", lot_csv_line (*csv_p), count < 0 ? " malformed" : "");
        for (int f = 0; f < count; f++)
            fprintf (out, "[%.*s]", (int) fields [f].size, fields [f].data);
        fputc ('\n', out);
    }
    assert_int_equal (fclose (out), 0);
    tu_assert_bytes (got, size, want, strlen (want));
    assert_int_equal (lot_csv_next (*csv_p, fields, max_fields), 0);
    assert_false (lot_csv_failed (*csv_p));
    free (got);
    lot_csv_destroy (csv_p);
}

//  A fresh file of tu_dir holding text, open in a reader.
static lot_csv_t *
s_csv_of (const char *text)
{
    static int number;
    char *path = tu_printf ("file-%d.csv", ++number);
    tu_write_file (path, text, strlen (text));
    lot_csv_t *csv = lot_csv_new (path);
    assert_non_null (csv);
    free (path);
    return csv;
}

#define TWO_BETS "1:[Valentina][Vera][30170921][1982-05-22][6053]\n" \
                 "2:[Ana][P\xc3\xa9rez][1][2000-02-29][0012]\n"

static void
test_csv (void **state)
{
    const struct {
        const char *text;
        int max_fields;
        const char *records;
    } cases [] = {
        { "Valentina,Vera,30170921,1982-05-22,6053\nAna,P\xc3\xa9rez,1,2000-02-29,0012\n",
          8, TWO_BETS },
        { "Valentina,Vera,30170921,1982-05-22,6053\r\nAna,P\xc3\xa9rez,1,2000-02-29,0012\r\n",
          8, TWO_BETS },
        { "Valentina,Vera,30170921,1982-05-22,6053\r\nAna,P\xc3\xa9rez,1,2000-02-29,0012",
          8, TWO_BETS },
        { "Valentina,Vera,30170921,1982-05-22,6053\nAna,P\xc3\xa9rez,1,2000-02-29,0012\r\n",
          8, TWO_BETS },
        { "", 8, "" },
        //  Quoted fields
        { "\"Ana, Mar\xc3\xad" "a\",\"Juan \"\"Pepe\"\"\",\"two\r\nlines\",plain\r\n"
          "\"\",\"\"\"\",\"a\nb\nc\",\"\"\"x\"\"\"\r\n"
          "x,\"\r\n\r\n\",y\r\n"
          "last,\"quoted\"\n", 8,
          "1:[Ana, Mar\xc3\xad" "a][Juan \"Pepe\"][two\r\nlines][plain]\n"
          "3:[][\"][a\nb\nc][\"x\"]\n"
          "6:[x][\r\n\r\n][y]\n"
          "9:[last][quoted]\n" },
        //  Empty fields and blank lines
        { "\n\r\na,b\n\n\r\n\nc\r\na,,b\n,\n\"\"\n a \n\n", 8,
          "3:[a][b]\n7:[c]\n8:[a][][b]\n9:[][]\n10:[]\n11:[ a ]\n" },
        //  Malformed, then the reader goes on
        { "a,b\"c,d\n"                  //  1: a stray quote in a plain field
          "e,f\n"
          "\"ab\"c,d\r\n"               //  3: text after a closing quote
          "g,h\r\n"
          "x\"\"y,z\n"                  //  5: two stray quotes
          "i,j\n"
          "1,2,3,4,5,6,7,8,9\n"         //  7: too many fields
          "k,l\n"
          "m,\"n\n"                     //  9: a quote never closed runs to the end
          "o,p\n", 8,
          "1: malformed\n2:[e][f]\n3: malformed\n4:[g][h]\n5: malformed\n6:[i][j]\n"
          "7: malformed\n8:[k][l]\n9: malformed\n" },
        //  Exactly max_fields is fine, one more is not
        { "1,2,3\n1,2,3,4\n1,2,3\n", 3, "1:[1][2][3]\n2: malformed\n3:[1][2][3]\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        tu_case ("%s", cases [i].text);
        lot_csv_t *csv = s_csv_of (cases [i].text);
        s_assert_reads (&csv, cases [i].max_fields, cases [i].records);
    }
    tu_case_done ();
    //  A record much longer than any buffer default
    size_t size = 200000;
    char *text = malloc (size + 16);
    assert_non_null (text);
    text [0] = '"';
    memset (text + 1, 'q', size);
    text [size / 2] = '\n';
    memcpy (text + size + 1, "\",x\nz\n", 7);
    char *records = tu_printf ("1:[%.*s][x]\n3:[z]\n", (int) size, text + 1);
    lot_csv_t *csv = s_csv_of (text);
    s_assert_reads (&csv, 4, records);
    free (records);
    free (text);
    //  A stream the reader owns
    static char stream [] = "a,b\r\nc,d\r\n";
    FILE *file = fmemopen (stream, strlen (stream), "r");
    assert_non_null (file);
    csv = lot_csv_new_stream (file);
    assert_non_null (csv);
    s_assert_reads (&csv, 8, "1:[a][b]\n2:[c][d]\n");
    lot_csv_destroy (&csv);                 //  Harmless twice
    assert_null (csv);
    //  A missing file; a directory opens but cannot be read: the end, and failed
    errno = 0;
    assert_null (lot_csv_new ("missing.csv"));
    assert_int_equal (errno, ENOENT);
    csv = lot_csv_new (tu_dir ());
    assert_non_null (csv);
    lot_span_t fields [6];
    assert_int_equal (lot_csv_next (csv, fields, 6), 0);
    assert_true (lot_csv_failed (csv));
    lot_csv_destroy (&csv);
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
    size_t size = 0;
    size_t parts = 1 + tu_below (rng, 8);
    if (tu_below (rng, 50) == 0)
        parts = 100;                    //  Now and then a long one
    for (size_t i = 0; i < parts; i++) {
        const char *piece = pieces [tu_below (rng, sizeof pieces / sizeof pieces [0])];
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
        snprintf (field [1 + LOT_BET_NUMBER], sizeof field [0], "%u",
                  (unsigned) tu_below (&rng, 10000));
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
    tu_write_file ("round-trip.csv", file, used);
    lot_csv_t *csv = lot_csv_new ("round-trip.csv");
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
    s_assert_reads (&csv, 8, "");
    free (file);
    free (rows);
}

//  --------------------------------------------------------------------------
//  lot_convert_chunk

static const char *s_good [][LOT_BET_FIELDS] = {
    { "Valentina", "Vera", "30170921", "1982-05-22", "6053" },
    { "Ana, Mar\xc3\xad" "a", "P\xc3\xa9rez \"Pepa\"", "0012345", "2000-02-29", "0012" },
    { "Coma, \"Comillas\"", "O'Brien", "1", "1999-12-31", "7574" },
};
#define GOOD_LINES "5,Valentina,Vera,30170921,1982-05-22,6053\r\n" \
    "5,\"Ana, Mar\xc3\xad" "a\",\"P\xc3\xa9rez \"\"Pepa\"\"\",0012345,2000-02-29,12\r\n" \
    "5,\"Coma, \"\"Comillas\"\"\",O'Brien,1,1999-12-31,7574\r\n"

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
    return lot_convert_chunk (chunk->data, chunk->size, max_agency, &out->lines,
                                &out->capacity, &out->used, &out->agency,
                                &out->last, &out->count);
}

//  A chunk as a client's encoder (lot_codec) makes it: count bets, bet b
//  being bets [b % kinds].
static const tu_wire_t *
s_chunk (bool last, const char *agency, size_t count, const char *bets [][LOT_BET_FIELDS],
         size_t kinds)
{
    static tu_wire_t chunk;
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, chunk.data, sizeof chunk.data,
                                             tu_span (agency)), 0);
    for (size_t b = 0; b < count; b++) {
        lot_span_t fields [LOT_BET_FIELDS];
        for (int f = 0; f < LOT_BET_FIELDS; f++)
            fields [f] = tu_span (bets [b % kinds][f]);
        assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    }
    chunk.size = lot_codec_chunk_finish (&writer, last);
    return &chunk;
}

//  Chunks converted in turn, each appending its lines to what the buffer
//  held (a fresh row: no buffer at all, its count not yet set).
static void
test_convert (void **state)
{
    const char *emanuel [][LOT_BET_FIELDS] = {
        { "Emanuel", "Soto", "22069151", "2004-03-30", "2979" }
    };
    const struct {
        const char *name;
        bool fresh;
        const char *agency;
        bool last;
        size_t count;                   //  Bets of s_good in turn, or Emanuel's
        bool emanuel;
        unsigned max_agency;
        const char *reason;
        const char *lines;              //  The buffer's after
    } cases [] = {
        //  Found by fuzz_codec: formatting at NULL + 0 is undefined
        //  behaviour, which make test-asan ends the program on
        { "Emanuel into no buffer", true, "3", false, 1, true, 5, NULL,
          "3,Emanuel,Soto,22069151,2004-03-30,2979\r\n" },
        { "three bets into no buffer", true, "5", false, 3, false, 5, NULL, GOOD_LINES },
        //  Agency "05" is no spelling of agency 5: nothing is appended
        { "agency 05", false, "05", true, 1, false, 5, "unknown agency", GOOD_LINES },
        { "an L chunk appended", false, "5", true, 1, false, 5, NULL,
          GOOD_LINES "5,Valentina,Vera,30170921,1982-05-22,6053\r\n" },
        { "an empty last chunk", true, "3", true, 0, false, 5, NULL, "" },
        { "no agencies: every agency unknown", true, "1", true, 0, false, 0, "unknown agency",
          "" },
    };
    out_t out = { 0 };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        tu_case ("%s", cases [i].name);
        if (cases [i].fresh) {
            free (out.lines);
            out = (out_t) { .count = 777 };
        }
        const tu_wire_t *chunk = cases [i].emanuel
                               ? s_chunk (cases [i].last, cases [i].agency, 1, emanuel, 1)
                               : s_chunk (cases [i].last, cases [i].agency, cases [i].count,
                                          s_good, 3);
        const char *reason = s_convert (chunk, cases [i].max_agency, &out);
        s_assert_reason (reason, cases [i].reason, cases [i].name);
        assert_int_equal (out.count, cases [i].count);
        if (!reason) {
            assert_int_equal (out.agency, atoi (cases [i].agency));
            assert_int_equal (out.last, cases [i].last);
        }
        tu_assert_bytes (out.lines, out.used, cases [i].lines, strlen (cases [i].lines));
        assert_true (out.capacity >= out.used);
    }
    tu_case_done ();
    free (out.lines);

    //  The buffer grows for a large chunk, from an existing small one
    out = (out_t) { .lines = malloc (10), .capacity = 10 };
    assert_null (s_convert (s_chunk (false, "2", 150, s_good, 3), 2, &out));
    assert_int_equal (out.count, 150);
    assert_int_equal (out.agency, 2);
    assert_true (out.used > 4096);
    assert_true (out.capacity >= out.used);
    const char *line = out.lines;
    for (int b = 0; b < 150; b++) {
        const char *expected = GOOD_LINES;
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

//  A head by hand (tu_wire), then s_good's three bets.
static void
s_hand_chunk (tu_wire_t *chunk, char tag, unsigned count)
{
    chunk->size = 0;
    tu_wire_chunk (chunk, tag, count, "5");
    for (int b = 0; b < 3; b++)
        tu_wire_bet (chunk, s_good [b]);
}

//  Each bad value of s_fields in the fourth bet of five, each bad agency,
//  and each malformed chunk rejects the whole chunk.
static void
test_convert_rejects (void **state)
{
    out_t out = { 0 };
    for (size_t i = 0; i < sizeof s_fields / sizeof s_fields [0]; i++)
        EACH (value, s_fields [i].values) {
            if (!s_fields [i].reason)
                continue;
            const char *bets [5][LOT_BET_FIELDS];
            for (int b = 0; b < 5; b++)
                memcpy (bets [b], s_good [b % 3], sizeof bets [b]);
            bets [3][s_fields [i].field] = *value;
            s_assert_reason (s_convert (s_chunk (true, "4", 5, bets, 5), 5, &out),
                             s_names [s_fields [i].field][1], *value);
            assert_int_equal (out.count, 5);
            assert_int_equal (out.agency, 4);
            assert_true (out.last);
        }
    EACH (agency, s_bad_agencies) {
        s_assert_reason (s_convert (s_chunk (false, *agency, 2, s_good, 3), 5, &out),
                         "unknown agency", *agency);
        assert_int_equal (out.count, 2);
        assert_int_equal (out.used, 0);
    }
    tu_wire_t chunk;
    s_hand_chunk (&chunk, 'C', 3);
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
    tu_assert_bytes (out.lines, out.used, GOOD_LINES, strlen (GOOD_LINES));
    free (out.lines);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_field_rules),
        cmocka_unit_test (test_parse_uint),
        cmocka_unit_test (test_good_bets),
        cmocka_unit_test_teardown (test_format_csv, tu_case_teardown),
        cmocka_unit_test_teardown (test_csv, tu_case_teardown),
        cmocka_unit_test (test_csv_round_trip),
        cmocka_unit_test_teardown (test_convert, tu_case_teardown),
        cmocka_unit_test (test_convert_rejects),
    };
    return cmocka_run_group_tests_name ("bets", tests, tu_dir_setup, tu_dir_teardown);
}
