/*  test_actors - each actor driven through its pipe and its sockets

    The test plays every peer of the actor under test on inproc://
    endpoints (and TCP for the front-end's agency side), so each message
    format between actors is checked frame by frame. What a test starts
    goes into s_rig, which s_teardown ends whether the test passed or not,
    and frees the strings the test took from tu_temp.
*/
#include "lot_actor.h"
#include "lot_broker.h"
#include "lot_codec.h"
#include "lot_conn.h"
#include "lot_coordinator.h"
#include "lot_curve.h"
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

//  cmocka passes every test a state; these tests use none
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define RECV_TIMEOUT_MS 5000

//  What a test started, ended in this order (the actor before its peers)
static struct {
    lot_settings_t *settings;
    zactor_t *actor;
    lot_sockets_t *sockets;
    zsock_t *peers [8];
    size_t peer_count;
    int fds [128];              //  Agency connections, -1 once closed
    size_t fd_count;
    char *dir;                  //  For the bets file
} s_rig;

static void
s_rig_end (void)
{
    zactor_destroy (&s_rig.actor);
    lot_sockets_destroy (&s_rig.sockets);
    for (size_t i = 0; i < s_rig.peer_count; i++)
        zsock_destroy (&s_rig.peers [i]);
    for (size_t i = 0; i < s_rig.fd_count; i++)
        if (s_rig.fds [i] >= 0)
            close (s_rig.fds [i]);
    lot_settings_destroy (&s_rig.settings);
    tu_remove_dir (s_rig.dir);
    memset (&s_rig, 0, sizeof s_rig);
}

//  The test's settings: endpoints of its own, two agencies.
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
    return s_rig.settings = settings;
}

static void
s_start (zactor_fn *actor)
{
    s_rig.actor = lot_actor_start (actor, s_rig.settings);
    assert_non_null (s_rig.actor);
}

//  A socket of the test's, a peer of the actor.
static zsock_t *
s_peer (int type, const char *endpoint, bool bind)
{
    zsock_t *sock = zsock_new (type);
    assert_non_null (sock);
    assert_int_not_equal (bind ? zsock_bind (sock, "%s", endpoint)
                               : zsock_connect (sock, "%s", endpoint), -1);
    zsock_set_rcvtimeo (sock, RECV_TIMEOUT_MS);
    assert_true (s_rig.peer_count < 8);
    return s_rig.peers [s_rig.peer_count++] = sock;
}

//  Starts a front-end on a port the system picks, with the test as its
//  broker (ROUTER); returns that port.
static int
s_frontend_start (zsock_t **broker)
{
    s_rig.settings->port = 0;
    s_start (lot_frontend_actor);
    zstr_send (s_rig.actor, "PORT");
    char *answer = zstr_recv (s_rig.actor);
    assert_non_null (answer);
    int port = atoi (answer);
    assert_true (port > 0);
    zstr_free (&answer);
    if (broker)
        *broker = s_peer (ZMQ_ROUTER, s_rig.settings->broker_endpoint, true);
    return port;
}

static int
s_connect (int port)
{
    int fd = tu_connect (port, 5000);
    assert_true (fd >= 0);
    assert_true (s_rig.fd_count < 128);
    return s_rig.fds [s_rig.fd_count++] = fd;
}

static void
s_close (int fd)
{
    for (size_t i = 0; i < s_rig.fd_count; i++)
        if (s_rig.fds [i] == fd)
            s_rig.fds [i] = -1;
    close (fd);
}

static void
s_send (int fd, tu_wire_t wire)
{
    assert_int_equal (tu_send_all (fd, wire.data, wire.size), 0);
}

//  The agency side, by hand (protocol.md)
static const char *const s_bets [][5] = {
    { "Valentina", "Vera", "30170921", "1982-05-22", "6053" },
    { "Santiago", "Álvarez, \"Jr\"", "33936970", "1986-04-25", "07574" },
};

//  A chunk of agency, tag 'C' (more follow) or 'L': the first count bets,
//  or (repeat) count times the first.
static tu_wire_t
s_chunk (char tag, const char *agency, const char *const bets [][5], unsigned count,
         bool repeat)
{
    tu_wire_t wire = { .size = 0 };
    tu_wire_chunk (&wire, tag, count, agency);
    for (unsigned i = 0; i < count; i++)
        tu_wire_bet (&wire, bets [repeat ? 0 : i]);
    return wire;
}

//  'N' position, then the chunk: what a v2 agency sends.
static tu_wire_t
s_numbered (uint32_t position, tu_wire_t chunk)
{
    return tu_wire ("14b", 'N', position, chunk.data, (size_t) chunk.size);
}

//  The chunk a numbered chunk holds
#define CHUNK_OF(numbered) (numbered).data + LOT_NUMBERED_HEADER, \
                           (numbered).size - LOT_NUMBERED_HEADER

//  Reads the answers to an agency's chunks: each "O" or an 'E' reason.
static void
s_expect_answers (int fd, ...)
{
    tu_wire_t want = { .size = 0 };
    va_list args;
    va_start (args, fd);
    for (const char *answer; (answer = va_arg (args, const char *));)
        if (streq (answer, "O"))
            tu_wire_byte (&want, 'O');
        else
            tu_wire_pack (&want, "1s", 'E', answer);
    va_end (args);
    tu_expect_bytes (fd, want.data, want.size);
}

//  A connection that sends bytes gets 'E' reason (or nothing), and is closed.
static void
s_refused (int port, tu_wire_t bytes, const char *reason)
{
    tu_case ("refused with: %s", reason ? reason : "no answer");
    int fd = s_connect (port);
    s_send (fd, bytes);
    if (reason)
        s_expect_answers (fd, reason, NULL);
    assert_true (tu_wait_closed (fd, RECV_TIMEOUT_MS));
    s_close (fd);
    tu_case_done ();
}

//  WORK, RECORDS and RESULT come in batches of items after their route:
//  the tests read one item at a time, keeping the rest of the batch and
//  its route (s_teardown fails a test that left any).

static zmsg_t *s_left;
static zsock_t *s_left_from;
static zframe_t *s_route;

//  The route the tests give their chunks, as a broker would
static zframe_t *
s_frontend_route (void)
{
    static zframe_t *route;
    if (!route)
        route = zframe_from ("frontend-1");
    return route;
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
    assert_non_null (s_left);
    return s_left;
}

static int
s_teardown (void **state)
{
    size_t left = s_left ? zmsg_size (s_left) : 0;
    zmsg_destroy (&s_left);
    zframe_destroy (&s_route);
    s_rig_end ();
    tu_case_teardown (state);
    tu_temp_free ();
    return left == 0 ? 0 : -1;
}

//  Expects a RESULT for (agency, position), ok or with that reason.
static void
s_expect_result (zsock_t *results, uint32_t agency, uint32_t position, bool query,
                 const char *reason, uint32_t stored, bool finished)
{
    lot_result_t result;
    assert_int_equal (lot_msg_next_result (s_batch (results), &result), 1);
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

//  Expects WORK for (agency, position) holding chunk (NULL: a query), and
//  whether it follows an unanswered chunk of its connection.
static void
s_expect_work (zsock_t *work, uint32_t agency, uint32_t position, bool follows,
               const uint8_t *chunk, size_t size)
{
    lot_work_t got;
    assert_int_equal (lot_msg_next_work (s_batch (work), &got), 1);
    assert_int_equal (got.follows, follows);
    assert_int_equal (got.agency, agency);
    if (chunk)
        assert_int_equal (got.position, position);
    tu_assert_bytes (got.chunk, got.size, chunk, chunk ? size : 0);
    zframe_destroy (&got.frame);
}

//  WORK from the test's front-end, as the broker hands it a handler.
static void
s_send_work (zsock_t *work, uint32_t agency, uint32_t position, bool follows,
             tu_wire_t chunk)
{
    assert_int_equal (lot_msg_send_work (work, s_frontend_route (), agency, position,
                                         follows, chunk.data, chunk.size), 0);
}

static void
test_handler_valid_and_invalid (void **state)
{
    lot_settings_t *settings = s_settings ("handler");
    zsock_t *work = s_peer (ZMQ_PUSH, settings->work_endpoint, true);
    zsock_t *records = s_peer (ZMQ_PULL, settings->records_endpoint, true);
    zsock_t *results = s_peer (ZMQ_PULL, settings->results_endpoint, true);
    s_start (lot_handler_actor);
    //  An invalid chunk is answered with a failed RESULT and goes no further
    const char *const bad [][5] = { { "Ana", "Paz", "123", "1999-02-30", "1" } };
    s_send_work (work, 1, 41, false, s_chunk ('C', "1", bad, 1, false));
    s_expect_result (results, 1, 41, false, "invalid birthdate", 0, false);
    //  An unknown agency too, and a chunk named after another agency
    s_send_work (work, 3, 42, false, s_chunk ('C', "3", s_bets, 1, false));
    s_expect_result (results, 3, 42, false, "unknown agency", 0, false);
    s_send_work (work, 1, 43, false, s_chunk ('C', "2", s_bets, 1, false));
    s_expect_result (results, 1, 43, false, "chunk for another agency", 0, false);
    assert_true (zframe_streq (s_route, "frontend-1"));
    //  A valid one becomes bets-file lines, the first RECORDS (nothing of
    //  the rejected went on), and says whether it follows an unanswered one
    s_send_work (work, 1, 44, true, s_chunk ('L', "1", s_bets, 2, false));
    lot_records_t got;
    assert_int_equal (lot_msg_next_records (s_batch (records), &got), 1);
    assert_int_equal (got.agency, 1);
    assert_int_equal (got.position, 44);
    assert_false (got.query);
    assert_true (got.last);
    assert_int_equal (got.count, 2);
    assert_true (got.follows);
    const char *lines = "1,Valentina,Vera,30170921,1982-05-22,6053\r\n"
                        "1,Santiago,\"Álvarez, \"\"Jr\"\"\",33936970,1986-04-25,7574\r\n";
    tu_assert_bytes (got.lines, got.size, lines, strlen (lines));
    zframe_destroy (&got.frame);
    //  A position query (no chunk) goes on to the persister as it is
    s_send_work (work, 2, 0, false, (tu_wire_t) { .size = 0 });
    assert_int_equal (lot_msg_next_records (s_batch (records), &got), 1);
    assert_int_equal (got.agency, 2);
    assert_true (got.query);
    zframe_destroy (&got.frame);
}

//  The persister, with the test as its handlers (PUSH), its front-end
//  (PULL) and its coordinator (ROUTER)

static zsock_t *s_records, *s_results, *s_events;

//  (Re)starts the persister, with a new socket to it (inproc peers do not
//  reconnect).
static void
s_persister_start (void)
{
    zactor_destroy (&s_rig.actor);
    s_start (lot_persister_actor);
    s_records = s_peer (ZMQ_PUSH, s_rig.settings->records_endpoint, false);
}

//  A persister of its own bets file; max_in_flight 0 keeps the default.
static void
s_persister (const char *name, long max_in_flight)
{
    lot_settings_t *settings = s_settings (name);
    s_rig.dir = tu_tempdir (name);
    free (settings->bets_file);
    free (settings->bets_journal);
    settings->bets_file = tu_printf ("%s/bets.csv", s_rig.dir);
    settings->bets_journal = tu_printf ("%s/bets.csv.journal", s_rig.dir);
    if (max_in_flight)
        settings->max_in_flight = max_in_flight;
    s_results = s_peer (ZMQ_PULL, settings->results_endpoint, true);
    s_events = s_peer (ZMQ_ROUTER, settings->events_endpoint, true);
    s_persister_start ();
}

//  A chunk's lines from a front-end (NULL: the test's); follows: sent while
//  an earlier chunk of its connection was unanswered.
static void
s_send_records (const char *route, uint32_t agency, uint32_t position, bool last,
                uint32_t count, bool follows, const char *lines)
{
    lot_records_t chunk = { .agency = agency, .position = position, .last = last,
                            .count = count, .follows = follows };
    zframe_t *from = zframe_from (route ? route : "frontend-1");
    assert_int_equal (lot_msg_send_records (s_records, from, &chunk, lines, strlen (lines)), 0);
    zframe_destroy (&from);
}

static void
s_send_query (uint32_t agency)
{
    lot_records_t query = { .agency = agency, .query = true };
    assert_int_equal (lot_msg_send_records (s_records, s_frontend_route (), &query, NULL, 0),
                      0);
}

//  The bets file holds exactly these parts, in order (NULL-terminated).
static void
s_expect_bets (const char *part, ...)
{
    char *expected = tu_temp ("%s", "");
    va_list args;
    va_start (args, part);
    for (; part; part = va_arg (args, const char *))
        expected = tu_temp ("%s%s", expected, part);
    va_end (args);
    char *stored = tu_temp_own (tu_read_file (s_rig.settings->bets_file, NULL));
    assert_string_equal (stored ? stored : "(no file)", expected);
}

//  Waits for a STATUS that names exactly these finished agencies (one
//  flag per agency, 1 and 2); returns the persister's routing id.
static zframe_t *
s_expect_status (bool first, bool second)
{
    while (true) {
        zmsg_t *msg = zmsg_recv (s_events);
        assert_non_null (msg);
        zframe_t *from = zmsg_pop (msg);
        assert_int_equal (lot_msg_pop_command (msg), LOT_MSG_CMD_STATUS);
        bool finished [3] = { false };
        assert_true (lot_msg_recv_status (msg, finished, 2) >= 0);
        zmsg_destroy (&msg);
        if (finished [1] == first && finished [2] == second)
            return from;
        zframe_destroy (&from);
    }
}

//  msg holds exactly these frames (NULL-terminated); it is destroyed.
static void
s_expect_frames (zmsg_t *msg, ...)
{
    assert_non_null (msg);
    va_list args;
    va_start (args, msg);
    for (const char *want; (want = va_arg (args, const char *));) {
        char *got = tu_temp_own (zmsg_popstr (msg));
        assert_string_equal (got ? got : "(no frame)", want);
    }
    va_end (args);
    assert_int_equal (zmsg_size (msg), 0);
    zmsg_destroy (&msg);
}

static void
test_persister_stores_confirms_and_draws (void **state)
{
    s_persister ("persister", 0);
    const char *one = "1,Ana,Paz,11,2000-01-01,7574\r\n";
    const char *two = "2,Bo,Lu,22,2000-01-02,7574\r\n2,Cy,Mo,33,2000-01-03,1\r\n";
    const char *late = "1,Late,Bet,44,2000-01-04,7574\r\n";
    s_send_records (NULL, 1, 0, true, 1, false, one);
    s_expect_result (s_results, 1, 0, false, NULL, 1, true);
    //  The agency is done once its 'L' chunk is stored
    zframe_t *persister_id = s_expect_status (true, false);
    //  Rejected and not stored: a chunk after the last, one out of order
    s_send_records (NULL, 1, 1, false, 1, false, late);
    s_expect_result (s_results, 1, 1, false, "agency already finished", 0, false);
    s_send_records (NULL, 2, 5, false, 2, false, two);
    s_expect_result (s_results, 2, 5, false, "chunk out of order", 0, false);
    s_send_records (NULL, 2, 0, false, 2, false, two);
    s_expect_result (s_results, 2, 0, false, NULL, 2, false);
    s_send_query (2);
    s_expect_result (s_results, 2, 0, true, NULL, 2, false);
    s_expect_bets (one, two, NULL);
    //  The draw reads the file back: agency 1 won once, agency 2 once
    zframe_send (&persister_id, s_events, ZFRAME_MORE);
    zstr_send (s_events, LOT_MSG_DRAW);
    zmsg_t *drawn = NULL;
    while (!drawn) {                    //  STATUS keeps coming too
        zmsg_t *msg = zmsg_recv (s_events);
        assert_non_null (msg);
        zframe_t *from = zmsg_pop (msg);
        zframe_destroy (&from);
        if (lot_msg_pop_command (msg) == LOT_MSG_CMD_DRAWN)
            drawn = msg;
        else
            zmsg_destroy (&msg);
    }
    s_expect_frames (drawn, "1", "3 bets, 2 winners", "11\n", "22\n", NULL);
}

//  A restarted persister knows from its journal what it stored and who
//  finished: chunks sent again are confirmed, not stored twice, and
//  STATUS names the finished agencies at once.
static void
test_persister_remembers_across_restarts (void **state)
{
    s_persister ("remembers", 0);
    const char *one = "1,Ana,Paz,11,2000-01-01,7574\r\n";
    const char *two = "2,Bo,Lu,22,2000-01-02,7574\r\n";
    for (int round = 0; round < 2; round++) {
        tu_case ("round %d", round);
        if (round) {
            s_persister_start ();
            zframe_t *persister_id = s_expect_status (true, false);
            zframe_destroy (&persister_id);
        }
        s_send_records (NULL, 1, 0, true, 1, false, one);
        s_expect_result (s_results, 1, 0, false, NULL, 1, true);
        s_send_records (NULL, 2, 0, false, 1, false, two);
        s_expect_result (s_results, 2, 0, false, NULL, 1, false);
    }
    tu_case_done ();
    s_send_query (2);
    s_expect_result (s_results, 2, 0, true, NULL, 1, false);
    s_send_records (NULL, 2, 1, true, 1, false, two);
    s_expect_result (s_results, 2, 1, false, NULL, 2, true);
    s_expect_bets (one, two, two, NULL);
}

//  A RESULT batch of one item, to that front-end.
static void
s_expect_routed_result (const char *route, uint32_t agency, uint32_t position,
                        uint32_t stored, bool finished)
{
    s_expect_result (s_results, agency, position, false, NULL, stored, finished);
    assert_true (zframe_streq (s_route, route));
    assert_int_equal (zmsg_size (s_left), 0);
}

//  Each answer goes back by the route its chunk came with, also for a
//  chunk that waited for the bets before it while other groups passed.
static void
test_persister_answers_each_frontend (void **state)
{
    s_persister ("routes", 0);
    s_send_records ("frontend-b", 1, 1, false, 1, true, "1,Bo,Lu,12,2000-01-01,2\r\n");
    s_send_records ("frontend-c", 2, 0, true, 1, false, "2,Cy,Mo,13,2000-01-01,3\r\n");
    s_expect_routed_result ("frontend-c", 2, 0, 1, true);
    s_send_records ("frontend-a", 1, 0, false, 1, false, "1,Ana,Paz,11,2000-01-01,1\r\n");
    //  One group stores both, answering each front-end apart, the waiter first
    s_expect_routed_result ("frontend-b", 1, 1, 2, false);
    s_expect_routed_result ("frontend-a", 1, 0, 2, false);
}

//  Chunks ahead of their bets (another handler has those) that followed an
//  unanswered chunk wait, at most MAX_IN_FLIGHT of an agency, and are
//  stored in order once those come; one that followed nothing is out of
//  order. Agency 2's chunks show what was answered before them.
static void
test_persister_waits_for_earlier_chunks (void **state)
{
    s_persister ("waits", 2);
    const char *first = "1,Ana,Paz,11,2000-01-01,1\r\n1,Bo,Lu,12,2000-01-01,2\r\n";
    const char *third = "1,Cy,Mo,13,2000-01-01,3\r\n";
    const char *fourth = "1,Di,No,14,2000-01-01,4\r\n";
    const char *fifth = "1,Ed,Ox,15,2000-01-01,5\r\n";
    const char *probe = "2,Fe,Pi,21,2000-01-01,6\r\n";
    s_send_records (NULL, 1, 2, false, 1, true, third);
    s_send_records (NULL, 1, 3, false, 1, true, fourth);
    s_send_records (NULL, 1, 2, false, 1, true, third);         //  A copy
    s_send_records (NULL, 1, 4, false, 1, true, fifth);         //  One too many
    s_send_records (NULL, 1, 5, false, 1, false, fifth);        //  Follows nothing
    s_expect_result (s_results, 1, 5, false, "chunk out of order", 0, false);
    s_send_records (NULL, 2, 0, false, 1, false, probe);
    s_expect_result (s_results, 2, 0, false, NULL, 1, false);
    //  The bets before them: all three stored, in order, answered once
    s_send_records (NULL, 1, 0, false, 2, false, first);
    s_expect_result (s_results, 1, 0, false, NULL, 4, false);
    s_expect_result (s_results, 1, 2, false, NULL, 4, false);
    s_expect_result (s_results, 1, 3, false, NULL, 4, false);
    s_send_records (NULL, 2, 1, false, 1, false, probe);
    s_expect_result (s_results, 2, 1, false, NULL, 2, false);
    //  The one dropped comes again, as the front-end sends it
    s_send_records (NULL, 1, 4, true, 1, true, fifth);
    s_expect_result (s_results, 1, 4, false, NULL, 5, true);
    //  A copy sent with nothing unanswered before it replaces the parked one
    s_send_records (NULL, 2, 5, false, 1, true, probe);
    s_send_records (NULL, 2, 5, false, 1, false, probe);
    s_expect_result (s_results, 2, 5, false, "chunk out of order", 0, false);
    s_send_records (NULL, 2, 2, true, 1, false, probe);
    s_expect_result (s_results, 2, 2, false, NULL, 3, true);
    s_send_query (2);
    s_expect_result (s_results, 2, 0, true, NULL, 3, true);
    s_expect_bets (probe, first, third, fourth, probe, fifth, probe, NULL);
}

//  SIGTERM stops the server's wait, not czmq's own actors: a socket's
//  zmonitor still reports after it, so that the actor reading it can
//  destroy it in order (with czmq's handler the monitor ended by itself,
//  its reader took its last signal, and the destroy waited for ever)
static void
test_signals_leave_monitors_running (void **state)
{
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
    lot_settings_t *settings = s_settings ("again");
    for (int round = 0; round < 200; round++) {
        zactor_t *broker = lot_actor_start (lot_broker_actor, settings);
        if (!broker)
            fail_msg ("round %d: the broker could not bind again", round);
        zactor_destroy (&broker);
    }
}

//  A socket bound through lot_sockets with ACTORS_INSECURE, CURVE (a
//  certificate of the test's): a bound one takes connections at `here`,
//  and at 127.0.0.2 (standing in for other hosts) when `elsewhere`; it
//  logs `line` (WARNING and up, the address for %s; "": none; NULL: not
//  checked).
typedef struct {
    const char *endpoint;
    bool insecure, curve;
    const char *here;           //  NULL: refused, not bound; "": inproc, bound
    bool elsewhere;
    const char *line, *address;
} bind_row_t;

#define REFUSED "action: socket_open | result: fail | actor: test | socket: binder" \
                " | endpoint: tcp://%s:0 | reason: other hosts could connect and CURVE" \
                " is off; set CURVE_CERT and CURVE_PUBLIC_DIR, or give the endpoint a" \
                " loopback address, or set ACTORS_INSECURE=true on a network you trust\n"
#define WARNED "WARNING  action: socket_open | result: in_progress | actor: test" \
               " | socket: binder | endpoint: tcp://%s:0 | reason: open to other hosts" \
               " without CURVE, as ACTORS_INSECURE allows\n"

//  A binder listens where its endpoint says: on loopback only there, on
//  every interface (0.0.0.0, *, or a name, not bound as such) anywhere.
//  What other hosts reach needs CURVE, or ACTORS_INSECURE, which warns;
//  else it is not bound, and the fail line says what to do.
static void
test_binder_listens_where_its_endpoint_says (void **state)
{
    const bind_row_t rows [] = {
        { "tcp://127.0.0.1:*", false, false, "127.0.0.1", false, NULL, NULL },
        { "tcp://127.0.0.1:*", true, false, "127.0.0.1", false, NULL, NULL },
        { "tcp://[::1]:*", false, false, "::1", false, NULL, NULL },
        { "tcp://0.0.0.0:*", true, false, "127.0.0.1", true, NULL, NULL },
        { "tcp://*:*", true, false, "127.0.0.1", true, NULL, NULL },
        { "tcp://binder:*", true, false, "127.0.0.1", true, NULL, NULL },
        { "tcp://0.0.0.0:*", false, false, NULL, false, REFUSED, "0.0.0.0" },
        { "tcp://*:*", false, false, NULL, false, REFUSED, "*" },
        { "tcp://binder:*", false, false, NULL, false, REFUSED, "*" },
        { "tcp://0.0.0.0:*", true, false, "127.0.0.1", true, WARNED, "0.0.0.0" },
        { "tcp://binder:*", true, false, "127.0.0.1", true, WARNED, "*" },
        { "tcp://0.0.0.0:*", false, true, "127.0.0.1", true, "", NULL },
        { "tcp://*:*", true, true, "127.0.0.1", true, "", NULL },
        { "tcp://127.0.0.1:*", false, false, "127.0.0.1", false, "", NULL },
        { "inproc://binder", false, false, "", false, NULL, NULL },
    };
    s_settings ("binder");
    s_rig.dir = tu_tempdir ("binder");
    char *error = NULL;
    assert_int_equal (lot_curve_make (s_rig.dir, "binder", &error), 0);
    char *cert = tu_temp ("%s/secret/binder_secret", s_rig.dir);
    char *log = tu_temp ("%s/log", s_rig.dir);
    lot_log_set_level (LOT_LOG_WARNING);
    for (size_t i = 0; i < sizeof rows / sizeof rows [0]; i++) {
        const bind_row_t *row = &rows [i];
        tu_case ("%s%s%s", row->endpoint, row->insecure ? ", ACTORS_INSECURE" : "",
                 row->curve ? ", CURVE" : "");
        s_rig.settings->actors_insecure = row->insecure;
        free (s_rig.settings->curve_cert);
        s_rig.settings->curve_cert = row->curve ? strdup (cert) : NULL;
        lot_sockets_destroy (&s_rig.sockets);
        s_rig.sockets = lot_sockets_new ("test", s_rig.settings);
        tu_capture_t capture = tu_capture_begin (1, log);
        zsock_t *sock = lot_sockets_bind (s_rig.sockets, ZMQ_PULL, row->endpoint, "binder");
        char *logged = tu_temp_own (tu_capture_end (capture));
        assert_non_null (logged);
        if (row->line && *row->line)
            assert_non_null (strstr (logged, tu_temp (row->line, row->address)));
        else
        if (row->line)
            assert_string_equal (logged, "");
        assert_true (row->here ? sock != NULL : sock == NULL);
        if (!row->here || !*row->here)
            continue;
        char *endpoint = tu_temp_own (zsock_last_endpoint (sock));
        assert_non_null (endpoint);
        int port = atoi (strrchr (endpoint, ':') + 1);
        assert_true (port > 0);
        assert_int_equal (tu_reach (row->here, port), 0);
        assert_int_equal (tu_reach ("127.0.0.2", port), row->elsewhere ? 0 : ECONNREFUSED);
    }
    tu_case_done ();
}

//  A socket's events are logged while its owner reads nothing at all:
//  the watcher's thread reads the monitors, so an actor busy in a sync
//  no longer holds its lines back, nor an unread monitor libzmq's I/O
//  thread (lot_watcher.h)
static void
test_events_logged_while_the_owner_waits (void **state)
{
    s_settings ("watched");
    s_rig.dir = tu_tempdir ("watched");
    s_rig.sockets = lot_sockets_new ("test", s_rig.settings);
    char *log = tu_temp ("%s/log", s_rig.dir);
    lot_log_set_level (LOT_LOG_INFO);
    tu_capture_t capture = tu_capture_begin (1, log);
    zsock_t *inbox = lot_sockets_bind (s_rig.sockets, ZMQ_PULL, "tcp://127.0.0.1:*", "inbox");
    char *endpoint = inbox ? zsock_last_endpoint (inbox) : NULL;
    zsock_t *peer = endpoint ? zsock_new_push (endpoint) : NULL;
    const char *events [] = { "LISTENING", "ACCEPTED", "HANDSHAKE_SUCCEEDED", "DISCONNECTED" };
    bool seen [4] = { false };
    for (size_t i = 0; peer && i < 4; i++) {
        if (i == 3)
            zsock_destroy (&peer);
        seen [i] = tu_wait_for_lines (log, PARTS ("action: zmq_evento | result: success"
                                                  " | actor: test | socket: inbox | event: ",
                                                  events [i], tu_temp (" | endpoint: %s | value: ",
                                                                       endpoint)), 1, 5000);
    }
    zsock_destroy (&peer);
    zstr_free (&endpoint);
    free (tu_capture_end (capture));
    for (size_t i = 0; i < 4; i++)
        if (!seen [i])
            fail_msg ("no %s line in %s", events [i], log);
}

//  A coordinator with the test as its persister (DEALER) and a front-end
//  (SUB to WINNERS).
static void
s_coordinator (const char *name, zsock_t **dealer, zsock_t **sub)
{
    lot_settings_t *settings = s_settings (name);
    s_start (lot_coordinator_actor);
    *dealer = s_peer (ZMQ_DEALER, settings->events_endpoint, false);
    *sub = s_peer (ZMQ_SUB, settings->winners_endpoint, false);
    zsock_set_subscribe (*sub, LOT_MSG_WINNERS);
}

static void
s_send_status (zsock_t *dealer, bool first, bool second)
{
    bool finished [3] = { false, first, second };
    assert_int_equal (lot_msg_send_status (dealer, finished, 2), 0);
}

//  A draw done, as a persister answers DRAW: winners of agencies 1 and 2.
static void
s_send_drawn (zsock_t *dealer, const char *first, const char *second)
{
    assert_int_equal (zsock_send (dealer, "sssss", LOT_MSG_DRAWN, "1", "test", first,
                                  second), 0);
}

static void
test_coordinator_draws_once_all_are_done (void **state)
{
    zsock_t *dealer, *sub;
    s_coordinator ("coordinator", &dealer, &sub);
    //  One agency of two, twice: no draw yet; a DRAWN nobody asked for
    //  is ignored
    s_send_status (dealer, true, false);
    s_send_status (dealer, true, false);
    s_send_drawn (dealer, "bogus\n", "");
    s_send_status (dealer, true, true);
    s_expect_frames (zmsg_recv (dealer), LOT_MSG_DRAW, NULL);
    //  A draw that failed is asked for again
    assert_int_equal (lot_msg_send_drawn (dealer, "cannot read the bets file", NULL), 0);
    s_expect_frames (zmsg_recv (dealer), LOT_MSG_DRAW, NULL);
    s_send_drawn (dealer, "111\n", "");
    //  WINNERS is announced again and again: a late subscriber gets it
    s_expect_frames (zmsg_recv (sub), LOT_MSG_WINNERS, "111\n", "", NULL);
    //  Restarted, it learns from STATUS that all finished, and draws again
    //  (the test's sockets start again too, on endpoints of their own:
    //  libzmq frees an inproc name only once its reaper closed the socket)
    s_rig_end ();
    s_coordinator ("coordinator-again", &dealer, &sub);
    s_send_status (dealer, true, true);
    s_expect_frames (zmsg_recv (dealer), LOT_MSG_DRAW, NULL);
    s_send_drawn (dealer, "111\n", "");
    s_expect_frames (zmsg_recv (sub), LOT_MSG_WINNERS, "111\n", "", NULL);
}

//  The broker hands WORK from any front-end to the handlers (held until
//  one is there), and each RESULT to the front-end its route names, route
//  dropped; one for a front-end that is gone is dropped.
static void
test_broker_routes_results_to_their_frontend (void **state)
{
    lot_settings_t *settings = s_settings ("broker");
    s_start (lot_broker_actor);
    zsock_t *to [] = {
        s_peer (ZMQ_DEALER, settings->broker_endpoint, false),
        s_peer (ZMQ_DEALER, settings->broker_endpoint, false)
    };
    zsock_t *results = s_peer (ZMQ_PUSH, settings->results_endpoint, false);
    assert_int_equal (lot_msg_send_work (to [0], NULL, 1, 0, false, "a", 1), 0);
    zsock_t *work = s_peer (ZMQ_PULL, settings->work_endpoint, false);
    zframe_t *route [2];
    for (uint32_t i = 0; i < 2; i++) {
        if (i)
            assert_int_equal (lot_msg_send_work (to [1], NULL, 2, 0, false, "b", 1), 0);
        s_expect_work (work, i + 1, 0, false, (const uint8_t *) (i ? "b" : "a"), 1);
        route [i] = zframe_dup (s_route);
    }
    assert_false (zframe_eq (route [0], route [1]));
    zframe_t *gone = zframe_from ("gone");
    lot_result_t result = { .agency = 9, .ok = true, .reason = "" };
    assert_int_equal (lot_msg_send_result (results, gone, &result), 0);
    zframe_destroy (&gone);
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
        zframe_destroy (&route [i]);
    }
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
test_frontend_bridges_agencies (void **state)
{
    lot_settings_t *settings = s_settings ("frontend");
    zsock_t *pub = s_peer (ZMQ_PUB, settings->winners_endpoint, true);
    zsock_t *broker;
    int port = s_frontend_start (&broker);
    //  v1: the first chunk asks where the agency stands, then goes out at
    //  that position; a chunk that arrives a byte at a time goes out whole
    int agency = s_connect (port);
    int one = 1;
    setsockopt (agency, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    tu_wire_t first = s_chunk ('C', "1", s_bets, 2, false);
    tu_wire_t second = s_chunk ('L', "1", s_bets, 1, false);
    assert_int_equal (tu_send_all (agency, "B", 1), 0);
    for (size_t i = 0; i < first.size; i++)
        assert_int_equal (tu_send_all (agency, first.data + i, 1), 0);
    s_expect_work (broker, 1, 0, false, NULL, 0);
    s_answer (broker, 1, 0, true, NULL, 0, 7, false);
    s_expect_work (broker, 1, 7, false, first.data, first.size);
    s_answer (broker, 1, 7, false, NULL, 2, 9, false);
    s_expect_answers (agency, "O", NULL);
    //  Two chunks in one write: the second goes out once the first is
    //  answered, at the position a rejected chunk left as it was
    s_send (agency, tu_wire ("bb", second.data, second.size, first.data, first.size));
    s_expect_work (broker, 1, 9, false, second.data, second.size);
    //  A RESULT for another position is not this chunk's answer
    s_answer (broker, 1, 8, false, NULL, 1, 9, false);
    s_answer (broker, 1, 9, false, "agency already finished", 1, 0, false);
    s_expect_answers (agency, "agency already finished", NULL);
    s_expect_work (broker, 1, 9, false, first.data, first.size);
    //  While it is open, agency 1 is busy for anyone else (v1 and v2)
    s_refused (port, tu_wire ("1b", 'B', first.data, first.size), LOT_REASON_BUSY);
    s_refused (port, tu_wire ("12s", 'H', 2, "1"), LOT_REASON_BUSY);
    s_close (agency);
    //  Free again once that connection is gone. v3: 'H' is answered 'S',
    //  how far the agency is stored and its digest (v2's, without it, in
    //  s_hello_v2); numbered chunks go out at their own
    int resumed = -1;
    for (int tries = 0; tries < 100; tries++) {
        resumed = s_connect (port);
        s_send (resumed, tu_wire ("12s", 'H', 3, "1"));
        uint8_t tag;
        if (tu_recv_exact (resumed, &tag, 1, 50) == 0)
            break;              //  Sent to the handlers: no answer yet
        //  The front-end had not yet seen the first connection go
        assert_int_equal (tag, 'E');
        s_close (resumed);
    }
    s_expect_work (broker, 1, 0, false, NULL, 0);
    s_answer (broker, 1, 0, true, NULL, 0, 300, false);
    tu_expect_pack (resumed, "141b", 'S', 300, false, (uint8_t [LOT_DIGEST_SIZE]) { 0 },
                    (size_t) LOT_DIGEST_SIZE);
    s_send (resumed, s_numbered (300, first));
    s_expect_work (broker, 1, 300, false, first.data, first.size);
    s_answer (broker, 1, 300, false, NULL, 2, 302, false);
    s_expect_answers (resumed, "O", NULL);
    //  A chunk for another agency: 'E', and the connection is closed
    s_send (resumed, s_numbered (300, s_chunk ('C', "2", s_bets, 1, false)));
    s_expect_answers (resumed, "chunk for another agency", NULL);
    assert_true (tu_wait_closed (resumed, RECV_TIMEOUT_MS));
    s_close (resumed);
    //  A version it does not speak, undecodable bytes: 'E' and closed
    s_refused (port, tu_wire ("12s", 'H', 4, "2"), LOT_REASON_VERSION);
    s_refused (port, tu_wire ("12s", 'H', 1, "2"), LOT_REASON_VERSION);
    s_refused (port, tu_wire ("11", 'B', 'X'), "unknown message tag");
    //  A winners query for an unknown agency, or spelt "02": closed, no answer
    s_refused (port, tu_wire ("1s", 'W', "9"), NULL);
    s_refused (port, tu_wire ("1s", 'W', "02"), NULL);
    //  One is held until WINNERS, then answered with that agency's only
    int query = s_connect (port);
    s_send (query, tu_wire ("1s", 'W', "2"));
    tu_wire_t expected = tu_wire ("2ss", 2, "111", "222");
    uint8_t answer [64];
    size_t got = 0;
    for (int tries = 0; tries < 100 && got == 0; tries++) {
        //  As the coordinator does: announce again until it is heard
        zsock_send (pub, "sss", LOT_MSG_WINNERS, "999\n", "111\n222\n");
        got = tu_recv_exact (query, answer, expected.size, 50);
    }
    tu_assert_bytes (answer, got, expected.data, expected.size);
    assert_true (tu_wait_closed (query, RECV_TIMEOUT_MS));
}

//  A connection's bytes and items: taken in order, answered in any
//  order, popped in order with their bytes; never past its limit.
static void
test_conn_items (void **state)
{
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
    lot_item_t *first = lot_conn_take (conn, 3, 1, 10, 2);
    lot_item_t *query = lot_conn_take_query (conn);
    lot_item_t *second = lot_conn_take (conn, 4, 0, 12, 1);
    assert_int_equal (lot_conn_partial_at (conn), 0);
    assert_int_equal (lot_conn_items (conn), 3);
    const uint8_t *chunk = lot_conn_chunk (conn, first, &size);
    tu_assert_bytes (chunk, size, "xx", 2);
    chunk = lot_conn_chunk (conn, second, &size);
    assert_memory_equal (chunk, "yyyy", 4);
    //  A RESULT finds the oldest item it answers, and only an unanswered one
    assert_ptr_equal (lot_conn_find (conn, false, 12, 1), second);
    assert_null (lot_conn_find (conn, false, 12, 2));
    assert_ptr_equal (lot_conn_find (conn, true, 0, 0), query);
    lot_item_set_answer (second, "O", 1);
    assert_null (lot_conn_find (conn, false, 12, 1));
    //  Room again once the oldest goes, and the later chunk's bytes stay
    assert_ptr_equal (lot_conn_item (conn, 0), first);
    lot_conn_pop (conn);
    assert_int_equal (lot_conn_append (conn, "zzzzzzzzz", 9), 0);
    chunk = lot_conn_chunk (conn, second, &size);
    assert_memory_equal (chunk, "yyyy", 4);
    lot_conn_next (conn, &size);
    assert_int_equal (size, 9);
    assert_true (lot_conn_partial_at (conn) > 0);
    lot_conn_clear (conn);
    assert_int_equal (lot_conn_items (conn), 0);
    lot_conn_next (conn, &size);
    assert_int_equal (size, 0);
    lot_conn_destroy (&conn);
    assert_null (conn);

    //  One with no byte yet has no buffer: it still reads a pointer that
    //  memcpy may take (no arithmetic on NULL, which UBSan stops), and
    //  nothing to append is no change
    id = zframe_new ("\x01", 1);
    conn = lot_conn_new (&id, "peer", 0);
    assert_non_null (lot_conn_next (conn, &size));
    assert_int_equal (size, 0);
    lot_conn_skip (conn, 0);
    assert_int_equal (lot_conn_append (conn, "", 0), 0);
    assert_int_equal (lot_conn_partial_at (conn), 0);
    query = lot_conn_take_query (conn);
    assert_non_null (lot_conn_chunk (conn, query, &size));
    assert_int_equal (size, 0);
    lot_conn_destroy (&conn);
}

//  A query or chunk that gets no RESULT goes out again, the same; the
//  agency gets one answer however many RESULTs come back.
static void
test_frontend_resends_unanswered_chunks (void **state)
{
    s_settings ("resend")->resend_timeout = 100;
    zsock_t *broker;
    int agency = s_connect (s_frontend_start (&broker));
    tu_wire_t chunk = s_chunk ('C', "1", s_bets, 2, false);
    s_send (agency, tu_wire ("1b", 'B', chunk.data, chunk.size));
    s_expect_work (broker, 1, 0, false, NULL, 0);
    s_expect_work (broker, 1, 0, false, NULL, 0);
    s_answer (broker, 1, 0, true, NULL, 0, 0, false);
    s_expect_work (broker, 1, 0, false, chunk.data, chunk.size);
    s_expect_work (broker, 1, 0, false, chunk.data, chunk.size);
    s_answer (broker, 1, 0, false, NULL, 2, 2, false);
    s_answer (broker, 1, 0, false, NULL, 2, 2, false);
    s_expect_answers (agency, "O", NULL);
    //  The next goes out at the next position; only one 'O' ever came
    chunk = s_chunk ('L', "1", s_bets, 1, false);
    s_send (agency, chunk);
    s_expect_work (broker, 1, 2, false, chunk.data, chunk.size);
    s_answer (broker, 1, 2, false, "x", 1, 0, false);
    s_expect_answers (agency, "x", NULL);
}

//  Opens a v2 connection for agency and answers its hello: stored 0, in
//  v2's 'S' of 6 bytes (no digest: the chunks' 'O' come right after).
static int
s_hello_v2 (int port, uint32_t agency, zsock_t *broker)
{
    int fd = s_connect (port);
    s_send (fd, tu_wire ("12s", 'H', 2, tu_temp ("%u", agency)));
    s_expect_work (broker, agency, 0, false, NULL, 0);
    s_answer (broker, agency, 0, true, NULL, 0, 0, false);
    tu_expect_pack (fd, "141", 'S', 0, false);
    return fd;
}

//  A v2 peer sending without waiting: up to MAX_IN_FLIGHT (3) chunks go
//  out at once, numbered as the peer did, the rest wait; answers go in the
//  chunks' order, whatever their RESULTs' order; a chunk not following the
//  ones out is out of order. Past MAX_IN_FLIGHT + 1 chunks of bytes, the
//  peer is cut off.
static void
test_frontend_pipelines_v2 (void **state)
{
    s_settings ("pipeline")->max_in_flight = 3;
    zsock_t *broker;
    int port = s_frontend_start (&broker);
    int agency = s_hello_v2 (port, 1, broker);
    //  Five chunks at once: 2 bets at 0, then 1 bet each at 2, 3, 4, 5
    tu_wire_t chunks [5];
    const uint32_t positions [] = { 0, 2, 3, 4, 5 };
    for (int i = 0; i < 5; i++) {
        chunks [i] = s_numbered (positions [i], s_chunk ('C', "1", s_bets, i ? 1 : 2, true));
        s_send (agency, chunks [i]);
    }
    for (int i = 0; i < 3; i++)
        s_expect_work (broker, 1, positions [i], i > 0, CHUNK_OF (chunks [i]));
    s_answer (broker, 1, 3, false, NULL, 1, 4, false);
    s_answer (broker, 1, 2, false, "x", 1, 0, false);
    s_answer (broker, 1, 0, false, NULL, 2, 2, false);
    s_expect_answers (agency, "O", "x", "O", NULL);
    //  Room again: the two that waited, the first of them following none
    for (int i = 3; i < 5; i++)
        s_expect_work (broker, 1, positions [i], i > 3, CHUNK_OF (chunks [i]));
    //  A chunk at 9 while 5 is out: out of order, answered in its turn; the
    //  chunk at 6 after it follows 5 (its WORK shows 9 was taken before)
    tu_wire_t stray = s_numbered (9, s_chunk ('C', "1", s_bets, 1, true));
    s_send (agency, stray);
    chunks [0] = s_numbered (6, s_chunk ('C', "1", s_bets, 1, true));
    s_send (agency, chunks [0]);
    s_answer (broker, 1, 4, false, NULL, 1, 5, false);
    s_expect_work (broker, 1, 6, true, CHUNK_OF (chunks [0]));
    s_answer (broker, 1, 6, false, NULL, 1, 7, false);
    s_answer (broker, 1, 5, false, NULL, 1, 7, false);
    s_expect_answers (agency, "O", "O", "chunk out of order", "O", NULL);
    //  With nothing out, any position goes to the persister to decide
    s_send (agency, stray);
    s_expect_work (broker, 1, 9, false, CHUNK_OF (stray));
    s_answer (broker, 1, 9, false, "chunk out of order", 1, 0, false);
    s_expect_answers (agency, "chunk out of order", NULL);
    s_close (agency);
    //  Full 8 kB chunks: four at once fit (three out, one waiting)...
    int big = s_hello_v2 (port, 2, broker);
    uint32_t count = (LOT_CHUNK_MAX_DEFAULT - 6) / 45;      //  Bets of 45 bytes
    tu_wire_t full [9];
    for (uint32_t i = 0; i < 9; i++)
        full [i] = s_numbered (i * count, s_chunk ('C', "2", s_bets, count, true));
    assert_true (full [0].size > 8100);
    for (uint32_t i = 0; i < 4; i++)
        s_send (big, full [i]);
    for (uint32_t i = 0; i < 4; i++) {
        if (i == 3)
            s_answer (broker, 2, 0, false, NULL, count, count, false);
        s_expect_work (broker, 2, i * count, i > 0, CHUNK_OF (full [i]));
    }
    for (uint32_t i = 1; i < 4; i++)
        s_answer (broker, 2, i * count, false, NULL, count, (i + 1) * count, false);
    s_expect_answers (big, "O", "O", "O", "O", NULL);
    //  ... five do not: 'E', and closed
    for (uint32_t i = 4; i < 9; i++)
        tu_send_all (big, full [i].data, full [i].size);
    s_expect_answers (big, "too much data before an answer", NULL);
    assert_true (tu_wait_closed (big, RECV_TIMEOUT_MS));
}

//  Past MAX_CONNECTIONS a new connection is closed at once; the open go on.
static void
test_frontend_limits_connections (void **state)
{
    s_settings ("limit")->max_connections = 2;
    int port = s_frontend_start (NULL);
    int first = s_connect (port);
    int second = s_connect (port);
    //  A ping answered on the second proves both are registered
    assert_int_equal (tu_send_all (second, "P", 1), 0);
    uint8_t answer;
    assert_int_equal (tu_recv_exact (second, &answer, 1, RECV_TIMEOUT_MS), 1);
    assert_true (tu_wait_closed (second, RECV_TIMEOUT_MS));
    s_close (second);
    int third = s_connect (port);
    int fourth = s_connect (port);
    assert_true (tu_wait_closed (fourth, RECV_TIMEOUT_MS));
    //  The first and third still work
    int open [] = { third, first };
    for (int i = 0; i < 2; i++) {
        assert_int_equal (tu_send_all (open [i], "P", 1), 0);
        s_expect_answers (open [i], "O", NULL);
    }
}

//  An agency that sends and never reads its answers: once 64 KiB of them
//  wait, the front-end takes no more of its bytes, and SEND_TIMEOUT later
//  ends it, or such peers would hold a descriptor each for ever.
static void
test_frontend_ends_a_peer_that_does_not_read (void **state)
{
    s_settings ("deaf")->send_timeout = 100;
    //  Its bytes all fit in its buffer: what stops it is its answers
    s_rig.settings->max_chunk_bytes = 1 << 20;
    s_rig.dir = tu_tempdir ("deaf");
    int port = s_frontend_start (NULL);
    //  A small window, and small segments: the kernel sizes the front-end's
    //  send buffer by them (on loopback's 64 kB ones it holds megabytes)
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    int window = 2048, segment = 536;
    assert_int_equal (setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &window, sizeof window), 0);
    assert_int_equal (setsockopt (fd, IPPROTO_TCP, TCP_MAXSEG, &segment, sizeof segment), 0);
    struct sockaddr_in address = {
        .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
        .sin_addr.s_addr = htonl (INADDR_LOOPBACK)
    };
    assert_int_equal (connect (fd, (struct sockaddr *) &address, sizeof address), 0);
    s_rig.fds [s_rig.fd_count++] = fd;
    //  'B', then 50,000 chunks of no agency: 300 kB, each answered with an
    //  'E' of 17 bytes
    tu_wire_t one = { .size = 0 };
    tu_wire_chunk (&one, 'C', 0, "9");
    size_t size = 1 + 50000 * one.size;
    uint8_t *bytes = tu_temp_own (malloc (size));
    bytes [0] = 'B';
    for (size_t i = 1; i < size; i += one.size)
        memcpy (bytes + i, one.data, one.size);
    char *log = tu_temp ("%s/log", s_rig.dir);
    tu_capture_t capture = tu_capture_begin (1, log);
    int sent = tu_send_all (fd, bytes, size);
    bool cut = tu_wait_for_text (log, "reason: agency not reading its answers", RECV_TIMEOUT_MS);
    bool ended = tu_wait_closed (fd, RECV_TIMEOUT_MS);
    free (tu_capture_end (capture));
    assert_int_equal (sent, 0);
    assert_true (cut);
    assert_true (ended);
}

#define TEST(function) cmocka_unit_test_teardown (function, s_teardown)

int
main (void)
{
    const struct CMUnitTest tests [] = {
        TEST (test_handler_valid_and_invalid),
        TEST (test_persister_stores_confirms_and_draws),
        TEST (test_coordinator_draws_once_all_are_done),
        TEST (test_conn_items),
        TEST (test_frontend_bridges_agencies),
        TEST (test_actor_restarts_bind_at_once),
        TEST (test_signals_leave_monitors_running),
        TEST (test_binder_listens_where_its_endpoint_says),
        TEST (test_events_logged_while_the_owner_waits),
        TEST (test_persister_remembers_across_restarts),
        TEST (test_persister_waits_for_earlier_chunks),
        TEST (test_persister_answers_each_frontend),
        TEST (test_broker_routes_results_to_their_frontend),
        TEST (test_frontend_resends_unanswered_chunks),
        TEST (test_frontend_pipelines_v2),
        TEST (test_frontend_limits_connections),
        TEST (test_frontend_ends_a_peer_that_does_not_read),
    };
    return cmocka_run_group_tests_name ("actors", tests, NULL, NULL);
}
