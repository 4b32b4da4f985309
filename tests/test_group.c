/*  test_group - the persister's group commit: one write per group, answers
    per front-end in order, early chunks parked until the bets before them
*/
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lot_group.h"
#include "lot_log.h"
#include "lot_msg.h"
#include "testutil.h"

#define AGENCIES 3

static lot_settings_t s_settings = { .agencies = AGENCIES, .max_in_flight = 2 };

//  The group, its store, and the two ends of the results socket
typedef struct {
    lot_store_t *store;
    lot_group_t *group;
    zsock_t *results;           //  The persister's end
    zsock_t *broker;            //  What the broker would receive
} fixture_t;

static int
s_setup (void **state)
{
    if (tu_dir_setup (state))
        return -1;
    fixture_t *self = calloc (1, sizeof *self);
    assert_non_null (self);
    char *error = NULL;
    self->store = lot_store_new ("./bets.csv", "./bets.journal", AGENCIES, false, &error);
    assert_non_null (self->store);
    self->group = lot_group_new (&s_settings, self->store, NULL);
    char *endpoint = zsys_sprintf ("inproc://test-group-%p", (void *) self);
    self->broker = zsock_new_pull (endpoint);
    self->results = zsock_new_push (endpoint);
    zstr_free (&endpoint);
    assert_true (self->broker && self->results);
    zsock_set_rcvtimeo (self->broker, 200);
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *self = *state;
    lot_group_destroy (&self->group);
    lot_store_destroy (&self->store);
    zsock_destroy (&self->results);
    zsock_destroy (&self->broker);
    free (self);
    *state = NULL;
    return tu_dir_teardown (state);
}

//  Adds a message from front-end `from` of one chunk (count bets at
//  position) or, with count -1, one position query.
static void
s_add (fixture_t *self, const char *from, uint32_t agency, uint32_t position, int count,
       bool last, bool follows)
{
    zframe_t *route = zframe_new (from, strlen (from));
    zmsg_t *msg = lot_msg_new_routed (route);
    zframe_destroy (&route);
    lot_records_t records = {
        .agency = agency, .position = position, .query = count < 0, .last = last,
        .count = count < 0 ? 0 : (uint32_t) count, .follows = follows
    };
    char lines [256] = "";
    size_t size = 0;
    for (int bet = 0; bet < count; bet++)
        size += (size_t) snprintf (lines + size, sizeof lines - size,
                                   "%" PRIu32 ",N,L,%d,2000-01-01,%d\r\n", agency,
                                   (int) position + bet, bet);
    lot_msg_add_records (msg, &records, lines, size);
    assert_true (lot_group_add (self->group, &msg));
    assert_null (msg);
}

//  Expects the next RESULT batch to go to `to`, and its next result.
static zmsg_t *
s_expect_batch (fixture_t *self, const char *to)
{
    zmsg_t *msg = zmsg_recv (self->broker);
    assert_non_null (msg);
    zframe_t *route = lot_msg_take_route (msg);
    assert_true (route && zframe_streq (route, to));
    zframe_destroy (&route);
    return msg;
}

static void
s_expect_result (zmsg_t *msg, uint32_t position, bool query, bool ok, uint32_t stored)
{
    lot_result_t result;
    assert_int_equal (lot_msg_next_result (msg, &result), 1);
    assert_int_equal (result.position, position);
    assert_int_equal (result.query, query);
    assert_int_equal (result.ok, ok);
    assert_int_equal (result.stored, stored);
    lot_msg_result_free (&result);
}

//  A chunk that follows an unanswered one waits, unanswered, until the
//  chunk before it comes; both are written in one group and answered in
//  order, the query after them.
static void
test_parks_then_answers_in_order (void **state)
{
    fixture_t *self = *state;
    s_add (self, "fe1", 1, 2, 1, false, true);
    assert_false (lot_group_commit (self->group));
    assert_int_equal (lot_group_answer (self->group, self->results), 0);
    assert_int_equal (lot_store_stored (self->store, 1), 0);

    s_add (self, "fe1", 1, 0, -1, false, false);       //  A query
    s_add (self, "fe1", 1, 0, 2, false, false);
    assert_false (lot_group_commit (self->group));
    assert_int_equal (lot_group_answer (self->group, self->results), 1);
    assert_int_equal (lot_store_stored (self->store, 1), 3);
    zmsg_t *msg = s_expect_batch (self, "fe1");
    s_expect_result (msg, 0, false, true, 3);
    s_expect_result (msg, 2, false, true, 3);
    s_expect_result (msg, 0, true, true, 3);
    lot_result_t none;
    assert_int_equal (lot_msg_next_result (msg, &none), 0);
    zmsg_destroy (&msg);
}

//  Each front-end gets its own batch; an agency's last chunk makes
//  STATUS due; an early chunk that follows nothing is answered at once.
static void
test_answers_each_frontend (void **state)
{
    fixture_t *self = *state;
    s_add (self, "fe1", 1, 0, 1, false, false);
    s_add (self, "fe2", 2, 0, 1, true, false);
    s_add (self, "fe2", 3, 5, 1, false, false);
    assert_true (lot_group_commit (self->group));
    assert_int_equal (lot_group_answer (self->group, self->results), 2);
    zmsg_t *msg = s_expect_batch (self, "fe1");
    s_expect_result (msg, 0, false, true, 1);
    zmsg_destroy (&msg);
    msg = s_expect_batch (self, "fe2");
    s_expect_result (msg, 0, false, true, 1);
    s_expect_result (msg, 5, false, false, 0);
    zmsg_destroy (&msg);
    assert_true (lot_store_finished (self->store, 2));
}

int
main (void)
{
    lot_log_set_level (LOT_LOG_WARNING);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_parks_then_answers_in_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_answers_each_frontend, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("group", tests, NULL, NULL);
}
