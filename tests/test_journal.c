/*  test_journal - the journal's lines: formatted, parsed back, refused when cut or changed

    Expected lines are built here as lot_journal.h documents them, with
    zlib's CRC-32 called directly (tu_journal_line), not through the
    module under test.
*/
#include <string.h>

#include "lot_journal.h"
#include "testutil.h"

//  Neither parser takes the line (size bytes, no newline).
static void
s_assert_refused (const char *line, size_t size)
{
    uint64_t base;
    lot_journal_record_t record;
    assert_int_equal (lot_journal_header_parse (line, size, &base), -1);
    assert_int_equal (lot_journal_record_parse (line, size, &record), -1);
}

//  Every line formats to the body's line and parses back to its fields;
//  cut anywhere before its newline, or with any one bit changed, it is
//  refused.
static void
test_lines (void **state)
{
    assert_int_equal (lot_journal_crc ("123456789", 9), 0xcbf43926);   //  CRC-32's check
    const struct {
        const char *body;
        bool header;
        uint64_t base;
        lot_journal_record_t record;
    } cases [] = {
        { "lottery-journal 1 base 0", true, .base = 0 },
        { "lottery-journal 1 base 3", true, .base = 3 },
        { "lottery-journal 1 base 9223372036854775807", true, .base = INT64_MAX },
        { "1 0 0 0 1 0 00000000", .record = { .agency = 1, .group = 1 } },
        { "3 0 2 1 1 45 1c291ca3", .record = { .agency = 3, .position = 0,
          .count = 2, .last = true, .group = 1, .end = 45, .lines_crc = 0x1c291ca3 } },
        { "4294967295 4294967295 4294967295 1 9223372036854775807 9223372036854775807"
          " ffffffff", .record = { .agency = UINT32_MAX, .position = UINT32_MAX,
          .count = UINT32_MAX, .last = true, .group = INT64_MAX, .end = INT64_MAX,
          .lines_crc = UINT32_MAX } },
    };
    //  The right CRC, but fields not in the one form
    const char *refused [] = {
        "0 0 0 0 1 0 00000000",                     //  Agency 0
        "1 0 0 2 1 0 00000000",                     //  LAST neither 0 nor 1
        "1 0 0 0 0 0 00000000",                     //  Group 0
        "01 0 0 0 1 0 00000000",                    //  A leading zero
        "4294967296 0 0 0 1 0 00000000",            //  Over 32 bits
        "1 0 0 0 1 9223372036854775808 00000000",   //  Over INT64_MAX
        "1 0 0 0 1 0 0000000A",                     //  Upper case
        "1 0 0 0 1 0 0000000",                      //  Seven digits
        "1  0 0 0 1 0 00000000",                    //  Two spaces
        "1 0 0 0 1 0 00000000 1",                   //  A field too many
        "1 0 0 0 1 0",                              //  A field short
        "-1 0 0 0 1 0 00000000", "",
        "lottery-journal 1 base 01", "lottery-journal 1 base ",
        "lottery-journal 1 base 9223372036854775808",
        "lottery-journal 1 base 0 0", "lottery-journal 2 base 0",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        tu_case ("%s", cases [i].body);
        const lot_journal_record_t *want = &cases [i].record;
        const char *line = tu_journal_line ("%s", cases [i].body);
        size_t size = strlen (line);
        char out [LOT_JOURNAL_RECORD_MAX];
        lot_journal_record_t got;
        uint64_t base;
        if (cases [i].header) {
            tu_assert_bytes (out, lot_journal_header_format (cases [i].base, out), line, size);
            assert_int_equal (lot_journal_header_parse (line, size - 1, &base), 0);
            assert_int_equal (base, cases [i].base);
        }
        else {
            tu_assert_bytes (out, lot_journal_record_format (want, out), line, size);
            assert_int_equal (lot_journal_record_parse (line, size - 1, &got), 0);
            assert_int_equal (got.agency, want->agency);
            assert_int_equal (got.position, want->position);
            assert_int_equal (got.count, want->count);
            assert_int_equal (got.last, want->last);
            assert_int_equal (got.group, want->group);
            assert_int_equal (got.end, want->end);
            assert_int_equal (got.lines_crc, want->lines_crc);
        }
        for (size_t cut = 0; cut < size - 1; cut++)
            s_assert_refused (line, cut);
        for (size_t bit = 0; bit < 8 * (size - 1); bit++) {
            memcpy (out, line, size - 1);
            out [bit / 8] ^= (char) (1 << bit % 8);
            s_assert_refused (out, size - 1);
        }
    }
    tu_case_done ();
    for (size_t i = 0; i < sizeof refused / sizeof refused [0]; i++) {
        const char *line = tu_journal_line ("%s", refused [i]);
        s_assert_refused (line, strlen (line) - 1);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_teardown (test_lines, tu_case_teardown),
    };
    return cmocka_run_group_tests_name ("journal", tests, NULL, NULL);
}
