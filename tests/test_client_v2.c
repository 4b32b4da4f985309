/*  test_client_v2 - the real lottery-client in protocol v2 and v3 against a
    fake server: the hello, numbered chunks, resuming after a drop, the
    window, a busy agency, the fallbacks to v2 and v1, a silent server, the single bet,
    the winners' time limit, SIGTERM, and the progress lines
*/
#include "client_fake.h"

#include <signal.h>

static void
test_client_v2_stored (void **)
{
    //  The default protocol: 'H', then chunks numbered from what the
    //  server holds already, which is not sent again
    static const struct {
        const char *name;
        uint32_t stored;
        bool finished;
        size_t chunks;          //  Chunks the client sends
    } cases [] = {
        { "none: chunks at 0, 3, 6", 0, false, 3 },
        { "bets 4 to 6: one 'L' chunk at 4", 4, false, 1 },
        { "all bets but not the end: an empty 'L'", 7, false, 1 },
        { "finished: nothing, then the winners", 7, true, 0 },
    };
    CF_EACH (i, cases, cases [i].name) {
        cf_run_t *run = cf_run_new ();
        cf_script (run->fake, { CF_GREET, .at = cases [i].stored, .finished = cases [i].finished });
        if (cases [i].chunks)
            cf_script (run->fake, { CF_CHUNKS, .at = cases [i].stored });
        cf_script (run->fake, { CF_WINNERS });
        cf_run_play (run, 0);
        assert_int_equal (cf_lines (run->log, "action: chunk_enviado | result: success"),
                          cases [i].chunks);
        cf_assert_once (run->log, "| protocol_version: 3 | server_timeout: 30000ms"
                                  " | winners_timeout: 600000ms");
        cf_assert_once (run->log, "action: saludo | result: success | agencia: 3 | almacenadas: %u"
                                  " | terminada: %d", cases [i].stored, cases [i].finished);
        cf_assert_none (run->log, "reconectar");
    }
    //  The server holds more bets than the file has: not this file's data
    cf_run_t *run = cf_run_new ();
    cf_script (run->fake, { CF_GREET, .at = 8 }, { CF_CLOSED });
    cf_run_play (run, 1);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 8 | reason:"
                              " the server holds 8 bets of agency 3, more than the 7 of the"
                              " data file");
    //  ... and one that calls the agency finished with fewer than the file
    //  fails it too: no success with bets missing, digest or not
    run = cf_run_new ();
    cf_env (run->client, "CLI_PROTOCOL_VERSION=2");
    cf_script (run->fake, { CF_GREET_V2, .at = 4, .finished = true }, { CF_ONLY_CLOSED });
    cf_run_play (run, 1);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 4 | reason:"
                              " the server holds 4 bets of agency 3 and calls it finished,"
                              " before the 7 of the data file");
}

static void
test_client_v2_resume (void **)
{
    //  The connection drops after the first chunk's answer, with the second
    //  chunk in flight: the client connects again and goes on from what
    //  the new 'S' says
    static const struct {
        const char *name;
        cf_op_t drop;
        uint32_t stored;
        const char *reason;
    } cases [] = {
        { "closed; the chunk in flight is lost (EOF, or a reset as it lands)",
          CF_CLOSE, 3, "" },
        { "reset after the server stored the chunk in flight, unanswered",
          CF_RESET, 6, "recv: Connection reset by peer" },
    };
    CF_EACH (i, cases, cases [i].name) {
        cf_run_t *run = cf_run_new ();
        //  Stop-and-wait: the reset comes while the client waits for an
        //  answer, not while it sends
        cf_env (run->client, "CLI_WINDOW=1");
        cf_script (run->fake, { CF_GREET }, { CF_CHUNK, .at = 0 }, CF_SENDS ("O"),
                   { CF_CHUNK, .at = 3 }, { cases [i].drop }, { CF_GREET, .at = cases [i].stored },
                   { CF_CHUNKS, .at = cases [i].stored }, { CF_WINNERS });
        cf_run_play (run, 0);
        cf_assert_once (run->log, "action: reconectar | result: in_progress | agencia: 3"
                                  " | reason: %s", cases [i].reason);
        cf_assert_once (run->log, "action: reconectar | result: success | agencia: 3"
                                  " | almacenadas: %u | terminada: 0", cases [i].stored);
    }
}

static void
test_client_v2_stalled (void **)
{
    //  Every connection drops with nothing more stored: after loop.amount
    //  (2) such reconnections in a row the client gives up
    cf_run_t *run = cf_run_new ();
    cf_script (run->fake, { CF_GREET }, { CF_CHUNK, .at = 0 }, { CF_CLOSE },
               { CF_GREET }, { CF_CHUNK, .at = 0 }, { CF_CLOSE }, { CF_GREET }, { CF_CLOSED });
    cf_run_play (run, 1);
    assert_int_equal (cf_lines (run->log, "action: reconectar | result: in_progress"), 2);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 0"
                              " | reason: the connection dropped 2 times in a row");
}

static void
test_client_v2_busy_or_rejected (void **)
{
    //  Busy: another connection of the agency is still alive on the
    //  server. Tried again like a refused connection.
    cf_run_t *run = cf_run_new ();
    cf_script (run->fake, { CF_HELLO }, CF_ERRORS (LOT_REASON_BUSY), { CF_GREET },
               { CF_CHUNKS }, { CF_WINNERS });
    cf_run_play (run, 0);
    cf_assert_once (run->log, "action: conectar | result: in_progress");
    cf_assert_once (run->log, "| intento: 1 | reason: rejected by the server:"
                              " agency busy on another connection");

    //  Any other 'E' to a chunk is final: no retry
    run = cf_run_new ();
    cf_script (run->fake, { CF_GREET }, { CF_CHUNK, .at = 0 }, CF_ERRORS ("no such bet"));
    cf_run_play (run, 1);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 0"
                              " | reason: rejected by the server: no such bet");
    cf_assert_none (run->log, "in_progress");
}

static void
test_client_falls_back_to_v1 (void **)
{
    //  A server that answers 'H' with anything but 'S' speaks only the
    //  course's protocol: the client says so once and uploads in v1 at
    //  once. One that drops it unanswered (a close, a reset, silence) may
    //  be one of ours that could not take the connection: the client tries
    //  'H' again a loop.period later, and only a second drop says v1
    static const struct {
        const char *name;
        cf_row_t then;          //  What the server does after the 'H'
        const char *reason;
        bool dropped;
    } cases [] = {
        { "reset", { CF_RESET }, "recv: Connection reset by peer", true },
        { "closed", { CF_CLOSE }, "the server closed the connection", true },
        { "error", CF_ERRORS ("unknown message tag"), "rejected by the server: unknown message tag" },
        { "silent", { CF_CLOSED }, "no answer from the server within 300ms", true },
    };
    CF_EACH (i, cases, cases [i].name) {
        cf_run_t *run = cf_run_new ();
        cf_env (run->client, "CLI_SERVER_TIMEOUT=300ms");
        for (int hello = 0; hello < 1 + cases [i].dropped; hello++)
            cf_script (run->fake, { CF_HELLO }, cases [i].then);
        cf_script (run->fake, { CF_ACCEPT }, CF_EXPECTS ("B"),
                   { CF_CHUNK_V1, .at = 0 }, CF_SENDS ("O"), { CF_CHUNK_V1, .at = 3 },
                   CF_SENDS ("O"), { CF_CHUNK_V1, .at = 6 }, CF_SENDS ("O"), { CF_WINNERS });
        cf_run_play (run, 0);
        const char *warned [] = { "WARNING  action: protocolo | result: success | version: 1",
                                  cases [i].reason, NULL };
        assert_int_equal (tu_count_lines (run->log, warned), 1);
        cf_assert_once (run->log, "action: protocolo");
        const char *retried [] = { "action: conectar | result: in_progress", cases [i].reason,
                                   NULL };
        assert_int_equal (tu_count_lines (run->log, retried), cases [i].dropped);
        assert_int_equal (cf_lines (run->log, "in_progress"), cases [i].dropped);
    }
    //  One drop, then 'S': one of ours, which had no room a moment ago.
    //  The client goes on in v3 from what it stored; in v1 it would send
    //  the whole file again, to be stored twice
    cf_run_t *run = cf_run_new ();
    cf_script (run->fake, { CF_HELLO }, { CF_CLOSE }, { CF_GREET, .at = 3 },
               { CF_CHUNKS, .at = 3 }, { CF_WINNERS });
    cf_run_play (run, 0);
    cf_assert_none (run->log, "action: protocolo");
    cf_assert_once (run->log, "action: saludo | result: success | agencia: 3 | almacenadas: 3");
}

static void
test_client_falls_back_to_v2 (void **)
{
    //  A server of ours from before the digest refuses 'H' 3: the client
    //  says so once and speaks v2 at once, on this connection and the
    //  next ones (a resume there is not checked)
    cf_run_t *run = cf_run_new ();
    cf_env (run->client, "CLI_WINDOW=1");
    cf_script (run->fake, { CF_HELLO }, CF_ERRORS (LOT_REASON_VERSION), { CF_GREET_V2 },
               { CF_CHUNK, .at = 0 }, CF_SENDS ("O"), { CF_CHUNK, .at = 3 }, { CF_CLOSE },
               { CF_GREET_V2, .at = 3 }, { CF_CHUNKS, .at = 3 }, { CF_WINNERS });
    cf_run_play (run, 0);
    const char *warned [] = { "WARNING  action: protocolo | result: success | version: 2",
                              "| reason: 'H' 3 refused (rejected by the server: unsupported"
                              " protocol version)", NULL };
    assert_int_equal (tu_count_lines (run->log, warned), 1);
    cf_assert_once (run->log, "action: protocolo");
    cf_assert_once (run->log, "action: reconectar | result: success | agencia: 3"
                              " | almacenadas: 3 | terminada: 0");

    //  Configured v2: 'H' 2 from the start, no warning; a server holding
    //  more bets than the file fails the upload without v3's 'E'
    run = cf_run_new ();
    cf_env (run->client, "CLI_PROTOCOL_VERSION=2");
    cf_script (run->fake, { CF_GREET_V2 }, { CF_CHUNKS }, { CF_WINNERS });
    cf_run_play (run, 0);
    cf_assert_once (run->log, "| protocol_version: 2 |");
    cf_assert_none (run->log, "action: protocolo");
    run = cf_run_new ();
    cf_env (run->client, "CLI_PROTOCOL_VERSION=2");
    cf_script (run->fake, { CF_GREET_V2, .at = 8 }, { CF_ONLY_CLOSED });
    cf_run_play (run, 1);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 8 | reason:"
                              " the server holds 8 bets of agency 3, more than the 7 of the"
                              " data file");
}

static void
test_client_v2_never_downgraded (void **)
{
    //  Once the server said 'S', a connection that drops before the next
    //  'S' is a drop, not a refusal of v2: the client says 'H' again
    cf_run_t *run = cf_run_new ();
    cf_env (run->client, "CLI_WINDOW=1");
    cf_script (run->fake, { CF_GREET }, { CF_CHUNK, .at = 0 }, CF_SENDS ("O"), { CF_CHUNK, .at = 3 },
               { CF_RESET }, { CF_HELLO }, { CF_RESET }, { CF_GREET, .at = 3 },
               { CF_CHUNKS, .at = 3 }, { CF_WINNERS });
    cf_run_play (run, 0);
    cf_assert_none (run->log, "action: protocolo");
    cf_assert_once (run->log, "action: conectar | result: in_progress");
}

static void
test_client_silent_server (void **)
{
    //  A server that reads everything and answers nothing: each wait ends
    //  after server.timeout, as a dropped connection would. v1 cannot learn
    //  what was stored, so its upload fails.
    cf_run_t *run = cf_run_new ();
    cf_env (run->client, "CLI_SERVER_TIMEOUT=300ms");
    cf_env (run->client, "CLI_PROTOCOL_VERSION=1");
    cf_script (run->fake, { CF_ACCEPT }, CF_EXPECTS ("B"), { CF_CHUNK_V1, .at = 0 }, { CF_CLOSED });
    cf_run_play (run, 1);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 0"
                              " | reason: no answer from the server within 300ms");

    //  v3 by default: no 'S' twice, so v1; no answer there either, so 'H'
    //  again (a v2 server at its connection limit drops new connections
    //  too, and its 'S' would say what the chunk out stored); no 'S' once
    //  more: a v1 server, which cannot say it, and the chunk is not sent
    //  again, lest it be stored twice
    run = cf_run_new ();
    cf_env (run->client, "CLI_SERVER_TIMEOUT=300ms");
    cf_script (run->fake, { CF_HELLO }, { CF_CLOSED }, { CF_HELLO }, { CF_CLOSED },
               { CF_ACCEPT }, CF_EXPECTS ("B"), { CF_CHUNK_V1, .at = 0 }, { CF_CLOSED },
               { CF_HELLO }, { CF_CLOSED });
    cf_run_play (run, 1);
    cf_assert_one_failure (run->log);
    const char *failed [] = { "action: conectar | result: fail", "| reason: the connection"
                              " dropped in v1, and the server speaks v1 only: it cannot say"
                              " whether the chunk out was stored", NULL };
    assert_int_equal (tu_count_lines (run->log, failed), 1);
    cf_assert_once (run->log, "WARNING  action: protocolo");
    cf_assert_none (run->log, "DEBUG    action: protocolo");

    //  v2, once the server said 'S': reconnect, and resume from the new 'S'
    run = cf_run_new ();
    cf_env (run->client, "CLI_SERVER_TIMEOUT=300ms");
    cf_env (run->client, "CLI_WINDOW=1");
    cf_script (run->fake, { CF_GREET }, { CF_CHUNK, .at = 0 }, { CF_CLOSED }, { CF_GREET, .at = 3 },
               { CF_CHUNKS, .at = 3 }, { CF_WINNERS });
    cf_run_play (run, 0);
    cf_assert_once (run->log, "action: reconectar | result: in_progress | agencia: 3"
                              " | reason: no answer from the server within 300ms");
    cf_assert_once (run->log, "action: reconectar | result: success | agencia: 3"
                              " | almacenadas: 3");
}

//  A run with batch.window 2, scripted up to its three chunks: the one at
//  3 goes before the one at 0 is answered, the one at 6 only once it is.
static cf_run_t *
s_run_window_two (void)
{
    cf_run_t *run = cf_run_new ();
    cf_env (run->client, "CLI_WINDOW=2");
    cf_script (run->fake, { CF_GREET }, { CF_CHUNK, .at = 0 }, { CF_CHUNK, .at = 3 },
               CF_SENDS ("O"), { CF_CHUNK, .at = 6 });
    return run;
}

static void
test_client_v2_window (void **)
{
    //  Answers come in order, one for each chunk
    cf_run_t *run = s_run_window_two ();
    cf_script (run->fake, CF_SENDS ("OO"), { CF_WINNERS });
    cf_run_play (run, 0);
    cf_assert_once (run->log, "| window: 2 |");

    //  The connection drops with two chunks out: the new 'S' says the
    //  first of them is not stored, and both go again
    run = s_run_window_two ();
    cf_script (run->fake, { CF_CLOSE }, { CF_GREET, .at = 3 }, { CF_CHUNK, .at = 3 },
               { CF_CHUNK, .at = 6 }, CF_SENDS ("OO"), { CF_WINNERS });
    cf_run_play (run, 0);
    cf_assert_once (run->log, "action: reconectar | result: success | agencia: 3"
                              " | almacenadas: 3 | terminada: 0");

    //  An 'E' for any chunk ends the upload as with stop-and-wait, with
    //  what was confirmed before it: nothing past the window was sent
    static const struct { const char *name; size_t window, answered; } cases [] = {
        { "window 1", 1, 0 }, { "window 2", 2, 0 }, { "window 2, one answered", 2, 1 }
    };
    CF_EACH (i, cases, cases [i].name) {
        run = cf_run_new ();
        cf_env (run->client, "CLI_WINDOW=%zu", cases [i].window);
        cf_script (run->fake, { CF_GREET });
        for (size_t chunk = 0; chunk < cases [i].window; chunk++)
            cf_script (run->fake, { CF_CHUNK, .at = 3 * chunk });
        if (cases [i].answered)
            cf_script (run->fake, CF_SENDS ("O"), { CF_CHUNK, .at = 3 * cases [i].window });
        cf_script (run->fake, CF_SENDS ("E\x00\x0bno such bet"), { CF_ONLY_CLOSED });
        cf_run_play (run, 1);
        cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: %zu"
                                  " | reason: rejected by the server: no such bet",
                        3 * cases [i].answered);
    }
}

//  An upload made slow by the server: its answers come 0.7 s apart. Once
//  the upload has taken 2 s the client says how far it is (the bets
//  confirmed), at most once a second, until the last answer.
static void
test_client_progress (void **)
{
    static const char *bets [4][5] = {
        { "Ana", "Paz", "11", "2000-01-01", "1" }, { "Bo", "Lu", "12", "2000-01-02", "2" },
        { "Cy", "Mo", "13", "2000-01-03", "3" }, { "Di", "No", "14", "2000-01-04", "4" }
    };
    cf_fake_t *fake = cf_fake_new ();
    cf_client_t *client = cf_client_new (fake->port);
    cf_env (client, "CLI_DATA_FILE=%s", cf_write ("agency-3.csv",
            "Ana,Paz,11,2000-01-01,1\nBo,Lu,12,2000-01-02,2\n"
            "Cy,Mo,13,2000-01-03,3\nDi,No,14,2000-01-04,4\n"));
    cf_env (client, "CLI_BATCH_MAXAMOUNT=1");
    cf_env (client, "CLI_WINDOW=1");
    cf_script (fake, { CF_GREET });
    tu_wire_t chunks [4];
    for (uint32_t i = 0; i < 4; i++) {
        chunks [i].size = 0;
        tu_wire_byte (&chunks [i], 'N');
        tu_wire_u32 (&chunks [i], i);
        tu_wire_chunk (&chunks [i], i == 3 ? 'L' : 'C', 1, "3");
        tu_wire_bet (&chunks [i], bets [i]);
        cf_script (fake, { CF_EXPECT, chunks [i].data, chunks [i].size }, { CF_PAUSE, .at = 700 },
                   CF_SENDS ("O"));
    }
    cf_script (fake, { CF_WINNERS });
    const char *log = cf_client_run (&fake, client, 0);
    cf_assert_success (log, 4);
    //  One line at least (the third answer comes 2.1 s in), each for what
    //  was confirmed, none after the last answer, each in a second of its own
    size_t lines = cf_lines (log, "action: progreso | result: in_progress | agencia: 3");
    assert_true (lines >= 1 && lines <= 3);
    assert_int_equal (cf_lines (log, "| enviadas: 1 | porcentaje: 25")
                    + cf_lines (log, "| enviadas: 2 | porcentaje: 50")
                    + cf_lines (log, "| enviadas: 3 | porcentaje: 75"), lines);
    char seen [3][20];
    size_t count = 0;
    for (const char *line = log; (line = strstr (line, "action: progreso")); line++) {
        const char *start = line;
        while (start > log && start [-1] != '\n')
            start--;
        for (size_t i = 0; i < count; i++)
            assert_memory_not_equal (seen [i], start, 19);
        memcpy (seen [count++], start, 19);
    }
}

static void
test_client_v2_single (void **)
{
    //  The bet goes at the position the server says; an agency already
    //  finished holds it, and nothing is sent. Last, the connection drops
    //  before the bet's answer and the new 'S' says the agency finished:
    //  the bet is stored.
    static const struct { const char *name; uint32_t stored; bool finished, drop; } cases [] = {
        { "none stored", 0, false, false }, { "4 stored", 4, false, false },
        { "finished", 1, true, false }, { "dropped, then finished", 0, false, true }
    };
    const char *bet [5] = { "Ana", "Paz", "30904465", "1999-03-17", "7574" };
    CF_EACH (i, cases, cases [i].name) {
        cf_fake_t *fake = cf_fake_new ();
        cf_client_t *client = cf_client_new (fake->port);
        cf_env (client, "CLI_DATA_FILE=none.csv");
        cf_env_bet (client, bet);
        tu_wire_t chunk = { .size = 0 };
        tu_wire_byte (&chunk, 'N');
        tu_wire_u32 (&chunk, cases [i].stored);
        tu_wire_chunk (&chunk, 'L', 1, "3");
        tu_wire_bet (&chunk, bet);
        cf_script (fake, { CF_GREET, .at = cases [i].stored, .finished = cases [i].finished });
        if (!cases [i].finished)
            cf_script (fake, { CF_EXPECT, chunk.data, chunk.size });
        if (cases [i].drop)
            cf_script (fake, { CF_CLOSE }, { CF_GREET, .at = 1, .finished = true });
        else if (!cases [i].finished)
            cf_script (fake, CF_SENDS ("O"));
        cf_script (fake, { CF_CLOSED });
        const char *log = cf_client_run (&fake, client, 0);
        cf_assert_once (log, "action: apuesta_enviada | result: success | dni: 30904465"
                             " | numero: 7574");
        cf_assert_none (log, "consulta_ganadores");
        cf_assert_no_failure (log);
        assert_int_equal (cf_lines (log, "chunk_enviado"), !cases [i].finished && !cases [i].drop);
        assert_int_equal (cf_lines (log, "action: reconectar | result: in_progress"),
                          cases [i].drop);
        assert_int_equal (cf_lines (log, "action: reconectar | result: success | agencia: 3"
                                         " | almacenadas: 1 | terminada: 1"), cases [i].drop);
    }
}

//  Runs an empty file's client with a 300 ms winners limit against the
//  fake, which takes the upload, then ends the winners query as then
//  says; checks that the client fails on time, with the limit as the
//  reason, and returns its log.
static const char *
s_winners_times_out (const char *loop_amount, const cf_row_t *then)
{
    cf_fake_t *fake = cf_fake_new ();
    cf_script (fake, { CF_GREET }, CF_EXPECTS ("N\x00\x00\x00\x00" "L\x00\x00\x00\x01" "3"),
               CF_SENDS ("O"), { CF_CLOSED }, { CF_ACCEPT }, CF_EXPECTS ("W\x00\x01" "3"));
    cf_rows (fake, then);
    cf_client_t *client = cf_client_new (fake->port);
    cf_env (client, "CLI_DATA_FILE=/dev/null");
    cf_env (client, "CLI_WINNERS_TIMEOUT=300ms");
    cf_env (client, "CLI_LOOP_AMOUNT=%s", loop_amount);
    long long start = zclock_mono ();
    const char *log = cf_client_run (&fake, client, 1);
    long long took = zclock_mono () - start;
    assert_true (took >= 300);
    assert_true (took < 3000);
    cf_assert_one_failure (log);
    cf_assert_once (log, "action: consulta_ganadores | result: fail | agencia: 3"
                         " | reason: no answer within 300ms");
    return log;
}

static void
test_client_winners_timeout (void **)
{
    //  No answer at all
    const char *log = s_winners_times_out ("2", (cf_row_t []) { { CF_CLOSED }, { CF_END } });
    cf_assert_none (log, "reconectar");

    //  The winners connection drops and the server is gone: the limit
    //  cuts the connection attempts short (1000 x 50 ms would be more)
    log = s_winners_times_out ("1000", (cf_row_t []) { { CF_UNLISTEN }, { CF_CLOSE }, { CF_END } });
    cf_assert_once (log, "action: reconectar | result: in_progress");
    assert_true (cf_lines (log, "action: conectar | result: in_progress") >= 2);
    cf_assert_none (log, "action: conectar | result: fail");
}

static void
test_client_v2_sigterm (void **)
{
    //  SIGTERM while the client waits to try a busy agency again
    cf_fake_t *fake = cf_fake_new ();
    cf_client_t *client = cf_client_new (fake->port);
    cf_env (client, "CLI_DATA_FILE=/dev/null");
    cf_env (client, "CLI_LOOP_PERIOD=1m");
    cf_script (fake, { CF_HELLO }, CF_ERRORS (LOT_REASON_BUSY), { CF_BREAK });
    cf_client_run_sigterm (&fake, client);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        CF_TEST (test_client_v2_stored),
        CF_TEST (test_client_v2_resume),
        CF_TEST (test_client_v2_stalled),
        CF_TEST (test_client_v2_busy_or_rejected),
        CF_TEST (test_client_falls_back_to_v1),
        CF_TEST (test_client_falls_back_to_v2),
        CF_TEST (test_client_v2_never_downgraded),
        CF_TEST (test_client_silent_server),
        CF_TEST (test_client_v2_single),
        CF_TEST (test_client_winners_timeout),
        CF_TEST (test_client_v2_sigterm),
        CF_TEST (test_client_v2_window),
        CF_TEST (test_client_progress),
    };
    return cmocka_run_group_tests (tests, cf_init, cf_end);
}
