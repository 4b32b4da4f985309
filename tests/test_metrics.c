/*  test_metrics - what the server counts, scraped as Prometheus would

    The registry's text exposition, byte for byte; the exporter's HTTP
    answers; then the embedded server on the real data (five agencies,
    the real bin/lottery-client) with METRICS_PORT set, scraped during
    and after the run: the counters agree exactly with the bets file
    (bets per agency), the log (chunks rejected, by reason) and the
    winners, promtool accepts the text, and scrapers that never read
    stall nothing.
*/
#include "lot_codec.h"
#include "lot_exporter.h"
#include "lot_metrics.h"
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RUN_TIMEOUT_MS 120000
#define HTTP_TIMEOUT_MS 10000
#define STALLED_SCRAPERS 8
#define ENV(...) ((char *const []) { __VA_ARGS__, NULL })

static const int s_winners [] = { 0, 2, 3, 3, 2, 0 };     //  By agency, real data
static char *s_data [6];        //  The real data files, by agency
static bool s_real_data;        //  All five are there

//  The body of GET /metrics, which must answer 200.
static char *
s_scrape (int port)
{
    int status = 0;
    char *answer = tu_http (port, "GET /metrics", &status, HTTP_TIMEOUT_MS);
    assert_non_null (answer);
    assert_int_equal (status, 200);
    char *body = strstr (answer, "\r\n\r\n");
    assert_non_null (body);
    char *copy = strdup (body + 4);
    free (answer);
    return copy;
}

//  ---------------------------------------------------------------------
//  The registry and the exporter

static const lot_metric_family_t s_things = {
    .name = "test_things_total", .type = LOT_METRIC_COUNTER, .help = "Things."
};
static const lot_metric_family_t s_level = {
    .name = "test_level", .type = LOT_METRIC_GAUGE, .help = "A level."
};
static const lot_metric_family_t s_took = {
    .name = "test_took_seconds", .type = LOT_METRIC_HISTOGRAM, .help = "Time taken.",
    .unit = 1e-3, .buckets = { 0.01, 0.1, 1 }
};

static void
test_registry (void **state)
{
    (void) state;
    //  Off: nothing made, nothing counted
    assert_null (lot_metrics_series (NULL, &s_things, NULL));
    lot_metric_add (NULL, 1);
    lot_metric_set (NULL, 1);

    lot_metrics_t *metrics = lot_metrics_new ();
    lot_metric_t *plain = lot_metrics_series (metrics, &s_things, "kind", "plain", NULL);
    lot_metric_add (plain, 2);
    assert_ptr_equal (lot_metrics_series (metrics, &s_things, "kind", "plain", NULL), plain);
    lot_metric_add (lot_metrics_series (metrics, &s_things, "kind", "a \"b\"\\\n", NULL), 1);
    lot_metric_t *level = lot_metrics_series (metrics, &s_level, NULL);
    lot_metric_add (level, 7);
    lot_metric_set (level, -2);
    lot_metric_t *took = lot_metrics_series (metrics, &s_took, "step", "x", NULL);
    lot_metric_add (took, 5);       //  5 ms: the 0.01 bucket
    lot_metric_add (took, 10);      //  on a bound: its bucket
    lot_metric_add (took, 500);
    lot_metric_add (took, 5000);    //  past the last bound: +Inf only
    size_t size;
    char *text = lot_metrics_print (metrics, &size);
    assert_string_equal (text,
        "# HELP test_things_total Things.\n"
        "# TYPE test_things_total counter\n"
        "test_things_total{kind=\"plain\"} 2\n"
        "test_things_total{kind=\"a \\\"b\\\"\\\\\\n\"} 1\n"
        "# HELP test_level A level.\n"
        "# TYPE test_level gauge\n"
        "test_level -2\n"
        "# HELP test_took_seconds Time taken.\n"
        "# TYPE test_took_seconds histogram\n"
        "test_took_seconds_bucket{step=\"x\",le=\"0.01\"} 2\n"
        "test_took_seconds_bucket{step=\"x\",le=\"0.1\"} 2\n"
        "test_took_seconds_bucket{step=\"x\",le=\"1\"} 3\n"
        "test_took_seconds_bucket{step=\"x\",le=\"+Inf\"} 4\n"
        "test_took_seconds_sum{step=\"x\"} 5.515\n"
        "test_took_seconds_count{step=\"x\"} 4\n");
    assert_int_equal (size, strlen (text));
    free (text);
    lot_metrics_destroy (&metrics);
    lot_metrics_destroy (&metrics);
}

static void
test_exporter (void **state)
{
    (void) state;
    lot_metrics_t *metrics = lot_metrics_new ();
    lot_metric_add (lot_metrics_series (metrics, &s_things, NULL), 3);
    int port = tu_free_port ();
    char *error = NULL;
    lot_exporter_t *exporter = lot_exporter_new (port, metrics, &error);
    assert_non_null (exporter);
    char *body = s_scrape (port);
    assert_int_equal (tu_metric_value (body, "test_things_total"), 3);
    assert_true (tu_metric_value (body, "process_resident_memory_bytes") > 0);
    assert_true (tu_metric_value (body, "process_open_fds") > 0);
    assert_true (tu_metric_value (body, "process_start_time_seconds") > 1.7e9);
    free (body);
    int status = 0;
    free (tu_http (port, "GET /other", &status, HTTP_TIMEOUT_MS));
    assert_int_equal (status, 404);
    free (tu_http (port, "DELETE /metrics", &status, HTTP_TIMEOUT_MS));
    assert_int_equal (status, 405);
    //  A second one on the same port cannot listen, and says so
    assert_null (lot_exporter_new (port, metrics, &error));
    assert_non_null (strstr (error, "cannot listen"));
    free (error);
    lot_exporter_destroy (&exporter);
    lot_exporter_destroy (&exporter);
    lot_metrics_destroy (&metrics);
}

//  ---------------------------------------------------------------------
//  The server on the real data

typedef struct {
    tu_proc_t *proc;
    int port;                   //  The agencies'
    int metrics;                //  METRICS_PORT
} server_t;

static server_t
s_server_start (const char *log)
{
    server_t server = { .metrics = tu_free_port () };
    char *program = tu_temp_own (tu_program ("lottery-server"));
    server.proc = tu_spawn (tu_dir (), (char *[]) { program, NULL },
                            ENV ("SERVER_PORT=0", "BETS_FSYNC=false", "AGENCIES=5",
                                 "BETS_FILE=bets.csv",
                                 tu_temp ("METRICS_PORT=%d", server.metrics)), log);
    char *endpoint = tu_log_value (log, PARTS ("action: socket_open | result: success",
                                               "| socket: agencies | mode: bind"),
                                   "endpoint", 20000);
    assert_non_null (endpoint);
    server.port = atoi (strrchr (endpoint, ':') + 1);
    assert_true (tu_wait_for_text (log, "action: metrics | result: success", 20000));
    free (endpoint);
    return server;
}

static tu_proc_t *
s_client (int agency, server_t *server)
{
    char *program = tu_temp_own (tu_program ("lottery-client"));
    return tu_spawn (tu_dir (), (char *[]) { program, NULL },
                     ENV (tu_temp ("CLI_ID=%d", agency),
                          tu_temp ("CLI_DATA_FILE=%s", s_data [agency]),
                          tu_temp ("CLI_SERVER_ADDRESS=127.0.0.1:%d", server->port),
                          "CLI_LOOP_PERIOD=100ms"), tu_temp ("client-%d.log", agency));
}

//  Two chunks rejected (by a handler, by the front-end) on a v1 connection
//  that then closes: it speaks for agency 1, and would keep its client out.
static void
s_provoke_rejections (server_t *server)
{
    static const char *const eve [] = { "Eve", "Mallory", "99999999", "1999-02-30", "7574" };
    int fd = tu_connect (server->port, 5000);
    assert_true (fd >= 0);
    tu_wire_t chunk = tu_wire ("1", 'B');
    tu_wire_chunk (&chunk, 'C', 1, "1");
    tu_wire_bet (&chunk, eve);
    assert_int_equal (tu_send_all (fd, chunk.data, chunk.size), 0);
    tu_expect_pack (fd, "1s", 'E', "invalid birthdate");
    chunk.size = 0;
    tu_wire_chunk (&chunk, 'L', 1, "7");
    tu_wire_bet (&chunk, eve);
    assert_int_equal (tu_send_all (fd, chunk.data, chunk.size), 0);
    tu_expect_pack (fd, "1s", 'E', "unknown agency");
    close (fd);
}

//  Scrapers that send a request and never read the answer, on sockets
//  with a small receive buffer (so the server's writes do fill up), and
//  one that sends nothing at all. Their descriptors go to fds.
static void
s_stalled_scrapers (server_t *server, int fds [STALLED_SCRAPERS])
{
    for (int i = 0; i < STALLED_SCRAPERS; i++) {
        fds [i] = socket (AF_INET, SOCK_STREAM, 0);
        int small = 1024;
        setsockopt (fds [i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        struct sockaddr_in address = {
            .sin_family = AF_INET, .sin_port = htons ((uint16_t) server->metrics),
            .sin_addr.s_addr = htonl (INADDR_LOOPBACK)
        };
        assert_int_equal (connect (fds [i], (struct sockaddr *) &address, sizeof address), 0);
        const char *request = "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n";
        if (i > 0)
            assert_int_equal (tu_send_all (fds [i], request, strlen (request)), 0);
    }
}

//  Bets of the agency in the bets file.
static long
s_bets_stored (const char *bets, int agency)
{
    char *prefix = tu_temp ("%d,", agency);
    long count = 0;
    for (const char *line = bets; *line; line = strchr (line, '\n') + 1)
        count += strncmp (line, prefix, strlen (prefix)) == 0;
    return count;
}

//  The counters agree with the bets file, the log and the winners.
static void
s_expect_agreement (const char *text, const char *log_path)
{
    char *bets = tu_read_file ("bets.csv", NULL);
    assert_non_null (bets);
    double total = 0;
    for (int agency = 1; agency <= 5; agency++) {
        tu_case ("agency %d", agency);
        char *stored = tu_temp ("lottery_bets_stored_total{agency=\"%d\"}", agency);
        char *winners = tu_temp ("lottery_winners{agency=\"%d\"}", agency);
        char *finished = tu_temp ("lottery_agency_finished{agency=\"%d\"}", agency);
        assert_int_equal (tu_metric_value (text, stored), s_bets_stored (bets, agency));
        assert_int_equal (tu_metric_value (text, winners), s_winners [agency]);
        assert_int_equal (tu_metric_value (text, finished), 1);
        total += tu_metric_value (text, stored);
    }
    tu_case_done ();
    assert_int_equal (total, 78697);
    free (bets);
    char *log = tu_read_file (log_path, NULL);
    //  Each chunk stored is one apuesta_recibida success line; each
    //  rejected one a fail line, by reason
    const char *chunks = "lottery_chunks_answered_total{";
    assert_int_equal (tu_metrics_sum (text, chunks, PARTS ("result=\"stored\"")),
                      tu_count_lines (log, PARTS ("action: apuesta_recibida | result: success")));
    const char *reasons [] = { "invalid birthdate", "unknown agency" };
    for (size_t i = 0; i < 2; i++) {
        char *label = tu_temp ("reason=\"%s\"", reasons [i]);
        char *field = tu_temp ("| reason: %s", reasons [i]);
        assert_int_equal (tu_metrics_sum (text, chunks, PARTS (label)),
                          tu_count_lines (log, PARTS ("action: apuesta_recibida | result: fail",
                                                      field)));
        assert_int_equal (tu_metrics_sum (text, chunks, PARTS (label)), 1);
    }
    assert_int_equal (tu_metrics_sum (text, chunks, PARTS ("rejected")),
                      tu_count_lines (log, PARTS ("action: apuesta_recibida | result: fail")));
    //  The front-end's own, by the agency its connection speaks for
    assert_int_equal (tu_metric_value (text, "lottery_chunks_answered_total{actor=\"frontend\","
                                      "agency=\"1\",result=\"rejected\","
                                      "reason=\"unknown agency\"}"), 1);
    free (log);
    assert_int_equal (tu_metric_value (text, "lottery_agencies_finished"), 5);
    assert_int_equal (tu_metric_value (text, "lottery_draw_done"), 1);
    assert_int_equal (tu_metric_value (text, "lottery_commit_bets_sum"), 78697);
    assert_true (tu_metric_value (text, "lottery_bets_file_bytes") > 0);
    //  Two connections per agency, and the one that provoked rejections
    assert_true (tu_metric_value (text, "lottery_connections_accepted_total") >= 11);
    assert_true (tu_metrics_sum (text, "lottery_zmq_events_total{",
                                 PARTS ("event=\"ACCEPTED\"")) >= 11);
    const char *actors [] = { "frontend", "broker", "handler", "persister", "coordinator" };
    for (size_t i = 0; i < 5; i++) {
        char *actor = tu_temp ("actor=\"%s\"", actors [i]);
        assert_true (tu_metrics_sum (text, "lottery_actor_messages_total{",
                                     PARTS (actor, "out")) > 0);
    }
}

//  promtool's lint of the text and of docs/alerts.yml, when Debian's
//  prometheus is installed.
static void
s_promtool_check (const char *text)
{
    if (system ("command -v promtool >/dev/null 2>&1") != 0) {
        printf ("test_metrics: SKIP promtool check metrics: no promtool"
                " (Debian's prometheus; make test installs it)\n");
        return;
    }
    FILE *file = fopen ("scrape.txt", "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
    assert_int_equal (system ("promtool check metrics < scrape.txt > promtool.log 2>&1"), 0);
    //  And the alerting rules on these metrics (docs/operations.md)
    assert_int_equal (system (tu_temp ("promtool check rules %s/docs/alerts.yml > rules.log"
                                       " 2>&1", tu_home ())), 0);
}

static void
test_real_data (void **state)
{
    (void) state;
    if (!s_real_data)
        skip ();
    server_t server = s_server_start ("server.log");
    //  Before any bet, every agency's stored series is there, at 0: a
    //  rate() counts an upload done between two scrapes
    char *before = s_scrape (server.metrics);
    for (int agency = 1; agency <= 5; agency++) {
        tu_case ("agency %d", agency);
        assert_non_null (strstr (before, tu_temp ("\nlottery_bets_stored_total{agency=\"%d\"} 0\n",
                                                  agency)));
    }
    tu_case_done ();
    free (before);
    s_provoke_rejections (&server);
    int stalled [STALLED_SCRAPERS];
    s_stalled_scrapers (&server, stalled);
    tu_proc_t *clients [6] = { NULL };
    for (int agency = 1; agency <= 5; agency++)
        clients [agency] = s_client (agency, &server);
    //  During the run: answers, never more than the data holds
    char *during = s_scrape (server.metrics);
    assert_true (tu_metrics_sum (during, "lottery_bets_stored_total{", NULL) <= 78697);
    free (during);
    for (int agency = 1; agency <= 5; agency++) {
        tu_case ("client %d", agency);
        assert_int_equal (tu_wait (clients [agency], RUN_TIMEOUT_MS), 0);
        tu_proc_destroy (&clients [agency]);
    }
    tu_case_done ();
    //  After: the draw is announced once the last agency has finished
    assert_true (tu_wait_for_text ("server.log", "action: sorteo | result: success", 20000));
    char *after = s_scrape (server.metrics);
    s_expect_agreement (after, "server.log");
    s_promtool_check (after);
    free (after);
    assert_int_equal (tu_stop (server.proc, SIGTERM, 20000), 0);
    tu_proc_destroy (&server.proc);
    for (int i = 0; i < STALLED_SCRAPERS; i++)
        close (stalled [i]);
}

//  Nothing left running, its strings freed, its directory gone.
static int
s_teardown (void **state)
{
    tu_case_teardown (state);
    tu_kill_all (state);
    tu_temp_free ();
    return tu_dir_teardown (state);
}

int
main (void)
{
    tu_bin_dir_absolute ();
    s_real_data = true;
    for (int agency = 1; agency <= 5; agency++)
        s_real_data &= (s_data [agency] = tu_shared_data (agency)) != NULL;
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_registry),
        cmocka_unit_test (test_exporter),
        cmocka_unit_test_setup_teardown (test_real_data, tu_dir_setup, s_teardown),
    };
    if (!s_real_data)
        printf ("test_metrics: no real data (../shared/data): SKIP test_real_data\n");
    int failed = cmocka_run_group_tests_name ("metrics", tests, NULL, NULL);
    for (int agency = 1; agency <= 5; agency++)
        free (s_data [agency]);
    return failed;
}
