/*  test_msg - batches between actors: what goes in comes out, item by
    item, and a malformed item is dropped without losing the rest
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lot_msg.h"

static void
test_work_batch (void **state)
{
    (void) state;
    zmsg_t *batch = zmsg_new ();
    lot_msg_add_work (batch, 3, 200, true, "chunk", 5);
    lot_msg_add_work (batch, 4, 0, false, NULL, 0);         //  A query
    lot_work_t work;
    assert_int_equal (lot_msg_next_work (batch, &work), 1);
    assert_int_equal (work.agency, 3);
    assert_int_equal (work.position, 200);
    assert_true (work.follows);
    assert_int_equal (work.size, 5);
    assert_memory_equal (work.chunk, "chunk", 5);
    zframe_destroy (&work.frame);
    assert_int_equal (lot_msg_next_work (batch, &work), 1);
    assert_int_equal (work.agency, 4);
    assert_false (work.follows);
    assert_int_equal (work.size, 0);
    zframe_destroy (&work.frame);
    assert_int_equal (lot_msg_next_work (batch, &work), 0);
    zmsg_destroy (&batch);
}

static void
test_records_batch (void **state)
{
    (void) state;
    zmsg_t *batch = zmsg_new ();
    lot_records_t last = { .agency = 1, .position = 100, .last = true, .count = 2 };
    lot_msg_add_records (batch, &last, "a\r\nb\r\n", 6);
    lot_records_t query = { .agency = 2, .query = true, .follows = true };
    lot_msg_add_records (batch, &query, NULL, 0);
    lot_records_t got;
    assert_int_equal (lot_msg_next_records (batch, &got), 1);
    assert_int_equal (got.agency, 1);
    assert_int_equal (got.position, 100);
    assert_int_equal (got.count, 2);
    assert_true (got.last);
    assert_false (got.query);
    assert_false (got.follows);
    assert_int_equal (got.size, 6);
    assert_memory_equal (got.lines, "a\r\nb\r\n", 6);
    zframe_destroy (&got.frame);
    assert_int_equal (lot_msg_next_records (batch, &got), 1);
    assert_true (got.query);
    assert_true (got.follows);
    assert_int_equal (got.size, 0);
    zframe_destroy (&got.frame);
    assert_int_equal (lot_msg_next_records (batch, &got), 0);
    zmsg_destroy (&batch);
}

static void
test_result_batch (void **state)
{
    (void) state;
    zmsg_t *batch = zmsg_new ();
    lot_result_t ok = { .agency = 1, .ok = true, .count = 50, .stored = 150,
                        .finished = true };
    lot_result_t refused = { .agency = 2, .position = 7, .count = 3,
                             .reason = "invalid document" };
    lot_msg_add_result (batch, &ok);
    lot_msg_add_result (batch, &refused);
    lot_result_t got;
    assert_int_equal (lot_msg_next_result (batch, &got), 1);
    assert_int_equal (got.agency, 1);
    assert_true (got.ok);
    assert_int_equal (got.count, 50);
    assert_int_equal (got.stored, 150);
    assert_true (got.finished);
    assert_string_equal (got.reason, "");
    lot_msg_result_free (&got);
    assert_int_equal (lot_msg_next_result (batch, &got), 1);
    assert_int_equal (got.agency, 2);
    assert_int_equal (got.position, 7);
    assert_false (got.ok);
    assert_string_equal (got.reason, "invalid document");
    lot_msg_result_free (&got);
    assert_null (got.reason);
    assert_int_equal (lot_msg_next_result (batch, &got), 0);
    zmsg_destroy (&batch);
}

//  An item shorter than its header, or of an unknown kind, is -1 and
//  gone; the items after it still read.
static void
test_malformed_items (void **state)
{
    (void) state;
    zmsg_t *batch = zmsg_new ();
    zmsg_addmem (batch, "short", 5);
    lot_records_t records = { .agency = 5, .position = 10, .count = 1 };
    lot_msg_add_records (batch, &records, "x\r\n", 3);
    lot_records_t got;
    assert_int_equal (lot_msg_next_records (batch, &got), -1);
    assert_null (got.frame);
    assert_int_equal (lot_msg_next_records (batch, &got), 1);
    assert_int_equal (got.agency, 5);
    zframe_destroy (&got.frame);

    //  A kind past a query
    uint8_t odd [14] = { 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 0 };
    zmsg_addmem (batch, odd, sizeof odd);
    assert_int_equal (lot_msg_next_records (batch, &got), -1);
    assert_null (got.frame);
    assert_int_equal (lot_msg_next_records (batch, &got), 0);
    zmsg_destroy (&batch);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_work_batch),
        cmocka_unit_test (test_records_batch),
        cmocka_unit_test (test_result_batch),
        cmocka_unit_test (test_malformed_items),
    };
    return cmocka_run_group_tests_name ("msg", tests, NULL, NULL);
}
