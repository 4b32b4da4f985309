/*  test_auth - only an agency speaks for itself: enrolled keys, the CURVE port, the attacks

    Each test enrolls five agencies with bin/lottery-enroll, starts the
    embedded server with AGENCY_AUTH on, and runs the real agencies
    (bin/lottery-client, the real data, their keys) beside an attacker:
    an impostor without a key, with another agency's, with a revoked one,
    a replay of a recorded session, a winners query for another agency,
    a server with the wrong key, and a wiretap. What is checked is what
    a lottery would: each agency's lines in the bets file are its data,
    in order; its winners; the refusals on the wire and in the log.
*/
#include "lot_codec.h"
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_TIMEOUT_MS 120000
#define ENV(...) ((char *const []) { __VA_ARGS__, NULL })

static const int s_winners [] = { 0, 2, 3, 3, 2, 0 };     //  By agency, real data
static char *s_data [6];        //  The real data files, by agency

//  ---------------------------------------------------------------------
//  The server, the agencies

typedef struct {
    tu_proc_t *proc;
    int port;                   //  The plain agencies' port
    int secure;                 //  The CURVE port
} server_t;

//  The port of the socket_open line of a socket, as bound.
static int
s_bound_port (const char *log, const char *socket)
{
    char *where = tu_printf ("| socket: %s | mode: bind", socket);
    char *endpoint = tu_log_value (log, PARTS ("action: socket_open | result: success", where),
                                   "endpoint", 20000);
    free (where);
    assert_non_null (endpoint);
    int port = atoi (strrchr (endpoint, ':') + 1);
    free (endpoint);
    return port;
}

//  The embedded server, AGENCY_AUTH as given, the front-end's key and the
//  enrolled agencies from dir (bin/lottery-enroll's), logging to log.
static server_t
s_server_start (const char *auth, const char *dir, const char *log)
{
    char *program = tu_program ("lottery-server");
    char *mode = tu_printf ("AGENCY_AUTH=%s", auth);
    char *cert = tu_printf ("AGENCY_CERT=%s/server/secret/agencies", dir);
    char *keys = tu_printf ("AGENCY_KEYS=%s/server/enrolled", dir);
    char *bets = tu_printf ("BETS_FILE=%s.csv", dir);
    server_t server = {
        .proc = tu_spawn (tu_dir (), (char *[]) { program, NULL },
                          ENV ("SERVER_PORT=0", "SECURE_PORT=0", "BETS_FSYNC=false",
                               "AGENCIES=5", mode, cert, keys, bets), log)
    };
    server.port = s_bound_port (log, "agencies");
    server.secure = s_bound_port (log, "agencies_curve");
    free (program), free (mode), free (cert), free (keys), free (bets);
    return server;
}

//  Stops the server with SIGTERM: it must exit 0.
static void
s_server_stop (server_t *server)
{
    assert_int_equal (tu_stop (server->proc, SIGTERM, 10000), 0);
    tu_proc_destroy (&server->proc);
}

static void
s_enroll (const char *dir, const char *how, const char *agencies)
{
    char *program = tu_program ("lottery-enroll");
    char *argv [] = { program, (char *) dir, (char *) how, (char *) agencies, NULL };
    if (!agencies)
        argv [2] = (char *) how, argv [3] = NULL;
    tu_proc_t *proc = tu_spawn (tu_dir (), argv, NULL, "enroll.log");
    assert_int_equal (tu_wait (proc, 10000), 0);
    tu_proc_destroy (&proc);
    free (program);
}

//  Agency's client on its real data, logging to client-AGENCY.log: with
//  the key in keys (a directory of bin/lottery-enroll's: agency_secret,
//  server.pub) through the CURVE port, or with keys NULL on the plain
//  port; pinned overrides the server key it pins.
static tu_proc_t *
s_client (int agency, const char *keys, const char *pinned, server_t *server)
{
    char *program = tu_program ("lottery-client");
    char *env [12] = {
        tu_printf ("CLI_ID=%d", agency),
        tu_printf ("CLI_DATA_FILE=%s", s_data [agency]),
        tu_printf ("CLI_SERVER_ADDRESS=127.0.0.1:%d", server->port),
        tu_printf ("CLI_AUTH_ADDRESS=127.0.0.1:%d", server->secure),
        tu_printf ("CLI_LOOP_PERIOD=100ms"),
        tu_printf ("CLI_LOOP_AMOUNT=2"),
    };
    if (keys) {
        env [6] = tu_printf ("CLI_AUTH_CERT=%s/agency_secret", keys);
        env [7] = pinned ? tu_printf ("CLI_AUTH_SERVER=%s", pinned)
                         : tu_printf ("CLI_AUTH_SERVER=%s/server.pub", keys);
    }
    char *log = tu_printf ("client-%d.log", agency);
    tu_proc_t *proc = tu_spawn (tu_dir (), (char *[]) { program, NULL }, env, log);
    for (size_t i = 0; env [i]; i++)
        free (env [i]);
    free (program), free (log);
    return proc;
}

//  The client of an agency that must fail: exit status 1 and a fail line
//  with this reason.
static void
s_expect_client_fails (int agency, const char *keys, const char *pinned, server_t *server,
                       const char *reason)
{
    tu_proc_t *client = s_client (agency, keys, pinned, server);
    assert_int_equal (tu_wait (client, RUN_TIMEOUT_MS), 1);
    tu_proc_destroy (&client);
    char *log = tu_printf ("client-%d.log", agency);
    if (!tu_wait_for_lines (log, PARTS ("| result: fail |", reason), 1, 0)) {
        char *text = tu_read_file (log, NULL);
        fail_msg ("no fail line with '%s' in %s:\n%s", reason, log, text);
    }
    free (log);
}

//  Runs the five agencies, those before plain with their own keys, the
//  others on the plain port, and asserts each ends well with its winners.
static void
s_run_agencies (int plain, server_t *server)
{
    tu_proc_t *clients [6] = { NULL };
    for (int agency = 1; agency <= 5; agency++) {
        char *keys = tu_printf ("keys/agency-%d", agency);
        clients [agency] = s_client (agency, agency < plain ? keys : NULL, NULL, server);
        free (keys);
    }
    for (int agency = 1; agency <= 5; agency++) {
        tu_case ("agency %d", agency);
        assert_int_equal (tu_wait (clients [agency], RUN_TIMEOUT_MS), 0);
        char *log = tu_printf ("client-%d.log", agency);
        char *winners = tu_log_value (log, PARTS ("action: consulta_ganadores | result: success"),
                                      "cant_ganadores", 0);
        assert_non_null (winners);
        assert_int_equal (atoi (winners), s_winners [agency]);
        free (winners), free (log);
        tu_proc_destroy (&clients [agency]);
    }
    tu_case_done ();
}

//  The agency's lines of the bets file are its data file's, each once,
//  in order.
static void
s_expect_stored (const char *bets_path, int agency)
{
    char *bets = tu_read_file (bets_path, NULL);
    char *data = tu_read_file (s_data [agency], NULL);
    assert_non_null (bets);
    assert_non_null (data);
    char *prefix = tu_printf ("%d,", agency);
    size_t matched = 0;
    char *want = data, *line = bets;
    while (*line) {
        char *end = strchr (line, '\n');
        assert_non_null (end);
        if (strncmp (line, prefix, strlen (prefix)) == 0) {
            char *want_end = strchr (want, '\n');
            if (!want_end)
                fail_msg ("agency %d has more bets stored than in its data", agency);
            size_t size = (size_t) (want_end - want);
            if ((size_t) (end - line) != strlen (prefix) + size
            ||  memcmp (line + strlen (prefix), want, size) != 0)
                fail_msg ("agency %d's stored bet %zu is not its data's", agency, matched + 1);
            want = want_end + 1;
            matched++;
        }
        line = end + 1;
    }
    if (*want)
        fail_msg ("agency %d: %zu bets stored, fewer than its data holds", agency, matched);
    free (prefix), free (bets), free (data);
}

//  ---------------------------------------------------------------------
//  An attacker's tools

//  A DEALER with agency key's certificate, pinning the server key of
//  keys/agency-KEY, connected to the CURVE port.
static zsock_t *
s_dealer (int key, server_t *server)
{
    char *path = tu_printf ("keys/agency-%d/agency_secret", key);
    char *pinned = tu_printf ("keys/agency-%d/server.pub", key);
    zcert_t *cert = zcert_load (path);
    zcert_t *server_cert = zcert_load (pinned);
    assert_non_null (cert);
    assert_non_null (server_cert);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zcert_apply (cert, dealer);
    zsock_set_curve_serverkey (dealer, zcert_public_txt (server_cert));
    zsock_set_rcvtimeo (dealer, 10000);
    assert_int_equal (zsock_connect (dealer, "tcp://127.0.0.1:%d", server->secure), 0);
    zcert_destroy (&cert), zcert_destroy (&server_cert);
    free (path), free (pinned);
    return dealer;
}

//  Expects the next frame to be 'E' with reason, then the empty frame
//  that closes.
static void
s_expect_refused (zsock_t *dealer, const char *reason)
{
    tu_wire_t want = { .size = 0 };
    tu_wire_byte (&want, 'E');
    tu_wire_str (&want, reason);
    zframe_t *frame = zframe_recv (dealer);
    assert_non_null (frame);
    tu_assert_bytes (zframe_data (frame), zframe_size (frame), want.data, want.size);
    zframe_destroy (&frame);
    frame = zframe_recv (dealer);
    assert_non_null (frame);
    assert_int_equal (zframe_size (frame), 0);
    zframe_destroy (&frame);
}

//  'H' 3 and the agency, as protocol.md lays it out.
static tu_wire_t
s_hello (const char *agency)
{
    tu_wire_t wire = { .size = 0 };
    tu_wire_byte (&wire, 'H');
    tu_wire_u16 (&wire, 3);
    tu_wire_str (&wire, agency);
    return wire;
}

//  A TCP relay from a port of its own to target, keeping every byte that
//  crosses it (both ways, in one record), for as long as the test runs.
typedef struct {
    int listener;
    int port;
    int target;
    zchunk_t *record;           //  What crossed, client's and server's
    zchunk_t *sent;             //  The client's bytes alone
    pthread_mutex_t lock;
    volatile bool stop;
    pthread_t thread;
} tap_t;

static void *
s_tap_run (void *arg)
{
    tap_t *tap = arg;
    while (!tap->stop) {
        struct pollfd wait = { .fd = tap->listener, .events = POLLIN };
        if (poll (&wait, 1, 50) <= 0)
            continue;
        int ends [2] = { accept (tap->listener, NULL, NULL), tu_connect (tap->target, 5000) };
        while (!tap->stop && ends [0] >= 0 && ends [1] >= 0) {
            struct pollfd items [2] = { { .fd = ends [0], .events = POLLIN },
                                        { .fd = ends [1], .events = POLLIN } };
            if (poll (items, 2, 50) <= 0)
                continue;
            int from = items [0].revents ? 0 : 1;
            uint8_t buffer [65536];
            ssize_t size = read (ends [from], buffer, sizeof buffer);
            if (size <= 0 || tu_send_all (ends [1 - from], buffer, (size_t) size))
                break;
            pthread_mutex_lock (&tap->lock);
            zchunk_extend (tap->record, buffer, (size_t) size);
            if (from == 0)
                zchunk_extend (tap->sent, buffer, (size_t) size);
            pthread_mutex_unlock (&tap->lock);
        }
        close (ends [0]), close (ends [1]);
    }
    return NULL;
}

static tap_t *
s_tap_new (int target)
{
    tap_t *tap = calloc (1, sizeof *tap);
    tap->target = target;
    tap->record = zchunk_new (NULL, 0);
    tap->sent = zchunk_new (NULL, 0);
    pthread_mutex_init (&tap->lock, NULL);
    tap->listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET,
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t size = sizeof address;
    assert_int_equal (bind (tap->listener, (struct sockaddr *) &address, size), 0);
    assert_int_equal (listen (tap->listener, 8), 0);
    getsockname (tap->listener, (struct sockaddr *) &address, &size);
    tap->port = ntohs (address.sin_port);
    pthread_create (&tap->thread, NULL, s_tap_run, tap);
    return tap;
}

static void
s_tap_destroy (tap_t **tap_p)
{
    tap_t *tap = *tap_p;
    tap->stop = true;
    pthread_join (tap->thread, NULL);
    close (tap->listener);
    zchunk_destroy (&tap->record);
    zchunk_destroy (&tap->sent);
    free (tap);
    *tap_p = NULL;
}

//  How many of the real data's document numbers appear in bytes, as a
//  run of digits of their own.
static size_t
s_documents_in (const uint8_t *bytes, size_t size)
{
    zhashx_t *documents = zhashx_new ();
    for (int agency = 1; agency <= 5; agency++) {
        char *data = tu_read_file (s_data [agency], NULL);
        for (char *line = strtok (data, "\n"); line; line = strtok (NULL, "\n")) {
            char *field = strchr (strchr (line, ',') + 1, ',') + 1;
            *strchr (field, ',') = 0;
            zhashx_update (documents, field, (void *) 1);
        }
        free (data);
    }
    size_t found = 0;
    for (size_t at = 0; at < size; ) {
        size_t run = 0;
        while (at + run < size && bytes [at + run] >= '0' && bytes [at + run] <= '9' && run < 16)
            run++;
        if (run >= 7) {
            char text [17];
            memcpy (text, bytes + at, run);
            text [run] = 0;
            found += zhashx_lookup (documents, text) != NULL;
        }
        at += run ? run : 1;
    }
    zhashx_destroy (&documents);
    return found;
}

//  ---------------------------------------------------------------------
//  The attacks

static size_t
s_reloads (const char *actor)
{
    char *log = tu_read_file ("server.log", NULL);
    char *who = tu_printf ("| actor: %s |", actor);
    size_t count = tu_count_lines (log, PARTS ("action: agencias_inscriptas | result: success",
                                               who));
    free (log), free (who);
    return count;
}

//  Waits until both the ZAP handler and the front-end read the enrolled
//  agencies again, after they had read them as often as given.
static void
s_expect_reloaded (size_t zap, size_t frontend)
{
    for (int waited = 0; s_reloads ("zap") <= zap || s_reloads ("frontend") <= frontend;
         waited += 10) {
        if (waited > 10000)
            fail_msg ("the enrolled agencies were not read again");
        usleep (10000);
    }
}

//  With every agency required to prove its key, a stranger on the plain
//  port can neither take agency 1's place nor store, nor read its
//  winners; the real agencies all finish with exactly their bets.
static void
test_impostor_without_a_key (void **state)
{
    (void) state;
    s_enroll ("keys", "--agencies", "5");
    server_t server = s_server_start ("required", "keys", "server.log");
    //  First, as in the issue: 'H' for agency 1 on the plain port
    int plain = tu_connect (server.port, 5000);
    tu_wire_t hello = s_hello ("1");
    assert_int_equal (tu_send_all (plain, hello.data, hello.size), 0);
    tu_wire_t refused = { .size = 0 };
    tu_wire_byte (&refused, 'E');
    tu_wire_str (&refused, "this agency must prove its key on the secure port");
    tu_expect_bytes (plain, refused.data, refused.size);
    assert_true (tu_wait_closed (plain, 5000));
    close (plain);
    //  A v1 chunk of made-up bets
    plain = tu_connect (server.port, 5000);
    tu_wire_t chunk = { .size = 0 };
    tu_wire_byte (&chunk, 'B');
    tu_wire_chunk (&chunk, 'L', 1, "1");
    tu_wire_bet (&chunk, (const char *const []) { "Falso", "Impostor", "99999999",
                                                 "1990-01-01", "7574" });
    assert_int_equal (tu_send_all (plain, chunk.data, chunk.size), 0);
    tu_expect_bytes (plain, refused.data, refused.size);
    close (plain);
    s_run_agencies (6, &server);
    //  A winners query on the plain port: closed, unanswered
    plain = tu_connect (server.port, 5000);
    tu_wire_t query = { .size = 0 };
    tu_wire_byte (&query, 'W');
    tu_wire_str (&query, "3");
    assert_int_equal (tu_send_all (plain, query.data, query.size), 0);
    assert_true (tu_wait_closed (plain, 5000));
    close (plain);
    for (int agency = 1; agency <= 5; agency++)
        s_expect_stored ("keys.csv", agency);
    s_server_stop (&server);
    char *log = tu_read_file ("server.log", NULL);
    assert_int_equal (tu_count_lines (log, PARTS ("action: conexion | result: fail | reason: this"
                                                  " agency must prove its key on the secure port"
                                                  " | agencia: 1")), 2);
    assert_int_equal (tu_count_lines (log, PARTS ("action: apuesta_recibida | result: fail"
                                                  " | cantidad: 1 | reason: this agency must")), 1);
    assert_int_equal (tu_count_lines (log, PARTS ("action: consulta_ganadores | result: fail"
                                                  " | reason: this agency must")), 1);
    assert_int_equal (tu_count_lines (log, PARTS ("action: agencia_conectada")), 5);
    free (log);
}

//  Agency 2's key speaks for agency 2 only: not for agency 1's bets, nor
//  its winners. Per agency, an agency without a key speaks as before.
static void
test_another_agencys_key (void **state)
{
    (void) state;
    s_enroll ("keys", "1", "2");
    s_enroll ("keys", "3", NULL);
    server_t server = s_server_start ("per-agency", "keys", "server.log");
    zsock_t *dealer = s_dealer (2, &server);
    tu_wire_t hello = s_hello ("1");
    assert_int_equal (zsock_send (dealer, "b", hello.data, hello.size), 0);
    s_expect_refused (dealer, "this key speaks for another agency");
    zsock_destroy (&dealer);
    dealer = s_dealer (2, &server);
    tu_wire_t chunk = { .size = 0 };
    tu_wire_byte (&chunk, 'B');
    tu_wire_chunk (&chunk, 'L', 1, "1");
    tu_wire_bet (&chunk, (const char *const []) { "Falso", "Impostor", "99999999",
                                                 "1990-01-01", "7574" });
    assert_int_equal (zsock_send (dealer, "b", chunk.data, chunk.size), 0);
    s_expect_refused (dealer, "this key speaks for another agency");
    zsock_destroy (&dealer);
    //  Agencies 1 to 3 with their keys, 4 and 5 without (they have none)
    s_run_agencies (4, &server);
    //  After the draw, agency 2's key asks for agency 1's winners
    dealer = s_dealer (2, &server);
    tu_wire_t query = { .size = 0 };
    tu_wire_byte (&query, 'W');
    tu_wire_str (&query, "1");
    assert_int_equal (zsock_send (dealer, "b", query.data, query.size), 0);
    s_expect_refused (dealer, "this key speaks for another agency");
    zsock_destroy (&dealer);
    //  Agency 1 itself on the plain port: it has a key, it must use it
    s_expect_client_fails (1, NULL, NULL, &server, "reason: rejected by the server: this agency"
                           " must prove its key on the secure port");
    //  Revoked (its key stolen, say), it has no key on file but needs one
    //  still: the plain port does not take whoever names it
    size_t zap = s_reloads ("zap"), frontend = s_reloads ("frontend");
    s_enroll ("keys", "--revoke", "1");
    s_expect_reloaded (zap, frontend);
    s_expect_client_fails (1, NULL, NULL, &server, "reason: rejected by the server: this agency"
                           " must prove its key on the secure port");
    for (int agency = 1; agency <= 5; agency++)
        s_expect_stored ("keys.csv", agency);
    s_server_stop (&server);
}

//  An agency whose link died is not locked out by its stale connection:
//  the one its key makes next replaces it.
static void
test_stale_connection_replaced (void **state)
{
    (void) state;
    s_enroll ("keys", "--agencies", "5");
    server_t server = s_server_start ("required", "keys", "server.log");
    zsock_t *stale = s_dealer (1, &server);
    tu_wire_t hello = s_hello ("1");
    assert_int_equal (zsock_send (stale, "b", hello.data, hello.size), 0);
    tu_wire_t stored = { .size = 0 };
    tu_wire_byte (&stored, 'S');
    tu_wire_u32 (&stored, 0);
    tu_wire_byte (&stored, 0);
    tu_wire_digest (&stored, "");
    zframe_t *frame = zframe_recv (stale);
    assert_non_null (frame);
    tu_assert_bytes (zframe_data (frame), zframe_size (frame), stored.data, stored.size);
    zframe_destroy (&frame);
    //  It says nothing more, and does not close
    s_run_agencies (6, &server);
    s_expect_refused (stale, "replaced by a newer connection of its agency");
    zsock_destroy (&stale);
    s_expect_stored ("keys.csv", 1);
    assert_true (tu_wait_for_lines ("server.log", PARTS ("action: conexion | result: success"
                                    " | reason: replaced by a newer connection of its agency"
                                    " | agencia: 1"), 1, 0));
    s_server_stop (&server);
}

//  On the wire: no document of the real data crosses the CURVE port in
//  the clear (on the plain port they do, which shows the search finds
//  them), and a recorded session sent again stores nothing, its
//  handshake refused.
static void
test_wiretap_and_replay (void **state)
{
    (void) state;
    s_enroll ("keys", "1", "2");
    s_enroll ("keys", "3", NULL);
    server_t server = s_server_start ("per-agency", "keys", "server.log");
    tap_t *secure = s_tap_new (server.secure);
    tap_t *plain = s_tap_new (server.port);
    server_t tapped = { .port = plain->port, .secure = secure->port };
    tu_proc_t *clients [6];
    for (int agency = 1; agency <= 5; agency++) {
        char *keys = tu_printf ("keys/agency-%d", agency);
        //  Agency 1 on the CURVE port, agency 4 on the plain one, through the taps
        clients [agency] = s_client (agency, agency <= 3 ? keys : NULL, NULL,
                                     agency == 1 || agency == 4 ? &tapped : &server);
        free (keys);
    }
    for (int agency = 1; agency <= 5; agency++) {
        assert_int_equal (tu_wait (clients [agency], RUN_TIMEOUT_MS), 0);
        tu_proc_destroy (&clients [agency]);
    }
    //  Agency 4's documents, in the clear
    pthread_mutex_lock (&plain->lock);
    assert_true (s_documents_in (zchunk_data (plain->record), zchunk_size (plain->record)) >= 9000);
    pthread_mutex_unlock (&plain->lock);
    s_tap_destroy (&plain);
    pthread_mutex_lock (&secure->lock);
    size_t seen = zchunk_size (secure->record);
    assert_true (seen > 100000);    //  Agency 1's bets crossed it
    assert_int_equal (s_documents_in (zchunk_data (secure->record), seen), 0);
    pthread_mutex_unlock (&secure->lock);
    char *bets = tu_read_file ("keys.csv", NULL);
    //  The replay: agency 1's bytes again, on a new connection
    int replay = tu_connect (server.secure, 5000);
    tu_send_all (replay, zchunk_data (secure->sent), zchunk_size (secure->sent));
    assert_true (tu_wait_closed (replay, 10000));
    close (replay);
    assert_true (tu_wait_for_lines ("server.log", PARTS ("action: zmq_evento | result: fail"
                                    " | actor: frontend | socket: agencies_curve"
                                    " | event: HANDSHAKE_FAILED"), 1, 10000));
    s_server_stop (&server);
    char *after = tu_read_file ("keys.csv", NULL);
    assert_string_equal (after, bets);
    for (int agency = 1; agency <= 5; agency++)
        s_expect_stored ("keys.csv", agency);
    char *log = tu_read_file ("server.log", NULL);
    assert_int_equal (tu_count_lines (log, PARTS ("action: agencia_conectada")), 5);
    free (log), free (bets), free (after);
    s_tap_destroy (&secure);
}

//  A man in the middle, a server with another key than the one agency 1
//  pins: the agency says nothing to it and fails, and it stores nothing.
static void
test_server_with_the_wrong_key (void **state)
{
    (void) state;
    s_enroll ("keys", "1", NULL);
    s_enroll ("other", "1", NULL);
    assert_int_equal (system ("cp keys/server/enrolled/agency-1.pub other/server/enrolled/"), 0);
    server_t impostor = s_server_start ("required", "other", "impostor.log");
    s_expect_client_fails (1, "keys/agency-1", NULL, &impostor, "reason: the CURVE handshake"
                           " failed: the server did not prove the key auth.server pins");
    s_server_stop (&impostor);
    char *log = tu_read_file ("impostor.log", NULL);
    assert_int_equal (tu_count_lines (log, PARTS ("action: agencia_conectada")), 0);
    assert_int_equal (tu_count_lines (log, PARTS ("action: apuesta_recibida")), 0);
    free (log);
    char *bets = tu_read_file ("other.csv", NULL);
    assert_true (!bets || !*bets);
    free (bets);
}

//  How many times an actor read the enrolled agencies.
//  A revoked key and a rotated one let no new connection in; an agency
//  enrolled again, and the new key, do. SIGHUP reads the directory at
//  once; a change is seen within a second without it.
static void
test_revoked_and_rotated_keys (void **state)
{
    (void) state;
    s_enroll ("keys", "--agencies", "5");
    assert_int_equal (system ("cp -r keys/agency-4 old-4"), 0);
    server_t server = s_server_start ("required", "keys", "server.log");
    //  SIGHUP, nothing changed: read again all the same
    kill (server.proc->pid, SIGHUP);
    s_expect_reloaded (0, 0);
    assert_true (tu_wait_for_lines ("server.log", PARTS ("action: agencias_inscriptas | result:"
                                    " success | actor: zap | dir: keys/server/enrolled"
                                    " | agencias: 5 | claves: 5"), 1, 0));
    //  A signal may land in any thread: in the key check's it neither stops
    //  the check (libzmq would let every key in) nor goes unheeded
    pid_t checker = tu_thread (server.proc->pid, "zap");
    assert_true (checker > 0);
    size_t reads = s_reloads ("zap");
    for (int i = 0; i < 3; i++)
        assert_int_equal (tgkill (server.proc->pid, checker, SIGHUP), 0);
    s_expect_reloaded (reads, s_reloads ("frontend"));
    assert_int_equal (tu_thread (server.proc->pid, "zap"), checker);
    s_enroll ("keys", "--revoke", "3");
    s_expect_reloaded (s_reloads ("zap"), s_reloads ("frontend"));
    s_expect_client_fails (3, "keys/agency-3", NULL, &server,
                           "reason: the server refused this agency's key (not enrolled,"
                           " or revoked)");
    assert_true (tu_wait_for_lines ("server.log", PARTS ("action: autenticacion | result: fail"
                                    " | reason: the key is no enrolled agency's | peer: 127.0.0.1"),
                                    1, 0));
    size_t zap = s_reloads ("zap"), frontend = s_reloads ("frontend");
    s_enroll ("keys", "--rotate", "4");
    s_enroll ("keys", "3", NULL);
    s_expect_reloaded (zap, frontend);
    s_expect_client_fails (4, "old-4", NULL, &server,
                           "reason: the server refused this agency's key (not enrolled,"
                           " or revoked)");
    s_run_agencies (6, &server);
    for (int agency = 1; agency <= 5; agency++)
        s_expect_stored ("keys.csv", agency);
    s_server_stop (&server);
}

//  What the server and the client say of keys they cannot use, before
//  they start: one line, and exit status 1 (the server, nothing bound)
//  or 2 (the client, as for any setting).
static void
test_keys_that_cannot_be_used (void **state)
{
    (void) state;
    s_enroll ("keys", "1", "2");
    assert_int_equal (system ("mkdir bad && cp keys/agency-1/agency_secret bad/leak.pub"
                              " && cp -r keys/server/enrolled twice"
                              " && cp keys/server/enrolled/agency-1.pub twice/again.pub"
                              " && sed -i 's/agency = \"1\"/agency = \"2\"/'"
                              " twice/again.pub"
                              " && mkdir far && cp keys/server/enrolled/agency-2.pub far/"
                              " && sed -i 's/agency = \"2\"/agency = \"9\"/' far/agency-2.pub"), 0);
    struct {
        const char *env [3], *reason;
    } server_cases [] = {
        { { "AGENCY_AUTH=sometimes" }, "AGENCY_AUTH (AGENCY_AUTH) is 'sometimes': expected off,"
          " per-agency or required" },
        { { "AGENCY_AUTH=required" }, "AGENCY_AUTH is required: AGENCY_CERT and AGENCY_KEYS are"
          " needed" },
        { { "AGENCY_AUTH=per-agency", "AGENCY_CERT=keys/server/public/agencies.pub",
            "AGENCY_KEYS=keys/server/enrolled" }, "AGENCY_CERT: keys/server/public/agencies.pub"
          " holds no secret key (a public certificate?)" },
        { { "AGENCY_AUTH=required", "AGENCY_CERT=keys/server/secret/agencies",
            "AGENCY_KEYS=bad" }, "AGENCY_KEYS: bad/leak.pub holds a secret key: public"
          " certificates only" },
        { { "AGENCY_AUTH=required", "AGENCY_CERT=keys/server/secret/agencies",
            "AGENCY_KEYS=twice" }, "its key is agency" },
        { { "AGENCY_AUTH=required", "AGENCY_CERT=keys/server/secret/agencies",
            "AGENCY_KEYS=far" }, "AGENCY_KEYS: far/agency-2.pub names no agency from 1 to 5 in"
          " its metadata (agency = \"N\")" },
    };
    char *server = tu_program ("lottery-server");
    for (size_t i = 0; i < sizeof server_cases / sizeof server_cases [0]; i++) {
        tu_case ("%s", server_cases [i].reason);
        char *log = tu_printf ("server-%zu.log", i);
        char *const *env = (char *const *) server_cases [i].env;
        tu_proc_t *proc = tu_spawn (tu_dir (), (char *[]) { server, NULL },
                                    ENV ("SERVER_PORT=0", "AGENCIES=5", env [0],
                                         env [1] ? env [1] : "NONE=", env [2] ? env [2] : "NONE="),
                                    log);
        assert_int_equal (tu_wait (proc, 10000), 1);
        tu_proc_destroy (&proc);
        assert_true (tu_wait_for_lines (log, PARTS ("action: config | result: fail",
                                                    server_cases [i].reason), 1, 0));
        assert_false (tu_wait_for_text (log, "socket_open", 0));
        free (log);
    }
    struct {
        const char *env [3], *reason;
    } client_cases [] = {
        { { "CLI_AUTH_CERT=keys/agency-1/agency_secret" }, "auth.cert (CLI_AUTH_CERT) needs"
          " auth.server (CLI_AUTH_SERVER): the server's public certificate" },
        { { "CLI_AUTH_CERT=keys/agency-1/agency_secret", "CLI_AUTH_SERVER=keys/agency-1/server.pub",
            "CLI_PROTOCOL_VERSION=1" }, "auth.cert (CLI_AUTH_CERT) needs protocol.version 3" },
        { { "CLI_AUTH_CERT=keys/agency-1/agency_secret", "CLI_AUTH_SERVER=keys/agency-1/server.pub",
            "CLI_PROTOCOL_VERSION=2" }, "auth.cert (CLI_AUTH_CERT) needs protocol.version 3" },
        { { "CLI_AUTH_CERT=keys/agency-1/server.pub", "CLI_AUTH_SERVER=keys/agency-1/server.pub" },
          "auth.cert (CLI_AUTH_CERT): keys/agency-1/server.pub holds no secret key" },
        { { "CLI_AUTH_CERT=keys/agency-1/agency_secret", "CLI_AUTH_SERVER=nowhere.pub" },
          "auth.server (CLI_AUTH_SERVER): cannot read nowhere.pub: No such file or directory" },
    };
    char *client = tu_program ("lottery-client");
    for (size_t i = 0; i < sizeof client_cases / sizeof client_cases [0]; i++) {
        tu_case ("%s", client_cases [i].reason);
        char *const *env = (char *const *) client_cases [i].env;
        tu_proc_t *proc = tu_spawn (tu_dir (), (char *[]) { client, NULL },
                                    ENV ("CLI_ID=1", env [0], env [1] ? env [1] : "NONE=",
                                         env [2] ? env [2] : "NONE="), "client.log");
        assert_int_equal (tu_wait (proc, 10000), 2);
        tu_proc_destroy (&proc);
        assert_true (tu_wait_for_lines ("client.log", PARTS ("action: config | result: fail",
                                                             client_cases [i].reason), 1, 0));
    }
    tu_case_done ();
    free (server), free (client);
}

int
main (void)
{
    tu_bin_dir_absolute ();
    for (int agency = 1; agency <= 5; agency++)
        if (!(s_data [agency] = tu_shared_data (agency))) {
            printf ("test_auth: no real data (../shared/data): skipped\n");
            return 0;
        }
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_impostor_without_a_key, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown (test_another_agencys_key, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown (test_revoked_and_rotated_keys, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown (test_stale_connection_replaced, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown (test_wiretap_and_replay, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown (test_server_with_the_wrong_key, tu_dir_setup, tu_dir_teardown),
        cmocka_unit_test_setup_teardown (test_keys_that_cannot_be_used, tu_dir_setup, tu_dir_teardown),
    };
    int failed = cmocka_run_group_tests_name ("auth", tests, NULL, NULL);
    for (int agency = 1; agency <= 5; agency++)
        free (s_data [agency]);
    return failed;
}
