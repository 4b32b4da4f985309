/*  test_client_v1 - the real lottery-client in the course's protocol (v1)
    against a fake server that checks every byte: the bets, a single bet,
    the winners, and every way a run fails or is stopped
*/
#include "client_fake.h"

#include <sys/stat.h>

//  A v1 client of agency 3 for the fake; its data file agency-3.csv holds csv.
static cf_client_t *
s_client_v1 (cf_fake_t *fake, const char *csv)
{
    cf_client_t *client = cf_client_new (fake->port);
    cf_env (client, "CLI_DATA_FILE=%s", cf_write ("agency-3.csv", csv));
    cf_env (client, "CLI_PROTOCOL_VERSION=1");
    return client;
}

//  A v1 chunk of agency 3 holding count bets, after a 'B' when it is the first.
static void
s_chunk (tu_wire_t *wire, bool first, char tag, const char *bets [][5], unsigned count)
{
    wire->size = 0;
    if (first)
        tu_wire_byte (wire, 'B');
    tu_wire_chunk (wire, tag, count, "3");
    for (unsigned i = 0; i < count; i++)
        tu_wire_bet (wire, bets [i]);
}

static void
test_client_bets_and_winners (void **)
{
    cf_fake_t *fake = cf_fake_new ();
    cf_client_t *client = s_client_v1 (fake, cf_three_crlf);
    cf_env (client, "CLI_BATCH_MAXAMOUNT=2");
    tu_wire_t first, second;
    s_chunk (&first, true, 'C', cf_three, 2);
    s_chunk (&second, false, 'L', cf_three + 2, 1);
    cf_script (fake, { CF_ACCEPT }, { CF_EXPECT, first.data, first.size }, CF_SENDS ("O"),
               { CF_EXPECT, second.data, second.size }, CF_SENDS ("O"), { CF_WINNERS });
    const char *log = cf_client_run (&fake, client, 0);
    cf_assert_once (log, "action: config | result: success | id: 3 | ");
    cf_assert_once (log, "| protocol_version: 1 | server_timeout: 30000ms"
                         " | winners_timeout: 600000ms");
    cf_assert_once (log, "action: chunk_enviado | result: success | cantidad: 2");
    cf_assert_once (log, "action: chunk_enviado | result: success | cantidad: 1");
    cf_assert_once (log, "action: apuestas_enviadas | result: success | cantidad: 3");
    cf_assert_once (log, "action: consulta_ganadores | result: success | cant_ganadores: 2");
    cf_assert_once (log, "action: ganador | result: success | agencia: 3 | dni: 111");
    cf_assert_once (log, "action: ganador | result: success | agencia: 3 | dni: 222");
    cf_assert_no_failure (log);
}

static void
test_client_single_bet (void **)
{
    //  Both ways a data file can be missing: no such path, and the empty
    //  directory docker makes for a missing bind-mount source
    static const struct { const char *name; bool as_dir; } cases [] = {
        { "no such file", false }, { "an empty directory", true }
    };
    const char *bet [1][5] = { { "María Inés", "O'Neil", "30904465", "1999-03-17", "7574" } };
    tu_wire_t bytes;
    s_chunk (&bytes, true, 'L', bet, 1);
    CF_EACH (i, cases, cases [i].name) {
        cf_fake_t *fake = cf_fake_new ();
        cf_client_t *client = cf_client_new (fake->port);
        if (cases [i].as_dir)
            assert_int_equal (mkdir ("agency-3.csv", 0755), 0);
        cf_env (client, "CLI_DATA_FILE=%s", cases [i].as_dir ? "agency-3.csv" : "none.csv");
        cf_env_bet (client, bet [0]);
        cf_env (client, "CLI_PROTOCOL_VERSION=1");
        //  CF_CLOSED: no winners query comes either
        cf_script (fake, { CF_ACCEPT }, { CF_EXPECT, bytes.data, bytes.size }, CF_SENDS ("O"),
                   { CF_CLOSED });
        const char *log = cf_client_run (&fake, client, 0);
        cf_assert_once (log, "action: apuesta_enviada | result: success"
                             " | dni: 30904465 | numero: 7574");
        assert_non_null (strstr (log, "| numero: 7574\n"));     //  Nothing appended
        cf_assert_none (log, "consulta_ganadores");
        cf_assert_none (log, "result: fail");
    }
}

static void
test_client_nothing_to_send (void **)
{
    //  No data file and no (or an incomplete, or an invalid) single bet
    static const struct { const char *name, *env [5]; } cases [] = {
        { "NOMBRE", { NULL } },
        { "NUMERO", { "NOMBRE=Ana", "APELLIDO=Paz", "DOCUMENTO=22", "NACIMIENTO=2000-02-29" } },
        { "NACIMIENTO", { "NOMBRE=Ana", "APELLIDO=Paz", "DOCUMENTO=22",
                          "NACIMIENTO=2000-02-30", "NUMERO=1" } },
        { "NUMERO", { "NOMBRE=Ana", "APELLIDO=Paz", "DOCUMENTO=22",
                      "NACIMIENTO=2000-02-29", "NUMERO=10000" } },
    };
    cf_fake_t *fake = cf_fake_new ();
    CF_EACH (i, cases, cases [i].name) {
        cf_client_t *client = cf_client_new (fake->port);
        cf_env (client, "CLI_DATA_FILE=none.csv");
        for (int f = 0; f < 5 && cases [i].env [f]; f++)
            cf_env (client, "%s", cases [i].env [f]);
        cf_client_start (client);
        //  The failure names what is missing or wrong
        const char *parts [] = { "result: fail", cases [i].name, NULL };
        assert_int_equal (tu_count_lines (cf_client_exits (client, 2), parts), 1);
    }
    //  A bad line anywhere: nothing is sent, not even the good lines
    cf_client_t *client = cf_client_new (fake->port);
    cf_env (client, "CLI_DATA_FILE=%s", cf_write ("agency-3.csv",
            "Ana,Paz,22,2000-02-29,1\r\nBeto,Paz,23,2000-01-01\r\nCarla,Paz,24,2000-01-01,3\r\n"));
    const char *log = cf_client_run (&fake, client, 1);      //  Nothing ever connected
    const char *parts [] = { "result: fail", "agency-3.csv", "line: 2", NULL };
    assert_int_equal (tu_count_lines (log, parts), 1);
    cf_assert_one_failure (log);
}

static void
test_client_unreachable (void **)
{
    int closed;
    int port = tu_closed_port (&closed);
    assert_true (port > 0);
    cf_client_t *client = cf_client_new (port);
    cf_env (client, "CLI_DATA_FILE=%s", cf_write ("agency-3.csv", cf_three_csv));
    long long start = zclock_mono ();
    cf_client_start (client);
    const char *log = cf_client_exits (client, 1);
    long long took = zclock_mono () - start;
    //  Two attempts 50 ms apart: well under a second, not 5 x 5 s
    assert_true (took >= 50);
    assert_true (took < 2000);
    cf_assert_once (log, "action: conectar | result: in_progress");
    cf_assert_once (log, "action: conectar | result: fail");
    cf_assert_one_failure (log);
    close (closed);
}

static void
test_client_rejected (void **)
{
    cf_fake_t *fake = cf_fake_new ();
    cf_client_t *client = s_client_v1 (fake, cf_three_csv);
    tu_wire_t bytes;
    s_chunk (&bytes, true, 'L', cf_three, 3);
    cf_script (fake, { CF_ACCEPT }, { CF_EXPECT, bytes.data, bytes.size },
               CF_ERRORS ("unknown agency|"));
    const char *log = cf_client_run (&fake, client, 1);
    //  The reason is the server's, masked so the line keeps its shape
    cf_assert_one_failure (log);
    cf_assert_once (log, "reason: rejected by the server: unknown agency?");
    cf_assert_none (log, "apuestas_enviadas | result: success");
}

static void
test_client_winners_dropped (void **)
{
    //  The server closes the winners connection halfway through an answer:
    //  the client asks again, and only a whole answer counts
    cf_fake_t *fake = cf_fake_new ();
    cf_client_t *client = s_client_v1 (fake, "");
    cf_script (fake, { CF_ACCEPT }, CF_EXPECTS ("BL\x00\x00\x00\x01" "3"), CF_SENDS ("O"),
               { CF_CLOSED }, { CF_ACCEPT }, CF_EXPECTS ("W\x00\x01" "3"),
               CF_SENDS ("\x00\x01\x00"), { CF_CLOSE }, { CF_ACCEPT }, CF_EXPECTS ("W\x00\x01" "3"),
               CF_SENDS ("\x00\x02\x00\x03" "111\x00\x03" "222"), { CF_CLOSE });
    const char *log = cf_client_run (&fake, client, 0);
    cf_assert_once (log, "action: apuestas_enviadas | result: success | cantidad: 0");
    cf_assert_once (log, "action: reconectar | result: in_progress | agencia: 3"
                         " | reason: the server closed the connection");
    cf_assert_once (log, "action: consulta_ganadores | result: success | cant_ganadores: 2");
    cf_assert_none (log, "result: fail");
}

static void
test_client_sigterm (void **)
{
    //  SIGTERM while the client waits for the draw
    cf_fake_t *fake = cf_fake_new ();
    cf_client_t *client = s_client_v1 (fake, "");
    cf_env (client, "CLI_LOG_LEVEL=INFO");
    cf_script (fake, { CF_ACCEPT }, CF_EXPECTS ("BL\x00\x00\x00\x01" "3"), CF_SENDS ("O"),
               { CF_ACCEPT }, CF_EXPECTS ("W\x00\x01" "3"), { CF_BREAK }, { CF_CLOSED });
    const char *log = cf_client_run_sigterm (&fake, client);
    cf_assert_once (log, "action: close | result: success | resource: winners_connection");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        CF_TEST (test_client_bets_and_winners),
        CF_TEST (test_client_single_bet),
        CF_TEST (test_client_nothing_to_send),
        CF_TEST (test_client_unreachable),
        CF_TEST (test_client_rejected),
        CF_TEST (test_client_winners_dropped),
        CF_TEST (test_client_sigterm),
    };
    return cmocka_run_group_tests (tests, cf_init, cf_end);
}
