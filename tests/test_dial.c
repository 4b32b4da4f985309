/*  test_dial - a server's addresses: the order lot_dial tries them in,
    and end to end, the real lottery-client and lottery-ping with a name
    that stands for several addresses, some refusing, some silent

    The programs run with a hosts file of the test's as their /etc/hosts
    (cf_hosts_argv), where S_NAME stands for the addresses the test likes,
    as Docker's DNS answers a service's name with its replicas'. The fakes
    listen on loopback addresses (all of 127/8 is loopback), and the
    addresses that refuse are loopback ones the test binds and does not
    listen on.
*/
#include "client_fake.h"
#include "lot_dial.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#define S_LIST_MAX 8

//  Addresses 127.0.0.1 .. 127.0.0.count, port 12345, linked as
//  getaddrinfo links them.
typedef struct {
    struct addrinfo items [S_LIST_MAX];
    struct sockaddr_in addrs [S_LIST_MAX];
} s_list_t;

static struct addrinfo *
s_list_init (s_list_t *list, size_t count)
{
    assert_true (count <= S_LIST_MAX);
    memset (list, 0, sizeof *list);
    for (size_t i = 0; i < count; i++) {
        list->addrs [i].sin_family = AF_INET;
        list->addrs [i].sin_port = htons (12345);
        list->addrs [i].sin_addr.s_addr = htonl (INADDR_LOOPBACK + (uint32_t) i);
        list->items [i] = (struct addrinfo) {
            .ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
            .ai_addr = (struct sockaddr *) &list->addrs [i],
            .ai_addrlen = sizeof list->addrs [i],
            .ai_next = i + 1 < count ? &list->items [i + 1] : NULL
        };
    }
    return count ? list->items : NULL;
}

//  Draws an order of the list's count addresses and checks that it holds
//  each once; returns it as the addresses' indexes, "2031" for 4.
static void
s_list_order (s_list_t *list, size_t count, lot_dial_seed_t *seed,
              char text [S_LIST_MAX + 1])
{
    const struct addrinfo *order [S_LIST_MAX];
    assert_int_equal (lot_dial_order (list->items, seed, order, S_LIST_MAX), (int) count);
    bool seen [S_LIST_MAX] = { false };
    for (size_t i = 0; i < count; i++) {
        ptrdiff_t index = order [i] - list->items;
        assert_true (index >= 0 && index < (ptrdiff_t) count);
        assert_false (seen [index]);
        seen [index] = true;
        text [i] = (char) ('0' + index);
    }
    text [count] = 0;
}

static void
test_dial_order_and_name (void **)
{
    s_list_t list;
    const struct addrinfo *order [S_LIST_MAX];
    lot_dial_seed_t seed, again;
    lot_dial_seed (&seed, 42);
    lot_dial_seed (&again, 42);
    //  None, or one: nothing to draw, and the seed stays as it was
    assert_int_equal (lot_dial_order (NULL, &seed, order, S_LIST_MAX), 0);
    struct addrinfo *one = s_list_init (&list, 1);
    assert_int_equal (lot_dial_order (one, &seed, order, 1), 1);
    assert_ptr_equal (order [0], one);
    assert_memory_equal (&seed, &again, sizeof seed);
    //  Too little room
    s_list_init (&list, 4);
    assert_int_equal (lot_dial_order (list.items, &seed, order, 3), -1);
    //  The same seed, the same orders; another seed, others
    char drawn [10][S_LIST_MAX + 1], text [LOT_DIAL_NAME_MAX];
    for (int i = 0; i < 10; i++)
        s_list_order (&list, 4, &seed, drawn [i]);
    lot_dial_seed_t other;
    lot_dial_seed (&other, 43);
    size_t differ = 0;
    for (int i = 0; i < 10; i++) {
        s_list_order (&list, 4, &again, text);
        assert_string_equal (text, drawn [i]);
        s_list_order (&list, 4, &other, text);
        differ += strcmp (text, drawn [i]) != 0;
    }
    assert_true (differ > 0);

    //  An address's name, v4 and v6, or "?" with no room for it
    assert_int_equal (lot_dial_name (&list.items [1], text, sizeof text), 0);
    assert_string_equal (text, "127.0.0.2:12345");
    struct sockaddr_in6 addr6 = { .sin6_family = AF_INET6, .sin6_port = htons (80),
                                  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    struct addrinfo six = { .ai_family = AF_INET6, .ai_socktype = SOCK_STREAM,
                            .ai_addr = (struct sockaddr *) &addr6, .ai_addrlen = sizeof addr6 };
    assert_int_equal (lot_dial_name (&six, text, sizeof text), 0);
    assert_string_equal (text, "[::1]:80");
    assert_int_equal (lot_dial_name (&list.items [0], text, 8), -1);
    assert_string_equal (text, "?");
}

static void
test_dial_spread (void **)
{
    //  24,000 orders of 4 addresses: each address comes first about a
    //  quarter of the time, and each of the 24 orders about 1,000 times
    //  (one standard deviation is 31)
    s_list_t list;
    s_list_init (&list, 4);
    lot_dial_seed_t seed;
    lot_dial_seed (&seed, 7);
    size_t first [4] = { 0 }, orders [256] = { 0 };
    char text [S_LIST_MAX + 1];
    for (int i = 0; i < 24000; i++) {
        s_list_order (&list, 4, &seed, text);
        first [text [0] - '0']++;
        size_t code = 0;
        for (int k = 0; k < 4; k++)
            code = code * 4 + (size_t) (text [k] - '0');
        orders [code]++;
    }
    for (int i = 0; i < 4; i++)
        assert_in_range (first [i], 5600, 6400);
    size_t seen = 0;
    for (size_t code = 0; code < 256; code++)
        if (orders [code]) {
            seen++;
            assert_in_range (orders [code], 850, 1150);
        }
    assert_int_equal (seen, 24);
    //  Seeds from the system: agencies started at once pick apart (all 32
    //  first picks alike would come once in 4^31)
    bool picked [4] = { false };
    size_t apart = 0;
    for (int i = 0; i < 32; i++) {
        lot_dial_seed_random (&seed);
        s_list_order (&list, 4, &seed, text);
        apart += !picked [text [0] - '0'];
        picked [text [0] - '0'] = true;
    }
    assert_true (apart > 1);
}

//  ---------------------------------------------------------------------
//  End to end

#define S_NAME "frontends"
#define S_REFUSING_MAX 4

//  True when the machine lets a program have a hosts file of its own (a
//  mount namespace, where it may bind a file); says why not, once, when
//  it does not.
static bool
s_hosts_usable (void)
{
    static int usable = -1;
    if (usable < 0) {
        char *argv [12];
        cf_hosts_argv (argv, cf_write ("probe-hosts", "127.0.0.1 " S_NAME "\n"), "/bin/true");
        tu_proc_t *proc = tu_spawn (tu_dir (), argv, NULL, "probe.log");
        usable = proc && tu_wait (proc, CF_WAIT_MS) == 0;
        if (!usable) {
            char *text = tu_read_file ("probe.log", NULL);
            print_message ("cannot give a client its own /etc/hosts here (%s):"
                           " the test is skipped\n%s", CF_UNSHARE " --mount",
                           text ? text : "");
            free (text);
        }
        tu_proc_destroy (&proc);
    }
    return usable;
}

//  Addresses that refuse connections to port: 127.0.0.2, 127.0.0.3,
//  127.0.0.4 and, where the machine has it, ::1, each bound by the test.
typedef struct {
    int fds [S_REFUSING_MAX];
    char names [S_REFUSING_MAX][LOT_DIAL_NAME_MAX];    //  "127.0.0.2:port"
    size_t count;
    char hosts [256];           //  Their lines for a hosts file
} s_refusing_t;

static void
s_refusing_init (s_refusing_t *self, int port)
{
    static const char *ips [S_REFUSING_MAX] = { "127.0.0.2", "127.0.0.3", "127.0.0.4", "::1" };
    self->count = 0;
    self->hosts [0] = 0;
    for (size_t i = 0; i < S_REFUSING_MAX; i++) {
        int bound = port;
        int fd = cf_bound_socket (ips [i], &bound);
        if (fd < 0) {
            assert_string_equal (ips [i], "::1");       //  IPv4 loopback is always there
            continue;
        }
        self->fds [self->count] = fd;
        snprintf (self->names [self->count], sizeof self->names [0],
                  strchr (ips [i], ':') ? "[%s]:%d" : "%s:%d", ips [i], port);
        self->count++;
        snprintf (self->hosts + strlen (self->hosts), sizeof self->hosts - strlen (self->hosts),
                  "%s %s\n", ips [i], S_NAME);
    }
}

static void
s_refusing_close (s_refusing_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        close (self->fds [i]);
}

//  An address where a connect gets no answer, as at a host that is down
//  or drops SYNs: 127.0.0.6:port listens with a backlog of 0, and the
//  test fills its accept queue with a connection it never accepts. Linux
//  then drops every further SYN there (tcp_conn_request: listen overflow),
//  and a connect waits until tcp_syn_retries are spent, about 2 minutes.
//  port 0: the system picks one.
typedef struct {
    int listener;
    int filler;                 //  The connection that fills the queue
    char name [LOT_DIAL_NAME_MAX];  //  "127.0.0.6:port"
} s_silent_t;

static void
s_silent_init (s_silent_t *self, int port)
{
    self->listener = cf_bound_socket ("127.0.0.6", &port);
    assert_true (self->listener >= 0);
    assert_int_equal (listen (self->listener, 0), 0);
    snprintf (self->name, sizeof self->name, "127.0.0.6:%d", port);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    assert_int_equal (inet_pton (AF_INET, "127.0.0.6", &addr.sin_addr), 1);
    self->filler = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true (self->filler >= 0);
    int rc = connect (self->filler, (struct sockaddr *) &addr, sizeof addr);
    assert_true (rc == 0 || errno == EINPROGRESS);
    //  Queued once the listener is readable: the queue is full from then
    struct pollfd item = { self->listener, POLLIN, 0 };
    assert_int_equal (poll (&item, 1, CF_WAIT_MS), 1);
}

static void
s_silent_close (s_silent_t *self)
{
    close (self->filler);
    close (self->listener);
}

//  Writes the hosts file, of the formatted text; returns its name.
static const char *
s_hosts (const char *format, ...)
{
    char text [512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    return cf_write ("hosts", text);
}

//  Gives the client that hosts file, and the server's address as S_NAME:port.
static void
s_client_hosts (cf_client_t *client, int port, const char *hosts)
{
    client->hosts = hosts;
    cf_env (client, "CLI_SERVER_ADDRESS=" S_NAME ":%d", port);
}

//  How many of the log's lines say that connection connected to ip:port.
static size_t
s_connected (const char *log, const char *connection, const char *ip, int port)
{
    char address [LOT_DIAL_NAME_MAX];
    snprintf (address, sizeof address, "| address: %s:%d", ip, port);
    const char *parts [] = { "action: conectar | result: success | resource: ", connection,
                             address, NULL };
    return tu_count_lines (log, parts);
}

//  How many of the log's lines say that address refused (or failed), for
//  a reason that starts with reason ("": any).
static size_t
s_passed_over (const char *log, const char *address, const char *reason)
{
    return cf_lines (log, "action: conectar | result: in_progress | server: " S_NAME
                     ":%s | address: %s | reason: %s", strrchr (address, ':') + 1,
                     address, reason);
}

static void
test_client_addresses_fallback (void **)
{
    if (!s_hosts_usable ())
        skip ();
    //  The name stands for up to five addresses, and only the fake's
    //  (127.0.0.1) answers: wherever the random pick lands, the client
    //  tries the others until it connects, for its bets and its winners
    //  connection alike, and no attempt counts as failed. A client that
    //  tried its pick alone would reach the fake once in five connections
    //  (in four without IPv6): three runs of two connections would all
    //  pass once in 15,625 (4,096).
    for (int i = 0; i < 3; i++) {
        cf_run_t *run = cf_run_new ();
        int port = run->fake->port;
        s_refusing_t refusing;
        s_refusing_init (&refusing, port);
        s_client_hosts (run->client, port, s_hosts ("%s127.0.0.1 " S_NAME "\n", refusing.hosts));
        cf_script (run->fake, { CF_GREET }, { CF_CHUNKS }, { CF_WINNERS });
        cf_run_play (run, 0);
        assert_int_equal (s_connected (run->log, "bets_connection", "127.0.0.1", port), 1);
        assert_int_equal (s_connected (run->log, "winners_connection", "127.0.0.1", port), 1);
        cf_assert_none (run->log, "action: conectar | result: in_progress | server: " S_NAME
                                  ":%d | address: 127.0.0.1:%d | reason: ", port, port);
        //  Each refusing address at most once a connection
        for (size_t k = 0; k < refusing.count; k++)
            assert_in_range (s_passed_over (run->log, refusing.names [k], ""), 0, 2);
        cf_assert_none (run->log, "| intento: ");
        s_refusing_close (&refusing);
    }
}

static void
test_client_addresses_refused (void **)
{
    if (!s_hosts_usable ())
        skip ();
    //  Every address refuses: each attempt tries each address once, and
    //  only then counts as failed (loop.amount is 2)
    int port = 0;
    int held = cf_bound_socket ("127.0.0.5", &port);
    assert_true (held >= 0);
    s_refusing_t refusing;
    s_refusing_init (&refusing, port);
    cf_client_t *client = cf_client_new (port);
    s_client_hosts (client, port, s_hosts ("%s", refusing.hosts));
    cf_env (client, "CLI_DATA_FILE=%s", cf_write ("agency-3.csv", cf_three_csv));
    cf_client_start (client);
    const char *log = cf_client_exits (client, 1);
    cf_assert_one_failure (log);
    for (size_t k = 0; k < refusing.count; k++)
        assert_int_equal (s_passed_over (log, refusing.names [k], ""), 2);
    assert_int_equal (cf_lines (log, "action: conectar | result: in_progress | server: " S_NAME),
                      2 * refusing.count + 1);
    cf_assert_once (log, "| intento: 1 | reason: Connection refused (all");
    assert_true (cf_has (log, "action: conectar | result: fail | server: " S_NAME ":%d"
                         " | intentos: 2 | reason: Connection refused (all %zu addresses of "
                         S_NAME ")\n", port, refusing.count));
    s_refusing_close (&refusing);
    close (held);
}

static void
test_client_addresses_silent (void **)
{
    if (!s_hosts_usable ())
        skip ();
    //  The name stands for the fake's address and one that never answers
    //  (a front-end whose node died, still in the DNS): a connect there is
    //  given up after 2 s, and the client goes on to the fake's, so the
    //  run ends well within CF_WAIT_MS instead of after minutes. Runs until
    //  the client met the silent address (each connection picks it first
    //  half the time, so a run misses it with both once in four): eight
    //  runs that all missed it, once in 65,536.
    bool met = false;
    for (int i = 0; i < 8 && !met; i++) {
        cf_run_t *run = cf_run_new ();
        int port = run->fake->port;
        s_silent_t silent;
        s_silent_init (&silent, port);
        s_client_hosts (run->client, port,
                        s_hosts ("127.0.0.6 " S_NAME "\n127.0.0.1 " S_NAME "\n"));
        cf_script (run->fake, { CF_GREET }, { CF_CHUNKS }, { CF_WINNERS });
        cf_run_play (run, 0);
        size_t passed = s_passed_over (run->log, silent.name, "");
        assert_in_range (passed, 0, 2);
        assert_int_equal (s_passed_over (run->log, silent.name,
                                         "no answer to connect within 2000ms"), passed);
        cf_assert_none (run->log, "| intento: ");
        met = passed > 0;
        s_silent_close (&silent);
    }
    assert_true (met);
}

static void
test_client_address_silent (void **)
{
    //  A name with one address waits server.timeout for its connect's
    //  answer (the kernel's SYN retries would go on for two minutes): with
    //  the default 30 s no attempt fails 3 s on, and a SIGTERM still ends
    //  the wait; with 500 ms each attempt gives up then, and the client
    //  after its two
    s_silent_t silent;
    s_silent_init (&silent, 0);
    cf_client_t *client = cf_client_new (0);
    cf_env (client, "CLI_SERVER_ADDRESS=%s", silent.name);
    cf_env (client, "CLI_DATA_FILE=%s", cf_write ("agency-3.csv", cf_three_csv));
    cf_client_start (client);
    const char *connecting [] = { "action: conectar | result: ", NULL };
    assert_false (tu_wait_for_lines (CF_LOG, connecting, 1, 3000));
    assert_int_equal (tu_stop (client->proc, SIGTERM, CF_WAIT_MS), 0);
    const char *log = cf_client_exits (client, 0);
    cf_assert_once (log, "action: exit | result: success | signal: SIGTERM");
    cf_assert_none (log, "action: conectar");
    client = cf_client_new (0);
    cf_env (client, "CLI_SERVER_ADDRESS=%s", silent.name);
    cf_env (client, "CLI_SERVER_TIMEOUT=500ms");
    cf_env (client, "CLI_DATA_FILE=%s", cf_write ("agency-3.csv", cf_three_csv));
    cf_client_start (client);
    log = cf_client_exits (client, 1);
    cf_assert_once (log, "action: conectar | result: in_progress | server: %s | intento: 1"
                         " | reason: no answer to connect within 500ms", silent.name);
    cf_assert_one_failure (log);
    const char *failed [] = { "action: conectar | result: fail",
                              "| reason: no answer to connect within 500ms", NULL };
    assert_int_equal (tu_count_lines (log, failed), 1);
    s_silent_close (&silent);
}

static void
test_client_addresses_moved (void **)
{
    if (!s_hosts_usable ())
        skip ();
    //  The front-end the client reached goes away mid-upload, and the name
    //  now stands for another one: the client resolves the name again as
    //  it reconnects, and resumes there (v2), the winners too
    cf_run_t *run = cf_run_new ();
    cf_env (run->client, "CLI_WINDOW=1");
    int port = run->fake->port;
    cf_fake_t *moved = cf_fake_new_at ("127.0.0.3", port);
    s_client_hosts (run->client, port, s_hosts ("127.0.0.1 " S_NAME "\n"));
    cf_script (run->fake, { CF_GREET }, { CF_CHUNK, .at = 0 }, CF_SENDS ("O"),
               { CF_CHUNK, .at = 3 }, { CF_BREAK }, { CF_CLOSE });
    moved->gen = &run->gen;
    cf_script (moved, { CF_GREET, .at = 3 }, { CF_CHUNKS, .at = 3 }, { CF_WINNERS });
    cf_client_start (run->client);
    cf_play (run->fake);
    //  The client waits for chunk 3's answer: the name moves meanwhile
    cf_write ("hosts", "127.0.0.3 " S_NAME "\n");
    cf_play (run->fake);
    cf_play (moved);
    run->log = cf_client_exits (run->client, 0);
    cf_fake_destroy (&run->fake);                //  No other connection came
    cf_fake_destroy (&moved);
    cf_assert_success (run->log, 7);
    assert_int_equal (s_connected (run->log, "bets_connection", "127.0.0.1", port), 1);
    assert_int_equal (s_connected (run->log, "bets_connection", "127.0.0.3", port), 1);
    assert_int_equal (s_connected (run->log, "winners_connection", "127.0.0.3", port), 1);
    cf_assert_once (run->log, "action: reconectar | result: success | agencia: 3"
                              " | almacenadas: 3 | terminada: 0");
}

//  Runs lottery-ping on S_NAME:port with the hosts file as its /etc/hosts
//  and timeout seconds, with fake (or NULL) playing its script meanwhile;
//  returns its exit status, and its log in *log.
static int
s_ping (int port, int timeout, cf_fake_t *fake, char **log)
{
    assert_non_null (cf_ping_path);
    char address [64], seconds [32], *argv [12];
    snprintf (address, sizeof address, "PING_ADDRESS=" S_NAME ":%d", port);
    snprintf (seconds, sizeof seconds, "PING_TIMEOUT=%d", timeout);
    char *env [] = { address, seconds, NULL };
    cf_hosts_argv (argv, "hosts", cf_ping_path);
    unlink ("ping.log");
    tu_proc_t *proc = tu_spawn (tu_dir (), argv, env, "ping.log");
    assert_non_null (proc);
    if (fake)
        cf_play (fake);
    //  It ends in time whatever the addresses do, not after the minutes
    //  a silent one would hold a connect
    int status = tu_wait (proc, CF_WAIT_MS);
    *log = tu_read_file ("ping.log", NULL);
    assert_non_null (*log);
    tu_proc_destroy (&proc);
    return status;
}

static void
test_ping_addresses (void **)
{
    if (!s_hosts_usable ())
        skip ();
    //  The name stands for addresses that refuse, one that never answers,
    //  and last the fake's: the probe passes them over, each within its
    //  share of the time, and the server is up
    cf_fake_t *fake = cf_fake_new ();
    cf_script (fake, { CF_ACCEPT }, CF_EXPECTS ("P"), CF_SENDS ("O"));
    int port = fake->port;
    s_refusing_t refusing;
    s_refusing_init (&refusing, port);
    s_silent_t silent;
    s_silent_init (&silent, port);
    s_hosts ("%s127.0.0.6 " S_NAME "\n127.0.0.1 " S_NAME "\n", refusing.hosts);
    char *log;
    assert_int_equal (s_ping (port, 3, fake, &log), 0);
    assert_true (cf_has (log, "action: test_echo_server | result: success | server: "
                              S_NAME ":%d\n", port));
    cf_fake_destroy (&fake);
    free (log);

    //  None answers: down, saying so for all of them, once the time is up
    s_hosts ("%s127.0.0.6 " S_NAME "\n", refusing.hosts);
    assert_int_equal (s_ping (port, 1, NULL, &log), 1);
    cf_assert_once (log, "action: test_echo_server | result: fail | server: " S_NAME ":");
    assert_true (cf_has (log, "(all %zu addresses of " S_NAME ")\n", refusing.count + 1));
    free (log);
    s_silent_close (&silent);
    s_refusing_close (&refusing);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        CF_TEST (test_dial_order_and_name),
        CF_TEST (test_dial_spread),
        CF_TEST (test_client_addresses_fallback),
        CF_TEST (test_client_addresses_refused),
        CF_TEST (test_client_addresses_silent),
        CF_TEST (test_client_address_silent),
        CF_TEST (test_client_addresses_moved),
        CF_TEST (test_ping_addresses),
    };
    return cmocka_run_group_tests (tests, cf_init, cf_end);
}
