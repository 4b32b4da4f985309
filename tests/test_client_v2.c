/*  test_client_v2 - the real lottery-client in protocol v2 against a fake
    server: the hello, numbered chunks, resuming after a drop, the window,
    a busy agency, the fallback to v1, a silent server, the single bet,
    the winners' time limit, SIGTERM, and the progress lines
*/
#include "client_fake.h"

#include <signal.h>

static void
test_client_v2_bytes (void **state)
{
    (void) state;
    //  The default protocol: 'H', then chunks numbered 0, 3, 6
    cf_run_t *run = cf_run_new ();
    cf_run_all (run, 0);
    cf_run_play (run, 0);
    cf_assert_once (run->log, "| protocol_version: 2 | server_timeout: 30000ms"
                              " | winners_timeout: 600000ms");
    assert_int_equal (cf_lines (run->log, "action: chunk_enviado | result: success"), 3);
    cf_assert_once (run->log, "action: saludo | result: success | agencia: 3"
                              " | almacenadas: 0 | terminada: 0");
    cf_assert_none (run->log, "reconectar");
}

static void
test_client_v2_stored (void **state)
{
    (void) state;
    //  What the server holds already is not sent again
    static const struct {
        const char *name;
        uint32_t stored;
        bool finished;
        size_t chunks;          //  Chunks the client sends
    } cases [] = {
        { "bets 4 to 6: one 'L' chunk at 4", 4, false, 1 },
        { "all bets but not the end: an empty 'L'", 7, false, 1 },
        { "finished: nothing, then the winners", 7, true, 0 },
    };
    CF_EACH (i, cases, cases [i].name) {
        cf_run_t *run = cf_run_new ();
        cf_greet (run->fake, cases [i].stored, cases [i].finished);
        if (cases [i].chunks)
            cf_run_chunks (run, cases [i].stored, SIZE_MAX);
        cf_winners (run->fake);
        cf_run_play (run, 0);
        assert_int_equal (cf_lines (run->log, "action: chunk_enviado"), cases [i].chunks);
    }
}

static void
test_client_v2_stored_too_many (void **state)
{
    (void) state;
    //  The server holds more bets than the file has: not this file's data
    cf_run_t *run = cf_run_new ();
    cf_greet (run->fake, 8, false);
    cf_do (run->fake, CF_CLOSED);
    cf_run_play (run, 1);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 8 | reason:"
                              " the server holds 8 bets of agency 3, more than the 7 of the"
                              " data file");
}

static void
test_client_v2_resume (void **state)
{
    (void) state;
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
        cf_greet (run->fake, 0, false);
        cf_run_chunks (run, 0, 3);             //  0 answered, 3 sent
        cf_do (run->fake, cases [i].drop);
        cf_run_all (run, cases [i].stored);
        cf_run_play (run, 0);
        cf_assert_once (run->log, "action: reconectar | result: in_progress | agencia: 3"
                                  " | reason: %s", cases [i].reason);
        cf_assert_once (run->log, "action: reconectar | result: success | agencia: 3"
                                  " | almacenadas: %u | terminada: 0", cases [i].stored);
    }
}

static void
test_client_v2_stalled (void **state)
{
    (void) state;
    //  Every connection drops with nothing more stored: after loop.amount
    //  (2) such reconnections in a row the client gives up
    cf_run_t *run = cf_run_new ();
    for (int i = 0; i < 2; i++) {
        cf_greet (run->fake, 0, false);
        cf_run_chunks (run, 0, 0);
        cf_do (run->fake, CF_CLOSE);
    }
    cf_greet (run->fake, 0, false);
    cf_do (run->fake, CF_CLOSED);
    cf_run_play (run, 1);
    assert_int_equal (cf_lines (run->log, "action: reconectar | result: in_progress"), 2);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 0"
                              " | reason: the connection dropped 2 times in a row");
}

static void
test_client_v2_busy (void **state)
{
    (void) state;
    //  Busy: another connection of the agency is still alive on the
    //  server. Tried again like a refused connection.
    cf_run_t *run = cf_run_new ();
    cf_hello (run->fake);
    cf_error (run->fake, LOT_REASON_BUSY);
    cf_run_all (run, 0);
    cf_run_play (run, 0);
    cf_assert_once (run->log, "action: conectar | result: in_progress");
    cf_assert_once (run->log, "| intento: 1 | reason: rejected by the server:"
                              " agency busy on another connection");
}

static void
test_client_v2_rejected (void **state)
{
    (void) state;
    //  Any other 'E' to a chunk is final: no retry
    cf_run_t *run = cf_run_new ();
    cf_greet (run->fake, 0, false);
    cf_run_chunks (run, 0, 0);
    cf_error (run->fake, "no such bet");
    cf_run_play (run, 1);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 0"
                              " | reason: rejected by the server: no such bet");
    cf_assert_none (run->log, "in_progress");
}

//  The v1 chunk of the run's bets at position: the numbered one less its
//  header ('N', u32).
static void
s_v1_chunk (cf_run_t *run, size_t position)
{
    tu_wire_t chunk;
    cf_numbered_chunk (&run->gen, 3, position, &chunk);
    cf_step (run->fake, CF_EXPECT, chunk.data + 5, chunk.size - 5);
}

static void
test_client_falls_back_to_v1 (void **state)
{
    (void) state;
    //  A server that does not answer 'H' with 'S' speaks only the course's
    //  protocol: the client says so once and uploads in v1 at once
    static const struct {
        const char *name;
        cf_op_t op;             //  What the server does after the 'H'
        const char *reason;
    } cases [] = {
        { "reset", CF_RESET, "recv: Connection reset by peer" },
        { "closed", CF_CLOSE, "the server closed the connection" },
        { "error", CF_SEND, "rejected by the server: unknown message tag" },
        { "silent", CF_CLOSED, "no answer from the server within 300ms" },
    };
    CF_EACH (i, cases, cases [i].name) {
        cf_run_t *run = cf_run_new ();
        cf_env (run->client, "CLI_SERVER_TIMEOUT=300ms");
        cf_hello (run->fake);
        if (cases [i].op == CF_SEND)
            cf_error (run->fake, "unknown message tag");
        else
            cf_do (run->fake, cases [i].op);
        cf_do (run->fake, CF_ACCEPT);            //  v1: 'B', then each chunk answered
        cf_expect (run->fake, "B");
        for (size_t position = 0; position < 7; position += 3) {
            s_v1_chunk (run, position);
            cf_send (run->fake, "O");
        }
        cf_winners (run->fake);
        cf_run_play (run, 0);
        const char *warned [] = { "WARNING  action: protocolo | result: success | version: 1",
                                  cases [i].reason, NULL };
        assert_int_equal (tu_count_lines (run->log, warned), 1);
        cf_assert_once (run->log, "action: protocolo");
        cf_assert_none (run->log, "in_progress");
    }
}

static void
test_client_v2_never_downgraded (void **state)
{
    (void) state;
    //  Once the server said 'S', a connection that drops before the next
    //  'S' is a drop, not a refusal of v2: the client says 'H' again
    cf_run_t *run = cf_run_new ();
    cf_env (run->client, "CLI_WINDOW=1");
    cf_greet (run->fake, 0, false);
    cf_run_chunks (run, 0, 3);
    cf_do (run->fake, CF_RESET);
    cf_hello (run->fake);
    cf_do (run->fake, CF_RESET);
    cf_run_all (run, 3);
    cf_run_play (run, 0);
    cf_assert_none (run->log, "action: protocolo");
    cf_assert_once (run->log, "action: conectar | result: in_progress");
}

static void
test_client_silent_server (void **state)
{
    (void) state;
    //  A server that reads everything and answers nothing: each wait ends
    //  after server.timeout, as a dropped connection would. v1 cannot learn
    //  what was stored, so its upload fails.
    cf_run_t *run = cf_run_new ();
    cf_env (run->client, "CLI_SERVER_TIMEOUT=300ms");
    cf_env (run->client, "CLI_PROTOCOL_VERSION=1");
    cf_do (run->fake, CF_ACCEPT);
    cf_expect (run->fake, "B");
    s_v1_chunk (run, 0);
    cf_do (run->fake, CF_CLOSED);
    cf_run_play (run, 1);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 0"
                              " | reason: no answer from the server within 300ms");

    //  v2 by default: no 'S', so v1; no answer there either, so 'H' again
    //  (a v2 server at its connection limit drops new connections too),
    //  until loop.amount (2) connections in a row stored nothing
    run = cf_run_new ();
    cf_env (run->client, "CLI_SERVER_TIMEOUT=300ms");
    for (int i = 0; i < 3; i++) {
        cf_hello (run->fake);
        cf_do (run->fake, CF_CLOSED);
        cf_do (run->fake, CF_ACCEPT);
        if (i == 2)
            break;
        cf_expect (run->fake, "B");
        s_v1_chunk (run, 0);
        cf_do (run->fake, CF_CLOSED);
    }
    cf_do (run->fake, CF_ONLY_CLOSED);
    cf_run_play (run, 1);
    cf_assert_once (run->log, "action: apuestas_enviadas | result: fail | cantidad: 0 | reason:"
                              " the connection dropped 2 times in a row with no more bets"
                              " stored");
    cf_assert_once (run->log, "WARNING  action: protocolo");
    assert_int_equal (cf_lines (run->log, "DEBUG    action: protocolo"), 2);

    //  v2, once the server said 'S': reconnect, and resume from the new 'S'
    run = cf_run_new ();
    cf_env (run->client, "CLI_SERVER_TIMEOUT=300ms");
    cf_env (run->client, "CLI_WINDOW=1");
    cf_greet (run->fake, 0, false);
    cf_run_chunks (run, 0, 0);
    cf_do (run->fake, CF_CLOSED);
    cf_run_all (run, 3);
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
    cf_greet (run->fake, 0, false);
    cf_run_chunks (run, 0, 0);
    cf_run_chunks (run, 3, 3);
    cf_send (run->fake, "O");
    cf_run_chunks (run, 6, 6);
    return run;
}

static void
test_client_v2_window (void **state)
{
    (void) state;
    //  Answers come in order, one for each chunk
    cf_run_t *run = s_run_window_two ();
    cf_send (run->fake, "OO");
    cf_winners (run->fake);
    cf_run_play (run, 0);
    cf_assert_once (run->log, "| window: 2 |");

    //  The connection drops with two chunks out: the new 'S' says the
    //  first of them is not stored, and both go again
    run = s_run_window_two ();
    cf_do (run->fake, CF_CLOSE);
    cf_greet (run->fake, 3, false);
    cf_run_chunks (run, 3, 3);
    cf_run_chunks (run, 6, 6);
    cf_send (run->fake, "OO");
    cf_winners (run->fake);
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
        cf_greet (run->fake, 0, false);
        for (size_t chunk = 0; chunk < cases [i].window; chunk++)
            cf_run_chunks (run, 3 * chunk, 3 * chunk);
        if (cases [i].answered) {
            cf_send (run->fake, "O");
            cf_run_chunks (run, 3 * cases [i].window, 3 * cases [i].window);
        }
        cf_send (run->fake, "E\x00\x0bno such bet");
        cf_do (run->fake, CF_ONLY_CLOSED);
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
test_client_progress (void **state)
{
    (void) state;
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
    cf_greet (fake, 0, false);
    for (uint32_t i = 0; i < 4; i++) {
        tu_wire_t chunk = { .size = 0 };
        tu_wire_byte (&chunk, 'N');
        tu_wire_u32 (&chunk, i);
        tu_wire_chunk (&chunk, i == 3 ? 'L' : 'C', 1, "3");
        tu_wire_bet (&chunk, bets [i]);
        cf_wire (fake, CF_EXPECT, &chunk);
        cf_step (fake, CF_PAUSE, NULL, 700);
        cf_send (fake, "O");
    }
    cf_winners (fake);
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

//  A single-bet client; the bet's 'L' chunk at position, v2.
static cf_client_t *
s_client_single (cf_fake_t *fake, tu_wire_t *chunk, uint32_t position)
{
    cf_client_t *client = cf_client_new (fake->port);
    cf_env (client, "CLI_DATA_FILE=none.csv");
    const char *bet [5] = { "Ana", "Paz", "30904465", "1999-03-17", "7574" };
    cf_env_bet (client, bet);
    chunk->size = 0;
    tu_wire_byte (chunk, 'N');
    tu_wire_u32 (chunk, position);
    tu_wire_chunk (chunk, 'L', 1, "3");
    tu_wire_bet (chunk, bet);
    return client;
}

static void
s_assert_single_sent (const char *log)
{
    cf_assert_once (log, "action: apuesta_enviada | result: success | dni: 30904465"
                         " | numero: 7574");
    cf_assert_none (log, "consulta_ganadores");
    cf_assert_no_failure (log);
}

static void
test_client_v2_single (void **state)
{
    (void) state;
    //  The bet goes at the position the server says; an agency already
    //  finished holds it, and nothing is sent
    static const struct { const char *name; uint32_t stored; bool finished; } cases [] = {
        { "none stored", 0, false }, { "4 stored", 4, false }, { "finished", 1, true }
    };
    CF_EACH (i, cases, cases [i].name) {
        cf_fake_t *fake = cf_fake_new ();
        tu_wire_t chunk;
        cf_client_t *client = s_client_single (fake, &chunk, cases [i].stored);
        cf_greet (fake, cases [i].stored, cases [i].finished);
        if (!cases [i].finished) {
            cf_wire (fake, CF_EXPECT, &chunk);
            cf_send (fake, "O");
        }
        cf_do (fake, CF_CLOSED);
        const char *log = cf_client_run (&fake, client, 0);
        s_assert_single_sent (log);
        assert_int_equal (cf_lines (log, "chunk_enviado"), !cases [i].finished);
    }
}

static void
test_client_v2_single_resume (void **state)
{
    (void) state;
    //  The connection drops before the bet's answer; the new 'S' says the
    //  agency finished: the bet is stored
    cf_fake_t *fake = cf_fake_new ();
    tu_wire_t chunk;
    cf_client_t *client = s_client_single (fake, &chunk, 0);
    cf_greet (fake, 0, false);
    cf_wire (fake, CF_EXPECT, &chunk);
    cf_do (fake, CF_CLOSE);
    cf_greet (fake, 1, true);
    cf_do (fake, CF_CLOSED);
    const char *log = cf_client_run (&fake, client, 0);
    s_assert_single_sent (log);
    cf_assert_once (log, "action: reconectar | result: in_progress");
    cf_assert_once (log, "action: reconectar | result: success | agencia: 3"
                         " | almacenadas: 1 | terminada: 1");
}

//  A fake that takes an empty file's upload, v2, up to the winners query.
static cf_fake_t *
s_fake_empty_upload (void)
{
    cf_fake_t *fake = cf_fake_new ();
    cf_greet (fake, 0, false);
    cf_expect (fake, "N\x00\x00\x00\x00" "L\x00\x00\x00\x01" "3");
    cf_send (fake, "O");
    cf_do (fake, CF_CLOSED);
    cf_do (fake, CF_ACCEPT);
    cf_expect (fake, "W\x00\x01" "3");
    return fake;
}

//  Runs an empty file's client with a 300 ms winners limit against the
//  script, which ends the winners query its own way; checks that the
//  client fails on time, with the limit as the reason.
static void
s_winners_times_out (cf_fake_t *fake, cf_client_t *client, const char *loop_amount)
{
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
}

static void
test_client_winners_timeout (void **state)
{
    (void) state;
    //  No answer at all
    cf_fake_t *fake = s_fake_empty_upload ();
    cf_do (fake, CF_CLOSED);
    cf_client_t *client = cf_client_new (fake->port);
    s_winners_times_out (fake, client, "2");
    cf_assert_none (client->log, "reconectar");

    //  The winners connection drops and the server is gone: the limit
    //  cuts the connection attempts short (1000 x 50 ms would be more)
    fake = s_fake_empty_upload ();
    cf_do (fake, CF_UNLISTEN);
    cf_do (fake, CF_CLOSE);
    client = cf_client_new (fake->port);
    s_winners_times_out (fake, client, "1000");
    cf_assert_once (client->log, "action: reconectar | result: in_progress");
    assert_true (cf_lines (client->log, "action: conectar | result: in_progress") >= 2);
    cf_assert_none (client->log, "action: conectar | result: fail");
}

static void
test_client_v2_sigterm (void **state)
{
    (void) state;
    //  SIGTERM while the client waits to try a busy agency again
    cf_fake_t *fake = cf_fake_new ();
    cf_client_t *client = cf_client_new (fake->port);
    cf_env (client, "CLI_DATA_FILE=/dev/null");
    cf_env (client, "CLI_LOOP_PERIOD=1m");
    cf_hello (fake);
    cf_error (fake, LOT_REASON_BUSY);
    cf_do (fake, CF_BREAK);
    cf_client_run_sigterm (&fake, client);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        CF_TEST (test_client_v2_bytes),
        CF_TEST (test_client_v2_stored),
        CF_TEST (test_client_v2_stored_too_many),
        CF_TEST (test_client_v2_resume),
        CF_TEST (test_client_v2_stalled),
        CF_TEST (test_client_v2_busy),
        CF_TEST (test_client_v2_rejected),
        CF_TEST (test_client_falls_back_to_v1),
        CF_TEST (test_client_v2_never_downgraded),
        CF_TEST (test_client_silent_server),
        CF_TEST (test_client_v2_single),
        CF_TEST (test_client_v2_single_resume),
        CF_TEST (test_client_winners_timeout),
        CF_TEST (test_client_v2_sigterm),
        CF_TEST (test_client_v2_window),
        CF_TEST (test_client_progress),
    };
    return cmocka_run_group_tests (tests, cf_init, cf_end);
}
