/*  test_e2e - the real programs, end to end, as a grader checks them

    Each test starts the server (embedded, or one process per actor) and
    agency clients as child processes that all append to one log file, so
    the log reads like `docker logs` merged by time. Then it checks what a
    grader checks: exit statuses, each agency's cant_ganadores, the order
    of the log lines, no fail line, the bets file line by line against the
    agencies' data, and a clean SIGTERM shutdown.
*/
#include "lot_curve.h"
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 16
#define RUN_TIMEOUT_MS 240000
#define STOP_TIMEOUT_MS 10000

typedef struct {
    char *dir;                  //  Working directory: logs, bets file
    char *log;                  //  The merged log
    char *bets;                 //  The bets file
    int port;                   //  The agencies' port, as the server bound it
    char *endpoints [8];        //  "NAME_ENDPOINT=tcp://..." bound so far
    size_t bound;
    char *const *settings;      //  Given to s_sys_start, for restarts
    tu_proc_t *procs [MAX_PROCS];
    const char *programs [MAX_PROCS];
    size_t count;               //  Server programs running
    size_t spawned;             //  Server programs ever started
    size_t stops;
} sys_t;

static char *
s_repo_path (const char *relative)
{
    char *cwd = getcwd (NULL, 0);
    char *path = tu_printf ("%s/%s", cwd, relative);
    free (cwd);
    return path;
}

//  With CURVE on (CURVE_PUBLIC_DIR=KEYS/public among the settings, KEYS
//  made by bin/lottery-keys), a program's own certificate:
//  CURVE_CERT=KEYS/secret/KIND_secret for bin/lottery-KIND. Else NULL.
static char *
s_curve_cert (const char *program, char *const settings [])
{
    const char *name = "CURVE_PUBLIC_DIR=";
    for (size_t i = 0; settings && settings [i]; i++)
        if (strncmp (settings [i], name, strlen (name)) == 0) {
            const char *keys = settings [i] + strlen (name);
            int length = (int) (strlen (keys) - strlen ("/public"));
            return tu_printf ("CURVE_CERT=%.*s/secret/%s_secret", length, keys,
                              strrchr (program, '-') + 1);
        }
    return NULL;
}

//  Starts one server program with the common environment (its own
//  certificate when CURVE is on), the endpoints bound so far, the settings
//  given to s_sys_start and extra. Each binds what it owns on a port the
//  system picks (SERVER_PORT=0, endpoints on port *), so no test races
//  another for a port.
static void
s_sys_spawn (sys_t *sys, const char *program, char *const settings [],
             char *const extra [])
{
    char *path = tu_program (program);
    assert_non_null (path);
    char *argv [] = { path, NULL };
    char *env [32];
    size_t n = 0;
    env [n++] = "SERVER_PORT=0";
    env [n++] = tu_printf ("BETS_FILE=%s", sys->bets);
    //  Before extra, which may give another (they are put in this order)
    char *cert = s_curve_cert (program, settings);
    if (cert)
        env [n++] = cert;
    for (size_t i = 0; extra && extra [i]; i++)
        env [n++] = extra [i];
    for (size_t i = 0; i < sys->bound; i++)
        env [n++] = sys->endpoints [i];
    for (size_t i = 0; settings && settings [i]; i++)
        env [n++] = settings [i];
    env [n] = NULL;
    assert_true (sys->count < MAX_PROCS);
    sys->programs [sys->count] = program;
    sys->procs [sys->count++] = tu_spawn (sys->dir, argv, env, sys->log);
    sys->spawned++;
    free (env [1]);
    free (cert);
    free (path);
}

//  Waits for the endpoint an actor bound, and gives it to the programs
//  started after as NAME_ENDPOINT.
static void
s_sys_learn_endpoint (sys_t *sys, const char *actor, const char *socket,
                      const char *name)
{
    char *where = tu_printf ("| actor: %s | socket: %s | mode: bind", actor, socket);
    const char *parts [] = { "action: socket_open | result: success", where, NULL };
    char *endpoint = tu_log_value (sys->log, parts, "endpoint", 20000);
    if (!endpoint)
        fail_msg ("%s did not bind %s; see %s", actor, socket, sys->log);
    const char *port = strrchr (endpoint, ':');
    assert_non_null (port);
    assert_true (sys->bound < 8);
    sys->endpoints [sys->bound++] = tu_printf ("%s_ENDPOINT=tcp://127.0.0.1%s", name, port);
    free (endpoint);
    free (where);
}

//  Waits until every server program has logged its start, then learns
//  the agencies' port from the front-end's last `escuchar` line.
static void
s_sys_wait_started (sys_t *sys)
{
    const char *parts [] = { "action: start | result: success", NULL };
    if (!tu_wait_for_lines (sys->log, parts, sys->spawned, 20000))
        fail_msg ("the server did not start; see %s", sys->log);
    const char *listening [] = { "action: escuchar | result: success", NULL };
    char *port = tu_log_value (sys->log, listening, "port", 0);
    assert_non_null (port);
    sys->port = atoi (port);
    assert_true (sys->port > 0);
    free (port);
}

//  settings: "NAME=value" strings for every server program, NULL-terminated.
static sys_t *
s_sys_start (const char *name, bool distributed, char *const settings [])
{
    sys_t *sys = calloc (1, sizeof *sys);
    sys->dir = tu_tempdir (name);
    sys->log = tu_printf ("%s/run.log", sys->dir);
    sys->bets = tu_printf ("%s/bets.csv", sys->dir);
    sys->settings = settings;
    if (!distributed)
        s_sys_spawn (sys, "lottery-server", settings, NULL);
    else {
        //  Every actor its own process on loopback: those that bind first,
        //  each told the endpoints bound before it
        char *any [] = { "WORK_ENDPOINT=tcp://127.0.0.1:*", "RECORDS_ENDPOINT=tcp://127.0.0.1:*",
                         "RESULTS_ENDPOINT=tcp://127.0.0.1:*", "EVENTS_ENDPOINT=tcp://127.0.0.1:*",
                         "WINNERS_ENDPOINT=tcp://127.0.0.1:*", "BROKER_ENDPOINT=tcp://127.0.0.1:*",
                         NULL };
        s_sys_spawn (sys, "lottery-coordinator", settings, any);
        s_sys_learn_endpoint (sys, "coordinator", "events", "EVENTS");
        s_sys_learn_endpoint (sys, "coordinator", "winners", "WINNERS");
        s_sys_spawn (sys, "lottery-broker", settings, any);
        s_sys_learn_endpoint (sys, "broker", "frontends", "BROKER");
        s_sys_learn_endpoint (sys, "broker", "work", "WORK");
        s_sys_learn_endpoint (sys, "broker", "results", "RESULTS");
        s_sys_spawn (sys, "lottery-frontend", settings, NULL);
        s_sys_spawn (sys, "lottery-persister", settings, any);
        s_sys_learn_endpoint (sys, "persister", "records", "RECORDS");
        for (int i = 0; i < 3; i++)
            s_sys_spawn (sys, "lottery-handler", settings, NULL);
    }
    s_sys_wait_started (sys);
    return sys;
}

//  Kills the first running server program of that name with SIGKILL, as
//  a crash would, and forgets it.
static void
s_sys_kill (sys_t *sys, const char *program)
{
    for (size_t i = 0; i < sys->count; i++)
        if (sys->procs [i] && strcmp (sys->programs [i], program) == 0) {
            assert_int_equal (tu_stop (sys->procs [i], SIGKILL, 5000), 128 + SIGKILL);
            tu_proc_destroy (&sys->procs [i]);
            sys->spawned--;
            return;
        }
    fail_msg ("no %s running", program);
}

//  Starts a program again, as after a crash: on the same endpoints and
//  agencies' port, so every peer finds it where it was.
static void
s_sys_restart (sys_t *sys, const char *program)
{
    char *port = tu_printf ("SERVER_PORT=%d", sys->port);
    char *extra [] = { port, NULL };
    //  The killed one's start line is in the log too: wait for one more
    char *started = tu_printf ("action: start | result: success | program: %s |", program);
    const char *parts [] = { started, NULL };
    char *log = tu_read_file (sys->log, NULL);
    size_t before = tu_count_lines (log, parts);
    free (log);
    s_sys_spawn (sys, program, sys->settings, extra);
    if (!tu_wait_for_lines (sys->log, parts, before + 1, 20000))
        fail_msg ("%s did not start again; see %s", program, sys->log);
    free (started);
    free (port);
}

//  Stops the server side with SIGTERM in compose's order (the front-end
//  first, the persister last); each must exit 0 in time.
static void
s_sys_stop (sys_t *sys)
{
    const char *order [] = { "lottery-server", "lottery-frontend", "lottery-broker",
                             "lottery-handler", "lottery-coordinator", "lottery-persister" };
    for (size_t o = 0; o < sizeof order / sizeof order [0]; o++)
        for (size_t i = 0; i < sys->count; i++)
            if (sys->procs [i] && strcmp (sys->programs [i], order [o]) == 0) {
                int status = tu_stop (sys->procs [i], SIGTERM, STOP_TIMEOUT_MS);
                if (status != 0)
                    fail_msg ("%s ended with %d on SIGTERM; see %s", order [o], status,
                              sys->log);
            }
    sys->stops++;
    char *log = tu_read_file (sys->log, NULL);
    const char *closed [] = { "action: close | result: success | actor: persister"
                              " | resource: bets_file", NULL };
    assert_int_equal (tu_count_lines (log, closed), sys->stops);
    const char *exits [] = { "action: exit | result: success | program: lottery-", NULL };
    assert_int_equal (tu_count_lines (log, exits), sys->spawned);
    free (log);
}

static void
s_sys_destroy (sys_t **sys_p)
{
    sys_t *sys = *sys_p;
    for (size_t i = 0; i < sys->count; i++)
        tu_proc_destroy (&sys->procs [i]);
    for (size_t i = 0; i < sys->bound; i++)
        free (sys->endpoints [i]);
    tu_remove_dir (sys->dir);
    free (sys->log);
    free (sys->bets);
    free (sys);
    *sys_p = NULL;
}

//  Starts agency `agency` reading data_file (NULL: none), extra env.
static tu_proc_t *
s_client_start (sys_t *sys, int agency, const char *data_file, int max_amount,
                char *const extra [])
{
    char *path = tu_program ("lottery-client");
    assert_non_null (path);
    char *argv [] = { path, NULL };
    char *formatted [] = {
        tu_printf ("CLI_ID=%d", agency),
        tu_printf ("CLI_SERVER_ADDRESS=127.0.0.1:%d", sys->port),
        tu_printf ("CLI_DATA_FILE=%s", data_file ? data_file : "/nonexistent/agency.csv"),
        tu_printf ("CLI_BATCH_MAXAMOUNT=%d", max_amount)
    };
    char *env [16];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++)
        env [n++] = formatted [i];
    env [n++] = "CLI_LOOP_AMOUNT=50";
    env [n++] = "CLI_LOOP_PERIOD=100ms";
    for (size_t i = 0; extra && extra [i]; i++)
        env [n++] = extra [i];
    env [n] = NULL;
    tu_proc_t *proc = tu_spawn (sys->dir, argv, env, sys->log);
    for (size_t i = 0; i < 4; i++)
        free (formatted [i]);
    free (path);
    return proc;
}

//  The data files of a run: the shared real data or generated files.
typedef struct {
    int agencies;
    char *files [8];
    long bets [8];              //  Bets per agency
    long winners [8];           //  Winning bets per agency
} data_t;

//  Counts each agency's bets, and its winners: lines whose last field, the
//  number, is 7574 (CRLF or LF).
static void
s_data_count (data_t *data)
{
    for (int a = 1; a <= data->agencies; a++) {
        char *text = tu_read_file (data->files [a], NULL);
        assert_non_null (text);
        data->bets [a] = data->winners [a] = 0;
        for (char *line = text, *end; *line; line = end + 1) {
            end = strchr (line, '\n');
            assert_non_null (end);
            size_t size = (size_t) (end - line);
            if (size && line [size - 1] == '\r')
                size--;
            data->bets [a]++;
            if (size >= 5 && memcmp (line + size - 5, ",7574", 5) == 0)
                data->winners [a]++;
        }
        free (text);
    }
}

static bool
s_data_real (data_t *data, int agencies)
{
    data->agencies = agencies;
    for (int a = 1; a <= agencies; a++)
        if (!(data->files [a] = tu_shared_data (a)))
            return false;
    s_data_count (data);
    return true;
}

static void
s_data_generate (data_t *data, const char *dir, int agencies, int bets)
{
    char *script = s_repo_path ("scripts/gen-data.sh");
    char *out = tu_printf ("%s/data", dir);
    char *count = tu_printf ("%d", agencies);
    char *size = tu_printf ("%d", bets);
    char *argv [] = { "/bin/sh", script, out, count, size, NULL };
    char *log = tu_printf ("%s/gen.log", dir);
    tu_proc_t *gen = tu_spawn (dir, argv, NULL, log);
    assert_int_equal (tu_wait (gen, 60000), 0);
    tu_proc_destroy (&gen);
    data->agencies = agencies;
    for (int a = 1; a <= agencies; a++)
        data->files [a] = tu_printf ("%s/agency-%d.csv", out, a);
    s_data_count (data);
    free (script), free (out), free (count), free (size), free (log);
}

static void
s_data_free (data_t *data)
{
    for (int a = 1; a <= data->agencies; a++)
        free (data->files [a]);
}

//  The bets file holds each agency's bets as "agency,line" with CRLF, in
//  its file's order, and nothing else: all of them, or (a run cut short)
//  the first ones. Returns how many lines it holds.
static long
s_check_bets_prefix (sys_t *sys, data_t *data, bool all)
{
    char *bets = tu_read_file (sys->bets, NULL);
    assert_non_null (bets);
    long total = 0;
    for (int a = 1; a <= data->agencies; a++) {
        char *input = tu_read_file (data->files [a], NULL);
        char prefix [16];
        int prefix_size = snprintf (prefix, sizeof prefix, "%d,", a);
        const char *want = input;
        const char *have = bets;
        long matched = 0;
        while (*want) {
            const char *end = strchr (want, '\n');
            size_t length = (size_t) (end - want);
            if (length && want [length - 1] == '\r')
                length--;
            //  The next stored line of this agency
            while (*have && strncmp (have, prefix, (size_t) prefix_size) != 0)
                have = strchr (have, '\n') + 1;
            if (!*have && !all)
                break;
            assert_true (*have);
            assert_memory_equal (have + prefix_size, want, length);
            assert_memory_equal (have + prefix_size + length, "\r\n", 2);
            have += prefix_size + length + 2;
            want = end + 1;
            matched++;
        }
        if (all)
            assert_int_equal (matched, data->bets [a]);
        total += matched;
        free (input);
    }
    const char *lines [] = { "\r", NULL };
    assert_int_equal ((long) tu_count_lines (bets, lines), total);
    free (bets);
    return total;
}

static void
s_check_bets_file (sys_t *sys, data_t *data)
{
    s_check_bets_prefix (sys, data, true);
}

//  A healthy run has no fail line: graders fail a run on any.
static void
s_check_no_fail (sys_t *sys)
{
    char *log = tu_read_file (sys->log, NULL);
    const char *failed [] = { "result: fail", NULL };
    if (tu_count_lines (log, failed) != 0)
        fail_msg ("a fail line in a healthy run; see %s", sys->log);
    free (log);
}

//  Each agency logged its winners once, and as many as its data holds.
static void
s_check_winners (sys_t *sys, const char *log, data_t *data)
{
    for (int a = 1; a <= data->agencies; a++) {
        char *agency = tu_printf ("| agencia: %d", a);
        char *count = tu_printf ("| cant_ganadores: %ld |", data->winners [a]);
        const char *mine [] = { "action: consulta_ganadores | result: success",
                                agency, count, NULL };
        if (tu_count_lines (log, mine) != 1)
            fail_msg ("agency %d: expected one consulta_ganadores with %ld winners;"
                      " see %s", a, data->winners [a], sys->log);
        free (agency);
        free (count);
    }
}

//  What a grader reads in the merged log.
static void
s_check_log (sys_t *sys, data_t *data, bool expect_fail_lines)
{
    char *log = tu_read_file (sys->log, NULL);
    const char *stored [] = { "action: apuesta_recibida | result: success", NULL };
    const char *draw [] = { "action: sorteo | result: success", NULL };
    const char *asked [] = { "action: consulta_ganadores | result: success", NULL };
    long total = 0;
    for (int a = 1; a <= data->agencies; a++)
        total += data->bets [a];
    assert_int_equal (tu_sum_field (log, stored, "cantidad"), total);
    assert_int_equal (tu_count_lines (log, draw), 1);
    assert_true (tu_last_line (log, stored) < tu_first_line (log, draw));
    assert_true (tu_first_line (log, asked) > tu_first_line (log, draw));
    s_check_winners (sys, log, data);
    free (log);
    if (!expect_fail_lines)
        s_check_no_fail (sys);
}

//  Every socket is watched: each bound socket logs LISTENING, and in
//  distributed mode each handler's connection to the broker, and the
//  front-end's, complete their handshakes.
static void
s_check_monitor_events (const char *log, bool distributed)
{
    const char *bound [][2] = {
        { "frontend", "agencies" }, { "broker", "frontends" }, { "broker", "work" },
        { "broker", "results" }, { "persister", "records" }, { "coordinator", "events" },
        { "coordinator", "winners" }
    };
    for (size_t i = 0; i < (distributed ? sizeof bound / sizeof bound [0] : 1); i++) {
        char *line = tu_printf ("action: zmq_evento | result: success | actor: %s"
                                " | socket: %s | event: LISTENING | endpoint: tcp://0.0.0.0:",
                                bound [i][0], bound [i][1]);
        const char *parts [] = { line, NULL };
        assert_int_equal (tu_count_lines (log, parts), 1);
        free (line);
    }
    const char *handshakes [] = { "action: zmq_evento | result: success | actor: handler"
                                  " | socket: work | event: HANDSHAKE_SUCCEEDED", NULL };
    const char *frontend [] = { "action: zmq_evento | result: success | actor: frontend"
                                " | socket: broker | event: HANDSHAKE_SUCCEEDED", NULL };
    size_t count = tu_count_lines (log, handshakes);
    if (distributed) {
        assert_true (count >= 3);
        assert_true (tu_count_lines (log, frontend) >= 1);
    }
    else
        assert_int_equal (count, 0);
}

//  A whole run: server, every agency at once, checks, shutdown. Returns
//  the merged log for further checks.
static char *
s_run (const char *name, bool distributed, data_t *data, int max_amount,
       char *const server_extra [], char *const client_extra [])
{
    char *agencies = tu_printf ("AGENCIES=%d", data->agencies);
    char *extra [8] = { agencies };
    for (size_t i = 0; server_extra && server_extra [i]; i++) {
        assert_true (i + 2 < 8);
        extra [i + 1] = server_extra [i];
    }
    sys_t *sys = s_sys_start (name, distributed, extra);
    tu_proc_t *clients [8];
    for (int a = 1; a <= data->agencies; a++)
        clients [a] = s_client_start (sys, a, data->files [a], max_amount, client_extra);
    for (int a = 1; a <= data->agencies; a++) {
        assert_int_equal (tu_wait (clients [a], RUN_TIMEOUT_MS), 0);
        tu_proc_destroy (&clients [a]);
    }
    s_sys_stop (sys);
    s_check_log (sys, data, false);
    s_check_bets_file (sys, data);
    char *log = tu_read_file (sys->log, NULL);
    s_check_monitor_events (log, distributed);
    s_sys_destroy (&sys);
    free (agencies);
    return log;
}

//  A run on generated data.
static void
s_run_generated (const char *name, int agencies, int bets, int max_amount,
                 char *const client_extra [])
{
    char *dir = tu_tempdir (name);
    data_t data = { 0 };
    s_data_generate (&data, dir, agencies, bets);
    free (s_run (name, false, &data, max_amount, NULL, client_extra));
    s_data_free (&data);
    tu_remove_dir (dir);
}

static void
test_real_data_embedded (void **state)
{
    (void) state;
    data_t data = { 0 };
    if (!s_data_real (&data, 5)) {
        print_message ("SKIP: ../shared/data not found; the real-data run needs it\n");
        skip ();
    }
    long expected [] = { 0, 2, 3, 3, 2, 0 };
    for (int a = 1; a <= 5; a++)
        assert_int_equal (data.winners [a], expected [a]);
    //  Our client's default: v2, sixteen chunks out at once
    char *log = s_run ("real-embedded", false, &data, 100, NULL, NULL);
    const char *pipelined [] = { "| window: 16 | protocol_version: 2 |", NULL };
    assert_int_equal (tu_count_lines (log, pipelined), 5);
    free (log);
    s_data_free (&data);
}

//  Our client with its defaults against a server of the course's protocol
//  only: the baseline (bench/), which answers 'H' as an unknown tag. Each
//  agency falls back to v1 once, and the run is a v1 run.
static void
test_client_v1_server (void **state)
{
    (void) state;
    data_t data = { 0 };
    if (!s_data_real (&data, 5)) {
        print_message ("SKIP: ../shared/data not found; the real-data run needs it\n");
        skip ();
    }
    const char *bench = getenv ("LOTTERY_BENCH_DIR");
    char *path = tu_printf ("%s/lottery-baseline", bench && *bench ? bench : "build/bench");
    char *baseline = realpath (path, NULL);
    assert_non_null (baseline);
    sys_t sys = { .dir = tu_tempdir ("v1-server") };
    sys.log = tu_printf ("%s/run.log", sys.dir);
    sys.bets = tu_printf ("%s/bets.csv", sys.dir);
    char *bets = tu_printf ("BETS_FILE=%s", sys.bets);
    char *argv [] = { baseline, NULL };
    char *env [] = { "SERVER_PORT=0", "AGENCIES=5", bets, NULL };
    tu_proc_t *server = tu_spawn (sys.dir, argv, env, sys.log);
    const char *listening [] = { "action: escuchar | result: success", NULL };
    char *port = tu_log_value (sys.log, listening, "port", 20000);
    assert_non_null (port);
    sys.port = atoi (port);
    tu_proc_t *clients [6];
    for (int a = 1; a <= 5; a++)
        clients [a] = s_client_start (&sys, a, data.files [a], 100, NULL);
    for (int a = 1; a <= 5; a++) {
        assert_int_equal (tu_wait (clients [a], RUN_TIMEOUT_MS), 0);
        tu_proc_destroy (&clients [a]);
    }
    assert_int_equal (tu_stop (server, SIGTERM, STOP_TIMEOUT_MS), 0);
    tu_proc_destroy (&server);
    s_check_bets_file (&sys, &data);
    char *log = tu_read_file (sys.log, NULL);
    s_check_winners (&sys, log, &data);
    const char *fell [] = { "WARNING  action: protocolo | result: success | version: 1",
                            "| reason: no 'S' to 'H' (rejected by the server: unknown"
                            " message tag)", NULL };
    assert_int_equal (tu_count_lines (log, fell), 5);
    const char *failed [] = { "result: fail", NULL };
    assert_int_equal (tu_count_lines (log, failed), 0);
    free (log);
    free (port);
    free (bets);
    free (baseline);
    free (path);
    tu_remove_dir (sys.dir);
    free (sys.log);
    free (sys.bets);
    s_data_free (&data);
}

static void
test_real_data_distributed (void **state)
{
    (void) state;
    data_t data = { 0 };
    if (!s_data_real (&data, 5)) {
        print_message ("SKIP: ../shared/data not found; the real-data run needs it\n");
        skip ();
    }
    //  Seventeen chunks out, one past the front-end's limit (it waits),
    //  spread over three handlers: the persister gets them out of order
    //  and stores them in order
    char *window [] = { "CLI_WINDOW=17", NULL };
    free (s_run ("real-distributed", true, &data, 100, NULL, window));
    s_data_free (&data);
}

static void
test_three_agencies (void **state)
{
    (void) state;
    //  In protocol v1, as the course's reference client speaks it
    char *v1 [] = { "CLI_PROTOCOL_VERSION=1", NULL };
    s_run_generated ("three", 3, 4000, 50, v1);
}

static void
test_one_agency (void **state)
{
    (void) state;
    s_run_generated ("one", 1, 3000, 64, NULL);
}

//  maxAmount decides the chunk size until the 8 kB packet limit does.
static void
test_chunk_size_sweep (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("sweep");
    data_t data = { 0 };
    s_data_generate (&data, dir, 2, 1500);
    const int amounts [] = { 1, 64, 99, 60000 };
    for (size_t i = 0; i < 4; i++) {
        char *log = s_run ("sweep", false, &data, amounts [i], NULL, NULL);
        const char *stored [] = { "action: apuesta_recibida | result: success", NULL };
        long chunks = (long) tu_count_lines (log, stored);
        long expected = 0;
        for (int a = 1; a <= 2; a++)
            expected += (data.bets [a] + amounts [i] - 1) / amounts [i];
        if (amounts [i] < 100)
            assert_int_equal (chunks, expected);
        else {
            //  Bets here take 45 to 75 bytes encoded: 8 kB holds 100 to 190
            assert_true (chunks >= 2 * 1500 / 190);
            assert_true (chunks <= 2 * (1500 / 100 + 1));
        }
        free (log);
    }
    s_data_free (&data);
    tu_remove_dir (dir);
}

static void
test_single_bet (void **state)
{
    (void) state;
    char *extra [] = { "AGENCIES=1", NULL };
    sys_t *sys = s_sys_start ("single", false, extra);
    char *bet [] = { "NOMBRE=Santiago Lionel", "APELLIDO=Lorca", "DOCUMENTO=30904465",
                     "NACIMIENTO=1999-03-17", "NUMERO=7574", NULL };
    tu_proc_t *client = s_client_start (sys, 1, NULL, 10, bet);
    assert_int_equal (tu_wait (client, RUN_TIMEOUT_MS), 0);
    tu_proc_destroy (&client);
    assert_true (tu_wait_for_text (sys->log, "action: sorteo | result: success", 10000));
    s_sys_stop (sys);
    char *log = tu_read_file (sys->log, NULL);
    const char *sent [] = { "action: apuesta_enviada | result: success | dni: 30904465"
                            " | numero: 7574", NULL };
    assert_int_equal (tu_count_lines (log, sent), 1);
    char *bets = tu_read_file (sys->bets, NULL);
    assert_string_equal (bets, "1,Santiago Lionel,Lorca,30904465,1999-03-17,7574\r\n");
    free (bets);
    free (log);
    s_check_no_fail (sys);
    s_sys_destroy (&sys);
}

//  The server appends to the bets file it finds and never truncates it.
static void
test_restart_appends (void **state)
{
    (void) state;
    char *extra [] = { "AGENCIES=1", NULL };
    sys_t *sys = s_sys_start ("restart", false, extra);
    s_sys_stop (sys);
    //  A bets file from before the journal (an older version, or written
    //  by hand), with a line cut short: its whole lines are kept
    char *journal = tu_printf ("%s.journal", sys->bets);
    assert_int_equal (unlink (journal), 0);
    free (journal);
    FILE *file = fopen (sys->bets, "w");
    fputs ("1,Old,Bet,11111111,1980-01-01,7574\r\n1,Partial,Li", file);
    fclose (file);
    tu_proc_destroy (&sys->procs [0]);
    sys->count = 0;
    s_sys_spawn (sys, "lottery-server", extra, NULL);
    s_sys_wait_started (sys);
    char *bet [] = { "NOMBRE=Ana", "APELLIDO=Paz", "DOCUMENTO=22", "NACIMIENTO=2000-02-29",
                     "NUMERO=0012", NULL };
    tu_proc_t *client = s_client_start (sys, 1, NULL, 10, bet);
    assert_int_equal (tu_wait (client, RUN_TIMEOUT_MS), 0);
    tu_proc_destroy (&client);
    assert_true (tu_wait_for_text (sys->log, "action: sorteo | result: success", 10000));
    s_sys_stop (sys);
    char *bets = tu_read_file (sys->bets, NULL);
    assert_string_equal (bets, "1,Old,Bet,11111111,1980-01-01,7574\r\n"
                               "1,Ana,Paz,22,2000-02-29,12\r\n");
    char *log = tu_read_file (sys->log, NULL);
    const char *repaired [] = { "action: bets_file_repair | result: success", NULL };
    assert_int_equal (tu_count_lines (log, repaired), 1);
    const char *draw [] = { "action: leer_apuestas | result: success | apuestas: 2"
                            " | ganadores: 1", NULL };
    assert_int_equal (tu_count_lines (log, draw), 1);
    free (log);
    free (bets);
    s_check_no_fail (sys);
    s_sys_destroy (&sys);
}

//  Eve's one bet, born on date: what the raw peers below send.
#define EVE(date) ((const char *const []) { "Eve", "Mallory", "99999999", date, "7574" })

//  Appends a v1 chunk of Eve's one bet.
static void
s_eve_chunk (tu_wire_t *wire, char tag, const char *agency, const char *date)
{
    tu_wire_chunk (wire, tag, 1, agency);
    tu_wire_bet (wire, EVE (date));
}

static void
s_send (int fd, const tu_wire_t *wire)
{
    assert_int_equal (tu_send_all (fd, wire->data, wire->size), 0);
}

//  Expects the answer 'E' with its reason.
static void
s_expect_error (int fd, const char *reason)
{
    tu_wire_t want = { .size = 0 };
    tu_wire_byte (&want, 'E');
    tu_wire_str (&want, reason);
    tu_expect_bytes (fd, want.data, want.size);
}

//  Asks a fresh connection for agency 1's winners ('W' "1") and expects
//  their count, then (when given) their documents.
static void
s_expect_winners (int port, unsigned count, const char *const documents [])
{
    int fd = tu_connect (port, 5000);
    assert_true (fd >= 0);
    tu_wire_t wire = { .size = 0 };
    tu_wire_byte (&wire, 'W');
    tu_wire_str (&wire, "1");
    s_send (fd, &wire);
    wire.size = 0;
    tu_wire_u16 (&wire, count);
    for (size_t i = 0; documents && documents [i]; i++)
        tu_wire_str (&wire, documents [i]);
    tu_expect_bytes (fd, wire.data, wire.size);
    close (fd);
}

//  Bad clients at the same time as good ones: each bad one gets what
//  protocol.md says, the good agencies finish with the right winners, and
//  not a byte of a bad chunk is stored.
static void
test_bad_input (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("bad");
    data_t data = { 0 };
    s_data_generate (&data, dir, 2, 2000);
    char *extra [] = { "AGENCIES=2", NULL };
    sys_t *sys = s_sys_start ("bad", false, extra);

    //  Garbage: 'E' with the reason, then closed
    int garbage = tu_connect (sys->port, 5000);
    assert_int_equal (tu_send_all (garbage, "GET / HTTP/1.0\r\n\r\n", 18), 0);
    s_expect_error (garbage, "unknown message tag");
    assert_true (tu_wait_closed (garbage, 10000));

    //  Half a message, then silence for the whole run
    int stalled = tu_connect (sys->port, 5000);
    tu_wire_t chunk = { .size = 0 };
    s_eve_chunk (&chunk, 'L', "1", "1990-01-01");
    assert_int_equal (tu_send_all (stalled, "B", 1), 0);
    assert_int_equal (tu_send_all (stalled, chunk.data, chunk.size / 2), 0);

    //  Half a chunk, then gone
    int quitter = tu_connect (sys->port, 5000);
    assert_int_equal (tu_send_all (quitter, "B", 1), 0);
    assert_int_equal (tu_send_all (quitter, chunk.data, chunk.size - 1), 0);
    close (quitter);

    //  Chunks that decode but fail validation: 'E', the connection stays
    int invalid = tu_connect (sys->port, 5000);
    assert_int_equal (tu_send_all (invalid, "B", 1), 0);
    chunk.size = 0;
    s_eve_chunk (&chunk, 'C', "1", "1999-02-30");
    s_send (invalid, &chunk);
    s_expect_error (invalid, "invalid birthdate");
    chunk.size = 0;
    s_eve_chunk (&chunk, 'L', "7", "1999-02-28");
    s_send (invalid, &chunk);
    s_expect_error (invalid, "unknown agency");
    //  It spoke for agency 1 (its first chunk did): while it is open, that
    //  agency's own client is kept out (it tries again), so it goes now
    close (invalid);

    //  A chunk that announces more than 8 kB: 'E', then closed
    int huge = tu_connect (sys->port, 5000);
    assert_int_equal (tu_send_all (huge, "BC\xff\xff", 4), 0);
    s_expect_error (huge, "chunk larger than the packet limit");
    assert_true (tu_wait_closed (huge, 10000));

    //  Meanwhile the real agencies run
    tu_proc_t *clients [3];
    for (int a = 1; a <= 2; a++)
        clients [a] = s_client_start (sys, a, data.files [a], 64, NULL);
    for (int a = 1; a <= 2; a++) {
        assert_int_equal (tu_wait (clients [a], RUN_TIMEOUT_MS), 0);
        tu_proc_destroy (&clients [a]);
    }
    close (garbage);
    close (huge);
    s_sys_stop (sys);
    close (stalled);
    s_check_log (sys, &data, true);
    s_check_bets_file (sys, &data);
    char *log = tu_read_file (sys->log, NULL);
    const char *rejected [] = { "action: apuesta_recibida | result: fail", NULL };
    assert_int_equal (tu_count_lines (log, rejected), 3);
    free (log);
    s_sys_destroy (&sys);
    s_data_free (&data);
    tu_remove_dir (dir);
}

//  A listen backlog below AGENCIES gets a warning at start, naming both;
//  one that fits gets none.
static void
test_backlog_warning (void **state)
{
    (void) state;
    const char *warned [] = { "WARNING", "action: escuchar | result: in_progress | backlog: 5"
                              " | agencias: 8 | reason: SERVER_LISTEN_BACKLOG is below AGENCIES",
                              NULL };
    const char *any [] = { "action: escuchar | result: in_progress", NULL };
    char *small [] = { "AGENCIES=8", "SERVER_LISTEN_BACKLOG=5", NULL };
    char *fits [] = { "AGENCIES=8", "SERVER_LISTEN_BACKLOG=8", NULL };
    char *const *settings [] = { small, fits };
    for (int i = 0; i < 2; i++) {
        sys_t *sys = s_sys_start ("backlog", false, settings [i]);
        s_sys_stop (sys);
        char *log = tu_read_file (sys->log, NULL);
        assert_int_equal (tu_count_lines (log, warned), i == 0);
        assert_int_equal (tu_count_lines (log, any), i == 0);
        free (log);
        s_sys_destroy (&sys);
    }
}

//  A raw v2 peer that sends its chunks without waiting, through the whole
//  server: one answer per chunk, in the order they were sent. A chunk
//  that fails validation is 'E' in its place; the one after it, whose
//  bets before it are now missing, 'E chunk out of order' once the
//  front-end sends it again; one out of sequence 'E chunk out of order'
//  at once. Exactly the chunks answered 'O' are stored.
static void
test_pipelined_peer (void **state)
{
    (void) state;
    char *extra [] = { "AGENCIES=1", "RESEND_TIMEOUT=300ms", NULL };
    sys_t *sys = s_sys_start ("pipelined", false, extra);
    int peer = tu_connect (sys->port, 5000);
    tu_wire_t wire = { .size = 0 };
    tu_wire_byte (&wire, 'H');
    tu_wire_u16 (&wire, 2);
    tu_wire_str (&wire, "1");
    s_send (peer, &wire);
    //  'S': nothing stored, not finished
    wire.size = 0;
    tu_wire_byte (&wire, 'S');
    tu_wire_u32 (&wire, 0);
    tu_wire_byte (&wire, 0);
    tu_expect_bytes (peer, wire.data, wire.size);
    //  Bets 0 to 4, a bad one at 5, one at 6, then one at 9 (7 was next)
    const uint32_t positions [] = { 0, 1, 2, 3, 4, 5, 6, 9 };
    wire.size = 0;
    for (size_t i = 0; i < 8; i++) {
        tu_wire_byte (&wire, 'N');
        tu_wire_u32 (&wire, positions [i]);
        s_eve_chunk (&wire, 'C', "1", i == 5 ? "1999-02-30" : "1990-01-01");
    }
    s_send (peer, &wire);
    wire.size = 0;
    tu_wire_bytes (&wire, "OOOOO", 5);
    const char *errors [] = { "invalid birthdate", "chunk out of order", "chunk out of order" };
    for (size_t i = 0; i < 3; i++) {
        tu_wire_byte (&wire, 'E');
        tu_wire_str (&wire, errors [i]);
    }
    tu_expect_bytes (peer, wire.data, wire.size);
    close (peer);
    s_sys_stop (sys);
    char *bets = tu_read_file (sys->bets, NULL);
    const char *line [] = { "1,Eve,Mallory,99999999,1990-01-01,7574", NULL };
    assert_int_equal (tu_count_lines (bets, line), 5);
    assert_int_equal (strlen (bets), 5 * (strlen (line [0]) + 2));
    free (bets);
    s_sys_destroy (&sys);
}

//  Hostile peers against honest agencies, each attack of the security
//  review: idle connections far past MAX_CONNECTIONS, slow senders, an
//  impostor speaking for agencies that are uploading, and fields that
//  would bend the bets file. The honest agencies finish with the exact
//  bets file and their winners, and each attack gets its answer.
static void
test_hostile_peers (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("hostile");
    data_t data = { 0 };
    s_data_generate (&data, dir, 3, 20000);
    //  The course's listen backlog (5) overflows under any burst of
    //  connections, costing each dropped SYN a second (security.md)
    char *settings [] = { "AGENCIES=3", "MAX_CONNECTIONS=300", "IDLE_TIMEOUT=3s",
                          "MESSAGE_TIMEOUT=1s", "SERVER_LISTEN_BACKLOG=1024", NULL };
    sys_t *sys = s_sys_start ("hostile", false, settings);

    //  Fields that would bend the bets file: 'E', nothing stored
    struct { lot_span_t name; const char *agency, *date, *answer; } bent [] = {
        { { "Eve\0", 4 }, "1", "1990-01-01", "invalid first name" },
        { { "Eve\r\n1,Forged", 13 }, "1", "1990-01-01", "invalid first name" },
        { { "Eve\n", 4 }, "1", "1990-01-01", "invalid first name" },
        { { "Eve", 3 }, "1", "2100-01-01", "invalid birthdate" },
        { { "Eve", 3 }, "01", "1990-01-01", "unknown agency" },
    };
    int bender = tu_connect (sys->port, 5000);
    assert_int_equal (tu_send_all (bender, "B", 1), 0);
    for (size_t i = 0; i < sizeof bent / sizeof bent [0]; i++) {
        tu_wire_t chunk = { .size = 0 };
        tu_wire_chunk (&chunk, 'C', 1, bent [i].agency);
        //  By its length: a name may hold a NUL
        tu_wire_u16 (&chunk, (unsigned) bent [i].name.size);
        tu_wire_bytes (&chunk, bent [i].name.data, bent [i].name.size);
        for (int field = 1; field < 5; field++)
            tu_wire_str (&chunk, EVE (bent [i].date) [field]);
        s_send (bender, &chunk);
        s_expect_error (bender, bent [i].answer);
    }
    close (bender);

    //  Slow senders keep a chunk coming a byte at a time: each is cut off
    //  once its chunk has taken MESSAGE_TIMEOUT
    enum { SLOW = 50, IDLE = 2000 };
    int slow [SLOW];
    tu_wire_t chunk = { .size = 0 };
    s_eve_chunk (&chunk, 'C', "1", "1990-01-01");
    for (int i = 0; i < SLOW; i++) {
        assert_true ((slow [i] = tu_connect (sys->port, 5000)) >= 0);
        assert_int_equal (tu_send_all (slow [i], "B", 1), 0);
    }
    for (size_t sent = 0; sent < chunk.size; sent++) {
        int open = 0;
        for (int i = 0; i < SLOW; i++)
            open += tu_send_all (slow [i], chunk.data + sent, 1) == 0;
        if (!open)
            break;
        struct timespec pace = { 0, 100 * 1000000 };
        nanosleep (&pace, NULL);
    }
    for (int i = 0; i < SLOW; i++) {
        assert_true (tu_wait_closed (slow [i], 10000));
        close (slow [i]);
    }

    //  Idle connections, several times MAX_CONNECTIONS, held open
    int *idle = malloc (IDLE * sizeof *idle);
    for (int i = 0; i < IDLE; i++)
        assert_true ((idle [i] = tu_connect (sys->port, 5000)) >= 0);

    //  The honest agencies, while the idle ones hold on
    tu_proc_t *clients [4];
    for (int a = 1; a <= 3; a++)
        clients [a] = s_client_start (sys, a, data.files [a], 10, NULL);
    const char *bound [] = { "action: agencia_conectada | result: success | agencia: 2", NULL };
    const char *bound_3 [] = { "action: agencia_conectada | result: success | agencia: 3", NULL };
    assert_true (tu_wait_for_lines (sys->log, bound, 1, 30000));
    assert_true (tu_wait_for_lines (sys->log, bound_3, 1, 30000));

    //  An impostor for agencies 2 and 3, which are uploading: refused
    int impostor = tu_connect (sys->port, 5000);
    assert_int_equal (tu_send_all (impostor, "B", 1), 0);
    chunk.size = 0;
    s_eve_chunk (&chunk, 'C', "2", "1990-01-01");
    s_send (impostor, &chunk);
    s_expect_error (impostor, "agency busy on another connection");
    assert_true (tu_wait_closed (impostor, 10000));
    close (impostor);
    tu_wire_t hello = { .size = 0 };
    tu_wire_byte (&hello, 'H');
    tu_wire_u16 (&hello, 2);
    tu_wire_str (&hello, "3");
    impostor = tu_connect (sys->port, 5000);
    s_send (impostor, &hello);
    s_expect_error (impostor, "agency busy on another connection");
    close (impostor);

    for (int a = 1; a <= 3; a++) {
        assert_int_equal (tu_wait (clients [a], RUN_TIMEOUT_MS), 0);
        tu_proc_destroy (&clients [a]);
    }
    s_sys_stop (sys);
    for (int i = 0; i < IDLE; i++)
        close (idle [i]);
    free (idle);
    s_check_bets_file (sys, &data);
    char *log = tu_read_file (sys->log, NULL);
    const char *slowed [] = { "reason: message too slow", NULL };
    assert_int_equal (tu_count_lines (log, slowed), SLOW);
    const char *evicted [] = { "while the table is full", NULL };
    assert_true (tu_count_lines (log, evicted) > 0);
    //  The impostor's v1 chunk is a rejected chunk too: the course's line
    //  (its 'H' has no count, so no such line)
    const char *busy [] = { "action: apuesta_recibida | result: fail | cantidad: 1"
                            " | reason: agency busy on another connection", NULL };
    assert_int_equal (tu_count_lines (log, busy), 1);
    s_check_winners (sys, log, &data);
    free (log);
    s_sys_destroy (&sys);
    s_data_free (&data);
    tu_remove_dir (dir);
}

//  The health check's probe: 'P' is answered 'O' and stores nothing; a
//  server that is down is a fail line within the timeout, not a hang.
static void
test_ping (void **state)
{
    (void) state;
    char *extra [] = { "AGENCIES=1", NULL };
    sys_t *sys = s_sys_start ("ping", false, extra);
    char *ping = tu_program ("lottery-ping");
    assert_non_null (ping);
    char *address = tu_printf ("127.0.0.1:%d", sys->port);
    char *argv [] = { ping, address, NULL };
    char *output = tu_printf ("%s/ping.log", sys->dir);
    tu_proc_t *probe = tu_spawn (sys->dir, argv, NULL, output);
    assert_int_equal (tu_wait (probe, 10000), 0);
    tu_proc_destroy (&probe);
    s_sys_stop (sys);
    char *text = tu_read_file (output, NULL);
    const char *success [] = { "action: test_echo_server | result: success", NULL };
    assert_int_equal (tu_count_lines (text, success), 1);
    free (text);
    char *bets = tu_read_file (sys->bets, NULL);
    assert_string_equal (bets, "");
    free (bets);
    s_check_no_fail (sys);

    //  The server is gone now
    char *env [] = { "PING_TIMEOUT=2", NULL };
    probe = tu_spawn (sys->dir, argv, env, output);
    assert_int_equal (tu_wait (probe, 10000), 1);
    tu_proc_destroy (&probe);
    text = tu_read_file (output, NULL);
    const char *failed [] = { "action: test_echo_server | result: fail", NULL };
    assert_int_equal (tu_count_lines (text, failed), 1);
    free (text);
    free (output);
    free (address);
    free (ping);
    s_sys_destroy (&sys);
}

//  Peers that close the moment they have read their answer race the
//  front-end's close of the same connection: that is no failure. Pings and
//  winners queries, each closed at once, many times over.
static void
test_peers_that_leave_at_once (void **state)
{
    (void) state;
    char *extra [] = { "AGENCIES=1", NULL };
    sys_t *sys = s_sys_start ("leave", false, extra);
    char *bet [] = { "NOMBRE=Ana", "APELLIDO=Paz", "DOCUMENTO=22", "NACIMIENTO=2000-02-29",
                     "NUMERO=7574", NULL };
    tu_proc_t *client = s_client_start (sys, 1, NULL, 10, bet);
    assert_int_equal (tu_wait (client, RUN_TIMEOUT_MS), 0);
    tu_proc_destroy (&client);
    assert_true (tu_wait_for_text (sys->log, "action: sorteo | result: success", 10000));
    const int rounds = 1000;
    for (int i = 0; i < rounds; i++) {
        if (i % 2)
            s_expect_winners (sys->port, 1, (const char *[]) { "22", NULL });
        else {
            int fd = tu_connect (sys->port, 5000);
            assert_true (fd >= 0);
            assert_int_equal (tu_send_all (fd, "P", 1), 0);
            tu_expect_bytes (fd, "O", 1);
            close (fd);
        }
    }
    s_sys_stop (sys);
    char *log = tu_read_file (sys->log, NULL);
    const char *sent [] = { "action: ganadores_enviados | result: success | agencia: 1"
                            " | cant_ganadores: 1", NULL };
    assert_int_equal (tu_count_lines (log, sent), rounds / 2);
    free (log);
    s_check_no_fail (sys);
    s_sys_destroy (&sys);
}

//  A handler killed in the middle of the upload loses what PUSH had queued
//  for it: those chunks go out again after RESEND_TIMEOUT, and every bet is
//  stored exactly once.
static void
test_handler_killed_mid_run (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("killed");
    data_t data = { 0 };
    s_data_generate (&data, dir, 2, 3000);
    char *extra [] = { "AGENCIES=2", "RESEND_TIMEOUT=300ms", NULL };
    sys_t *sys = s_sys_start ("killed", true, extra);
    tu_proc_t *clients [3];
    for (int a = 1; a <= 2; a++)
        clients [a] = s_client_start (sys, a, data.files [a], 1, NULL);
    const char *stored [] = { "action: apuesta_recibida | result: success", NULL };
    assert_true (tu_wait_for_lines (sys->log, stored, 500, 60000));
    s_sys_kill (sys, "lottery-handler");
    for (int a = 1; a <= 2; a++) {
        assert_int_equal (tu_wait (clients [a], RUN_TIMEOUT_MS), 0);
        tu_proc_destroy (&clients [a]);
    }
    s_sys_stop (sys);
    s_check_bets_file (sys, &data);
    //  Resends warn, which is no failure; nothing else may fail
    s_check_no_fail (sys);
    s_sys_destroy (&sys);
    s_data_free (&data);
    tu_remove_dir (dir);
}

//  One actor killed with SIGKILL at a seeded random point of the upload
//  and started again a moment later, in distributed mode: every agency
//  finishes by itself, and the bets file and the winners are those of a
//  run with no fault. What the actor had in flight is sent again after
//  RESEND_TIMEOUT (and the persister, from its journal, stores it once);
//  a coordinator learns again from the persister's STATUS who finished;
//  our agencies reconnect to a front-end and resume where it says.
static void
s_fault_runs (const char *program, int runs)
{
    char *dir = tu_tempdir ("fault");
    data_t data = { 0 };
    //  3,000 chunks of 20 bets: a pipelined upload is still under way
    //  when the kill comes
    s_data_generate (&data, dir, 3, 20000);
    tu_rng_t rng = { 7 };
    for (int run = 0; run < runs; run++) {
        char *settings [] = { "AGENCIES=3", "RESEND_TIMEOUT=300ms",
                              "ANNOUNCE_INTERVAL=100ms", NULL };
        sys_t *sys = s_sys_start ("fault", true, settings);
        tu_proc_t *clients [4];
        for (int a = 1; a <= 3; a++)
            clients [a] = s_client_start (sys, a, data.files [a], 20, NULL);
        //  The kill comes after 5 to 245 chunks
        size_t stored = 5 + tu_below (&rng, 240);
        print_message ("fault: %s killed after %zu chunks\n", program, stored);
        const char *parts [] = { "action: apuesta_recibida | result: success", NULL };
        assert_true (tu_wait_for_lines (sys->log, parts, stored, 60000));
        s_sys_kill (sys, program);
        s_sys_restart (sys, program);
        for (int a = 1; a <= 3; a++) {
            if (tu_wait (clients [a], RUN_TIMEOUT_MS) != 0)
                fail_msg ("agency %d did not finish; see %s", a, sys->log);
            tu_proc_destroy (&clients [a]);
        }
        s_sys_stop (sys);
        s_check_bets_file (sys, &data);
        char *log = tu_read_file (sys->log, NULL);
        s_check_winners (sys, log, &data);
        free (log);
        s_sys_destroy (&sys);
    }
    s_data_free (&data);
    tu_remove_dir (dir);
}

//  After the draw, the coordinator and then the front-end are killed and
//  started again: the coordinator learns from the persister that every
//  agency finished, draws again from the bets file, and the new front-end
//  answers winners queries with the same winners.
static void
test_fault_after_draw (void **state)
{
    (void) state;
    char *settings [] = { "AGENCIES=1", "ANNOUNCE_INTERVAL=100ms", NULL };
    sys_t *sys = s_sys_start ("after-draw", true, settings);
    char *bet [] = { "NOMBRE=Ana", "APELLIDO=Paz", "DOCUMENTO=22", "NACIMIENTO=2000-02-29",
                     "NUMERO=7574", NULL };
    tu_proc_t *client = s_client_start (sys, 1, NULL, 10, bet);
    assert_int_equal (tu_wait (client, RUN_TIMEOUT_MS), 0);
    tu_proc_destroy (&client);
    assert_true (tu_wait_for_text (sys->log, "action: sorteo | result: success", 10000));
    s_sys_kill (sys, "lottery-coordinator");
    s_sys_kill (sys, "lottery-frontend");
    s_sys_restart (sys, "lottery-coordinator");
    s_sys_restart (sys, "lottery-frontend");
    const char *draws [] = { "action: sorteo | result: success", NULL };
    assert_true (tu_wait_for_lines (sys->log, draws, 2, 10000));
    s_expect_winners (sys->port, 1, (const char *[]) { "22", NULL });
    s_sys_stop (sys);
    char *bets = tu_read_file (sys->bets, NULL);
    assert_string_equal (bets, "1,Ana,Paz,22,2000-02-29,7574\r\n");
    free (bets);
    s_sys_destroy (&sys);
}

static void
test_fault_handler (void **state)
{
    (void) state;
    s_fault_runs ("lottery-handler", 2);
}

static void
test_fault_persister (void **state)
{
    (void) state;
    s_fault_runs ("lottery-persister", 3);
}

static void
test_fault_coordinator (void **state)
{
    (void) state;
    s_fault_runs ("lottery-coordinator", 2);
}

static void
test_fault_frontend (void **state)
{
    (void) state;
    s_fault_runs ("lottery-frontend", 3);
}

static void
test_fault_broker (void **state)
{
    (void) state;
    s_fault_runs ("lottery-broker", 2);
}

//  Two front-ends on one broker, each with agencies of its own: each
//  chunk's answer finds the front-end that took it, every agency gets its
//  winners from its own, and a winners query may go to either.
static void
test_two_frontends (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("two-frontends");
    data_t data = { 0 };
    s_data_generate (&data, dir, 3, 3000);
    char *settings [] = { "AGENCIES=3", NULL };
    sys_t *sys = s_sys_start ("two-frontends", true, settings);
    int first = sys->port;
    s_sys_spawn (sys, "lottery-frontend", settings, NULL);
    s_sys_wait_started (sys);
    int second = sys->port;
    assert_int_not_equal (first, second);
    tu_proc_t *clients [4];
    for (int a = 1; a <= 3; a++) {
        sys->port = a == 3 ? second : first;
        clients [a] = s_client_start (sys, a, data.files [a], 20, NULL);
    }
    for (int a = 1; a <= 3; a++) {
        if (tu_wait (clients [a], RUN_TIMEOUT_MS) != 0)
            fail_msg ("agency %d did not finish; see %s", a, sys->log);
        tu_proc_destroy (&clients [a]);
    }
    s_expect_winners (second, (unsigned) data.winners [1], NULL);
    s_sys_stop (sys);
    s_check_bets_file (sys, &data);
    char *log = tu_read_file (sys->log, NULL);
    s_check_winners (sys, log, &data);
    free (log);
    s_check_no_fail (sys);
    s_sys_destroy (&sys);
    s_data_free (&data);
    tu_remove_dir (dir);
}

//  Makes CURVE certificates with bin/lottery-keys in a fresh directory:
//  one per actor kind, or only the one named. Returns the directory.
static char *
s_curve_keys (const char *name, const char *only)
{
    char *keys = tu_tempdir (name);
    char *tool = tu_program ("lottery-keys");
    assert_non_null (tool);
    char *argv [] = { tool, keys, (char *) only, NULL };
    char *log = tu_printf ("%s/keys.log", keys);
    tu_proc_t *proc = tu_spawn (keys, argv, NULL, log);
    assert_int_equal (tu_wait (proc, 10000), 0);
    tu_proc_destroy (&proc);
    free (log);
    free (tool);
    return keys;
}

//  CURVE between every actor, in distributed mode: each with its own
//  certificate (from bin/lottery-keys) and the public directory. The run
//  is a healthy one, with every socket between actors secured.
static void
test_curve_distributed (void **state)
{
    (void) state;
    char *keys = s_curve_keys ("curve-keys", NULL);
    char *public = tu_printf ("CURVE_PUBLIC_DIR=%s/public", keys);
    char *dir = tu_tempdir ("curve");
    data_t data = { 0 };
    s_data_generate (&data, dir, 3, 2000);
    char *settings [] = { public, NULL };
    char *log = s_run ("curve", true, &data, 50, settings, NULL);

    //  Seven programs let in the five keys; each actor says CURVE is on
    const char *auth [] = { "action: curve_auth | result: success | program: lottery-",
                            "| keys: 5", NULL };
    assert_int_equal (tu_count_lines (log, auth), 7);
    for (size_t i = 0; lot_curve_kinds [i]; i++) {
        const char *kind = lot_curve_kinds [i];
        char *line = tu_printf ("action: curve | result: success | actor: %s"
                                " | cert: %s/secret/%s_secret", kind, keys, kind);
        const char *parts [] = { line, NULL };
        assert_int_equal (tu_count_lines (log, parts), streq (kind, "handler") ? 3 : 1);
        free (line);
    }
    //  The six bound sockets between actors are CURVE servers, the
    //  agencies' is not; every connection's handshake succeeded on both
    //  sides (3 handlers x 3, the persister's 2, the front-end's 2)
    const char *secured [] = { "| mode: bind | ", "| security: curve", NULL };
    assert_int_equal (tu_count_lines (log, secured), 6);
    const char *agencies [] = { "| socket: agencies | mode: bind | ", "| security: curve", NULL };
    assert_int_equal (tu_count_lines (log, agencies), 0);
    const char *handshakes [] = { "| event: HANDSHAKE_SUCCEEDED |", NULL };
    assert_true (tu_count_lines (log, handshakes) >= 2 * 13);
    free (log);
    s_data_free (&data);
    tu_remove_dir (dir);
    tu_remove_dir (keys);
    free (public);
}

//  Hostile peers with CURVE on: a handler whose certificate is not in the
//  public directory (a fresh one, made apart) and a plain ZeroMQ peer on
//  the work endpoint. Both are refused, which both sides log as a fail
//  line naming the socket; neither gets any work, and the run completes
//  with the good handlers.
static void
test_curve_refused (void **state)
{
    (void) state;
    char *keys = s_curve_keys ("curve-keys", NULL);
    char *other = s_curve_keys ("curve-other", "handler");
    char *public = tu_printf ("CURVE_PUBLIC_DIR=%s/public", keys);
    char *dir = tu_tempdir ("refused");
    data_t data = { 0 };
    s_data_generate (&data, dir, 2, 1500);
    char *settings [] = { "AGENCIES=2", public, NULL };
    sys_t *sys = s_sys_start ("refused", true, settings);

    char *stranger = tu_printf ("CURVE_CERT=%s/secret/handler_secret", other);
    char *extra [] = { stranger, NULL };
    s_sys_spawn (sys, "lottery-handler", settings, extra);
    s_sys_wait_started (sys);
    const char *server = "the peer's key is not in CURVE_PUBLIC_DIR";
    const char *client = "refused by the peer, our key is not in its CURVE_PUBLIC_DIR";
    const char *refusals [][3] = {
        { "broker", "work", server }, { "broker", "results", server },
        { "persister", "records", server }, { "handler", "work", client },
        { "handler", "records", client }, { "handler", "results", client },
    };
    for (size_t i = 0; i < 6; i++) {
        char *line = tu_printf ("action: zmq_evento | result: fail | actor: %s | socket: %s"
                                " | event: HANDSHAKE_FAILED_AUTH |", refusals [i][0],
                                refusals [i][1]);
        char *reason = tu_printf ("| value: 400 | reason: %s", refusals [i][2]);
        const char *parts [] = { line, reason, NULL };
        if (!tu_wait_for_lines (sys->log, parts, 1, 10000))
            fail_msg ("no refusal on %s's %s; see %s", refusals [i][0], refusals [i][1],
                      sys->log);
        free (line);
        free (reason);
    }
    //  A peer without CURVE, waiting for work
    const char *work = NULL;
    for (size_t i = 0; i < sys->bound; i++)
        if (strncmp (sys->endpoints [i], "WORK_ENDPOINT=", 14) == 0)
            work = sys->endpoints [i] + 14;
    assert_non_null (work);
    zsock_t *plain = zsock_new (ZMQ_PULL);
    assert_int_equal (zsock_connect (plain, "%s", work), 0);
    //  The broker fails its handshake: libzmq reports the mismatch
    //  (HANDSHAKE_FAILED_PROTOCOL, "CURVE on one side only") or, when the
    //  plain peer hangs up first, HANDSHAKE_FAILED_NO_DETAIL; either comes
    //  besides the refused handler's one failure on that socket, and says
    //  why
    const char *mismatch [] = { "action: zmq_evento | result: fail | actor: broker"
                                " | socket: work | event: HANDSHAKE_FAILED_",
                                "CURVE on one side only", NULL };
    assert_true (tu_wait_for_lines (sys->log, mismatch, 1, 10000));

    tu_proc_t *clients [3];
    for (int a = 1; a <= 2; a++)
        clients [a] = s_client_start (sys, a, data.files [a], 50, NULL);
    for (int a = 1; a <= 2; a++) {
        assert_int_equal (tu_wait (clients [a], RUN_TIMEOUT_MS), 0);
        tu_proc_destroy (&clients [a]);
    }
    zsock_set_rcvtimeo (plain, 0);
    zmsg_t *stolen = zmsg_recv (plain);
    assert_null (stolen);
    zsock_destroy (&plain);
    s_sys_stop (sys);
    s_check_log (sys, &data, true);
    s_check_bets_file (sys, &data);
    char *log = tu_read_file (sys->log, NULL);
    //  Nothing went to the refused handler: no chunk was sent again
    const char *resent [] = { "action: reenviar", NULL };
    assert_int_equal (tu_count_lines (log, resent), 0);
    //  And every fail line is a refused handshake
    const char *failed [] = { "| result: fail |", NULL };
    const char *handshake [] = { "action: zmq_evento | result: fail |",
                                 "| event: HANDSHAKE_FAILED_", NULL };
    assert_int_equal (tu_count_lines (log, failed), tu_count_lines (log, handshake));
    free (log);
    s_sys_destroy (&sys);
    s_data_free (&data);
    tu_remove_dir (dir);
    tu_remove_dir (keys);
    tu_remove_dir (other);
    free (stranger);
    free (public);
}

//  SIGTERM in the middle of an upload: the server exits 0 in time, and
//  every bet an agency had its 'O' for is in the bets file, whole lines
//  only, in order.
static void
test_sigterm_mid_run (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("sigterm");
    data_t data = { 0 };
    s_data_generate (&data, dir, 2, 3000);
    char *extra [] = { "AGENCIES=2", NULL };
    sys_t *sys = s_sys_start ("sigterm", false, extra);
    char *debug [] = { "CLI_LOG_LEVEL=DEBUG", NULL };
    tu_proc_t *clients [3];
    for (int a = 1; a <= 2; a++)
        clients [a] = s_client_start (sys, a, data.files [a], 1, debug);
    //  Stopped once the agencies hold 300 confirmations (chunks of one bet)
    const char *confirmed [] = { "action: chunk_enviado | result: success", NULL };
    assert_true (tu_wait_for_lines (sys->log, confirmed, 300, 60000));
    s_sys_stop (sys);
    for (int a = 1; a <= 2; a++) {
        assert_true (tu_wait (clients [a], RUN_TIMEOUT_MS) >= 0);
        tu_proc_destroy (&clients [a]);
    }
    char *log = tu_read_file (sys->log, NULL);
    long promised = tu_sum_field (log, confirmed, "cantidad");
    long kept = s_check_bets_prefix (sys, &data, false);
    assert_true (promised >= 300);
    assert_true (kept >= promised);
    free (log);
    s_sys_destroy (&sys);
    s_data_free (&data);
    tu_remove_dir (dir);
}

//  A thread of the process named after an actor (actors name their
//  threads; libzmq's own, which block signals, have names of their own),
//  or 0.
static pid_t
s_actor_thread (pid_t pid, const char *actor_name)
{
    char *path = tu_printf ("/proc/%d/task", (int) pid);
    DIR *tasks = opendir (path);
    free (path);
    char *name = tu_printf ("%s\n", actor_name);
    pid_t actor = 0;
    struct dirent *entry;
    while (tasks && (entry = readdir (tasks))) {
        pid_t tid = (pid_t) atoi (entry->d_name);
        path = tu_printf ("/proc/%d/task/%d/comm", (int) pid, (int) tid);
        char *comm = tu_read_file (path, NULL);
        if (tid > 0 && tid != pid && comm && strcmp (comm, name) == 0)
            actor = tid;
        free (comm);
        free (path);
    }
    if (tasks)
        closedir (tasks);
    free (name);
    return actor;
}

//  SIGTERM taken by an actor's thread, which the kernel may choose (and
//  valgrind's scheduler does) instead of the main thread: the server
//  stops all the same.
static void
test_sigterm_on_an_actor_thread (void **state)
{
    (void) state;
    char *extra [] = { "AGENCIES=1", NULL };
    sys_t *sys = s_sys_start ("actor-thread", false, extra);
    pid_t pid = sys->procs [0]->pid;
    pid_t actor = s_actor_thread (pid, "handler");
    assert_true (actor > 0);
    assert_int_equal (tgkill (pid, actor, SIGTERM), 0);
    assert_int_equal (tu_wait (sys->procs [0], STOP_TIMEOUT_MS), 0);
    s_sys_stop (sys);
    s_check_no_fail (sys);
    s_sys_destroy (&sys);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_teardown (test_single_bet, tu_kill_all),
        cmocka_unit_test_teardown (test_restart_appends, tu_kill_all),
        cmocka_unit_test_teardown (test_ping, tu_kill_all),
        cmocka_unit_test_teardown (test_backlog_warning, tu_kill_all),
        cmocka_unit_test_teardown (test_peers_that_leave_at_once, tu_kill_all),
        cmocka_unit_test_teardown (test_one_agency, tu_kill_all),
        cmocka_unit_test_teardown (test_three_agencies, tu_kill_all),
        cmocka_unit_test_teardown (test_chunk_size_sweep, tu_kill_all),
        cmocka_unit_test_teardown (test_bad_input, tu_kill_all),
        cmocka_unit_test_teardown (test_pipelined_peer, tu_kill_all),
        cmocka_unit_test_teardown (test_hostile_peers, tu_kill_all),
        cmocka_unit_test_teardown (test_real_data_embedded, tu_kill_all),
        cmocka_unit_test_teardown (test_real_data_distributed, tu_kill_all),
        cmocka_unit_test_teardown (test_client_v1_server, tu_kill_all),
        cmocka_unit_test_teardown (test_handler_killed_mid_run, tu_kill_all),
        cmocka_unit_test_teardown (test_fault_handler, tu_kill_all),
        cmocka_unit_test_teardown (test_fault_persister, tu_kill_all),
        cmocka_unit_test_teardown (test_fault_coordinator, tu_kill_all),
        cmocka_unit_test_teardown (test_fault_frontend, tu_kill_all),
        cmocka_unit_test_teardown (test_fault_broker, tu_kill_all),
        cmocka_unit_test_teardown (test_two_frontends, tu_kill_all),
        cmocka_unit_test_teardown (test_fault_after_draw, tu_kill_all),
        cmocka_unit_test_teardown (test_curve_distributed, tu_kill_all),
        cmocka_unit_test_teardown (test_curve_refused, tu_kill_all),
        cmocka_unit_test_teardown (test_sigterm_mid_run, tu_kill_all),
        cmocka_unit_test_teardown (test_sigterm_on_an_actor_thread, tu_kill_all),
    };
    //  Only the tests it names (cmocka's * and ? patterns): make
    //  test-valgrind runs one this way
    cmocka_set_test_filter (getenv ("LOTTERY_TEST_FILTER"));
    return cmocka_run_group_tests_name ("end to end", tests, NULL, NULL);
}
