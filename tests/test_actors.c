/*  test_actors - each actor driven through its pipe and its sockets

    The test plays every peer of the actor under test on inproc://
    endpoints (and TCP for the front-end's agency side), so each message
    format between actors is checked frame by frame.
*/
#include "lot_actor.h"
#include "lot_broker.h"
#include "lot_codec.h"
#include "lot_conn.h"
#include "lot_coordinator.h"
#include "lot_frontend.h"
#include "lot_handler.h"
#include "lot_msg.h"
#include "lot_persister.h"
#include "lot_server.h"
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
        &settings->winners_endpoint, &settings->broker_endpoint
    };
    const char *names [] = { "work", "records", "results", "events", "winners", "broker" };
    for (size_t i = 0; i < 6; i++) {
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
    assert_int_equal (lot_codec_chunk_start (&writer, out, 8192, tu_span (agency)), 0);
    for (size_t i = 0; i < count; i++) {
        lot_span_t fields [5];
        for (int f = 0; f < 5; f++)
            fields [f] = tu_span (bets [i][f]);
        assert_int_equal (lot_codec_chunk_add (&writer, fields), 0);
    }
    return lot_codec_chunk_finish (&writer, last);
}

static const char *s_bets [][5] = {
    { "Valentina", "Vera", "30170921", "1982-05-22", "6053" },
    { "Santiago", "Álvarez, \"Jr\"", "33936970", "1986-04-25", "07574" },
};

//  ---------------------------------------------------------------------

//  WORK, RECORDS and RESULT come in batches of one or more items, each
//  batch with its route first: the tests read them one at a time, keeping
//  what is left of the batch last read and its route (a teardown drops
//  what a test left).
static zmsg_t *s_left;
static zsock_t *s_left_from;
static zframe_t *s_route;

//  The route the tests give the chunks they send, as a broker would
static zframe_t *
s_frontend_route (void)
{
    static zframe_t *route;
    if (!route)
        route = zframe_from ("frontend-1");
    return route;
}

//  The batch last read came for (or from) the front-end route names.
static void
s_expect_route (const char *route)
{
    assert_non_null (s_route);
    assert_true (zframe_streq (s_route, route));
}

static zmsg_t *
s_batch (zsock_t *from)
{
    if (s_left && zmsg_size (s_left) && s_left_from == from)
        return s_left;
    //  Nothing a test did not expect goes unread
    if (s_left)
        assert_int_equal (zmsg_size (s_left), 0);
    zmsg_destroy (&s_left);
    zframe_destroy (&s_route);
    s_left = zmsg_recv (from);
    s_left_from = from;
    if (s_left)
        s_route = lot_msg_take_route (s_left);
    return s_left;
}

static int
s_batches_drop (void **state)
{
    (void) state;
    size_t left = s_left ? zmsg_size (s_left) : 0;
    zmsg_destroy (&s_left);
    zframe_destroy (&s_route);
    return left == 0 ? 0 : -1;
}

static int
s_recv_result (zsock_t *from, lot_result_t *result)
{
    zmsg_t *batch = s_batch (from);
    return batch && lot_msg_next_result (batch, result) == 1 ? 0 : -1;
}

static int
s_recv_records (zsock_t *from, lot_records_t *records)
{
    zmsg_t *batch = s_batch (from);
    return batch && lot_msg_next_records (batch, records) == 1 ? 0 : -1;
}

static int
s_recv_work (zsock_t *from, lot_work_t *work)
{
    zmsg_t *batch = s_batch (from);
    return batch && lot_msg_next_work (batch, work) == 1 ? 0 : -1;
}

//  Expects a RESULT for (agency, position), ok or with that reason.
static void
s_expect_result (zsock_t *results, uint32_t agency, uint32_t position, bool query,
                 const char *reason, uint32_t stored, bool finished)
{
    lot_result_t result;
    assert_int_equal (s_recv_result (results, &result), 0);
    assert_int_equal (result.agency, agency);
    assert_int_equal (result.position, position);
    assert_int_equal (result.query, query);
    assert_string_equal (result.reason, reason ? reason : "");
    assert_int_equal (result.ok, reason == NULL);
    if (!reason) {
        assert_int_equal (result.stored, stored);
        assert_int_equal (result.finished, finished);
    }
    lot_msg_result_free (&result);
}

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
    assert_int_equal (lot_msg_send_work (work, s_frontend_route (), 1, 41, false, chunk, size), 0);
    s_expect_result (results, 1, 41, false, "invalid birthdate", 0, false);

    //  An unknown agency too, and a chunk named after another agency
    size = s_chunk (chunk, false, "3", s_bets, 1);
    assert_int_equal (lot_msg_send_work (work, s_frontend_route (), 3, 42, false, chunk, size), 0);
    s_expect_result (results, 3, 42, false, "unknown agency", 0, false);
    size = s_chunk (chunk, false, "2", s_bets, 1);
    assert_int_equal (lot_msg_send_work (work, s_frontend_route (), 1, 43, false, chunk, size), 0);
    s_expect_result (results, 1, 43, false, "chunk for another agency", 0, false);
    s_expect_route ("frontend-1");

    //  A valid one becomes the chunk's bets-file lines; it is the first
    //  RECORDS message, so nothing of the rejected chunks went on. Whether
    //  it follows an unanswered chunk goes on with it
    size = s_chunk (chunk, true, "1", s_bets, 2);
    assert_int_equal (lot_msg_send_work (work, s_frontend_route (), 1, 44, true, chunk, size), 0);
    lot_records_t got;
    assert_int_equal (s_recv_records (records, &got), 0);
    assert_int_equal (got.agency, 1);
    assert_int_equal (got.position, 44);
    assert_false (got.query);
    assert_true (got.last);
    assert_int_equal (got.count, 2);
    assert_true (got.follows);
    const char *lines = "1,Valentina,Vera,30170921,1982-05-22,6053\r\n"
                        "1,Santiago,\"Álvarez, \"\"Jr\"\"\",33936970,1986-04-25,7574\r\n";
    assert_int_equal (got.size, strlen (lines));
    assert_memory_equal (got.lines, lines, strlen (lines));
    zframe_destroy (&got.frame);

    //  A position query (no chunk) goes on to the persister as it is
    assert_int_equal (lot_msg_send_work (work, s_frontend_route (), 2, 0, false, NULL, 0), 0);
    assert_int_equal (s_recv_records (records, &got), 0);
    assert_int_equal (got.agency, 2);
    assert_true (got.query);
    zframe_destroy (&got.frame);

    zactor_destroy (&handler);
    zsock_destroy (&work);
    zsock_destroy (&records);
    zsock_destroy (&results);
    lot_settings_destroy (&settings);
}

//  ---------------------------------------------------------------------

//  A persister with the test as its handlers, front-end and coordinator.
typedef struct {
    lot_settings_t *settings;
    char *dir;
    zsock_t *records;           //  PUSH, as the handlers
    zsock_t *results;           //  PULL, as the front-end
    zsock_t *events;            //  ROUTER, as the coordinator
    zactor_t *persister;
} s_persister_t;

static void
s_persister_start (s_persister_t *self)
{
    self->persister = lot_actor_start (lot_persister_actor, self->settings);
    assert_non_null (self->persister);
    self->records = s_socket (ZMQ_PUSH, self->settings->records_endpoint, false);
}

static void
s_persister_stop (s_persister_t *self)
{
    zactor_destroy (&self->persister);
    zsock_destroy (&self->records);
}

static s_persister_t *
s_persister_new (const char *name)
{
    s_persister_t *self = calloc (1, sizeof *self);
    self->settings = s_settings (name);
    self->dir = tu_tempdir (name);
    free (self->settings->bets_file);
    free (self->settings->bets_journal);
    self->settings->bets_file = tu_printf ("%s/bets.csv", self->dir);
    self->settings->bets_journal = tu_printf ("%s/bets.csv.journal", self->dir);
    self->results = s_socket (ZMQ_PULL, self->settings->results_endpoint, true);
    self->events = s_socket (ZMQ_ROUTER, self->settings->events_endpoint, true);
    s_persister_start (self);
    return self;
}

static void
s_persister_destroy (s_persister_t **self_p)
{
    s_persister_t *self = *self_p;
    s_persister_stop (self);
    zsock_destroy (&self->results);
    zsock_destroy (&self->events);
    lot_settings_destroy (&self->settings);
    tu_remove_dir (self->dir);
    free (self);
    *self_p = NULL;
}

//  follows: sent while an earlier chunk of its connection was unanswered
static void
s_send_records (zsock_t *records, uint32_t agency, uint32_t position, bool last,
                uint32_t count, bool follows, const char *lines)
{
    lot_records_t chunk = { .agency = agency, .position = position, .last = last,
                            .count = count, .follows = follows };
    assert_int_equal (lot_msg_send_records (records, s_frontend_route (), &chunk, lines,
                                            strlen (lines)), 0);
}

static void
s_send_query (zsock_t *records, uint32_t agency)
{
    lot_records_t query = { .agency = agency, .query = true };
    assert_int_equal (lot_msg_send_records (records, s_frontend_route (), &query, NULL, 0), 0);
}

//  Waits for a STATUS that names exactly these finished agencies (one
//  flag per agency, 1 and 2); returns the persister's routing id.
static zframe_t *
s_expect_status (zsock_t *events, bool first, bool second)
{
    while (true) {
        zmsg_t *msg = zmsg_recv (events);
        assert_non_null (msg);
        zframe_t *from = zmsg_pop (msg);
        char *command = zmsg_popstr (msg);
        assert_string_equal (command, LOT_MSG_STATUS);
        bool finished [3] = { false };
        assert_true (lot_msg_recv_status (msg, finished, 2) >= 0);
        zstr_free (&command);
        zmsg_destroy (&msg);
        if (finished [1] == first && finished [2] == second)
            return from;
        zframe_destroy (&from);
    }
}

static void
test_persister_stores_confirms_and_draws (void **state)
{
    (void) state;
    s_persister_t *fixture = s_persister_new ("persister");
    zsock_t *results = fixture->results;
    zsock_t *events = fixture->events;
    const char *bets_file = fixture->settings->bets_file;

    const char *one = "1,Ana,Paz,11,2000-01-01,7574\r\n";
    const char *two = "2,Bo,Lu,22,2000-01-02,7574\r\n2,Cy,Mo,33,2000-01-03,1\r\n";
    const char *late = "1,Late,Bet,44,2000-01-04,7574\r\n";
    s_send_records (fixture->records, 1, 0, true, 1, false, one);
    s_expect_result (results, 1, 0, false, NULL, 1, true);
    //  The agency is done once its 'L' chunk is stored
    zframe_t *persister_id = s_expect_status (events, true, false);

    //  A chunk after the agency's last is rejected and not stored; one out
    //  of order too
    s_send_records (fixture->records, 1, 1, false, 1, false, late);
    s_expect_result (results, 1, 1, false, "agency already finished", 0, false);
    s_send_records (fixture->records, 2, 5, false, 2, false, two);
    s_expect_result (results, 2, 5, false, "chunk out of order", 0, false);
    s_send_records (fixture->records, 2, 0, false, 2, false, two);
    s_expect_result (results, 2, 0, false, NULL, 2, false);
    s_send_query (fixture->records, 2);
    s_expect_result (results, 2, 0, true, NULL, 2, false);

    char *stored = tu_read_file (bets_file, NULL);
    char *expected = NULL;
    assert_true (asprintf (&expected, "%s%s", one, two) > 0);
    assert_string_equal (stored, expected);
    free (stored);
    free (expected);

    //  The draw reads the file back: agency 1 won once, agency 2 once
    zframe_send (&persister_id, events, ZFRAME_MORE);
    zstr_send (events, LOT_MSG_DRAW);
    zmsg_t *drawn;
    char *name = NULL;
    while (true) {          //  STATUS keeps coming too
        drawn = zmsg_recv (events);
        assert_non_null (drawn);
        zframe_t *from = zmsg_pop (drawn);
        zframe_destroy (&from);
        name = zmsg_popstr (drawn);
        if (streq (name, LOT_MSG_DRAWN))
            break;
        zstr_free (&name);
        zmsg_destroy (&drawn);
    }
    assert_int_equal (zmsg_size (drawn), 4);
    char *ok = zmsg_popstr (drawn);
    char *detail = zmsg_popstr (drawn);
    char *first = zmsg_popstr (drawn);
    char *second = zmsg_popstr (drawn);
    assert_string_equal (ok, "1");
    assert_string_equal (detail, "3 bets, 2 winners");
    assert_string_equal (first, "11\n");
    assert_string_equal (second, "22\n");
    zstr_free (&name), zstr_free (&ok), zstr_free (&detail);
    zstr_free (&first), zstr_free (&second);
    zmsg_destroy (&drawn);

    s_persister_destroy (&fixture);
}

//  SIGTERM stops the server's wait, not czmq's own actors: a socket's
//  zmonitor still reports after it, so that the actor reading it can
//  destroy it in order (with czmq's handler the monitor ended by itself,
//  its reader took its last signal, and the destroy waited for ever)
static void
test_signals_leave_monitors_running (void **state)
{
    (void) state;
    lot_server_catch_signals ();
    zsock_t *sock = zsock_new (ZMQ_PULL);
    zactor_t *monitor = zactor_new (zmonitor, sock);
    assert_non_null (monitor);
    zstr_sendx (monitor, "LISTEN", "LISTENING", NULL);
    zstr_send (monitor, "START");
    assert_int_equal (zsock_wait (monitor), 0);
    assert_int_equal (raise (SIGTERM), 0);
    assert_true (lot_server_interrupted ());
    assert_int_equal (zsys_interrupted, 0);
    assert_true (zsock_bind (sock, "tcp://127.0.0.1:*") > 0);
    zsock_set_rcvtimeo (monitor, 10000);
    char *event = NULL, *value = NULL, *endpoint = NULL;
    assert_int_equal (zstr_recvx (monitor, &event, &value, &endpoint, NULL), 3);
    assert_string_equal (event, "LISTENING");
    zstr_free (&event);
    zstr_free (&value);
    zstr_free (&endpoint);
    zactor_destroy (&monitor);
    zsock_destroy (&sock);
}

//  An actor stopped and started again in one process binds its inproc
//  endpoints at once: its sockets freed them as they closed, before
//  libzmq's reaper got to them (the restarts below relied on that, and
//  once in a while, on a loaded machine, found them still taken)
static void
test_actor_restarts_bind_at_once (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("again");
    for (int round = 0; round < 200; round++) {
        zactor_t *broker = lot_actor_start (lot_broker_actor, settings);
        if (!broker)
            fail_msg ("round %d: the broker could not bind again", round);
        zactor_destroy (&broker);
    }
    lot_settings_destroy (&settings);
}

//  A persister that restarts knows from its journal what it stored and
//  who finished: chunks sent again are confirmed and not stored twice,
//  and STATUS names the finished agencies at once.
static void
test_persister_remembers_across_restarts (void **state)
{
    (void) state;
    s_persister_t *fixture = s_persister_new ("remembers");
    const char *one = "1,Ana,Paz,11,2000-01-01,7574\r\n";
    const char *two = "2,Bo,Lu,22,2000-01-02,7574\r\n";
    s_send_records (fixture->records, 1, 0, true, 1, false, one);
    s_expect_result (fixture->results, 1, 0, false, NULL, 1, true);
    s_send_records (fixture->records, 2, 0, false, 1, false, two);
    s_expect_result (fixture->results, 2, 0, false, NULL, 1, false);

    s_persister_stop (fixture);
    s_persister_start (fixture);
    zframe_t *persister_id = s_expect_status (fixture->events, true, false);
    zframe_destroy (&persister_id);
    s_send_records (fixture->records, 1, 0, true, 1, false, one);
    s_expect_result (fixture->results, 1, 0, false, NULL, 1, true);
    s_send_records (fixture->records, 2, 0, false, 1, false, two);
    s_expect_result (fixture->results, 2, 0, false, NULL, 1, false);
    s_send_query (fixture->records, 2);
    s_expect_result (fixture->results, 2, 0, true, NULL, 1, false);
    s_send_records (fixture->records, 2, 1, true, 1, false, two);
    s_expect_result (fixture->results, 2, 1, false, NULL, 2, true);

    char *stored = tu_read_file (fixture->settings->bets_file, NULL);
    char *expected = NULL;
    assert_true (asprintf (&expected, "%s%s%s", one, two, two) > 0);
    assert_string_equal (stored, expected);
    free (stored);
    free (expected);
    s_persister_destroy (&fixture);
}

//  Receives a RESULT batch of one item and checks which front-end it goes
//  to and what it answers.
static void
s_expect_routed_result (zsock_t *results, const char *route, uint32_t agency,
                        uint32_t position, uint32_t stored)
{
    zmsg_t *batch = zmsg_recv (results);
    assert_non_null (batch);
    zframe_t *to = lot_msg_take_route (batch);
    assert_non_null (to);
    assert_true (zframe_streq (to, route));
    lot_result_t result;
    assert_int_equal (lot_msg_next_result (batch, &result), 1);
    assert_int_equal (result.agency, agency);
    assert_int_equal (result.position, position);
    assert_true (result.ok);
    assert_int_equal (result.stored, stored);
    lot_msg_result_free (&result);
    assert_int_equal (lot_msg_next_result (batch, &result), 0);
    zframe_destroy (&to);
    zmsg_destroy (&batch);
}

//  Each answer goes back by the route its chunk came with, also for a
//  chunk that waited for the bets before it while other groups passed.
static void
test_persister_answers_each_frontend (void **state)
{
    (void) state;
    s_persister_t *fixture = s_persister_new ("routes");
    zframe_t *routes [] = {
        zframe_from ("frontend-a"), zframe_from ("frontend-b"), zframe_from ("frontend-c")
    };
    const char *first = "1,Ana,Paz,11,2000-01-01,1\r\n";
    const char *second = "1,Bo,Lu,12,2000-01-01,2\r\n";
    const char *other = "2,Cy,Mo,13,2000-01-01,3\r\n";
    lot_records_t chunk = { .agency = 1, .position = 1, .count = 1, .follows = true };
    assert_int_equal (lot_msg_send_records (fixture->records, routes [1], &chunk, second,
                                            strlen (second)), 0);
    chunk = (lot_records_t) { .agency = 2, .position = 0, .count = 1, .last = true };
    assert_int_equal (lot_msg_send_records (fixture->records, routes [2], &chunk, other,
                                            strlen (other)), 0);
    s_expect_routed_result (fixture->results, "frontend-c", 2, 0, 1);
    chunk = (lot_records_t) { .agency = 1, .position = 0, .count = 1 };
    assert_int_equal (lot_msg_send_records (fixture->records, routes [0], &chunk, first,
                                            strlen (first)), 0);
    //  One group stores both, and answers each front-end apart, the one
    //  that waited first
    s_expect_routed_result (fixture->results, "frontend-b", 1, 1, 2);
    s_expect_routed_result (fixture->results, "frontend-a", 1, 0, 2);
    for (size_t i = 0; i < 3; i++)
        zframe_destroy (&routes [i]);
    s_persister_destroy (&fixture);
}

//  Chunks that come before the bets ahead of them (another handler has
//  those) wait unanswered when they followed an unanswered chunk, and
//  are stored in order once the bets before them come; at most
//  MAX_IN_FLIGHT of an agency wait. One that followed nothing is out of
//  order. Agency 2's chunks show what was answered before them.
static void
test_persister_waits_for_earlier_chunks (void **state)
{
    (void) state;
    s_persister_t *fixture = s_persister_new ("waits");
    s_persister_stop (fixture);
    fixture->settings->max_in_flight = 2;
    s_persister_start (fixture);
    zsock_t *records = fixture->records;
    zsock_t *results = fixture->results;
    const char *first = "1,Ana,Paz,11,2000-01-01,1\r\n1,Bo,Lu,12,2000-01-01,2\r\n";
    const char *third = "1,Cy,Mo,13,2000-01-01,3\r\n";
    const char *fourth = "1,Di,No,14,2000-01-01,4\r\n";
    const char *fifth = "1,Ed,Ox,15,2000-01-01,5\r\n";
    const char *probe = "2,Fe,Pi,21,2000-01-01,6\r\n";
    s_send_records (records, 1, 2, false, 1, true, third);
    s_send_records (records, 1, 3, false, 1, true, fourth);
    s_send_records (records, 1, 2, false, 1, true, third);      //  A copy
    s_send_records (records, 1, 4, false, 1, true, fifth);      //  One too many
    s_send_records (records, 1, 5, false, 1, false, fifth);     //  Follows nothing
    s_expect_result (results, 1, 5, false, "chunk out of order", 0, false);
    s_send_records (records, 2, 0, false, 1, false, probe);
    s_expect_result (results, 2, 0, false, NULL, 1, false);

    //  The bets before them: all three stored, in order, answered once
    s_send_records (records, 1, 0, false, 2, false, first);
    s_expect_result (results, 1, 0, false, NULL, 4, false);
    s_expect_result (results, 1, 2, false, NULL, 4, false);
    s_expect_result (results, 1, 3, false, NULL, 4, false);
    s_send_records (records, 2, 1, false, 1, false, probe);
    s_expect_result (results, 2, 1, false, NULL, 2, false);
    //  The one dropped comes again, as the front-end sends it
    s_send_records (records, 1, 4, true, 1, true, fifth);
    s_expect_result (results, 1, 4, false, NULL, 5, true);

    //  A copy sent once nothing is unanswered before it takes the parked
    //  one's place, and is out of order
    s_send_records (records, 2, 5, false, 1, true, probe);
    s_send_records (records, 2, 5, false, 1, false, probe);
    s_expect_result (results, 2, 5, false, "chunk out of order", 0, false);
    s_send_records (records, 2, 2, true, 1, false, probe);
    s_expect_result (results, 2, 2, false, NULL, 3, true);
    s_send_query (records, 2);
    s_expect_result (results, 2, 0, true, NULL, 3, true);

    char *stored = tu_read_file (fixture->settings->bets_file, NULL);
    char *expected = NULL;
    assert_true (asprintf (&expected, "%s%s%s%s%s%s%s", probe, first, third, fourth,
                           probe, fifth, probe) > 0);
    assert_string_equal (stored, expected);
    free (stored);
    free (expected);
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
s_send_status (zsock_t *dealer, bool first, bool second)
{
    bool finished [3] = { false, first, second };
    assert_int_equal (lot_msg_send_status (dealer, finished, 2), 0);
}

static void
s_expect_winners (zsock_t *sub, const char *first_want, const char *second_want)
{
    zmsg_t *winners = zmsg_recv (sub);
    assert_non_null (winners);
    assert_int_equal (zmsg_size (winners), 3);
    char *topic = zmsg_popstr (winners);
    char *first = zmsg_popstr (winners);
    char *second = zmsg_popstr (winners);
    assert_string_equal (topic, LOT_MSG_WINNERS);
    assert_string_equal (first, first_want);
    assert_string_equal (second, second_want);
    zstr_free (&topic), zstr_free (&first), zstr_free (&second);
    zmsg_destroy (&winners);
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
    s_send_status (dealer, true, false);
    s_send_status (dealer, true, false);
    s_send_drawn (dealer, "bogus\n", "");
    s_send_status (dealer, true, true);
    char *command = zstr_recv (dealer);
    assert_string_equal (command, LOT_MSG_DRAW);
    zstr_free (&command);
    //  A draw that failed is asked for again
    assert_int_equal (lot_msg_send_drawn (dealer, "cannot read the bets file", NULL), 0);
    command = zstr_recv (dealer);
    assert_string_equal (command, LOT_MSG_DRAW);
    zstr_free (&command);
    s_send_drawn (dealer, "111\n", "");

    //  WINNERS is announced again and again: a late subscriber gets it
    s_expect_winners (sub, "111\n", "");

    //  A coordinator that restarts learns from the next STATUS that every
    //  agency finished, asks for the draw again and announces it
    //  (inproc peers do not reconnect: the test's sockets start again too,
    //  on endpoints of their own: libzmq frees an inproc name only once
    //  its reaper has closed the socket, after zmq_close returns)
    zactor_destroy (&coordinator);
    zsock_destroy (&dealer);
    zsock_destroy (&sub);
    lot_settings_t *again = s_settings ("coordinator-again");
    coordinator = lot_actor_start (lot_coordinator_actor, again);
    assert_non_null (coordinator);
    dealer = s_socket (ZMQ_DEALER, again->events_endpoint, false);
    sub = s_socket (ZMQ_SUB, again->winners_endpoint, false);
    zsock_set_subscribe (sub, LOT_MSG_WINNERS);
    s_send_status (dealer, true, true);
    command = zstr_recv (dealer);
    assert_non_null (command);
    assert_string_equal (command, LOT_MSG_DRAW);
    zstr_free (&command);
    s_send_drawn (dealer, "111\n", "");
    s_expect_winners (sub, "111\n", "");

    zactor_destroy (&coordinator);
    zsock_destroy (&dealer);
    zsock_destroy (&sub);
    lot_settings_destroy (&settings);
    lot_settings_destroy (&again);
}

//  ---------------------------------------------------------------------

//  Expects WORK for (agency, position) holding chunk (NULL: a query),
//  following an unanswered chunk of its connection or not.
static void
s_expect_work_follows (zsock_t *work, uint32_t agency, uint32_t position,
                       bool follows, const uint8_t *chunk, size_t size)
{
    lot_work_t got;
    assert_int_equal (s_recv_work (work, &got), 0);
    assert_int_equal (got.follows, follows);
    assert_int_equal (got.agency, agency);
    if (chunk)
        assert_int_equal (got.position, position);
    assert_int_equal (got.size, chunk ? size : 0);
    if (chunk)
        assert_memory_equal (got.chunk, chunk, size);
    zframe_destroy (&got.frame);
}

static void
s_expect_work (zsock_t *work, uint32_t agency, uint32_t position,
               const uint8_t *chunk, size_t size)
{
    s_expect_work_follows (work, agency, position, false, chunk, size);
}

//  The broker hands WORK from any front-end to the handlers, holding it
//  while no handler is there, and each RESULT to the front-end its route
//  names, without the route; one for a front-end that is gone is dropped.
static void
test_broker_routes_results_to_their_frontend (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("broker");
    zactor_t *broker = lot_actor_start (lot_broker_actor, settings);
    assert_non_null (broker);
    zsock_t *one = s_socket (ZMQ_DEALER, settings->broker_endpoint, false);
    zsock_t *two = s_socket (ZMQ_DEALER, settings->broker_endpoint, false);
    zsock_t *results = s_socket (ZMQ_PUSH, settings->results_endpoint, false);
    assert_int_equal (lot_msg_send_work (one, NULL, 1, 0, false, "a", 1), 0);
    zsock_t *work = s_socket (ZMQ_PULL, settings->work_endpoint, false);
    s_expect_work (work, 1, 0, (const uint8_t *) "a", 1);
    zframe_t *route_one = zframe_dup (s_route);
    assert_int_equal (lot_msg_send_work (two, NULL, 2, 0, false, "b", 1), 0);
    s_expect_work (work, 2, 0, (const uint8_t *) "b", 1);
    zframe_t *route_two = zframe_dup (s_route);
    assert_false (zframe_eq (route_one, route_two));

    zframe_t *gone = zframe_from ("gone");
    lot_result_t result = { .agency = 9, .ok = true, .reason = "" };
    assert_int_equal (lot_msg_send_result (results, gone, &result), 0);
    zsock_t *to [] = { one, two };
    zframe_t *route [] = { route_one, route_two };
    for (uint32_t i = 0; i < 2; i++) {
        result.agency = i + 1;
        assert_int_equal (lot_msg_send_result (results, route [1 - i], &result), 0);
    }
    for (uint32_t i = 0; i < 2; i++) {
        zmsg_t *batch = zmsg_recv (to [1 - i]);
        assert_non_null (batch);
        lot_result_t got;
        assert_int_equal (lot_msg_next_result (batch, &got), 1);
        assert_int_equal (got.agency, i + 1);
        lot_msg_result_free (&got);
        assert_int_equal (zmsg_size (batch), 0);
        zmsg_destroy (&batch);
    }
    zframe_destroy (&gone);
    zframe_destroy (&route_one);
    zframe_destroy (&route_two);
    zactor_destroy (&broker);
    zsock_destroy (&one);
    zsock_destroy (&two);
    zsock_destroy (&work);
    zsock_destroy (&results);
    lot_settings_destroy (&settings);
}

//  Answers an item as the persister would, through the broker: to the
//  front-end whose WORK the test read last.
static void
s_answer (zsock_t *broker, uint32_t agency, uint32_t position, bool query,
          const char *reason, uint32_t count, uint32_t stored, bool finished)
{
    lot_result_t result = {
        .agency = agency, .position = position, .query = query, .ok = reason == NULL,
        .count = count, .reason = (char *) reason, .stored = stored, .finished = finished
    };
    assert_int_equal (lot_msg_send_result (broker, s_route, &result), 0);
}

static void
s_expect_bytes (int fd, const void *want, size_t size)
{
    uint8_t got [512];
    assert_int_equal (tu_recv_exact (fd, got, size, RECV_TIMEOUT_MS), size);
    assert_memory_equal (got, want, size);
}

static void
test_frontend_bridges_agencies (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("frontend");
    zsock_t *pub = s_socket (ZMQ_PUB, settings->winners_endpoint, true);
    int port;
    zactor_t *frontend = s_frontend_start (settings, &port);
    zsock_t *broker = s_socket (ZMQ_ROUTER, settings->broker_endpoint, true);

    //  v1: the first chunk asks where the agency stands, then goes out at
    //  that position; a chunk that arrives a byte at a time goes out whole
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
    s_expect_work (broker, 1, 0, NULL, 0);
    s_answer (broker, 1, 0, true, NULL, 0, 7, false);
    s_expect_work (broker, 1, 7, first, first_size);
    s_answer (broker, 1, 7, false, NULL, 2, 9, false);
    s_expect_bytes (agency, "O", 1);

    //  Two chunks in one write: the second goes out once the first is
    //  answered, at the position after it; a rejected chunk leaves the
    //  position as it was
    uint8_t both [16384];
    memcpy (both, second, second_size);
    memcpy (both + second_size, first, first_size);
    assert_int_equal (tu_send_all (agency, both, second_size + first_size), 0);
    s_expect_work (broker, 1, 9, second, second_size);
    //  A RESULT for another position is not this chunk's answer
    s_answer (broker, 1, 8, false, NULL, 1, 9, false);
    s_answer (broker, 1, 9, false, "agency already finished", 1, 0, false);
    s_expect_bytes (agency, "E\x00\x17" "agency already finished", 26);
    s_expect_work (broker, 1, 9, first, first_size);

    //  While it is open, agency 1 is busy for anyone else (v1 and v2)
    int other = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (other, "B", 1), 0);
    assert_int_equal (tu_send_all (other, first, first_size), 0);
    s_expect_bytes (other, "E\x00\x21" "agency busy on another connection", 36);
    assert_true (tu_wait_closed (other, RECV_TIMEOUT_MS));
    close (other);
    uint8_t hello [16];
    size_t hello_size = lot_codec_hello_encode (hello, sizeof hello, 2, tu_span ("1"));
    other = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (other, hello, hello_size), 0);
    s_expect_bytes (other, "E\x00\x21" "agency busy on another connection", 36);
    assert_true (tu_wait_closed (other, RECV_TIMEOUT_MS));
    close (other);
    close (agency);

    //  v2: 'H' is answered 'S' with how far the agency is stored; each
    //  numbered chunk goes out at its own position. Once the agency's
    //  first connection has gone, it is free again.
    int resumed = -1;
    for (int tries = 0; tries < 100; tries++) {
        resumed = tu_connect (port, 5000);
        assert_int_equal (tu_send_all (resumed, hello, hello_size), 0);
        uint8_t tag;
        if (tu_recv_exact (resumed, &tag, 1, 50) == 0)
            break;              //  Sent to the handlers: no answer yet
        //  The front-end had not yet seen the first connection go
        assert_int_equal (tag, 'E');
        close (resumed);
    }
    s_expect_work (broker, 1, 0, NULL, 0);
    s_answer (broker, 1, 0, true, NULL, 0, 300, false);
    s_expect_bytes (resumed, "S\x00\x00\x01\x2c\x00", 6);
    uint8_t numbered [8192];
    size_t header = lot_codec_numbered_encode (numbered, sizeof numbered, 300);
    memcpy (numbered + header, first, first_size);
    assert_int_equal (tu_send_all (resumed, numbered, header + first_size), 0);
    s_expect_work (broker, 1, 300, first, first_size);
    s_answer (broker, 1, 300, false, NULL, 2, 302, false);
    s_expect_bytes (resumed, "O", 1);
    //  A chunk for another agency: 'E', and the connection is closed
    size_t stray_size = s_chunk (numbered + header, false, "2", s_bets, 1);
    assert_int_equal (tu_send_all (resumed, numbered, header + stray_size), 0);
    s_expect_bytes (resumed, "E\x00\x18" "chunk for another agency", 27);
    assert_true (tu_wait_closed (resumed, RECV_TIMEOUT_MS));
    close (resumed);

    //  A version it does not speak: 'E' and closed
    hello_size = lot_codec_hello_encode (hello, sizeof hello, 3, tu_span ("2"));
    other = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (other, hello, hello_size), 0);
    s_expect_bytes (other, "E\x00\x1c" "unsupported protocol version", 31);
    assert_true (tu_wait_closed (other, RECV_TIMEOUT_MS));
    close (other);

    //  Undecodable bytes: 'E' with the reason, then the connection closes
    int garbage = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (garbage, "BX", 2), 0);
    s_expect_bytes (garbage, "E\x00\x13" "unknown message tag", 22);
    assert_true (tu_wait_closed (garbage, RECV_TIMEOUT_MS));
    close (garbage);

    //  A winners query for an unknown agency, or one spelt with a leading
    //  zero, is closed without an answer
    int stranger = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (stranger, "W\x00\x01" "9", 4), 0);
    assert_true (tu_wait_closed (stranger, RECV_TIMEOUT_MS));
    close (stranger);
    stranger = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (stranger, "W\x00\x02" "02", 5), 0);
    assert_true (tu_wait_closed (stranger, RECV_TIMEOUT_MS));
    close (stranger);

    //  A winners query is held until WINNERS arrives, then answered with
    //  that agency's documents only
    int query = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (query, "W\x00\x01" "2", 4), 0);
    const uint8_t expected [] = "\x00\x02" "\x00\x03" "111" "\x00\x03" "222";
    uint8_t answer [64];
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
    zsock_destroy (&broker);
    zsock_destroy (&pub);
    lot_settings_destroy (&settings);
}

//  A connection's bytes and items: taken in order, answered in any
//  order, popped in order with their bytes; never past its limit.
static void
test_conn_items (void **state)
{
    (void) state;
    zframe_t *id = zframe_new ("\x01\x02", 2);
    lot_conn_t *conn = lot_conn_new (&id, "peer", 16);
    assert_null (id);
    assert_string_equal (lot_conn_key (conn), "0102");
    assert_int_equal (lot_conn_append (conn, "Bxxxyyyy", 8), 0);
    assert_int_equal (lot_conn_append (conn, "123456789", 9), -1);
    assert_true (lot_conn_partial_at (conn) > 0);
    size_t size;
    const uint8_t *next = lot_conn_next (conn, &size);
    assert_int_equal (size, 8);
    assert_int_equal (next [0], 'B');
    lot_conn_skip (conn, 1);
    lot_conn_item_t *first = lot_conn_take (conn, 3, 1, 10, 2);
    lot_conn_item_t *query = lot_conn_take_query (conn);
    lot_conn_item_t *second = lot_conn_take (conn, 4, 0, 12, 1);
    assert_int_equal (lot_conn_partial_at (conn), 0);
    assert_int_equal (lot_conn_items (conn), 3);
    const uint8_t *chunk = lot_conn_chunk (conn, first, &size);
    assert_int_equal (size, 2);
    assert_memory_equal (chunk, "xx", 2);
    chunk = lot_conn_chunk (conn, second, &size);
    assert_memory_equal (chunk, "yyyy", 4);
    //  A RESULT finds the oldest item it answers, and only an unanswered one
    assert_ptr_equal (lot_conn_find (conn, false, 12, 1), second);
    assert_null (lot_conn_find (conn, false, 12, 2));
    assert_ptr_equal (lot_conn_find (conn, true, 0, 0), query);
    lot_conn_answer (second, "O", 1);
    assert_null (lot_conn_find (conn, false, 12, 1));
    //  Room again once the oldest goes, and the later chunk's bytes stay
    assert_ptr_equal (lot_conn_item (conn, 0), first);
    lot_conn_pop (conn);
    assert_int_equal (lot_conn_append (conn, "zzzzzzzzz", 9), 0);
    chunk = lot_conn_chunk (conn, second, &size);
    assert_memory_equal (chunk, "yyyy", 4);
    next = lot_conn_next (conn, &size);
    assert_int_equal (size, 9);
    assert_true (lot_conn_partial_at (conn) > 0);
    lot_conn_clear (conn);
    assert_int_equal (lot_conn_items (conn), 0);
    next = lot_conn_next (conn, &size);
    assert_int_equal (size, 0);
    lot_conn_destroy (&conn);
    assert_null (conn);
}

//  A connection that has held no byte yet has no buffer: what it reads
//  is still a pointer that memcpy and memcmp may take (no arithmetic on
//  NULL, which UndefinedBehaviorSanitizer stops), and nothing to append
//  is no change.
static void
test_conn_before_any_byte (void **state)
{
    (void) state;
    zframe_t *id = zframe_new ("\x01", 1);
    lot_conn_t *conn = lot_conn_new (&id, "peer", 0);
    size_t size;
    assert_non_null (lot_conn_next (conn, &size));
    assert_int_equal (size, 0);
    lot_conn_skip (conn, 0);
    assert_int_equal (lot_conn_append (conn, "", 0), 0);
    assert_int_equal (lot_conn_partial_at (conn), 0);
    lot_conn_item_t *query = lot_conn_take_query (conn);
    assert_non_null (lot_conn_chunk (conn, query, &size));
    assert_int_equal (size, 0);
    lot_conn_destroy (&conn);
}

//  A query or chunk that gets no RESULT goes out again, the same; the
//  agency gets one answer however many RESULTs come back.
static void
test_frontend_resends_unanswered_chunks (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("resend");
    settings->resend_timeout = 100;
    int port;
    zactor_t *frontend = s_frontend_start (settings, &port);
    zsock_t *broker = s_socket (ZMQ_ROUTER, settings->broker_endpoint, true);

    int agency = tu_connect (port, 5000);
    uint8_t chunk [8192];
    size_t size = s_chunk (chunk, false, "1", s_bets, 2);
    assert_int_equal (tu_send_all (agency, "B", 1), 0);
    assert_int_equal (tu_send_all (agency, chunk, size), 0);
    s_expect_work (broker, 1, 0, NULL, 0);
    s_expect_work (broker, 1, 0, NULL, 0);
    s_answer (broker, 1, 0, true, NULL, 0, 0, false);
    s_expect_work (broker, 1, 0, chunk, size);
    s_expect_work (broker, 1, 0, chunk, size);
    s_answer (broker, 1, 0, false, NULL, 2, 2, false);
    s_answer (broker, 1, 0, false, NULL, 2, 2, false);
    s_expect_bytes (agency, "O", 1);

    //  The next chunk goes out at the next position, and only one 'O'
    //  ever came
    size = s_chunk (chunk, true, "1", s_bets, 1);
    assert_int_equal (tu_send_all (agency, chunk, size), 0);
    s_expect_work (broker, 1, 2, chunk, size);
    s_answer (broker, 1, 2, false, "x", 1, 0, false);
    s_expect_bytes (agency, "E\x00\x01x", 4);
    close (agency);

    zactor_destroy (&frontend);
    zsock_destroy (&broker);
    lot_settings_destroy (&settings);
}

//  'N' position, then a chunk of count of s_bets' first bet for agency,
//  into out (LOT_NUMBERED_HEADER + 8192 bytes); returns its size. count
//  0: as many as fit.
static size_t
s_numbered (uint8_t *out, uint32_t position, const char *agency, size_t count)
{
    size_t header = lot_codec_numbered_encode (out, LOT_NUMBERED_HEADER, position);
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, out + header, 8192, tu_span (agency)),
                      0);
    lot_span_t fields [5];
    for (int f = 0; f < 5; f++)
        fields [f] = tu_span (s_bets [0][f]);
    while ((count == 0 || writer.count < count) && lot_codec_chunk_add (&writer, fields) == 0)
        ;
    return header + lot_codec_chunk_finish (&writer, false);
}

//  Opens a v2 connection for agency and answers its hello: stored 0.
static int
s_hello_v2 (int port, const char *agency, zsock_t *broker)
{
    uint8_t hello [16];
    size_t size = lot_codec_hello_encode (hello, sizeof hello, 2, tu_span (agency));
    int fd = tu_connect (port, 5000);
    assert_int_equal (tu_send_all (fd, hello, size), 0);
    s_expect_work (broker, (uint32_t) atoi (agency), 0, NULL, 0);
    s_answer (broker, (uint32_t) atoi (agency), 0, true, NULL, 0, 0, false);
    s_expect_bytes (fd, "S\x00\x00\x00\x00\x00", 6);
    return fd;
}

//  A v2 peer that sends chunks without waiting: up to MAX_IN_FLIGHT (3)
//  go to the handlers at once, each numbered as the peer did, the rest
//  wait; answers go out in the order the chunks came, whatever order
//  their RESULTs come in; a chunk that does not follow the ones out is
//  out of order. The peer is cut off only past MAX_IN_FLIGHT + 1 chunks
//  of bytes.
static void
test_frontend_pipelines_v2 (void **state)
{
    (void) state;
    lot_settings_t *settings = s_settings ("pipeline");
    settings->max_in_flight = 3;
    int port;
    zactor_t *frontend = s_frontend_start (settings, &port);
    zsock_t *broker = s_socket (ZMQ_ROUTER, settings->broker_endpoint, true);
    int agency = s_hello_v2 (port, "1", broker);

    //  Five chunks at once: 2 bets at 0, then 1 bet each at 2, 3, 4, 5
    uint8_t chunks [5][LOT_NUMBERED_HEADER + 8192];
    size_t sizes [5];
    const uint32_t positions [] = { 0, 2, 3, 4, 5 };
    for (int i = 0; i < 5; i++) {
        sizes [i] = s_numbered (chunks [i], positions [i], "1", i ? 1 : 2);
        assert_int_equal (tu_send_all (agency, chunks [i], sizes [i]), 0);
    }
    for (int i = 0; i < 3; i++)
        s_expect_work_follows (broker, 1, positions [i], i > 0,
                               chunks [i] + LOT_NUMBERED_HEADER,
                               sizes [i] - LOT_NUMBERED_HEADER);
    s_answer (broker, 1, 3, false, NULL, 1, 4, false);
    s_answer (broker, 1, 2, false, "x", 1, 0, false);
    s_answer (broker, 1, 0, false, NULL, 2, 2, false);
    s_expect_bytes (agency, "O" "E\x00\x01x" "O", 6);
    //  Room again: the two that waited, the first of them following none
    for (int i = 3; i < 5; i++)
        s_expect_work_follows (broker, 1, positions [i], i > 3,
                               chunks [i] + LOT_NUMBERED_HEADER,
                               sizes [i] - LOT_NUMBERED_HEADER);
    //  A chunk at 9 while 5 is out: out of order, answered in its turn; the
    //  chunk at 6 after it follows 5 (its WORK shows 9 was taken before)
    uint8_t stray [LOT_NUMBERED_HEADER + 8192];
    size_t stray_size = s_numbered (stray, 9, "1", 1);
    assert_int_equal (tu_send_all (agency, stray, stray_size), 0);
    sizes [0] = s_numbered (chunks [0], 6, "1", 1);
    assert_int_equal (tu_send_all (agency, chunks [0], sizes [0]), 0);
    s_answer (broker, 1, 4, false, NULL, 1, 5, false);
    s_expect_work_follows (broker, 1, 6, true, chunks [0] + LOT_NUMBERED_HEADER,
                           sizes [0] - LOT_NUMBERED_HEADER);
    s_answer (broker, 1, 6, false, NULL, 1, 7, false);
    s_answer (broker, 1, 5, false, NULL, 1, 7, false);
    s_expect_bytes (agency, "O" "O" "E\x00\x12" "chunk out of order" "O", 24);
    //  With nothing out, any position goes to the persister to decide
    assert_int_equal (tu_send_all (agency, stray, stray_size), 0);
    s_expect_work (broker, 1, 9, stray + LOT_NUMBERED_HEADER,
                   stray_size - LOT_NUMBERED_HEADER);
    s_answer (broker, 1, 9, false, "chunk out of order", 1, 0, false);
    s_expect_bytes (agency, "E\x00\x12" "chunk out of order", 21);
    close (agency);

    //  Full 8 kB chunks: four at once fit (three out, one waiting)...
    int big = s_hello_v2 (port, "2", broker);
    uint8_t full [LOT_NUMBERED_HEADER + 8192];
    size_t full_size = s_numbered (full, 0, "2", 0);
    lot_chunk_reader_t reader;
    assert_int_equal (lot_codec_chunk_open (&reader, full + LOT_NUMBERED_HEADER,
                                            full_size - LOT_NUMBERED_HEADER), 0);
    assert_true (full_size > 8100);
    uint32_t count = reader.count;
    for (uint32_t i = 0; i < 4; i++) {
        lot_codec_numbered_encode (full, LOT_NUMBERED_HEADER, i * count);
        assert_int_equal (tu_send_all (big, full, full_size), 0);
    }
    for (uint32_t i = 0; i < 4; i++) {
        if (i == 3)
            s_answer (broker, 2, 0, false, NULL, count, count, false);
        s_expect_work_follows (broker, 2, i * count, i > 0, full + LOT_NUMBERED_HEADER,
                               full_size - LOT_NUMBERED_HEADER);
    }
    for (uint32_t i = 1; i < 4; i++)
        s_answer (broker, 2, i * count, false, NULL, count, (i + 1) * count, false);
    s_expect_bytes (big, "OOOO", 4);
    //  ... five do not: 'E', and closed
    for (uint32_t i = 4; i < 9; i++) {
        lot_codec_numbered_encode (full, LOT_NUMBERED_HEADER, i * count);
        tu_send_all (big, full, full_size);
    }
    s_expect_bytes (big, "E\x00\x1e" "too much data before an answer", 33);
    assert_true (tu_wait_closed (big, RECV_TIMEOUT_MS));
    close (big);

    zactor_destroy (&frontend);
    zsock_destroy (&broker);
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
        cmocka_unit_test_teardown (test_handler_valid_and_invalid, s_batches_drop),
        cmocka_unit_test_teardown (test_persister_stores_confirms_and_draws, s_batches_drop),
        cmocka_unit_test_teardown (test_coordinator_draws_once_all_are_done, s_batches_drop),
        cmocka_unit_test_teardown (test_conn_items, s_batches_drop),
        cmocka_unit_test_teardown (test_conn_before_any_byte, s_batches_drop),
        cmocka_unit_test_teardown (test_frontend_bridges_agencies, s_batches_drop),
        cmocka_unit_test_teardown (test_actor_restarts_bind_at_once, s_batches_drop),
        cmocka_unit_test_teardown (test_signals_leave_monitors_running, s_batches_drop),
        cmocka_unit_test_teardown (test_persister_remembers_across_restarts, s_batches_drop),
        cmocka_unit_test_teardown (test_persister_waits_for_earlier_chunks, s_batches_drop),
        cmocka_unit_test_teardown (test_persister_answers_each_frontend, s_batches_drop),
        cmocka_unit_test_teardown (test_broker_routes_results_to_their_frontend, s_batches_drop),
        cmocka_unit_test_teardown (test_frontend_resends_unanswered_chunks, s_batches_drop),
        cmocka_unit_test_teardown (test_frontend_pipelines_v2, s_batches_drop),
        cmocka_unit_test_teardown (test_frontend_limits_connections, s_batches_drop),
    };
    return cmocka_run_group_tests_name ("actors", tests, NULL, NULL);
}
