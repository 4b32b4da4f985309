/*  test_journal - the journal's lines: formatted, parsed back, refused when cut or changed

    Expected lines are built here as lot_journal.h documents them, with
    zlib's CRC-32 called directly, not through the module under test.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lot_journal.h"
#include "testutil.h"

//  A journal line: body, one space, the body's CRC, newline.
static char *
s_line (const char *body)
{
    uLong crc = crc32 (0, (const Bytef *) body, (uInt) strlen (body));
    return tu_printf ("%s %08lx\n", body, crc);
}

//  Neither parser takes the line (size bytes, no newline).
static void
s_assert_refused (const char *line, size_t size)
{
    uint64_t base;
    lot_journal_record_t record;
    assert_int_equal (lot_journal_header_parse (line, size, &base), -1);
    assert_int_equal (lot_journal_record_parse (line, size, &record), -1);
}

//  A line (newline included) cut anywhere before its newline, or with
//  any one bit changed, is refused.
static void
s_assert_fragile (const char *line)
{
    size_t size = strlen (line) - 1;
    char *copy = malloc (size);
    assert_non_null (copy);
    for (size_t cut = 0; cut < size; cut++)
        s_assert_refused (line, cut);
    for (size_t at = 0; at < size; at++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy (copy, line, size);
            copy [at] ^= (char) (1 << bit);
            s_assert_refused (copy, size);
        }
    free (copy);
}

static void
test_record_round_trip (void **state)
{
    (void) state;
    assert_int_equal (lot_journal_crc ("123456789", 9), 0xcbf43926);   //  CRC-32's check
    struct {
        lot_journal_record_t record;
        const char *body;
    } cases [] = {
        { { .agency = 1, .group = 1 }, "1 0 0 0 1 0 00000000" },
        { { .agency = 3, .position = 0, .count = 2, .last = true, .group = 1, .end = 45,
            .lines_crc = 0x1c291ca3 }, "3 0 2 1 1 45 1c291ca3" },
        { { .agency = UINT32_MAX, .position = UINT32_MAX, .count = UINT32_MAX,
            .last = true, .group = INT64_MAX, .end = INT64_MAX, .lines_crc = UINT32_MAX },
          "4294967295 4294967295 4294967295 1 9223372036854775807 9223372036854775807"
          " ffffffff" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        const lot_journal_record_t *want = &cases [i].record;
        char *line = s_line (cases [i].body);
        char out [LOT_JOURNAL_RECORD_MAX];
        size_t size = lot_journal_record_format (want, out);
        tu_assert_bytes (out, size, line, strlen (line));

        lot_journal_record_t got;
        assert_int_equal (lot_journal_record_parse (line, size - 1, &got), 0);
        assert_int_equal (got.agency, want->agency);
        assert_int_equal (got.position, want->position);
        assert_int_equal (got.count, want->count);
        assert_int_equal (got.last, want->last);
        assert_int_equal (got.group, want->group);
        assert_int_equal (got.end, want->end);
        assert_int_equal (got.lines_crc, want->lines_crc);
        s_assert_fragile (line);
        free (line);
    }
}

static void
test_header_round_trip (void **state)
{
    (void) state;
    const uint64_t bases [] = { 0, 3, INT64_MAX };
    for (size_t i = 0; i < sizeof bases / sizeof bases [0]; i++) {
        char *body = tu_printf ("lottery-journal 1 base %" PRIu64, bases [i]);
        char *line = s_line (body);
        char out [LOT_JOURNAL_HEADER_MAX];
        size_t size = lot_journal_header_format (bases [i], out);
        tu_assert_bytes (out, size, line, strlen (line));

        uint64_t base;
        assert_int_equal (lot_journal_header_parse (line, size - 1, &base), 0);
        assert_int_equal (base, bases [i]);
        s_assert_fragile (line);
        free (body);
        free (line);
    }
}

//  Lines whose CRC is right but whose fields are not in the one form.
static void
test_refused_fields (void **state)
{
    (void) state;
    const char *bodies [] = {
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
        "-1 0 0 0 1 0 00000000",
        "",
        "lottery-journal 1 base 01",
        "lottery-journal 1 base 9223372036854775808",
        "lottery-journal 1 base ",
        "lottery-journal 1 base 0 0",
        "lottery-journal 2 base 0",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies [0]; i++) {
        char *line = s_line (bodies [i]);
        s_assert_refused (line, strlen (line) - 1);
        free (line);
    }
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_record_round_trip),
        cmocka_unit_test (test_header_round_trip),
        cmocka_unit_test (test_refused_fields),
    };
    return cmocka_run_group_tests_name ("journal", tests, NULL, NULL);
}
