/*  client_fake - what the agency client's tests share (client_fake.h)  */
#include "client_fake.h"
#include "lot_log.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

char *cf_client_path, *cf_ping_path;

static long s_step = -1;            //  The fake's step being played, for the teardown

//  What the test made, for its teardown to free
static struct {
    void *item;
    void (*free_fn) (void *item);
} s_made [64];
static size_t s_made_count;

static void *
s_made_by_test (void *item, void (*free_fn) (void *item))
{
    assert_non_null (item);
    assert_true (s_made_count < CF_COUNT (s_made));
    s_made [s_made_count].item = item;
    s_made [s_made_count++].free_fn = free_fn;
    return item;
}

int
cf_init (void **)
{
    signal (SIGPIPE, SIG_IGN);      //  A client gone fails a send, not the test
    cf_client_path = tu_program ("lottery-client");
    cf_ping_path = tu_program ("lottery-ping");
    return 0;
}

int
cf_end (void **)
{
    free (cf_client_path);
    free (cf_ping_path);
    return 0;
}

int
cf_setup (void **state)
{
    static const char *names [] = {
        "CLI_ID", "CLI_SERVER_ADDRESS", "CLI_LOOP_AMOUNT", "CLI_LOOP_PERIOD", "CLI_LOG_LEVEL",
        "CLI_BATCH_MAXAMOUNT", "CLI_DATA_FILE", "CLI_MAX_CHUNK_BYTES", "CLI_WINDOW",
        "CLI_PROTOCOL_VERSION", "CLI_SERVER_TIMEOUT", "CLI_WINNERS_TIMEOUT",
        "NOMBRE", "APELLIDO", "DOCUMENTO", "NACIMIENTO", "NUMERO"
    };
    for (size_t i = 0; i < CF_COUNT (names); i++)
        unsetenv (names [i]);
    lot_log_set_level (LOT_LOG_CRITICAL);       //  Keep the report readable
    return tu_dir_setup (state);
}

int
cf_teardown (void **state)
{
    tu_kill_all (state);                        //  No client left running
    if (s_step >= 0) {
        char *log = tu_read_file (CF_LOG, NULL);
        print_error ("fake server: failed at step %ld; client log:\n%s", s_step,
                     log ? log : "(none)\n");
        free (log);
    }
    tu_case_teardown (state);
    for (; s_made_count > 0; s_made_count--)
        s_made [s_made_count - 1].free_fn (s_made [s_made_count - 1].item);
    return tu_dir_teardown (state);
}

bool
cf_case (size_t index, const char *label)
{
    if (label)
        tu_case ("%zu: %s", index, label);
    else
        tu_case_done ();
    return label != NULL;
}

const char *
cf_write (const char *name, const char *text)
{
    FILE *file = fopen (name, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (text, 1, strlen (text), file), strlen (text));
    assert_int_equal (fclose (file), 0);
    return name;
}

int
cf_bound_socket (const char *ip, int *port)
{
    char service [8];
    snprintf (service, sizeof service, "%d", *port);
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
                              .ai_socktype = SOCK_STREAM }, *addr;
    if (getaddrinfo (ip, service, &hints, &addr))
        return -1;
    int fd = socket (addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), on = 1;
    struct sockaddr_in6 bound;          //  Room for either; the port is where v4's is
    socklen_t size = sizeof bound;
    if (fd >= 0
    &&  ((addr->ai_family == AF_INET6
    &&    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on))
    ||   bind (fd, addr->ai_addr, addr->ai_addrlen)
    ||   getsockname (fd, (struct sockaddr *) &bound, &size))) {
        close (fd);
        fd = -1;
    }
    freeaddrinfo (addr);
    if (fd >= 0)
        *port = ntohs (bound.sin6_port);
    return fd;
}

const char *cf_three [3][5] = {
    { "Valentina", "Vera", "30170921", "1982-05-22", "6053" },
    { "Núñez, \"Jr\"", "O'Neil", "12345678", "2000-02-29", "7574" },
    { "María Inés", "de la Fuente", "1", "1999-12-31", "0042" },
};
const char *cf_three_csv =
    "Valentina,Vera,30170921,1982-05-22,6053\n"
    "\"Núñez, \"\"Jr\"\"\",O'Neil,12345678,2000-02-29,7574\n"
    "María Inés,de la Fuente,1,1999-12-31,0042\n";
const char *cf_three_crlf =
    "Valentina,Vera,30170921,1982-05-22,6053\r\n"
    "\"Núñez, \"\"Jr\"\"\",O'Neil,12345678,2000-02-29,7574\r\n"
    "María Inés,de la Fuente,1,1999-12-31,0042\r\n";

void
cf_gen_init (cf_gen_t *gen, size_t count, size_t name_size)
{
    gen->bets = calloc (count ? count : 1, sizeof *gen->bets);
    assert_non_null (gen->bets);
    gen->count = count;
    gen->next = 0;
    for (size_t i = 0; i < count; i++) {
        memset (gen->bets [i][0], 'a' + (int) (i % 26), 1 + (i * 7 + name_size) % 40);
        snprintf (gen->bets [i][1], 64, "Apellido%zu", i);
        snprintf (gen->bets [i][2], 64, "%zu", 20000000 + i);
        snprintf (gen->bets [i][3], 64, "19%02zu-%02zu-%02zu", i % 100, 1 + i % 12, 1 + i % 28);
        snprintf (gen->bets [i][4], 64, "%zu", i % 10000);
    }
}

int
cf_gen_next (void *source, lot_span_t fields [LOT_BET_FIELDS])
{
    cf_gen_t *gen = source;
    if (gen->next == gen->count)
        return 0;
    for (int f = 0; f < 5; f++)
        fields [f] = tu_span (gen->bets [gen->next][f]);
    gen->next++;
    return 1;
}

//  ---------------------------------------------------------------------
//  The fake server

cf_fake_t *
cf_fake_new_at (const char *ip, int port)
{
    cf_fake_t *fake = calloc (1, sizeof *fake);
    assert_non_null (fake);
    fake->port = port;
    fake->fd = -1;
    fake->listener = cf_bound_socket (ip, &fake->port);
    assert_true (fake->listener >= 0);
    assert_int_equal (listen (fake->listener, 8), 0);
    return fake;
}

//  Appends a step of op with size bytes of data (or, without data, size
//  as CF_PAUSE's milliseconds).
static void
s_add (cf_fake_t *fake, cf_op_t op, const void *data, size_t size)
{
    assert_true (fake->count < CF_COUNT (fake->steps));
    fake->steps [fake->count].op = op;
    tu_wire_t *wire = &fake->steps [fake->count++].wire;
    wire->size = data ? 0 : size;
    if (data)
        tu_wire_bytes (wire, data, size);
}

//  The bets-file lines of the first stored bets of agency-3.csv, when the
//  test wrote one (of plain fields: each line is "3," and its record), of
//  which an 'S' carries the digest.
static char *
s_stored_lines (size_t stored)
{
    size_t size = 0;
    char *lines = NULL, record [1024];
    FILE *out = open_memstream (&lines, &size);
    FILE *data = fopen ("agency-3.csv", "rb");
    assert_non_null (out);
    for (size_t i = 0; data && i < stored && fgets (record, sizeof record, data); i++)
        fprintf (out, "3,%.*s\r\n", (int) strcspn (record, "\r\n"), record);
    if (data)
        fclose (data);
    fclose (out);
    return lines;
}

//  The wire bytes of the chunk of the fake's bets at position, numbered
//  (v2) or not.
static void
s_chunk (cf_fake_t *fake, size_t position, bool numbered, tu_wire_t *chunk)
{
    const cf_gen_t *gen = fake->gen;
    assert_non_null (gen);
    size_t count = gen->count - position < 3 ? gen->count - position : 3;
    chunk->size = 0;
    if (numbered) {
        tu_wire_byte (chunk, 'N');
        tu_wire_u32 (chunk, (uint32_t) position);
    }
    tu_wire_chunk (chunk, position + count == gen->count ? 'L' : 'C', (unsigned) count, "3");
    for (size_t i = position; i < position + count; i++)
        for (int f = 0; f < 5; f++)
            tu_wire_str (chunk, gen->bets [i][f]);
}

void
cf_rows (cf_fake_t *fake, const cf_row_t *rows)
{
    tu_wire_t wire;
    bool v2;
    for (const cf_row_t *row = rows; row->op != CF_END; row++) {
        wire.size = 0;
        switch (row->op) {
            case CF_HELLO:
            case CF_GREET:
            case CF_HELLO_V2:
            case CF_GREET_V2:
                v2 = row->op == CF_HELLO_V2 || row->op == CF_GREET_V2;
                s_add (fake, CF_ACCEPT, NULL, 0);
                s_add (fake, CF_EXPECT, v2 ? "H\x00\x02\x00\x01" "3"
                                           : "H\x00\x03\x00\x01" "3", 6);
                if (row->op == CF_HELLO || row->op == CF_HELLO_V2)
                    break;
                tu_wire_byte (&wire, 'S');      //  The one place an 'S' is made
                tu_wire_u32 (&wire, (uint32_t) row->at);
                tu_wire_byte (&wire, row->finished);
                if (!v2) {
                    char *lines = s_stored_lines (row->at);
                    tu_wire_digest (&wire, lines);
                    free (lines);
                }
                s_add (fake, CF_SEND, wire.data, wire.size);
                break;
            case CF_ERROR:
                tu_wire_byte (&wire, 'E');
                tu_wire_u16 (&wire, (unsigned) row->size);
                tu_wire_bytes (&wire, row->bytes, row->size);
                s_add (fake, CF_SEND, wire.data, wire.size);
                s_add (fake, CF_CLOSED, NULL, 0);
                break;
            case CF_CHUNK:
            case CF_CHUNK_V1:
                s_chunk (fake, row->at, row->op == CF_CHUNK, &wire);
                s_add (fake, CF_EXPECT, wire.data, wire.size);
                break;
            case CF_CHUNKS:
                for (size_t at = row->at; at == row->at || at < fake->gen->count; at += 3) {
                    s_chunk (fake, at, true, &wire);
                    s_add (fake, CF_EXPECT, wire.data, wire.size);
                    s_add (fake, CF_SEND, "O", 1);
                }
                break;
            case CF_WINNERS:
                cf_script (fake, { CF_CLOSED }, { CF_ACCEPT }, CF_EXPECTS ("W\x00\x01" "3"),
                           CF_SENDS ("\x00\x02\x00\x03" "111\x00\x03" "222"), { CF_CLOSE });
                break;
            default:
                s_add (fake, row->op, row->bytes, row->bytes ? row->size : row->at);
        }
    }
}

static void
s_play_step (cf_fake_t *fake, cf_op_t op, const tu_wire_t *wire)
{
    uint8_t byte;
    struct pollfd item = { fake->listener, POLLIN, 0 };
    struct linger linger = { 1, 0 };
    switch (op) {
        case CF_ACCEPT:
            if (poll (&item, 1, CF_WAIT_MS) != 1)
                fail_msg ("no connection came");
            if (fake->fd >= 0)
                close (fake->fd);
            fake->fd = accept4 (fake->listener, NULL, NULL, SOCK_CLOEXEC);
            assert_true (fake->fd >= 0);
            break;
        case CF_EXPECT:
            tu_expect_bytes (fake->fd, wire->data, wire->size);
            break;
        case CF_SEND:
            assert_int_equal (tu_send_all (fake->fd, wire->data, wire->size), 0);
            break;
        case CF_BREAK:
            break;
        case CF_CLOSED:
            if (!tu_wait_closed (fake->fd, CF_WAIT_MS))
                fail_msg ("the client did not close the connection");
            break;
        case CF_ONLY_CLOSED:
            if (tu_recv_exact (fake->fd, &byte, 1, CF_WAIT_MS) == 1)
                fail_msg ("the client sent 0x%02x before it closed", byte);
            break;
        case CF_PAUSE:
            usleep ((useconds_t) wire->size * 1000);
            break;
        case CF_RESET:
            setsockopt (fake->fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
            //  Fall through
        case CF_CLOSE:
            close (fake->fd);
            fake->fd = -1;
            break;
        case CF_UNLISTEN:
            close (fake->listener);
            fake->listener = -1;
            break;
        default:
            fail_msg ("step %d is a part, not a step", op);
    }
}

void
cf_play (cf_fake_t *fake)
{
    while (fake->next < fake->count) {
        s_step = (long) fake->next;
        cf_op_t op = fake->steps [fake->next].op;
        s_play_step (fake, op, &fake->steps [fake->next++].wire);
        if (op == CF_BREAK)
            break;
    }
    s_step = -1;
    if (fake->next == fake->count && fake->fd >= 0) {
        close (fake->fd);                       //  A server whose script ended hangs up
        fake->fd = -1;
    }
}

static void
s_fake_free (cf_fake_t *fake)
{
    if (fake && fake->listener >= 0)
        close (fake->listener);
    if (fake && fake->fd >= 0)
        close (fake->fd);
    free (fake);
}

void
cf_fake_destroy (cf_fake_t **fake_p)
{
    cf_fake_t *fake = *fake_p;
    assert_int_equal (fake->next, fake->count);
    struct pollfd item = { fake->listener, POLLIN, 0 };
    assert_int_equal (poll (&item, 1, 0), 0);   //  No other connection (-1: ignored)
    s_fake_free (fake);
    *fake_p = NULL;
}

//  ---------------------------------------------------------------------
//  The real client

static void
s_client_free (void *item)
{
    cf_client_t *client = item;
    tu_proc_destroy (&client->proc);
    free (client->log);
    free (client);
}

cf_client_t *
cf_client_new (int port)
{
    cf_client_t *client = s_made_by_test (calloc (1, sizeof (cf_client_t)), s_client_free);
    unlink (CF_LOG);
    cf_env (client, "CLI_ID=3");
    cf_env (client, "CLI_SERVER_ADDRESS=127.0.0.1:%d", port);
    cf_env (client, "CLI_LOOP_AMOUNT=2");
    cf_env (client, "CLI_LOOP_PERIOD=50ms");
    cf_env (client, "CLI_LOG_LEVEL=DEBUG");
    return client;
}

void
cf_env (cf_client_t *client, const char *format, ...)
{
    assert_true (client->env_count < CF_COUNT (client->env_text));
    char *text = client->env_text [client->env_count];
    va_list args;
    va_start (args, format);
    int size = vsnprintf (text, sizeof client->env_text [0], format, args);
    va_end (args);
    assert_in_range (size, 1, sizeof client->env_text [0] - 1);
    client->env [client->env_count++] = text;
}

void
cf_env_bet (cf_client_t *client, const char *const bet [5])
{
    const char *names [5] = { "NOMBRE", "APELLIDO", "DOCUMENTO", "NACIMIENTO", "NUMERO" };
    for (int f = 0; f < 5; f++)
        cf_env (client, "%s=%s", names [f], bet [f]);
}

void
cf_client_start (cf_client_t *client)
{
    if (!cf_client_path)
        fail_msg ("lottery-client not found in LOTTERY_BIN_DIR (default bin):"
                  " run from the repository root");
    char *argv [12] = { cf_client_path, NULL };
    if (client->hosts)
        cf_hosts_argv (argv, client->hosts, cf_client_path);
    client->proc = tu_spawn (tu_dir (), argv, client->env, CF_LOG);
    assert_non_null (client->proc);
}

const char *
cf_client_exits (cf_client_t *client, int status)
{
    int got = tu_wait (client->proc, CF_WAIT_MS);
    free (client->log);
    client->log = tu_read_file (CF_LOG, NULL);
    assert_non_null (client->log);
    if (got != status)
        print_error ("client log:\n%s", client->log);
    assert_int_equal (got, status);
    return client->log;
}

const char *
cf_client_run (cf_fake_t **fake_p, cf_client_t *client, int status)
{
    cf_client_start (client);
    cf_play (*fake_p);
    cf_client_exits (client, status);
    cf_fake_destroy (fake_p);
    return client->log;
}

const char *
cf_client_run_sigterm (cf_fake_t **fake_p, cf_client_t *client)
{
    cf_client_start (client);
    cf_play (*fake_p);
    assert_int_equal (tu_stop (client->proc, SIGTERM, CF_WAIT_MS), 0);
    cf_play (*fake_p);
    cf_fake_destroy (fake_p);
    const char *log = cf_client_exits (client, 0);
    cf_assert_once (log, "action: exit | result: success | signal: SIGTERM | status: 0");
    cf_assert_none (log, "result: fail");
    return log;
}

void
cf_hosts_argv (char *argv [], const char *hosts, const char *program)
{
    char *all [] = { CF_UNSHARE, "--user", "--map-root-user", "--mount", "/bin/sh", "-c",
                     "mount --bind \"$1\" /etc/hosts && exec \"$2\"", "sh",
                     (char *) hosts, (char *) program, NULL };
    size_t skip = getuid () == 0 ? 2 : 0;       //  Root may mount as it is
    argv [0] = all [0];
    memcpy (argv + 1, all + 1 + skip, (CF_COUNT (all) - 1 - skip) * sizeof *argv);
}

static char *
s_vformat (const char *format, va_list args)
{
    char *text = NULL;
    assert_true (vasprintf (&text, format, args) >= 0);
    return text;
}

size_t
cf_lines (const char *log, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    const char *parts [] = { s_vformat (format, args), NULL };
    va_end (args);
    size_t lines = tu_count_lines (log, parts);
    free ((char *) parts [0]);
    return lines;
}

bool
cf_has (const char *log, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = s_vformat (format, args);
    va_end (args);
    bool has = strstr (log, text) != NULL;
    free (text);
    return has;
}

void
cf_assert_one_failure (const char *log)
{
    assert_int_equal (cf_lines (log, "result: fail"), 2);
    cf_assert_once (log, "action: exit | result: fail | status: 1");
}

void
cf_assert_no_failure (const char *log)
{
    cf_assert_none (log, "result: fail");
    cf_assert_once (log, "action: exit | result: success | status: 0");
}

void
cf_assert_success (const char *log, long bets)
{
    assert_true (cf_has (log, "action: apuestas_enviadas | result: success | cantidad: %ld\n",
                         bets));                //  Exactly that count
    cf_assert_once (log, "action: apuestas_enviadas");
    cf_assert_once (log, "action: consulta_ganadores | result: success | cant_ganadores: 2");
    cf_assert_no_failure (log);
}

//  ---------------------------------------------------------------------
//  A v2 run

static void
s_run_free (void *item)
{
    cf_run_t *run = item;
    s_fake_free (run->fake);
    free (run->gen.bets);
    free (run);
}

cf_run_t *
cf_run_new (void)
{
    cf_run_t *run = s_made_by_test (calloc (1, sizeof (cf_run_t)), s_run_free);
    cf_gen_init (&run->gen, 7, 3);
    run->fake = cf_fake_new ();
    run->fake->gen = &run->gen;
    run->client = cf_client_new (run->fake->port);
    FILE *file = fopen ("agency-3.csv", "wb");
    assert_non_null (file);
    for (size_t i = 0; i < run->gen.count; i++) {
        char (*bet) [64] = run->gen.bets [i];
        fprintf (file, "%s,%s,%s,%s,%s\r\n", bet [0], bet [1], bet [2], bet [3], bet [4]);
    }
    assert_int_equal (fclose (file), 0);
    cf_env (run->client, "CLI_DATA_FILE=agency-3.csv");
    cf_env (run->client, "CLI_BATCH_MAXAMOUNT=3");
    return run;
}

void
cf_run_play (cf_run_t *run, int status)
{
    run->log = cf_client_run (&run->fake, run->client, status);
    if (status)
        cf_assert_one_failure (run->log);
    else
        cf_assert_success (run->log, 7);
}
