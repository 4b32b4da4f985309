/*  test_actors - each actor driven through its pipe and its sockets

    The test plays every peer of the actor under test on inproc://
    endpoints (and TCP for the front-end's agency side), so each message
    format between actors is checked frame by frame.
*/
#include "lot_actor.h"
#include "lot_codec.h"
#include "lot_coordinator.h"
#include "lot_frontend.h"
#include "lot_handler.h"
#include "lot_msg.h"
#include "lot_persister.h"
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#define RECV_TIMEOUT_MS 5000

static lot_settings_t *
s_settings (const char *prefix)
{
    char *error = NULL;
    lot_settings_t *settings = lot_settings_new (LOT_MODE_EMBEDDED, NULL, &error);
    assert_non_null (settings);
    char **endpoints [] = {
        &settings->work_endpoint, &settings->records_endpoint,
        &settings->results_endpoint, &settings->events_endpoint,
        &settings->winners_endpoint
    };
    const char *names [] = { "work", "records", "results", "events", "winners" };
    for (size_t i = 0; i < 5; i++) {
        free (*endpoints [i]);
        assert_true (asprintf (endpoints [i], "inproc://%s-%s", prefix, names [i]) > 0);
    }
    settings->agencies = 2;
    settings->announce_interval = 50;
    lot_log_set_level (LOT_LOG_ERROR);      //  Keep the test report readable
    return settings;
}

//  Starts a front-end on a port the system picks; *port is that port.
static zactor_t *
s_frontend_start (lot_settings_t *settings, int *port)
{
    settings->port = 0;
    zactor_t *frontend = lot_actor_start (lot_frontend_actor, settings);
    assert_non_null (frontend);
    zstr_send (frontend, "PORT");
    char *answer = zstr_recv (frontend);
    assert_non_null (answer);
    *port = atoi (answer);
    assert_true (*port > 0);
    zstr_free (&answer);
    return frontend;
}

static zsock_t *
s_socket (int type, const char *endpoint, bool bind)
{
    zsock_t *sock = zsock_new (type);
    assert_non_null (sock);
    assert_int_not_equal (bind ? zsock_bind (sock, "%s", endpoint)
                               : zsock_connect (sock, "%s", endpoint), -1);
    zsock_set_rcvtimeo (sock, RECV_TIMEOUT_MS);
    return sock;
}

//  A chunk for agency "1": 'C' or 'L', with the given bets.
static size_t
s_chunk (uint8_t *out, bool last, const char *agency, const char *bets [][5], size_t count)
{
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, out, 8192,
                      (lot_span_t) { agency, strlen (agency) }), 0);
    for (size_t i = 0; i < count; i++) {
        lot_span_t fields [5];
        for (int f = 0; f < 5; f++)
            fields [f] = (lot_span_t) { bets [i][f], strlen (bets [i][f]) };
        assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    }
    return lot_codec_chunk_finish (&writer, last);
}

static const char *s_bets [][5] = {
    { "Valentina", "Vera", "30170921", "1982-05-22", "6053" },
    { "Santiago", "Álvarez, \"Jr\"", "33936970", "1986-04-25", "07574" },
};

//  ---------------------------------------------------------------------

static void
test_handler_valid_and_invalid (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("handler");
    zsock_t *work = s_socket (ZMQ_PUSH, settings->work_endpoint, true);
    zsock_t *records = s_socket (ZMQ_PULL, settings->records_endpoint, true);
    zsock_t *results = s_socket (ZMQ_PULL, settings->results_endpoint, true);
    zactor_t *handler = lot_actor_start (lot_handler_actor, settings);
    assert_non_null (handler);

    //  An invalid chunk is answered with a failed RESULT and goes no further
    const char *bad [][5] = { { "Ana", "Paz", "123", "1999-02-30", "1" } };
    uint8_t chunk [8192];
    size_t size = s_chunk (chunk, false, "1", bad, 1);
    assert_int_equal (lot_msg_send_work (work, 41, 0, chunk, size), 0);
    uint64_t id;
    bool ok;
    uint32_t count;
    char *reason;
    assert_int_equal (lot_msg_recv_result (results, &id, &ok, &count, &reason), 0);
    assert_int_equal (id, 41);
    assert_false (ok);
    assert_int_equal (count, 1);
    assert_string_equal (reason, "invalid birthdate");
    zstr_free (&reason);

    //  An unknown agency too
    size = s_chunk (chunk, false, "3", s_bets, 1);
    assert_int_equal (lot_msg_send_work (work, 42, 0, chunk, size), 0);
    assert_int_equal (lot_msg_recv_result (results, &id, &ok, &count, &reason), 0);
    assert_int_equal (id, 42);
    assert_string_equal (reason, "unknown agency");
    zstr_free (&reason);

    //  A valid one becomes the chunk's bets-file lines; it is the first
    //  RECORDS message, so nothing of the rejected chunks went on
    size = s_chunk (chunk, true, "1", s_bets, 2);
    assert_int_equal (lot_msg_send_work (work, 43, 0, chunk, size), 0);
    lot_records_t got;
    assert_int_equal (lot_msg_recv_records (records, &got), 0);
    assert_int_equal (got.id, 43);
    assert_int_equal (got.agency, 1);
    assert_true (got.last);
    assert_int_equal (got.count, 2);
    const char *lines = "1,Valentina,Vera,30170921,1982-05-22,6053\r\n"
                        "1,Santiago,\"Álvarez, \"\"Jr\"\"\",33936970,1986-04-25,7574\r\n";
    assert_int_equal (zframe_size (got.lines), strlen (lines));
    assert_memory_equal (zframe_data (got.lines), lines, strlen (lines));
    zframe_destroy (&got.lines);

    zactor_destroy (&handler);
    zsock_destroy (&work);
    zsock_destroy (&records);
    zsock_destroy (&results);
    lot_settings_destroy (&settings);
}

//  ---------------------------------------------------------------------

static void
s_expect_result (zsock_t *results, uint64_t want_id, bool want_ok, const char *want_reason)
{
    uint64_t id;
    bool ok;
    uint32_t count;
    char *reason;
    assert_int_equal (lot_msg_recv_result (results, &id, &ok, &count, &reason), 0);
    assert_int_equal (id, want_id);
    assert_int_equal (ok, want_ok);
    assert_string_equal (reason, want_reason);
    zstr_free (&reason);
}

//  A persister with the test as its handlers, front-end and coordinator.
typedef struct {
    lot_settings_t *settings;
    char *dir;
    zsock_t *records;           //  PUSH, as the handlers
    zsock_t *results;           //  PULL, as the front-end
    zsock_t *events;            //  ROUTER, as the coordinator
    zactor_t *persister;
} s_persister_t;

static s_persister_t *
s_persister_new (const char *name)
{
    s_persister_t *self = calloc (1, sizeof *self);
    self->settings = s_settings (name);
    self->dir = tu_tempdir (name);
    free (self->settings->bets_file);
    self->settings->bets_file = tu_printf ("%s/bets.csv", self->dir);
    self->results = s_socket (ZMQ_PULL, self->settings->results_endpoint, true);
    self->events = s_socket (ZMQ_ROUTER, self->settings->events_endpoint, true);
    self->persister = lot_actor_start (lot_persister_actor, self->settings);
    assert_non_null (self->persister);
    self->records = s_socket (ZMQ_PUSH, self->settings->records_endpoint, false);
    return self;
}

static void
s_persister_destroy (s_persister_t **self_p)
{
    s_persister_t *self = *self_p;
    zactor_destroy (&self->persister);
    zsock_destroy (&self->records);
    zsock_destroy (&self->results);
    zsock_destroy (&self->events);
    lot_settings_destroy (&self->settings);
    tu_remove_dir (self->dir);
    free (self);
    *self_p = NULL;
}

static void
test_persister_stores_confirms_and_draws (void **state)
{
    (void) state;
    s_persister_t *fixture = s_persister_new ("persister");
    zsock_t *records = fixture->records;
    zsock_t *results = fixture->results;
    zsock_t *events = fixture->events;
    const char *bets_file = fixture->settings->bets_file;

    const char *one = "1,Ana,Paz,11,2000-01-01,7574\r\n";
    const char *two = "2,Bo,Lu,22,2000-01-02,7574\r\n2,Cy,Mo,33,2000-01-03,1\r\n";
    const char *late = "1,Late,Bet,44,2000-01-04,7574\r\n";
    assert_int_equal (lot_msg_send_records (records, 1, 0, 1, true, 1, one, strlen (one)), 0);
    s_expect_result (results, 1, true, "");
    //  The agency is done once its 'L' chunk is stored
    zmsg_t *done = zmsg_recv (events);
    assert_non_null (done);
    zframe_t *persister_id = zmsg_pop (done);
    char *command = zmsg_popstr (done);
    char *agency = zmsg_popstr (done);
    assert_string_equal (command, LOT_MSG_DONE);
    assert_string_equal (agency, "1");
    zstr_free (&command);
    zstr_free (&agency);
    zmsg_destroy (&done);

    //  A chunk after the agency's last is rejected and not stored
    assert_int_equal (lot_msg_send_records (records, 2, 0, 1, false, 1, late, strlen (late)), 0);
    s_expect_result (results, 2, false, "agency already finished");
    assert_int_equal (lot_msg_send_records (records, 3, 0, 2, false, 2, two, strlen (two)), 0);
    s_expect_result (results, 3, true, "");

    char *stored = tu_read_file (bets_file, NULL);
    char *expected = NULL;
    assert_true (asprintf (&expected, "%s%s", one, two) > 0);
    assert_string_equal (stored, expected);
    free (stored);
    free (expected);

    //  The draw reads the file back: agency 1 won once, agency 2 once
    zframe_send (&persister_id, events, ZFRAME_MORE);
    zstr_send (events, LOT_MSG_DRAW);
    zmsg_t *drawn = zmsg_recv (events);
    assert_non_null (drawn);
    zframe_t *from = zmsg_pop (drawn);
    zframe_destroy (&from);
    assert_int_equal (zmsg_size (drawn), 5);
    char *name = zmsg_popstr (drawn);
    char *ok = zmsg_popstr (drawn);
    char *detail = zmsg_popstr (drawn);
    char *first = zmsg_popstr (drawn);
    char *second = zmsg_popstr (drawn);
    assert_string_equal (name, LOT_MSG_DRAWN);
    assert_string_equal (ok, "1");
    assert_string_equal (detail, "3 bets, 2 winners");
    assert_string_equal (first, "11\n");
    assert_string_equal (second, "22\n");
    zstr_free (&name), zstr_free (&ok), zstr_free (&detail);
    zstr_free (&first), zstr_free (&second);
    zmsg_destroy (&drawn);

    s_persister_destroy (&fixture);
}

//  ---------------------------------------------------------------------

static void
s_send_drawn (zsock_t *dealer, const char *first, const char *second)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, LOT_MSG_DRAWN);
    zmsg_addstr (msg, "1");
    zmsg_addstr (msg, "test");
    zmsg_addstr (msg, first);
    zmsg_addstr (msg, second);
    assert_int_equal (zmsg_send (&msg, dealer), 0);
}

static void
test_coordinator_draws_once_all_are_done (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("coordinator");
    zactor_t *coordinator = lot_actor_start (lot_coordinator_actor, settings);
    assert_non_null (coordinator);
    zsock_t *dealer = s_socket (ZMQ_DEALER, settings->events_endpoint, false);
    zsock_t *sub = s_socket (ZMQ_SUB, settings->winners_endpoint, false);
    zsock_set_subscribe (sub, LOT_MSG_WINNERS);

    //  One agency of two, twice: no draw yet; a DRAWN nobody asked for
    //  is ignored
    zsock_send (dealer, "s4", LOT_MSG_DONE, 1);
    zsock_send (dealer, "s4", LOT_MSG_DONE, 1);
    s_send_drawn (dealer, "bogus\n", "");
    zsock_send (dealer, "s4", LOT_MSG_DONE, 2);
    char *command = zstr_recv (dealer);
    assert_string_equal (command, LOT_MSG_DRAW);
    zstr_free (&command);
    s_send_drawn (dealer, "111\n", "");

    //  WINNERS is announced again and again: a late subscriber gets it
    zmsg_t *winners = zmsg_recv (sub);
    assert_non_null (winners);
    assert_int_equal (zmsg_size (winners), 3);
    char *topic = zmsg_popstr (winners);
    char *first = zmsg_popstr (winners);
    char *second = zmsg_popstr (winners);
    assert_string_equal (topic, LOT_MSG_WINNERS);
    assert_string_equal (first, "111\n");
    assert_string_equal (second, "");
    zstr_free (&topic), zstr_free (&first), zstr_free (&second);
    zmsg_destroy (&winners);

    zactor_destroy (&coordinator);
    zsock_destroy (&dealer);
    zsock_destroy (&sub);
    lot_settings_destroy (&settings);
}

//  ---------------------------------------------------------------------

static void
s_expect_work (zsock_t *work, const uint8_t *chunk, size_t size, uint64_t *id)
{
    zframe_t *frame;
    uint64_t watermark;
    assert_int_equal (lot_msg_recv_work (work, id, &watermark, &frame), 0);
    assert_int_equal (zframe_size (frame), size);
    assert_memory_equal (zframe_data (frame), chunk, size);
    zframe_destroy (&frame);
}

static void
test_frontend_bridges_agencies (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("frontend");
    zsock_t *pub = s_socket (ZMQ_PUB, settings->winners_endpoint, true);
    int port;
    zactor_t *frontend = s_frontend_start (settings, &port);
    zsock_t *work = s_socket (ZMQ_PULL, settings->work_endpoint, false);
    zsock_t *results = s_socket (ZMQ_PUSH, settings->results_endpoint, false);

    //  A chunk that arrives a byte at a time is forwarded whole
    int agency = tu_connect (port, 5000);
    assert_true (agency >= 0);
    int one = 1;
    setsockopt (agency, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint8_t first [8192], second [8192];
    size_t first_size = s_chunk (first, false, "1", s_bets, 2);
    size_t second_size = s_chunk (second, true, "1", s_bets, 1);
    assert_int_equal (tu_send_all (agency, "B", 1), 0);
    for (size_t i = 0; i < first_size; i++)
        assert_int_equal (tu_send_all (agency, first + i, 1), 0);
    uint64_t id;
    s_expect_work (work, first, first_size, &id);
    assert_int_equal (lot_msg_send_result (results, id, true, 2, NULL), 0);
    uint8_t answer [64];
    assert_int_equal (tu_recv_exact (agency, answer, 1, RECV_TIMEOUT_MS), 1);
    assert_int_equal (answer [0], 'O');

    //  Two chunks in one write: the second goes out once the first is
    //  answered, one chunk in flight per connection
    uint8_t both [16384];
    memcpy (both, second, second_size);
    memcpy (both + second_size, first, first_size);
    assert_int_equal (tu_send_all (agency, both, second_size + first_size), 0);
    uint64_t second_id;
    s_expect_work (work, second, second_size, &second_id);
    assert_true (second_id != id);
    assert_int_equal (lot_msg_send_result (results, second_id, false, 1, "agency already finished"), 0);
    const uint8_t rejected [] = "E\x00\x17" "agency already finished";
    assert_int_equal (tu_recv_exact (agency, answer, sizeof rejected - 1, RECV_TIMEOUT_MS),
                      sizeof rejected - 1);
    assert_memory_equal (answer, rejected, sizeof rejected - 1);
    s_expect_work (work, first, first_size, &id);
    close (agency);

    //  Undecodable bytes: 'E' with the reason, then the connection closes
    int garbage = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (garbage, "BX", 2), 0);
    const uint8_t unknown [] = "E\x00\x13" "unknown message tag";
    assert_int_equal (tu_recv_exact (garbage, answer, sizeof unknown - 1, RECV_TIMEOUT_MS),
                      sizeof unknown - 1);
    assert_memory_equal (answer, unknown, sizeof unknown - 1);
    assert_true (tu_wait_closed (garbage, RECV_TIMEOUT_MS));
    close (garbage);

    //  A winners query for an unknown agency is closed without an answer
    int stranger = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (stranger, "W\x00\x01" "9", 4), 0);
    assert_true (tu_wait_closed (stranger, RECV_TIMEOUT_MS));
    close (stranger);

    //  A winners query is held until WINNERS arrives, then answered with
    //  that agency's documents only
    int query = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (query, "W\x00\x01" "2", 4), 0);
    const uint8_t expected [] = "\x00\x02" "\x00\x03" "111" "\x00\x03" "222";
    size_t got = 0;
    for (int tries = 0; tries < 100 && got == 0; tries++) {
        //  As the coordinator does: announce again until it is heard
        zsock_send (pub, "sss", LOT_MSG_WINNERS, "999\n", "111\n222\n");
        got = tu_recv_exact (query, answer, sizeof expected - 1, 50);
    }
    assert_int_equal (got, sizeof expected - 1);
    assert_memory_equal (answer, expected, sizeof expected - 1);
    assert_true (tu_wait_closed (query, RECV_TIMEOUT_MS));
    close (query);

    zactor_destroy (&frontend);
    zsock_destroy (&work);
    zsock_destroy (&results);
    zsock_destroy (&pub);
    lot_settings_destroy (&settings);
}

//  A chunk sent again (after a handler died, say) is stored once, and its
//  every copy is confirmed, even when it was the agency's last.
static void
test_persister_stores_a_resent_chunk_once (void **state)
{
    (void) state;
    s_persister_t *fixture = s_persister_new ("resent");
    zsock_t *records = fixture->records;
    zsock_t *results = fixture->results;
    const char *bets_file = fixture->settings->bets_file;

    const char *one = "1,Ana,Paz,11,2000-01-01,7574\r\n";
    const char *last = "1,Bo,Lu,22,2000-01-02,1\r\n";
    for (int copy = 0; copy < 2; copy++) {
        assert_int_equal (lot_msg_send_records (records, 9, 9, 1, false, 1, one, strlen (one)), 0);
        s_expect_result (results, 9, true, "");
    }
    for (int copy = 0; copy < 3; copy++) {
        assert_int_equal (lot_msg_send_records (records, 10, 9, 1, true, 1, last, strlen (last)), 0);
        s_expect_result (results, 10, true, "");
    }
    //  Once the watermark is past an id, a late copy of it is dropped
    //  unanswered: the next answer is for the chunk after it
    const char *late = "2,Late,Copy,33,2000-01-03,7574\r\n";
    const char *other = "2,Cy,Mo,44,2000-01-04,2\r\n";
    assert_int_equal (lot_msg_send_records (records, 11, 11, 2, false, 1, other, strlen (other)), 0);
    s_expect_result (results, 11, true, "");
    assert_int_equal (lot_msg_send_records (records, 8, 8, 2, false, 1, late, strlen (late)), 0);
    assert_int_equal (lot_msg_send_records (records, 12, 12, 2, true, 1, other, strlen (other)), 0);
    s_expect_result (results, 12, true, "");

    char *stored = tu_read_file (bets_file, NULL);
    char *expected = NULL;
    assert_true (asprintf (&expected, "%s%s%s%s", one, last, other, other) > 0);
    assert_string_equal (stored, expected);
    free (stored);
    free (expected);

    s_persister_destroy (&fixture);
}

//  A chunk that gets no RESULT goes out again with the same id; the agency
//  gets one answer however many RESULTs come back.
static void
test_frontend_resends_unanswered_chunks (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("resend");
    settings->resend_timeout = 100;
    int port;
    zactor_t *frontend = s_frontend_start (settings, &port);
    zsock_t *work = s_socket (ZMQ_PULL, settings->work_endpoint, false);
    zsock_t *results = s_socket (ZMQ_PUSH, settings->results_endpoint, false);

    int agency = tu_connect (port, 5000);
    uint8_t chunk [8192];
    size_t size = s_chunk (chunk, false, "1", s_bets, 2);
    assert_int_equal (tu_send_all (agency, "B", 1), 0);
    assert_int_equal (tu_send_all (agency, chunk, size), 0);
    uint64_t id, again;
    s_expect_work (work, chunk, size, &id);
    s_expect_work (work, chunk, size, &again);
    assert_true (again == id);
    assert_int_equal (lot_msg_send_result (results, id, true, 2, NULL), 0);
    assert_int_equal (lot_msg_send_result (results, id, true, 2, NULL), 0);
    uint8_t answer [2];
    assert_int_equal (tu_recv_exact (agency, answer, 1, RECV_TIMEOUT_MS), 1);
    assert_int_equal (answer [0], 'O');

    //  The next chunk goes out as usual, and only one 'O' ever came
    size = s_chunk (chunk, true, "1", s_bets, 1);
    assert_int_equal (tu_send_all (agency, chunk, size), 0);
    s_expect_work (work, chunk, size, &again);
    assert_true (again > id);
    assert_int_equal (lot_msg_send_result (results, again, false, 1, "x"), 0);
    const uint8_t rejected [] = "E\x00\x01x";
    assert_int_equal (tu_recv_exact (agency, answer, 2, RECV_TIMEOUT_MS), 2);
    assert_memory_equal (answer, rejected, 2);
    close (agency);

    zactor_destroy (&frontend);
    zsock_destroy (&work);
    zsock_destroy (&results);
    lot_settings_destroy (&settings);
}

//  Past MAX_CONNECTIONS a new agency connection is closed at once; the
//  ones already open go on.
static void
test_frontend_limits_connections (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("limit");
    settings->max_connections = 2;
    int port;
    zactor_t *frontend = s_frontend_start (settings, &port);
    int first = tu_connect (port, 5000);
    int second = tu_connect (port, 5000);
    //  A ping answered on the second proves both are registered
    assert_int_equal (tu_send_all (second, "P", 1), 0);
    uint8_t answer;
    assert_int_equal (tu_recv_exact (second, &answer, 1, RECV_TIMEOUT_MS), 1);
    assert_true (tu_wait_closed (second, RECV_TIMEOUT_MS));
    close (second);
    int third = tu_connect (port, 5000);
    int fourth = tu_connect (port, 5000);
    assert_true (tu_wait_closed (fourth, RECV_TIMEOUT_MS));
    //  The first and third still work
    assert_int_equal (tu_send_all (third, "P", 1), 0);
    assert_int_equal (tu_recv_exact (third, &answer, 1, RECV_TIMEOUT_MS), 1);
    assert_int_equal (answer, 'O');
    assert_int_equal (tu_send_all (first, "P", 1), 0);
    assert_int_equal (tu_recv_exact (first, &answer, 1, RECV_TIMEOUT_MS), 1);
    assert_int_equal (answer, 'O');
    close (first), close (third), close (fourth);
    zactor_destroy (&frontend);
    lot_settings_destroy (&settings);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_handler_valid_and_invalid),
        cmocka_unit_test (test_persister_stores_confirms_and_draws),
        cmocka_unit_test (test_coordinator_draws_once_all_are_done),
        cmocka_unit_test (test_frontend_bridges_agencies),
        cmocka_unit_test (test_persister_stores_a_resent_chunk_once),
        cmocka_unit_test (test_frontend_resends_unanswered_chunks),
        cmocka_unit_test (test_frontend_limits_connections),
    };
    return cmocka_run_group_tests_name ("actors", tests, NULL, NULL);
}
