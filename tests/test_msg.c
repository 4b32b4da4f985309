/*  test_msg - messages between actors: what goes in comes out (batches
    item by item), a malformed item is dropped without losing the rest,
    and a malformed message is -1
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

    //  Lines cut short: the store takes whole lines only
    lot_msg_add_records (batch, &records, "x\r\ny", 4);
    assert_int_equal (lot_msg_next_records (batch, &got), -1);
    assert_null (got.frame);
    assert_int_equal (lot_msg_next_records (batch, &got), 0);
    zmsg_destroy (&batch);
}

//  ---------------------------------------------------------------------
//  Between the persister and the coordinator, and on to the front-ends

#define RECV_TIMEOUT_MS 5000

//  A connected pair: what one sends the other receives, or the test fails.
static void
s_pair (const char *name, zsock_t **sender, zsock_t **receiver)
{
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "@inproc://test-msg-%s", name);
    *receiver = zsock_new_pair (endpoint);
    endpoint [0] = '>';
    *sender = zsock_new_pair (endpoint);
    assert_non_null (*receiver);
    assert_non_null (*sender);
    zsock_set_rcvtimeo (*receiver, RECV_TIMEOUT_MS);
}

static zmsg_t *
s_recv (zsock_t *receiver)
{
    zmsg_t *msg = zmsg_recv (receiver);
    assert_non_null (msg);
    return msg;
}

//  Winners of two agencies: two documents for the first, none for the
//  second.
static zmsg_t *
s_winners (void)
{
    zmsg_t *winners = zmsg_new ();
    zmsg_addstr (winners, "111\n222\n");
    zmsg_addstr (winners, "");
    return winners;
}

static void
s_assert_winners (zmsg_t *winners)
{
    assert_non_null (winners);
    assert_int_equal (zmsg_size (winners), 2);
    assert_true (zframe_streq (zmsg_first (winners), "111\n222\n"));
    assert_int_equal (zframe_size (zmsg_next (winners)), 0);
}

//  A message of these frames, as another build of an actor could send it.
static zmsg_t *
s_msg (int frames, ...)
{
    zmsg_t *msg = zmsg_new ();
    va_list args;
    va_start (args, frames);
    for (int i = 0; i < frames; i++)
        zmsg_addstr (msg, va_arg (args, const char *));
    va_end (args);
    return msg;
}

static void
test_commands (void **state)
{
    (void) state;
    const char *names [] = { LOT_MSG_STATUS, LOT_MSG_DRAW, LOT_MSG_DRAWN };
    lot_msg_command_t commands [] = { LOT_MSG_CMD_STATUS, LOT_MSG_CMD_DRAW,
                                      LOT_MSG_CMD_DRAWN };
    for (int i = 0; i < 3; i++) {
        zmsg_t *msg = s_msg (2, names [i], "rest");
        assert_int_equal (lot_msg_pop_command (msg), commands [i]);
        assert_int_equal (zmsg_size (msg), 1);      //  The rest is left
        zmsg_destroy (&msg);
    }
    //  Unknown, a prefix, a topic of the PUB socket, nothing, no message
    const char *unknown [] = { "STATU", "DRAWNX", LOT_MSG_WINNERS, "" };
    for (int i = 0; i < 4; i++) {
        zmsg_t *msg = s_msg (1, unknown [i]);
        assert_int_equal (lot_msg_pop_command (msg), LOT_MSG_CMD_UNKNOWN);
        zmsg_destroy (&msg);
    }
    zmsg_t *empty = zmsg_new ();
    assert_int_equal (lot_msg_pop_command (empty), LOT_MSG_CMD_UNKNOWN);
    zmsg_destroy (&empty);
    assert_int_equal (lot_msg_pop_command (NULL), LOT_MSG_CMD_UNKNOWN);
}

//  DRAW from the coordinator's ROUTER reaches the persister that spoke
//  last, by its routing id.
static void
test_draw (void **state)
{
    (void) state;
    zsock_t *router = zsock_new_router ("inproc://test-msg-draw");
    zsock_t *dealer = zsock_new_dealer ("inproc://test-msg-draw");
    assert_non_null (router);
    assert_non_null (dealer);
    zsock_set_rcvtimeo (router, RECV_TIMEOUT_MS);
    zsock_set_rcvtimeo (dealer, RECV_TIMEOUT_MS);
    bool finished [3] = { false, true, false };
    assert_int_equal (lot_msg_send_status (dealer, finished, 2), 0);
    zmsg_t *msg = s_recv (router);
    zframe_t *sender = zmsg_pop (msg);
    assert_int_equal (lot_msg_pop_command (msg), LOT_MSG_CMD_STATUS);
    zmsg_destroy (&msg);

    assert_int_equal (lot_msg_send_draw (router, sender), 0);
    assert_non_null (sender);                       //  Still the caller's
    msg = s_recv (dealer);
    assert_int_equal (lot_msg_pop_command (msg), LOT_MSG_CMD_DRAW);
    assert_int_equal (zmsg_size (msg), 0);
    zmsg_destroy (&msg);
    zframe_destroy (&sender);
    zsock_destroy (&dealer);
    zsock_destroy (&router);

    //  With no routing id, on any other socket
    zsock_t *sender_sock, *receiver;
    s_pair ("draw-no-id", &sender_sock, &receiver);
    assert_int_equal (lot_msg_send_draw (sender_sock, NULL), 0);
    msg = s_recv (receiver);
    assert_int_equal (lot_msg_pop_command (msg), LOT_MSG_CMD_DRAW);
    zmsg_destroy (&msg);
    zsock_destroy (&sender_sock);
    zsock_destroy (&receiver);
}

//  Receives a DRAWN and checks its detail, and its winners when drawn.
static void
s_expect_drawn (zsock_t *receiver, const char *detail_want, bool drawn)
{
    zmsg_t *msg = s_recv (receiver);
    assert_int_equal (lot_msg_pop_command (msg), LOT_MSG_CMD_DRAWN);
    char *detail;
    zmsg_t *winners;
    assert_int_equal (lot_msg_recv_drawn (msg, 2, &detail, &winners), 0);
    assert_string_equal (detail, detail_want);
    if (drawn)
        s_assert_winners (winners);
    else
        assert_null (winners);
    zstr_free (&detail);
    zmsg_destroy (&winners);
    zmsg_destroy (&msg);
}

static void
test_drawn (void **state)
{
    (void) state;
    zsock_t *sender, *receiver;
    s_pair ("drawn", &sender, &receiver);

    //  A draw done: the winners are taken
    zmsg_t *winners = s_winners ();
    assert_int_equal (lot_msg_send_drawn (sender, "3 bets, 2 winners", &winners), 0);
    assert_null (winners);
    s_expect_drawn (receiver, "3 bets, 2 winners", true);

    //  A draw that failed says why, and has no winners
    assert_int_equal (lot_msg_send_drawn (sender, "cannot read the bets file", NULL), 0);
    s_expect_drawn (receiver, "cannot read the bets file", false);

    //  As the persister sent them before lot_msg: ok "1", or a u32 0
    assert_int_equal (zsock_send (sender, "ssssz", LOT_MSG_DRAWN, "1", "old",
                                  "111\n222\n"), 0);
    s_expect_drawn (receiver, "old", true);
    assert_int_equal (zsock_send (sender, "s4s", LOT_MSG_DRAWN, 0, "old failure"), 0);
    s_expect_drawn (receiver, "old failure", false);
    zsock_destroy (&sender);
    zsock_destroy (&receiver);
}

//  A DRAWN that is not one (after its command) is -1 with nothing kept.
static void
test_drawn_malformed (void **state)
{
    (void) state;
    zmsg_t *malformed [] = {
        s_msg (3, "1", "too few", "1\n"),           //  Agencies are 2
        s_msg (5, "1", "too many", "1\n", "", ""),
        s_msg (4, "1", "no newline", "1\n", "2"),
        s_msg (1, "1"),                             //  No detail
        zmsg_new (),
    };
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
        char *detail = "untouched";
        zmsg_t *winners = (zmsg_t *) &detail;       //  Must be reset
        assert_int_equal (lot_msg_recv_drawn (malformed [i], 2, &detail, &winners), -1);
        assert_null (detail);
        assert_null (winners);
        zmsg_destroy (&malformed [i]);
    }
    char *detail;
    zmsg_t *winners;
    assert_int_equal (lot_msg_recv_drawn (NULL, 2, &detail, &winners), -1);
    assert_null (detail);
    assert_null (winners);
}

static void
test_winners (void **state)
{
    (void) state;
    zsock_t *sender, *receiver;
    s_pair ("winners", &sender, &receiver);
    zmsg_t *winners = s_winners ();
    assert_int_equal (lot_msg_send_winners (sender, winners), 0);
    s_assert_winners (winners);                     //  Kept, to say again
    zmsg_destroy (&winners);
    zmsg_t *msg = s_recv (receiver);
    assert_int_equal (lot_msg_recv_winners (msg, 2, &winners), 0);
    s_assert_winners (winners);
    zmsg_destroy (&winners);
    zmsg_destroy (&msg);
    assert_int_equal (lot_msg_send_winners (sender, NULL), -1);
    zsock_destroy (&sender);
    zsock_destroy (&receiver);

    //  Another topic, too few or too many agencies, a document with no
    //  newline, nothing, no message
    zmsg_t *malformed [] = {
        s_msg (3, LOT_MSG_DRAWN, "1\n", ""),
        s_msg (2, LOT_MSG_WINNERS, "1\n"),
        s_msg (4, LOT_MSG_WINNERS, "1\n", "", ""),
        s_msg (3, LOT_MSG_WINNERS, "1\n", "2"),
        zmsg_new (),
        NULL,
    };
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
        winners = (zmsg_t *) &winners;              //  Must be reset
        assert_int_equal (lot_msg_recv_winners (malformed [i], 2, &winners), -1);
        assert_null (winners);
        zmsg_destroy (&malformed [i]);
    }
}

//  The winners' frames, built and read by agency: the same frames as
//  s_winners, an agency past the last or before the first is NULL, and
//  they read the same after DRAWN and WINNERS.
static void
test_winners_by_agency (void **state)
{
    (void) state;
    zmsg_t *built = lot_msg_winners_new ();
    lot_msg_winners_add (built, "111\n222\n", 8);
    lot_msg_winners_add (built, NULL, 0);
    s_assert_winners (built);
    struct {
        long agency;
        const char *documents;          //  NULL: not held
    } cases [] = {
        { .agency = 1, .documents = "111\n222\n" }, { .agency = 2, .documents = "" },
        { .agency = 3 }, { .agency = 0 }, { .agency = -1 },
    };
    zsock_t *sender, *receiver;
    s_pair ("winners-by-agency", &sender, &receiver);
    assert_int_equal (lot_msg_send_winners (sender, built), 0);
    zmsg_t *msg = s_recv (receiver);
    zmsg_t *received;
    assert_int_equal (lot_msg_recv_winners (msg, 2, &received), 0);
    zmsg_t *both [] = { built, received };
    for (size_t i = 0; i < 2; i++)
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            size_t size = 99;
            const char *documents = lot_msg_winners_documents (both [i], cases [c].agency,
                                                               &size);
            if (!cases [c].documents) {
                assert_null (documents);
                assert_int_equal (size, 0);
                continue;
            }
            assert_non_null (documents);
            assert_int_equal (size, strlen (cases [c].documents));
            assert_memory_equal (documents, cases [c].documents, size);
        }
    zmsg_destroy (&received);
    zmsg_destroy (&msg);
    zmsg_destroy (&built);
    zsock_destroy (&sender);
    zsock_destroy (&receiver);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_work_batch),
        cmocka_unit_test (test_records_batch),
        cmocka_unit_test (test_result_batch),
        cmocka_unit_test (test_malformed_items),
        cmocka_unit_test (test_commands),
        cmocka_unit_test (test_draw),
        cmocka_unit_test (test_drawn),
        cmocka_unit_test (test_drawn_malformed),
        cmocka_unit_test (test_winners),
        cmocka_unit_test (test_winners_by_agency),
    };
    return cmocka_run_group_tests_name ("msg", tests, NULL, NULL);
}
