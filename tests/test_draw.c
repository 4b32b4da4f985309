/*  test_draw - reading the bets file back for the draw: which lines are
    bets, each agency's winners in file order, and a large file read in
    parts giving what one pass gives
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

#include "lot_draw.h"
#include "testutil.h"

static char *s_dir;

static int
s_setup (void **state)
{
    (void) state;
    s_dir = tu_tempdir ("draw");
    return s_dir ? 0 : -1;
}

static int
s_teardown (void **state)
{
    (void) state;
    tu_remove_dir (s_dir);
    return 0;
}

static char *
s_documents (lot_draw_t *draw, long agency)
{
    size_t size;
    const char *documents = lot_draw_documents (draw, agency, &size);
    return tu_printf ("%.*s", (int) size, documents);
}

static void
s_assert_documents (lot_draw_t *draw, long agency, const char *want)
{
    char *got = s_documents (draw, agency);
    assert_string_equal (got, want);
    free (got);
}

static void
test_scan_finds_winners_by_agency (void **state)
{
    (void) state;
    lot_draw_t *draw = lot_draw_new (3);
    const char *text =
        "1,Ana,Paz,111,1980-01-01,7574\r\n"
        "2,\"Ruiz, Jr.\",\"O\"\"Neil\",222,1990-02-02,7574\r\n"
        "3,José,Núñez,333,1970-03-03,7575\r\n"
        "\r\n"
        "1,Luis,Vera,444,1960-04-04,7574\n"
        "2,Eva,Sol,555,1950-05-05,0";          //  The last line lacks its end
    lot_draw_scan (draw, text, strlen (text));
    assert_int_equal (lot_draw_bets (draw), 5);
    assert_int_equal (lot_draw_winners (draw), 3);
    assert_int_equal (lot_draw_skipped (draw), 0);
    s_assert_documents (draw, 1, "111\n444\n");
    s_assert_documents (draw, 2, "222\n");
    s_assert_documents (draw, 3, "");
    lot_draw_destroy (&draw);
    assert_null (draw);
}

static void
test_scan_skips_lines_not_of_this_draw (void **state)
{
    (void) state;
    lot_draw_t *draw = lot_draw_new (3);
    const char *text =
        "4,Ana,Paz,1,1980-01-01,7574\n"         //  2: no such agency
        "01,Ana,Paz,2,1980-01-01,7574\n"        //  3: not canonical
        "1,Ana,3,1980-01-01,7574\n"             //  4: one name only
        "1,Ana,Paz,12345678901,1980-01-01,7574\n"   //  5: document too long
        "1,Ana,Paz,x1,1980-01-01,7574\n"        //  6: document not digits
        "1,Ana,Paz,6,1980-01-01,10000\n"        //  7: number too large
        "1,Ana,Paz,7,1980-01-01,\n"             //  8: no number
        "garbage\n"                             //  9
        ",,,,,\n"                               //  10
        "1,Ana,Paz,8,1980-01-01,7574\n";        //  11: a winner after all
    lot_draw_scan (draw, "2,Eva,Sol,9,1950-05-05,1\n", 25);
    lot_draw_scan (draw, text, strlen (text));
    assert_int_equal (lot_draw_bets (draw), 2);
    assert_int_equal (lot_draw_winners (draw), 1);
    assert_int_equal (lot_draw_skipped (draw), 9);
    size_t count;
    const size_t *lines = lot_draw_skipped_lines (draw, &count);
    assert_int_equal (count, 9);
    for (size_t i = 0; i < count; i++)
        assert_int_equal (lines [i], i + 2);
    s_assert_documents (draw, 1, "8\n");
    lot_draw_destroy (&draw);
}

//  Writes a file of bets lines: every seventh a winner, every 1000th not
//  a bet, with names long enough to pass block boundaries at odd places.
static char *
s_write_bets (const char *name, size_t lines, long agencies)
{
    char *path = tu_printf ("%s/%s", s_dir, name);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    for (size_t i = 1; i <= lines; i++)
        if (i % 1000 == 0)
            fprintf (file, "not a bet %zu\r\n", i);
        else
            fprintf (file, "%ld,\"Name, %0*zu\",Last,%zu,1980-01-01,%d\r\n",
                     (long) (i % agencies) + 1, (int) (i % 97), i, i,
                     i % 7 == 0 ? 7574 : (int) (i % 9999));
    assert_int_equal (fclose (file), 0);
    return path;
}

//  A file large enough to be read in parts (when the machine has two
//  cores or more) gives what one scan of its bytes gives.
static void
test_read_in_parts_as_one_scan (void **state)
{
    (void) state;
    char *path = s_write_bets ("large.csv", 700000, 5);
    size_t size;
    char *bytes = tu_read_file (path, &size);
    assert_true (size > 40 << 20);
    lot_draw_t *whole = lot_draw_new (5);
    lot_draw_scan (whole, bytes, size);
    lot_draw_t *read = lot_draw_new (5);
    assert_int_equal (lot_draw_read (read, path), 0);
    assert_int_equal (lot_draw_bets (read), lot_draw_bets (whole));
    assert_int_equal (lot_draw_bets (read), 700000 - 700);
    assert_int_equal (lot_draw_winners (read), lot_draw_winners (whole));
    assert_int_equal (lot_draw_skipped (read), 700);
    size_t count;
    const size_t *lines = lot_draw_skipped_lines (read, &count);
    assert_int_equal (count, LOT_DRAW_SKIPS_KEPT);
    for (size_t i = 0; i < count; i++)
        assert_int_equal (lines [i], (i + 1) * 1000);
    for (long agency = 1; agency <= 5; agency++) {
        char *want = s_documents (whole, agency);
        s_assert_documents (read, agency, want);
        free (want);
    }
    lot_draw_destroy (&whole);
    lot_draw_destroy (&read);
    free (bytes);
    free (path);
}

//  A line longer than a read block is no bet, and costs nothing after it.
static void
test_read_overlong_line (void **state)
{
    (void) state;
    char *path = tu_printf ("%s/long.csv", s_dir);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    for (int i = 0; i < (5 << 20); i++)
        fputc ('x', file);
    fputs ("\n1,Ana,Paz,7,1980-01-01,7574\n", file);
    assert_int_equal (fclose (file), 0);
    lot_draw_t *draw = lot_draw_new (1);
    assert_int_equal (lot_draw_read (draw, path), 0);
    assert_int_equal (lot_draw_bets (draw), 1);
    assert_true (lot_draw_skipped (draw) >= 1);
    s_assert_documents (draw, 1, "7\n");
    lot_draw_destroy (&draw);
    free (path);
}

static void
test_read_missing_file (void **state)
{
    (void) state;
    char *path = tu_printf ("%s/missing.csv", s_dir);
    lot_draw_t *draw = lot_draw_new (5);
    assert_int_equal (lot_draw_read (draw, path), -1);
    assert_int_equal (errno, ENOENT);
    lot_draw_destroy (&draw);
    free (path);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_scan_finds_winners_by_agency),
        cmocka_unit_test (test_scan_skips_lines_not_of_this_draw),
        cmocka_unit_test (test_read_in_parts_as_one_scan),
        cmocka_unit_test (test_read_overlong_line),
        cmocka_unit_test (test_read_missing_file),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
