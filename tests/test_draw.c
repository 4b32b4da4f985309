/*  test_draw - reading the bets file back for the draw: which lines are
    bets, each agency's winners in file order, and a large file read in
    parts giving what one pass gives
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lot_draw.h"
#include "testutil.h"

static void
s_assert_documents (lot_draw_t *draw, long agency, const char *want, size_t size)
{
    size_t got_size;
    const char *got = lot_draw_documents (draw, agency, &got_size);
    tu_assert_bytes (got, got_size, want, size);
}

//  Texts scanned in turn, as the next lines of one file, by a draw among
//  agencies 1 to 3.
static const struct {
    const char *name;
    const char *texts [2];
    size_t bets, winners, skipped;
    size_t first_skipped;               //  Skipped lines are numbered from it on
    const char *documents [3];          //  Of agencies 1 to 3
} s_scans [] = {
    { "winners by agency", {
        "1,Ana,Paz,111,1980-01-01,7574\r\n"
        "2,\"Ruiz, Jr.\",\"O\"\"Neil\",222,1990-02-02,7574\r\n"
        "3,José,Núñez,333,1970-03-03,7575\r\n"
        "\r\n"
        "1,Luis,Vera,444,1960-04-04,7574\n"
        "2,Eva,Sol,555,1950-05-05,0" },         //  The last line lacks its end
      5, 3, 0, 0, { "111\n444\n", "222\n", "" } },
    { "lines not of this draw", {
        "2,Eva,Sol,9,1950-05-05,1\n",           //  1: a bet, no winner
        "4,Ana,Paz,1,1980-01-01,7574\n"         //  2: no such agency
        "01,Ana,Paz,2,1980-01-01,7574\n"        //  3: not canonical
        "1,Ana,3,1980-01-01,7574\n"             //  4: one name only
        "1,Ana,Paz,12345678901,1980-01-01,7574\n"   //  5: document too long
        "1,Ana,Paz,x1,1980-01-01,7574\n"        //  6: document not digits
        "1,Ana,Paz,6,1980-01-01,10000\n"        //  7: number too large
        "1,Ana,Paz,7,1980-01-01,\n"             //  8: no number
        "garbage\n"                             //  9
        ",,,,,\n"                               //  10
        "1,Ana,Paz,8,1980-01-01,7574\n" },      //  11: a winner after all
      2, 1, 9, 2, { "8\n", "", "" } },
};

static void
test_scan (void **state)
{
    for (size_t i = 0; i < sizeof s_scans / sizeof s_scans [0]; i++) {
        tu_case ("scan: %s", s_scans [i].name);
        lot_draw_t *draw = lot_draw_new (3);
        for (size_t t = 0; t < 2 && s_scans [i].texts [t]; t++)
            lot_draw_scan (draw, s_scans [i].texts [t], strlen (s_scans [i].texts [t]));
        assert_int_equal (lot_draw_bets (draw), s_scans [i].bets);
        assert_int_equal (lot_draw_winners (draw), s_scans [i].winners);
        assert_int_equal (lot_draw_skipped (draw), s_scans [i].skipped);
        size_t count;
        const size_t *lines = lot_draw_skipped_lines (draw, &count);
        assert_int_equal (count, s_scans [i].skipped);
        for (size_t k = 0; k < count; k++)
            assert_int_equal (lines [k], s_scans [i].first_skipped + k);
        for (long agency = 1; agency <= 3; agency++)
            s_assert_documents (draw, agency, s_scans [i].documents [agency - 1],
                                strlen (s_scans [i].documents [agency - 1]));
        lot_draw_destroy (&draw);
        assert_null (draw);
    }
    tu_case_done ();
}

//  A file large enough to be read in parts (when the machine has two
//  cores or more) gives what one scan of its bytes gives. Every seventh
//  line is a winner, every 1000th not a bet; the names are long enough to
//  pass block boundaries at odd places.
static void
test_read_in_parts_as_one_scan (void **state)
{
    FILE *file = fopen ("large.csv", "w");
    assert_non_null (file);
    for (size_t i = 1; i <= 700000; i++)
        if (i % 1000 == 0)
            fprintf (file, "not a bet %zu\r\n", i);
        else
            fprintf (file, "%ld,\"Name, %0*zu\",Last,%zu,1980-01-01,%d\r\n", (long) (i % 5) + 1,
                     (int) (i % 97), i, i, i % 7 == 0 ? 7574 : (int) (i % 9999));
    assert_int_equal (fclose (file), 0);
    size_t size;
    char *bytes = tu_read_file ("large.csv", &size);
    assert_true (size > 40 << 20);
    lot_draw_t *whole = lot_draw_new (5);
    lot_draw_scan (whole, bytes, size);
    lot_draw_t *read = lot_draw_new (5);
    assert_int_equal (lot_draw_read (read, "large.csv"), 0);
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
        const char *want = lot_draw_documents (whole, agency, &size);
        s_assert_documents (read, agency, want, size);
    }
    lot_draw_destroy (&whole);
    lot_draw_destroy (&read);
    free (bytes);
}

//  A line longer than a read block is no bet, and costs nothing after it;
//  a missing file is -1, ENOENT.
static void
test_read_overlong_line_and_missing_file (void **state)
{
    FILE *file = fopen ("long.csv", "w");
    assert_non_null (file);
    for (int i = 0; i < (5 << 20); i++)
        fputc ('x', file);
    fputs ("\n1,Ana,Paz,7,1980-01-01,7574\n", file);
    assert_int_equal (fclose (file), 0);
    lot_draw_t *draw = lot_draw_new (1);
    assert_int_equal (lot_draw_read (draw, "long.csv"), 0);
    assert_int_equal (lot_draw_bets (draw), 1);
    assert_true (lot_draw_skipped (draw) >= 1);
    s_assert_documents (draw, 1, "7\n", 2);
    lot_draw_destroy (&draw);
    draw = lot_draw_new (5);
    assert_int_equal (lot_draw_read (draw, "missing.csv"), -1);
    assert_int_equal (errno, ENOENT);
    lot_draw_destroy (&draw);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_teardown (test_scan, tu_case_teardown),
        cmocka_unit_test (test_read_in_parts_as_one_scan),
        cmocka_unit_test (test_read_overlong_line_and_missing_file),
    };
    return cmocka_run_group_tests_name ("draw", tests, tu_dir_setup, tu_dir_teardown);
}
