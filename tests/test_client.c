/*  test_client - the agency client: its settings, its chunks, and the
    real bin/lottery-client against a fake server that checks every byte

    The fake server is a thread that plays a script (accept, expect these
    exact bytes, send these, expect the client to close...) on a listening
    socket; the client runs as a child process with its own environment.
*/
#include "lot_client_config.h"
#include "lot_codec.h"
#include "lot_dial.h"
#include "lot_feed.h"
#include "testutil.h"

#include <czmq.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000               //  Deadline for anything that should happen

static char *s_client_path;         //  Absolute path of lottery-client

static const char *s_env_vars [] = {
    "CLI_ID", "CLI_SERVER_ADDRESS", "CLI_LOOP_AMOUNT", "CLI_LOOP_PERIOD",
    "CLI_LOG_LEVEL", "CLI_BATCH_MAXAMOUNT", "CLI_DATA_FILE",
    "CLI_MAX_CHUNK_BYTES", "CLI_WINDOW", "CLI_PROTOCOL_VERSION",
    "CLI_SERVER_TIMEOUT", "CLI_WINNERS_TIMEOUT",
    "NOMBRE", "APELLIDO", "DOCUMENTO", "NACIMIENTO", "NUMERO", NULL
};

//  ---------------------------------------------------------------------
//  Helpers

static int
s_clean_env (void **state)
{
    (void) state;
    for (size_t i = 0; s_env_vars [i]; i++)
        unsetenv (s_env_vars [i]);
    lot_log_set_level (LOT_LOG_CRITICAL);       //  Keep the report readable
    return 0;
}

//  After each test, even one that failed halfway: no client left running.
static int
s_teardown (void **state)
{
    tu_kill_all (state);
    return s_clean_env (state);
}

static char *
s_write_file (const char *dir, const char *name, const char *text)
{
    char *path = tu_printf ("%s/%s", dir, name);
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (text, 1, strlen (text), file), strlen (text));
    assert_int_equal (fclose (file), 0);
    return path;
}

//  Expected wire bytes, built by hand (not with lot_codec).
typedef struct {
    uint8_t data [8192];
    size_t size;
} s_bytes_t;

static void
s_put_byte (s_bytes_t *bytes, uint8_t value)
{
    assert_true (bytes->size < sizeof bytes->data);
    bytes->data [bytes->size++] = value;
}

static void
s_put_u16 (s_bytes_t *bytes, unsigned value)
{
    s_put_byte (bytes, (uint8_t) (value >> 8));
    s_put_byte (bytes, (uint8_t) value);
}

static void
s_put_u32 (s_bytes_t *bytes, uint32_t value)
{
    s_put_u16 (bytes, value >> 16);
    s_put_u16 (bytes, value & 0xFFFF);
}

static void
s_put_str (s_bytes_t *bytes, const char *text)
{
    s_put_u16 (bytes, (unsigned) strlen (text));
    for (const char *c = text; *c; c++)
        s_put_byte (bytes, (uint8_t) *c);
}

static void
s_put_bet (s_bytes_t *bytes, const char *const bet [5])
{
    for (int i = 0; i < 5; i++)
        s_put_str (bytes, bet [i]);
}

static lot_span_t
s_span (const char *text)
{
    return (lot_span_t) { text, strlen (text) };
}

//  A TCP socket bound to ip (IPv4 or IPv6, numbers) and *port (0: the
//  system picks one, and *port says which), not listening: connections
//  there are refused for as long as it stays open. Returns it, or -1 when
//  the address cannot be had here.
static int
s_bound_socket (const char *ip, int *port)
{
    struct sockaddr_storage addr = { .ss_family = AF_INET };
    struct sockaddr_in *addr4 = (struct sockaddr_in *) &addr;
    struct sockaddr_in6 *addr6 = (struct sockaddr_in6 *) &addr;
    socklen_t size = sizeof *addr4;
    addr4->sin_port = htons ((uint16_t) *port);
    if (inet_pton (AF_INET, ip, &addr4->sin_addr) != 1) {
        addr6->sin6_family = AF_INET6;
        addr6->sin6_port = htons ((uint16_t) *port);
        size = sizeof *addr6;
        if (inet_pton (AF_INET6, ip, &addr6->sin6_addr) != 1)
            return -1;
    }
    int fd = socket (addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0)
        return -1;
    if ((addr.ss_family == AF_INET6
    &&   setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on))
    ||  bind (fd, (struct sockaddr *) &addr, size)
    ||  getsockname (fd, (struct sockaddr *) &addr, &size)) {
        close (fd);
        return -1;
    }
    *port = ntohs (addr.ss_family == AF_INET6 ? addr6->sin6_port : addr4->sin_port);
    return fd;
}

//  ---------------------------------------------------------------------
//  Settings

static lot_client_config_t *
s_config (const char *path)
{
    char *error = NULL;
    lot_client_config_t *config = lot_client_config_new (path, &error);
    if (!config)
        print_error ("unexpected config error: %s\n", error ? error : "(none)");
    free (error);
    assert_non_null (config);
    return config;
}

//  Expects loading to fail with an error that mentions text.
static void
s_config_fails (const char *path, const char *text)
{
    char *error = NULL;
    lot_client_config_t *config = lot_client_config_new (path, &error);
    assert_null (config);
    assert_non_null (error);
    if (!strstr (error, text))
        print_error ("error '%s' does not mention '%s'\n", error, text);
    assert_non_null (strstr (error, text));
    free (error);
}

static const char *s_yaml =
    "# agency settings, as in the course, plus keys of other tools\n"
    "server:\n"
    "  address: \"example.org:4321\"\n"
    "loop:\n"
    "  amount: 7\n"
    "  period: \"250ms\"\n"
    "other:\n"
    "  list: [1, 2, {level: ignored}]\n"
    "  nested:\n"
    "    deep: x\n"
    "log:\n"
    "  level: \"DEBUG\"\n"
    "batch:\n"
    "  maxAmount: 42\n"
    "  window: 3\n"
    "protocol:\n"
    "  version: 1\n"
    "winners:\n"
    "  timeout: \"90s\"\n";

static void
test_config_yaml (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("client-config");
    char *path = s_write_file (dir, "config.yaml", s_yaml);
    setenv ("CLI_ID", "4", 1);
    lot_client_config_t *config = s_config (path);
    assert_int_equal (config->id, 4);
    assert_string_equal (config->server_address, "example.org:4321");
    assert_string_equal (config->server_host, "example.org");
    assert_string_equal (config->server_port, "4321");
    assert_int_equal (config->loop_amount, 7);
    assert_int_equal (config->loop_period, 250);
    assert_int_equal (config->log_level, LOT_LOG_DEBUG);
    assert_int_equal (config->batch_max_amount, 42);
    assert_string_equal (config->data_file, ".data/agency-4.csv");
    assert_int_equal (config->max_chunk_bytes, 8192);
    assert_int_equal (config->window, 3);
    assert_int_equal (config->protocol_version, 1);
    assert_int_equal (config->winners_timeout, 90000);
    lot_client_config_destroy (&config);
    assert_null (config);
    free (path);
    tu_remove_dir (dir);
}

static void
test_config_env_overrides (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("client-config");
    char *path = s_write_file (dir, "config.yaml",
        "id: 9\nserver: {address: \"a:1\"}\nloop: {amount: 2, period: 1s}\n"
        "log: {level: ERROR}\nbatch: {maxAmount: 3}\n");
    setenv ("CLI_ID", "12", 1);
    setenv ("CLI_SERVER_ADDRESS", "[::1]:23456", 1);
    setenv ("CLI_LOOP_AMOUNT", "11", 1);
    setenv ("CLI_LOOP_PERIOD", "1m", 1);
    setenv ("CLI_LOG_LEVEL", "warning", 1);
    setenv ("CLI_BATCH_MAXAMOUNT", "65535", 1);
    setenv ("CLI_DATA_FILE", "/data/mine.csv", 1);
    setenv ("CLI_MAX_CHUNK_BYTES", "64", 1);
    setenv ("CLI_WINDOW", "1", 1);
    setenv ("CLI_PROTOCOL_VERSION", "1", 1);
    setenv ("CLI_WINNERS_TIMEOUT", "300ms", 1);
    lot_client_config_t *config = s_config (path);
    assert_int_equal (config->id, 12);
    assert_string_equal (config->server_host, "::1");
    assert_string_equal (config->server_port, "23456");
    assert_int_equal (config->loop_amount, 11);
    assert_int_equal (config->loop_period, 60000);
    assert_int_equal (config->log_level, LOT_LOG_WARNING);
    assert_int_equal (config->batch_max_amount, 65535);
    assert_string_equal (config->data_file, "/data/mine.csv");
    assert_int_equal (config->max_chunk_bytes, 64);
    assert_int_equal (config->window, 1);
    assert_int_equal (config->protocol_version, 1);
    assert_int_equal (config->winners_timeout, 300);
    lot_client_config_destroy (&config);

    //  The file alone gives the id when the environment does not
    unsetenv ("CLI_ID");
    config = s_config (path);
    assert_int_equal (config->id, 9);
    lot_client_config_destroy (&config);
    free (path);
    tu_remove_dir (dir);
}

static void
test_config_defaults (void **state)
{
    (void) state;
    //  No config.yaml in the working directory: every default
    char *dir = tu_tempdir ("client-config");
    char cwd [PATH_MAX];
    assert_non_null (getcwd (cwd, sizeof cwd));
    assert_int_equal (chdir (dir), 0);
    setenv ("CLI_ID", "1", 1);
    char *error = NULL;
    lot_client_config_t *config = lot_client_config_new (NULL, &error);
    assert_int_equal (chdir (cwd), 0);
    assert_non_null (config);
    assert_string_equal (config->server_host, "server");
    assert_string_equal (config->server_port, "12345");
    assert_int_equal (config->loop_amount, 5);
    assert_int_equal (config->loop_period, 5000);
    assert_int_equal (config->log_level, LOT_LOG_INFO);
    assert_int_equal (config->batch_max_amount, 10);
    assert_string_equal (config->data_file, ".data/agency-1.csv");
    assert_int_equal (config->max_chunk_bytes, 8192);
    assert_int_equal (config->window, 16);
    assert_int_equal (config->protocol_version, 2);
    assert_int_equal (config->winners_timeout, 600000);
    lot_client_config_destroy (&config);
    tu_remove_dir (dir);
}

static void
test_config_durations (void **state)
{
    (void) state;
    static const struct { const char *text; long ms; } cases [] = {
        { "5s", 5000 }, { "250ms", 250 }, { "1m", 60000 }, { "0", 0 },
        { "1.5s", 1500 }
    };
    setenv ("CLI_ID", "1", 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        setenv ("CLI_LOOP_PERIOD", cases [i].text, 1);
        lot_client_config_t *config = s_config ("/dev/null");
        assert_int_equal (config->loop_period, cases [i].ms);
        lot_client_config_destroy (&config);
    }
    //  And from the file
    unsetenv ("CLI_LOOP_PERIOD");
    char *dir = tu_tempdir ("client-config");
    char *path = s_write_file (dir, "config.yaml", "loop:\n  period: 1m\n");
    lot_client_config_t *config = s_config (path);
    assert_int_equal (config->loop_period, 60000);
    lot_client_config_destroy (&config);
    free (path);
    tu_remove_dir (dir);
}

static void
test_config_invalid (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("client-config");
    static const struct { const char *yaml; const char *mentions; } files [] = {
        { "loop:\n  period: \"5 parsecs\"\n", "loop.period" },
        { "loop:\n  period: \"-1s\"\n", "loop.period" },
        { "batch:\n  maxAmount: 0\n", "batch.maxAmount" },
        { "batch:\n  maxAmount: 65536\n", "batch.maxAmount" },
        { "batch:\n  window: 0\n", "batch.window" },
        { "loop:\n  amount: five\n", "loop.amount" },
        { "log:\n  level: LOUD\n", "log.level" },
        { "protocol:\n  version: 3\n", "protocol.version" },
        { "protocol:\n  version: 0\n", "protocol.version" },
        { "winners:\n  timeout: 0\n", "winners.timeout" },
        { "winners:\n  timeout: never\n", "winners.timeout" },
        { "server:\n  address: \"server\"\n", "server.address" },
        { "server:\n  address: \"server:0\"\n", "server.address" },
        { "server:\n  address: \":12345\"\n", "server.address" },
        { "server: [\n", "line" },
        { "just a scalar\n", "mapping" },
    };
    setenv ("CLI_ID", "1", 1);
    for (size_t i = 0; i < sizeof files / sizeof files [0]; i++) {
        char *path = s_write_file (dir, "config.yaml", files [i].yaml);
        s_config_fails (path, files [i].mentions);
        free (path);
    }
    //  A file named explicitly must exist
    s_config_fails ("/nonexistent/config.yaml", "cannot read");

    static const struct { const char *name, *value; } envs [] = {
        { "CLI_ID", "abc" }, { "CLI_ID", "0" }, { "CLI_ID", "-3" },
        { "CLI_ID", "" }, { "CLI_BATCH_MAXAMOUNT", "0" },
        { "CLI_LOOP_PERIOD", "soon" }, { "CLI_MAX_CHUNK_BYTES", "63" },
        { "CLI_LOOP_AMOUNT", "0" }, { "CLI_DATA_FILE", "" },
        { "CLI_SERVER_ADDRESS", "server:http" }, { "CLI_PROTOCOL_VERSION", "3" },
        { "CLI_WINNERS_TIMEOUT", "0" }, { "CLI_WINDOW", "1025" },
    };
    for (size_t i = 0; i < sizeof envs / sizeof envs [0]; i++) {
        setenv ("CLI_ID", "1", 1);
        setenv (envs [i].name, envs [i].value, 1);
        s_config_fails ("/dev/null", strcmp (envs [i].name, "CLI_SERVER_ADDRESS")
                                     ? envs [i].name : "server.address");
        unsetenv (envs [i].name);
    }
    //  No agency number at all
    unsetenv ("CLI_ID");
    s_config_fails ("/dev/null", "CLI_ID");
    tu_remove_dir (dir);
}

//  ---------------------------------------------------------------------
//  Chunks, with no socket

//  Generated bets; field lengths vary with the index.
typedef struct {
    char (*bets) [5][64];
    size_t count;
    size_t next;
} s_gen_t;

static void
s_gen_init (s_gen_t *gen, size_t count, size_t name_size)
{
    gen->bets = calloc (count ? count : 1, sizeof *gen->bets);
    assert_non_null (gen->bets);
    gen->count = count;
    gen->next = 0;
    for (size_t i = 0; i < count; i++) {
        size_t size = 1 + (i * 7 + name_size) % 40;
        memset (gen->bets [i][0], 'a' + (int) (i % 26), size);
        snprintf (gen->bets [i][1], 64, "Apellido%zu", i);
        snprintf (gen->bets [i][2], 64, "%zu", 20000000 + i);
        snprintf (gen->bets [i][3], 64, "19%02zu-%02zu-%02zu", i % 100, 1 + i % 12, 1 + i % 28);
        snprintf (gen->bets [i][4], 64, "%zu", i % 10000);
    }
}

static int
s_gen_next (void *source, lot_span_t fields [LOT_BET_FIELDS])
{
    s_gen_t *gen = source;
    if (gen->next == gen->count)
        return 0;
    for (int f = 0; f < 5; f++)
        fields [f] = s_span (gen->bets [gen->next][f]);
    gen->next++;
    return 1;
}

static size_t
s_bet_size (const char bet [5][64])
{
    size_t size = 0;
    for (int f = 0; f < 5; f++)
        size += 2 + strlen (bet [f]);
    return size;
}

//  Drains a source in chunks of at most max_bets and capacity bytes, and
//  checks every chunk: it decodes, holds the bets in order, only the last
//  is 'L', and each is full (by count or by bytes) except the last.
static size_t
s_drain (s_gen_t *gen, unsigned max_bets, size_t capacity, size_t *counts,
         size_t counts_max)
{
    lot_feed_t *feed = lot_feed_new (s_gen_next, gen);
    assert_non_null (feed);
    uint8_t *buffer = malloc (capacity);
    assert_non_null (buffer);
    size_t chunks = 0, bets = 0;
    bool last = false;
    while (!last) {
        lot_chunk_writer_t writer;
        assert_int_equal (lot_codec_chunk_start (&writer, buffer, capacity, s_span ("7")), 0);
        int count = lot_feed_fill (feed, &writer, max_bets, &last);
        assert_true (count >= 0);
        size_t size = lot_codec_chunk_finish (&writer, last);
        assert_true (size <= capacity);
        assert_int_equal (buffer [0], last ? 'L' : 'C');
        assert_int_equal (lot_codec_get_u16 (buffer + 1), count);
        size_t measured;
        const char *reason;
        assert_int_equal (lot_codec_chunk_measure (buffer, size, capacity, &measured, &reason),
                          LOT_CODEC_COMPLETE);
        assert_int_equal (measured, size);
        lot_chunk_reader_t reader;
        assert_int_equal (lot_codec_chunk_open (&reader, buffer, size), 0);
        lot_span_t fields [5];
        for (int i = 0; i < count; i++) {
            assert_int_equal (lot_codec_chunk_next (&reader, fields), 1);
            for (int f = 0; f < 5; f++) {
                assert_int_equal (fields [f].size, strlen (gen->bets [bets + i][f]));
                assert_memory_equal (fields [f].data, gen->bets [bets + i][f], fields [f].size);
            }
        }
        assert_int_equal (lot_codec_chunk_next (&reader, fields), 0);
        if (!last) {
            //  Full: by count, or the next bet would not have fit
            assert_true (bets + (size_t) count < gen->count);
            if ((unsigned) count < max_bets)
                assert_true (size + s_bet_size (gen->bets [bets + count]) > capacity);
        }
        bets += (size_t) count;
        if (chunks < counts_max)
            counts [chunks] = (size_t) count;
        chunks++;
    }
    assert_int_equal (bets, gen->count);
    free (buffer);
    lot_feed_destroy (&feed);
    assert_null (feed);
    lot_feed_destroy (&feed);           //  Again: nothing
    return chunks;
}

static void
test_chunk_counts (void **state)
{
    (void) state;
    static const struct {
        unsigned max_bets;
        size_t bets;
        size_t chunks;
        size_t last;            //  Bets in the last chunk
    } cases [] = {
        { 1, 250, 250, 1 },
        { 64, 250, 4, 58 },
        { 99, 250, 3, 52 },
        { 99, 198, 2, 99 },     //  Ends on a boundary: no empty chunk after
        { 10, 0, 1, 0 },        //  An empty file: one empty 'L' chunk
        { 10, 1, 1, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        s_gen_t gen;
        s_gen_init (&gen, cases [i].bets, 3);
        size_t counts [256];
        size_t chunks = s_drain (&gen, cases [i].max_bets, LOT_CHUNK_MAX_DEFAULT,
                                 counts, 256);
        assert_int_equal (chunks, cases [i].chunks);
        for (size_t c = 0; c + 1 < chunks; c++)
            assert_int_equal (counts [c], cases [i].max_bets);
        assert_int_equal (counts [chunks - 1], cases [i].last);
        free (gen.bets);
    }
}

static void
test_chunk_byte_cap (void **state)
{
    (void) state;
    //  65535 bets would never fit in 8192 bytes: the size decides
    s_gen_t gen;
    s_gen_init (&gen, 2000, 17);
    size_t counts [256];
    size_t chunks = s_drain (&gen, 65535, LOT_CHUNK_MAX_DEFAULT, counts, 256);
    assert_true (chunks > 10);
    assert_true (chunks < 256);
    for (size_t c = 0; c + 1 < chunks; c++) {
        assert_true (counts [c] > 50);
        assert_true (counts [c] < 300);
    }
    free (gen.bets);

    //  And a small cap with a count that would also fit in 8192
    s_gen_init (&gen, 300, 5);
    chunks = s_drain (&gen, 99, 1024, counts, 256);
    assert_true (chunks > 300 / 99 + 1);
    free (gen.bets);
}

static void
test_chunk_exact_bytes (void **state)
{
    (void) state;
    //  protocol.md's captured example, agency 5's first bet
    static const uint8_t expected [] = {
        'L', 0x00, 0x01,
        0x00, 0x01, 0x35,
        0x00, 0x09, 0x56, 0x61, 0x6c, 0x65, 0x6e, 0x74, 0x69, 0x6e, 0x61,
        0x00, 0x04, 0x56, 0x65, 0x72, 0x61,
        0x00, 0x08, 0x33, 0x30, 0x31, 0x37, 0x30, 0x39, 0x32, 0x31,
        0x00, 0x0a, 0x31, 0x39, 0x38, 0x32, 0x2d, 0x30, 0x35, 0x2d, 0x32, 0x32,
        0x00, 0x04, 0x36, 0x30, 0x35, 0x33,
    };
    s_gen_t gen = { .count = 1 };
    char bets [1][5][64] = {
        { "Valentina", "Vera", "30170921", "1982-05-22", "6053" }
    };
    gen.bets = bets;
    lot_feed_t *feed = lot_feed_new (s_gen_next, &gen);
    assert_non_null (feed);
    uint8_t buffer [8192];
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, buffer, sizeof buffer, s_span ("5")), 0);
    bool last = false;
    assert_int_equal (lot_feed_fill (feed, &writer, 50, &last), 1);
    assert_true (last);
    size_t size = lot_codec_chunk_finish (&writer, last);
    assert_int_equal (size, sizeof expected);
    assert_memory_equal (buffer, expected, sizeof expected);
    lot_feed_destroy (&feed);
}

static void
test_chunk_oversized (void **state)
{
    (void) state;
    //  A bet that does not fit even alone is an error, not an empty chunk
    s_gen_t gen = { .count = 1 };
    char bets [1][5][64] = {
        { "Valentina Valentina Valentina", "Vera", "30170921", "1982-05-22", "6053" }
    };
    gen.bets = bets;
    lot_feed_t *feed = lot_feed_new (s_gen_next, &gen);
    assert_non_null (feed);
    uint8_t buffer [64];
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, buffer, sizeof buffer, s_span ("5")), 0);
    bool last = false;
    assert_int_equal (lot_feed_fill (feed, &writer, 10, &last), -1);
    assert_true (lot_feed_oversized (feed));
    lot_feed_destroy (&feed);
}

//  Reads a data file through the client's CSV source into one chunk.
static int
s_read_data (const char *path, uint8_t *buffer, size_t capacity, size_t *size)
{
    lot_feed_file_t *source = lot_feed_file_new (path);
    assert_non_null (source);
    lot_feed_t *feed = lot_feed_new (lot_feed_file_next, source);
    assert_non_null (feed);
    lot_chunk_writer_t writer;
    assert_int_equal (lot_codec_chunk_start (&writer, buffer, capacity, s_span ("3")), 0);
    bool last = false;
    int count = lot_feed_fill (feed, &writer, 100, &last);
    if (count >= 0) {
        assert_true (last);
        *size = lot_codec_chunk_finish (&writer, last);
        assert_int_equal (lot_feed_file_bets (source), count);
    }
    lot_feed_destroy (&feed);
    lot_feed_file_destroy (&source);
    assert_null (source);
    lot_feed_file_destroy (&source);    //  Again: nothing
    return count;
}

static const char *s_three [3][5] = {
    { "Valentina", "Vera", "30170921", "1982-05-22", "6053" },
    { "Núñez, \"Jr\"", "O'Neil", "12345678", "2000-02-29", "7574" },
    { "María Inés", "de la Fuente", "1", "1999-12-31", "0042" },
};
static const char *s_three_csv =
    "Valentina,Vera,30170921,1982-05-22,6053\n"
    "\"Núñez, \"\"Jr\"\"\",O'Neil,12345678,2000-02-29,7574\n"
    "María Inés,de la Fuente,1,1999-12-31,0042\n";

static char *
s_with_crlf (const char *text)
{
    char *out = malloc (2 * strlen (text) + 1);
    assert_non_null (out);
    char *p = out;
    for (; *text; text++) {
        if (*text == '\n')
            *p++ = '\r';
        *p++ = *text;
    }
    *p = 0;
    return out;
}

static void
test_csv_line_endings (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("client-csv");
    char *crlf_text = s_with_crlf (s_three_csv);
    char *lf = s_write_file (dir, "lf.csv", s_three_csv);
    char *crlf = s_write_file (dir, "crlf.csv", crlf_text);
    s_bytes_t expected = { .size = 0 };
    s_put_byte (&expected, 'L');
    s_put_u16 (&expected, 3);
    s_put_str (&expected, "3");
    for (int i = 0; i < 3; i++)
        s_put_bet (&expected, s_three [i]);
    const char *paths [] = { lf, crlf };
    for (int i = 0; i < 2; i++) {
        uint8_t buffer [8192];
        size_t size = 0;
        assert_int_equal (s_read_data (paths [i], buffer, sizeof buffer, &size), 3);
        assert_int_equal (size, expected.size);
        assert_memory_equal (buffer, expected.data, size);
    }
    free (crlf_text);
    free (lf);
    free (crlf);
    tu_remove_dir (dir);
}

static void
test_csv_bad_records (void **state)
{
    (void) state;
    char *dir = tu_tempdir ("client-csv");
    static const char *bad [] = {
        "Ana,Paz,22,2000-02-29,1\nBeto,Paz,23,2000-01-01\n",        //  4 fields
        "Ana,Paz,22,2000-02-29,1\nBeto,Paz,23,2000-01-01,2,3\n",    //  6 fields
        "Ana,Paz,22,2000-02-29,1\n\"Beto,Paz,23,2000-01-01,2\n",    //  Unclosed quote
        "Ana,Paz,22,1999-02-29,1\n",                                 //  No such date
        "Ana,Paz,2x,2000-02-29,1\n",                                 //  Document
        "Ana,Paz,22,2000-02-29,10000\n",                             //  Number
        "Ana,,22,2000-02-29,1\n",                                    //  Empty name
        "Ana,P\xC3,22,2000-02-29,1\n",                               //  Bad UTF-8
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char *path = s_write_file (dir, "bad.csv", bad [i]);
        uint8_t buffer [8192];
        size_t size = 0;
        assert_int_equal (s_read_data (path, buffer, sizeof buffer, &size), -1);
        free (path);
    }
    //  An empty file is no error: an empty last chunk
    char *path = s_write_file (dir, "empty.csv", "");
    uint8_t buffer [64];
    size_t size = 0;
    assert_int_equal (s_read_data (path, buffer, sizeof buffer, &size), 0);
    assert_int_equal (size, 6);
    assert_memory_equal (buffer, "L\x00\x00\x00\x01" "3", 6);
    free (path);
    tu_remove_dir (dir);
}

//  ---------------------------------------------------------------------
//  A fake server, step by step

typedef enum {
    STEP_ACCEPT,                //  Accept the next connection
    STEP_EXPECT,                //  Receive exactly these bytes
    STEP_SEND,
    STEP_NOTIFY,                //  Tell the test we got this far
    STEP_WAIT,                  //  Wait until the test says go (s_fake_go)
    STEP_EXPECT_CLOSED,         //  The client closes the connection
    STEP_EXPECT_ONLY_CLOSED,    //  ... sending nothing more first
    STEP_PAUSE,                 //  Wait size milliseconds (no data)
    STEP_CLOSE,
    STEP_RESET,                 //  Close with a reset (RST), as a crash would
    STEP_UNLISTEN               //  Stop listening: connections are refused
} s_op_t;

typedef struct {
    s_op_t op;
    uint8_t *data;
    size_t size;
} s_step_t;

#define S_STEPS_MAX 48

typedef struct {
    int listener;
    int port;
    s_step_t steps [S_STEPS_MAX];
    size_t count;
    int notify [2];
    int go [2];
    pthread_t thread;
    long failed_step;           //  -1 when every step went as scripted
    char detail [512];
} s_fake_t;

//  A fake server listening on ip:port; port 0: the system picks one, and
//  the fake keeps it.
static s_fake_t *
s_fake_new_at (const char *ip, int port)
{
    s_fake_t *fake = calloc (1, sizeof *fake);
    assert_non_null (fake);
    fake->port = port;
    fake->listener = s_bound_socket (ip, &fake->port);
    assert_true (fake->listener >= 0);
    assert_int_equal (listen (fake->listener, 8), 0);
    assert_int_equal (pipe2 (fake->notify, O_CLOEXEC), 0);
    assert_int_equal (pipe2 (fake->go, O_CLOEXEC), 0);
    fake->failed_step = -1;
    return fake;
}

static s_fake_t *
s_fake_new (void)
{
    return s_fake_new_at ("127.0.0.1", 0);
}

static void
s_fake_step (s_fake_t *fake, s_op_t op, const void *data, size_t size)
{
    assert_true (fake->count < S_STEPS_MAX);
    s_step_t *step = &fake->steps [fake->count++];
    step->op = op;
    step->size = size;
    step->data = malloc (size ? size : 1);
    assert_non_null (step->data);
    if (data && size)
        memcpy (step->data, data, size);
}

static void
s_fake_bytes (s_fake_t *fake, s_op_t op, const s_bytes_t *bytes)
{
    s_fake_step (fake, op, bytes->data, bytes->size);
}

static bool
s_fake_run_step (s_fake_t *fake, s_step_t *step, int *fd)
{
    switch (step->op) {
        case STEP_ACCEPT: {
            struct pollfd item = { fake->listener, POLLIN, 0 };
            if (poll (&item, 1, WAIT_MS) != 1) {
                snprintf (fake->detail, sizeof fake->detail, "no connection came");
                return false;
            }
            if (*fd >= 0)
                close (*fd);
            *fd = accept4 (fake->listener, NULL, NULL, SOCK_CLOEXEC);
            return *fd >= 0;
        }
        case STEP_EXPECT: {
            uint8_t *got = malloc (step->size);
            size_t size = tu_recv_exact (*fd, got, step->size, WAIT_MS);
            size_t at = 0;
            while (at < size && got [at] == step->data [at])
                at++;
            if (size < step->size || at < size)
                snprintf (fake->detail, sizeof fake->detail,
                          "got %zu of %zu bytes, first difference at byte %zu"
                          " (got 0x%02x, expected 0x%02x)", size, step->size, at,
                          at < size ? got [at] : 0, step->data [at]);
            free (got);
            return size == step->size && at == size;
        }
        case STEP_SEND:
            return tu_send_all (*fd, step->data, step->size) == 0;
        case STEP_NOTIFY:
            return write (fake->notify [1], "!", 1) == 1;
        case STEP_WAIT: {
            struct pollfd item = { fake->go [0], POLLIN, 0 };
            char byte;
            return poll (&item, 1, WAIT_MS) == 1 && read (fake->go [0], &byte, 1) == 1;
        }
        case STEP_EXPECT_CLOSED:
            if (!tu_wait_closed (*fd, WAIT_MS)) {
                snprintf (fake->detail, sizeof fake->detail,
                          "the client did not close the connection");
                return false;
            }
            return true;
        case STEP_EXPECT_ONLY_CLOSED: {
            uint8_t byte;
            if (tu_recv_exact (*fd, &byte, 1, WAIT_MS) == 1) {
                snprintf (fake->detail, sizeof fake->detail,
                          "the client sent 0x%02x before it closed", byte);
                return false;
            }
            return true;
        }
        case STEP_PAUSE: {
            struct timespec pause = { (time_t) step->size / 1000,
                                      (long) (step->size % 1000) * 1000000 };
            nanosleep (&pause, NULL);
            return true;
        }
        case STEP_RESET: {
            struct linger linger = { 1, 0 };
            setsockopt (*fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
        }   //  Fall through
        case STEP_CLOSE:
            close (*fd);
            *fd = -1;
            return true;
        case STEP_UNLISTEN:
            close (fake->listener);
            fake->listener = -1;
            return true;
    }
    return false;
}

static void *
s_fake_thread (void *arg)
{
    s_fake_t *fake = arg;
    int fd = -1;
    for (size_t i = 0; i < fake->count; i++)
        if (!s_fake_run_step (fake, &fake->steps [i], &fd)) {
            fake->failed_step = (long) i;
            break;
        }
    if (fd >= 0)
        close (fd);
    return NULL;
}

static void
s_fake_start (s_fake_t *fake)
{
    assert_int_equal (pthread_create (&fake->thread, NULL, s_fake_thread, fake), 0);
}

//  Waits for a STEP_NOTIFY.
static bool
s_fake_reached (s_fake_t *fake)
{
    struct pollfd item = { fake->notify [0], POLLIN, 0 };
    char byte;
    return poll (&item, 1, WAIT_MS) == 1 && read (fake->notify [0], &byte, 1) == 1;
}

//  Lets the script on past a STEP_WAIT.
static void
s_fake_go (s_fake_t *fake)
{
    assert_int_equal (write (fake->go [1], "!", 1), 1);
}

//  Joins the script and checks it ran to the end; then checks that no
//  further connection is waiting.
static void
s_fake_destroy (s_fake_t **fake_p)
{
    s_fake_t *fake = *fake_p;
    assert_int_equal (pthread_join (fake->thread, NULL), 0);
    if (fake->failed_step >= 0)
        print_error ("fake server: step %ld failed: %s\n", fake->failed_step, fake->detail);
    assert_int_equal (fake->failed_step, -1);
    if (fake->listener >= 0) {
        struct pollfd item = { fake->listener, POLLIN, 0 };
        assert_int_equal (poll (&item, 1, 0), 0);
        close (fake->listener);
    }
    close (fake->notify [0]);
    close (fake->notify [1]);
    close (fake->go [0]);
    close (fake->go [1]);
    for (size_t i = 0; i < fake->count; i++)
        free (fake->steps [i].data);
    free (fake);
    *fake_p = NULL;
}

//  ---------------------------------------------------------------------
//  The real client

typedef struct {
    char *dir;
    char *log;
    char *env [16];
    size_t env_count;
    char *hosts;                //  Its /etc/hosts, or NULL: the machine's
    tu_proc_t *proc;
} s_client_t;

static s_client_t *
s_client_new (const char *name, int port)
{
    s_client_t *client = calloc (1, sizeof *client);
    assert_non_null (client);
    client->dir = tu_tempdir (name);
    assert_non_null (client->dir);
    client->log = tu_printf ("%s/client.log", client->dir);
    client->env [client->env_count++] = tu_printf ("CLI_ID=3");
    client->env [client->env_count++] = tu_printf ("CLI_SERVER_ADDRESS=127.0.0.1:%d", port);
    client->env [client->env_count++] = tu_printf ("CLI_LOOP_AMOUNT=2");
    client->env [client->env_count++] = tu_printf ("CLI_LOOP_PERIOD=50ms");
    client->env [client->env_count++] = tu_printf ("CLI_LOG_LEVEL=DEBUG");
    return client;
}

static void
s_client_env (s_client_t *client, const char *format, ...)
{
    assert_true (client->env_count < 15);
    va_list args;
    va_start (args, format);
    assert_true (vasprintf (&client->env [client->env_count++], format, args) >= 0);
    va_end (args);
}

#define S_UNSHARE "/usr/bin/unshare"

//  The command that runs program with hosts as its /etc/hosts: unshare
//  gives it a mount namespace of its own (and, unless the test runs as
//  root, a user namespace in which it may mount), where the file is bound
//  over /etc/hosts and nobody else sees it. argv has room for 12.
static void
s_hosts_argv (char *argv [], const char *hosts, const char *program)
{
    size_t i = 0;
    argv [i++] = S_UNSHARE;
    if (getuid () != 0) {
        argv [i++] = "--user";
        argv [i++] = "--map-root-user";
    }
    argv [i++] = "--mount";
    argv [i++] = "/bin/sh";
    argv [i++] = "-c";
    argv [i++] = "mount --bind \"$1\" /etc/hosts && exec \"$2\"";
    argv [i++] = "sh";
    argv [i++] = (char *) hosts;
    argv [i++] = (char *) program;
    argv [i] = NULL;
}

static void
s_client_start (s_client_t *client)
{
    char *argv [12] = { s_client_path, NULL };
    if (client->hosts)
        s_hosts_argv (argv, client->hosts, s_client_path);
    client->proc = tu_spawn (client->dir, argv, client->env, client->log);
    assert_non_null (client->proc);
}

//  Waits for the exit and checks its status; the log is in *log.
static void
s_client_exits (s_client_t *client, int expected, char **log)
{
    int status = tu_wait (client->proc, WAIT_MS);
    *log = tu_read_file (client->log, NULL);
    assert_non_null (*log);
    if (status != expected)
        print_error ("client log:\n%s", *log);
    assert_int_equal (status, expected);
}

static void
s_client_destroy (s_client_t **client_p)
{
    s_client_t *client = *client_p;
    tu_proc_destroy (&client->proc);
    for (size_t i = 0; i < client->env_count; i++)
        free (client->env [i]);
    free (client->log);
    free (client->hosts);
    tu_remove_dir (client->dir);
    free (client);
    *client_p = NULL;
}

static size_t
s_lines (const char *log, const char *text)
{
    const char *parts [] = { text, NULL };
    return tu_count_lines (log, parts);
}

//  A run that failed once: the line with the reason, then the exit line.
static void
s_assert_one_failure (const char *log)
{
    assert_int_equal (s_lines (log, "result: fail"), 2);
    assert_int_equal (s_lines (log, "action: exit | result: fail | status: 1"), 1);
}

//  Runs a client against its scripted fake to its exit; returns the log.
static char *
s_run_fake (s_fake_t **fake_p, s_client_t *client, int status)
{
    s_fake_start (*fake_p);
    s_client_start (client);
    char *log;
    s_client_exits (client, status, &log);
    s_fake_destroy (fake_p);
    return log;
}

//  Runs the script up to its STEP_NOTIFY, stops the client there with
//  SIGTERM, and checks that it exits 0 and says so; returns the log.
static char *
s_run_sigterm (s_fake_t **fake_p, s_client_t *client)
{
    s_fake_start (*fake_p);
    s_client_start (client);
    assert_true (s_fake_reached (*fake_p));
    assert_int_equal (tu_stop (client->proc, SIGTERM, WAIT_MS), 0);
    s_fake_destroy (fake_p);
    char *log = tu_read_file (client->log, NULL);
    assert_non_null (log);
    assert_int_equal (s_lines (log, "action: exit | result: success | signal: SIGTERM | status: 0"), 1);
    assert_int_equal (s_lines (log, "result: fail"), 0);
    return log;
}

//  A run where nothing went wrong.
static void
s_assert_no_failure (const char *log)
{
    assert_int_equal (s_lines (log, "result: fail"), 0);
    assert_int_equal (s_lines (log, "action: exit | result: success | status: 0"), 1);
}

static void
test_client_bets_and_winners (void **state)
{
    (void) state;
    s_fake_t *fake = s_fake_new ();
    s_client_t *client = s_client_new ("client-bets", fake->port);
    char *crlf = s_with_crlf (s_three_csv);
    char *data = s_write_file (client->dir, "agency-3.csv", crlf);
    s_client_env (client, "CLI_DATA_FILE=%s", data);
    s_client_env (client, "CLI_BATCH_MAXAMOUNT=2");
    s_client_env (client, "CLI_PROTOCOL_VERSION=1");    //  The course's bytes

    s_bytes_t first = { .size = 0 }, second = { .size = 0 };
    s_put_byte (&first, 'B');
    s_put_byte (&first, 'C');
    s_put_u16 (&first, 2);
    s_put_str (&first, "3");
    s_put_bet (&first, s_three [0]);
    s_put_bet (&first, s_three [1]);
    s_put_byte (&second, 'L');
    s_put_u16 (&second, 1);
    s_put_str (&second, "3");
    s_put_bet (&second, s_three [2]);
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_bytes (fake, STEP_EXPECT, &first);
    s_fake_step (fake, STEP_SEND, "O", 1);
    s_fake_bytes (fake, STEP_EXPECT, &second);
    s_fake_step (fake, STEP_SEND, "O", 1);
    s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (fake, STEP_EXPECT, "W\x00\x01" "3", 4);
    s_fake_step (fake, STEP_SEND, "\x00\x02\x00\x03" "111\x00\x03" "222", 12);
    s_fake_step (fake, STEP_CLOSE, NULL, 0);
    s_fake_start (fake);
    s_client_start (client);

    char *log;
    s_client_exits (client, 0, &log);
    s_fake_destroy (&fake);
    assert_int_equal (s_lines (log, "action: config | result: success | id: 3 | "), 1);
    assert_int_equal (s_lines (log, "| protocol_version: 1 | server_timeout: 30000ms"
                                    " | winners_timeout: 600000ms"), 1);
    assert_int_equal (s_lines (log, "action: chunk_enviado | result: success | cantidad: 2"), 1);
    assert_int_equal (s_lines (log, "action: chunk_enviado | result: success | cantidad: 1"), 1);
    assert_int_equal (s_lines (log, "action: apuestas_enviadas | result: success | cantidad: 3"), 1);
    assert_int_equal (s_lines (log, "action: consulta_ganadores | result: success | cant_ganadores: 2"), 1);
    assert_int_equal (s_lines (log, "action: ganador | result: success | agencia: 3 | dni: 111"), 1);
    assert_int_equal (s_lines (log, "action: ganador | result: success | agencia: 3 | dni: 222"), 1);
    assert_int_equal (s_lines (log, "result: fail"), 0);
    assert_int_equal (s_lines (log, "action: exit | result: success | status: 0"), 1);
    free (log);
    free (data);
    free (crlf);
    s_client_destroy (&client);
}

static void
test_client_single_bet (void **state)
{
    (void) state;
    //  Both ways a data file can be missing: no such path, and the empty
    //  directory docker makes for a missing bind-mount source
    for (int as_dir = 0; as_dir < 2; as_dir++) {
        s_fake_t *fake = s_fake_new ();
        s_client_t *client = s_client_new ("client-single", fake->port);
        if (as_dir) {
            char *path = tu_printf ("%s/agency-3.csv", client->dir);
            assert_int_equal (mkdir (path, 0755), 0);
            s_client_env (client, "CLI_DATA_FILE=%s", path);
            free (path);
        }
        else
            s_client_env (client, "CLI_DATA_FILE=%s/none.csv", client->dir);
        s_client_env (client, "NOMBRE=María Inés");
        s_client_env (client, "APELLIDO=O'Neil");
        s_client_env (client, "DOCUMENTO=30904465");
        s_client_env (client, "NACIMIENTO=1999-03-17");
        s_client_env (client, "NUMERO=7574");
        s_client_env (client, "CLI_PROTOCOL_VERSION=1");    //  The course's bytes
        s_bytes_t bytes = { .size = 0 };
        s_put_byte (&bytes, 'B');
        s_put_byte (&bytes, 'L');
        s_put_u16 (&bytes, 1);
        s_put_str (&bytes, "3");
        const char *bet [5] = { "María Inés", "O'Neil", "30904465", "1999-03-17", "7574" };
        s_put_bet (&bytes, bet);
        s_fake_step (fake, STEP_ACCEPT, NULL, 0);
        s_fake_bytes (fake, STEP_EXPECT, &bytes);
        s_fake_step (fake, STEP_SEND, "O", 1);
        s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
        s_fake_start (fake);
        s_client_start (client);

        char *log;
        s_client_exits (client, 0, &log);
        //  Also checks that no winners query came
        s_fake_destroy (&fake);
        assert_int_equal (s_lines (log, "action: apuesta_enviada | result: success"
                                        " | dni: 30904465 | numero: 7574"), 1);
        //  Exactly that: nothing appended
        assert_non_null (strstr (log, "| numero: 7574\n"));
        assert_int_equal (s_lines (log, "consulta_ganadores"), 0);
        assert_int_equal (s_lines (log, "result: fail"), 0);
        free (log);
        s_client_destroy (&client);
    }
}

static void
test_client_nothing_to_send (void **state)
{
    (void) state;
    //  No data file and no (or an incomplete, or an invalid) single bet
    static const char *cases [][5] = {
        { NULL },
        { "NOMBRE=Ana", "APELLIDO=Paz", "DOCUMENTO=22", "NACIMIENTO=2000-02-29", NULL },
        { "NOMBRE=Ana", "APELLIDO=Paz", "DOCUMENTO=22", "NACIMIENTO=2000-02-30", "NUMERO=1" },
        { "NOMBRE=Ana", "APELLIDO=Paz", "DOCUMENTO=22", "NACIMIENTO=2000-02-29", "NUMERO=10000" },
    };
    static const char *mentions [] = { "NOMBRE", "NUMERO", "NACIMIENTO", "NUMERO" };
    s_fake_t *fake = s_fake_new ();
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        s_client_t *client = s_client_new ("client-nothing", fake->port);
        s_client_env (client, "CLI_DATA_FILE=%s/none.csv", client->dir);
        for (int f = 0; f < 5 && cases [i][f]; f++)
            s_client_env (client, "%s", cases [i][f]);
        s_client_start (client);
        char *log;
        s_client_exits (client, 2, &log);
        const char *parts [] = { "result: fail", mentions [i], NULL };
        assert_int_equal (tu_count_lines (log, parts), 1);
        free (log);
        s_client_destroy (&client);
    }
    //  Nothing ever connected
    s_fake_start (fake);
    s_fake_destroy (&fake);
}

static void
test_client_unreachable (void **state)
{
    (void) state;
    int closed;
    int port = tu_closed_port (&closed);
    assert_true (port > 0);
    s_client_t *client = s_client_new ("client-unreachable", port);
    char *data = s_write_file (client->dir, "agency-3.csv", s_three_csv);
    s_client_env (client, "CLI_DATA_FILE=%s", data);
    long long start = zclock_mono ();
    s_client_start (client);
    char *log;
    s_client_exits (client, 1, &log);
    long long took = zclock_mono () - start;
    //  Two attempts 50 ms apart: well under a second, not 5 x 5 s
    assert_true (took >= 50);
    assert_true (took < 2000);
    assert_int_equal (s_lines (log, "action: conectar | result: in_progress"), 1);
    assert_int_equal (s_lines (log, "action: conectar | result: fail"), 1);
    s_assert_one_failure (log);
    close (closed);
    free (log);
    free (data);
    s_client_destroy (&client);
}

static void
test_client_rejected (void **state)
{
    (void) state;
    s_fake_t *fake = s_fake_new ();
    s_client_t *client = s_client_new ("client-rejected", fake->port);
    char *data = s_write_file (client->dir, "agency-3.csv", s_three_csv);
    s_client_env (client, "CLI_DATA_FILE=%s", data);
    s_client_env (client, "CLI_PROTOCOL_VERSION=1");    //  The course's bytes
    s_bytes_t bytes = { .size = 0 };
    s_put_byte (&bytes, 'B');
    s_put_byte (&bytes, 'L');
    s_put_u16 (&bytes, 3);
    s_put_str (&bytes, "3");
    for (int i = 0; i < 3; i++)
        s_put_bet (&bytes, s_three [i]);
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_bytes (fake, STEP_EXPECT, &bytes);
    s_fake_step (fake, STEP_SEND, "E\x00\x0f" "unknown agency|", 18);
    s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
    s_fake_start (fake);
    s_client_start (client);
    char *log;
    s_client_exits (client, 1, &log);
    s_fake_destroy (&fake);
    //  The reason is the server's, masked so the line keeps its shape
    s_assert_one_failure (log);
    assert_int_equal (s_lines (log, "reason: rejected by the server: unknown agency?"), 1);
    assert_int_equal (s_lines (log, "apuestas_enviadas | result: success"), 0);
    free (log);
    free (data);
    s_client_destroy (&client);
}

static void
test_client_bad_file (void **state)
{
    (void) state;
    //  A bad line anywhere: nothing is sent, not even the good lines
    s_fake_t *fake = s_fake_new ();
    s_client_t *client = s_client_new ("client-badfile", fake->port);
    char *data = s_write_file (client->dir, "agency-3.csv",
                               "Ana,Paz,22,2000-02-29,1\r\nBeto,Paz,23,2000-01-01\r\n"
                               "Carla,Paz,24,2000-01-01,3\r\n");
    s_client_env (client, "CLI_DATA_FILE=%s", data);
    s_client_start (client);
    char *log;
    s_client_exits (client, 1, &log);
    s_fake_start (fake);
    s_fake_destroy (&fake);
    const char *parts [] = { "result: fail", data, "line: 2", NULL };
    assert_int_equal (tu_count_lines (log, parts), 1);
    s_assert_one_failure (log);
    free (log);
    free (data);
    s_client_destroy (&client);
}

static void
test_client_winners_dropped (void **state)
{
    (void) state;
    //  The server closes the winners connection halfway through an answer:
    //  the client asks again, and only a whole answer counts
    s_fake_t *fake = s_fake_new ();
    s_client_t *client = s_client_new ("client-winners-dropped", fake->port);
    char *data = s_write_file (client->dir, "agency-3.csv", "");
    s_client_env (client, "CLI_DATA_FILE=%s", data);
    s_client_env (client, "CLI_PROTOCOL_VERSION=1");    //  The course's bytes
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (fake, STEP_EXPECT, "BL\x00\x00\x00\x01" "3", 7);
    s_fake_step (fake, STEP_SEND, "O", 1);
    s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (fake, STEP_EXPECT, "W\x00\x01" "3", 4);
    s_fake_step (fake, STEP_SEND, "\x00\x01\x00", 3);   //  Half an answer
    s_fake_step (fake, STEP_CLOSE, NULL, 0);
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (fake, STEP_EXPECT, "W\x00\x01" "3", 4);
    s_fake_step (fake, STEP_SEND, "\x00\x02\x00\x03" "111\x00\x03" "222", 12);
    s_fake_step (fake, STEP_CLOSE, NULL, 0);
    s_fake_start (fake);
    s_client_start (client);
    char *log;
    s_client_exits (client, 0, &log);
    s_fake_destroy (&fake);
    assert_int_equal (s_lines (log, "action: apuestas_enviadas | result: success | cantidad: 0"), 1);
    assert_int_equal (s_lines (log, "action: reconectar | result: in_progress | agencia: 3"
                                    " | reason: the server closed the connection"), 1);
    assert_int_equal (s_lines (log, "action: consulta_ganadores | result: success"
                                    " | cant_ganadores: 2"), 1);
    assert_int_equal (s_lines (log, "result: fail"), 0);
    free (log);
    free (data);
    s_client_destroy (&client);
}

static void
test_client_sigterm (void **state)
{
    (void) state;
    //  SIGTERM while the client waits for the draw
    s_fake_t *fake = s_fake_new ();
    s_client_t *client = s_client_new ("client-sigterm", fake->port);
    char *data = s_write_file (client->dir, "agency-3.csv", "");
    s_client_env (client, "CLI_DATA_FILE=%s", data);
    s_client_env (client, "CLI_LOG_LEVEL=INFO");
    s_client_env (client, "CLI_PROTOCOL_VERSION=1");    //  The course's bytes
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (fake, STEP_EXPECT, "BL\x00\x00\x00\x01" "3", 7);
    s_fake_step (fake, STEP_SEND, "O", 1);
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (fake, STEP_EXPECT, "W\x00\x01" "3", 4);
    s_fake_step (fake, STEP_NOTIFY, NULL, 0);
    s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
    char *log = s_run_sigterm (&fake, client);
    assert_int_equal (s_lines (log, "action: close | result: success | resource: winners_connection"), 1);
    free (log);
    free (data);
    s_client_destroy (&client);
}

static void
test_client_config_fail (void **state)
{
    (void) state;
    s_client_t *client = s_client_new ("client-config", 1);
    free (client->env [0]);
    client->env [0] = tu_printf ("CLI_LOOP_AMOUNT=2");       //  No CLI_ID
    s_client_start (client);
    char *log;
    s_client_exits (client, 2, &log);
    const char *parts [] = { "action: config | result: fail", "CLI_ID", NULL };
    assert_int_equal (tu_count_lines (log, parts), 1);
    free (log);
    s_client_destroy (&client);

    //  A config file named on the command line must exist
    client = s_client_new ("client-config", 1);
    char *argv [] = { s_client_path, "--config", "missing.yaml", NULL };
    client->proc = tu_spawn (client->dir, argv, client->env, client->log);
    s_client_exits (client, 2, &log);
    const char *missing [] = { "action: config | result: fail", "missing.yaml", NULL };
    assert_int_equal (tu_count_lines (log, missing), 1);
    free (log);
    s_client_destroy (&client);
}

//  ---------------------------------------------------------------------
//  Protocol v2: hello, numbered chunks, resume

//  Scripts a new bets connection up to the client's hello.
static void
s_fake_hello (s_fake_t *fake)
{
    s_bytes_t hello = { .size = 0 };
    s_put_byte (&hello, 'H');
    s_put_u16 (&hello, 2);
    s_put_str (&hello, "3");
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_bytes (fake, STEP_EXPECT, &hello);
}

//  ... and its answer.
static void
s_fake_greet (s_fake_t *fake, uint32_t stored, bool finished)
{
    s_bytes_t answer = { .size = 0 };
    s_put_byte (&answer, 'S');
    s_put_u32 (&answer, stored);
    s_put_byte (&answer, finished);
    s_fake_hello (fake);
    s_fake_bytes (fake, STEP_SEND, &answer);
}

//  Scripts an 'E' answer, after which the client closes.
static void
s_fake_error (s_fake_t *fake, const char *reason)
{
    s_bytes_t error = { .size = 0 };
    s_put_byte (&error, 'E');
    s_put_str (&error, reason);
    s_fake_bytes (fake, STEP_SEND, &error);
    s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
}

//  The numbered chunk of gen's bets, batch at a time, that starts at
//  position. Returns true when it is the last.
static bool
s_numbered_chunk (const s_gen_t *gen, size_t batch, size_t position, s_bytes_t *chunk)
{
    size_t count = gen->count - position < batch ? gen->count - position : batch;
    bool last = position + count == gen->count;
    chunk->size = 0;
    s_put_byte (chunk, 'N');
    s_put_u32 (chunk, (uint32_t) position);
    s_put_byte (chunk, last ? 'L' : 'C');
    s_put_u16 (chunk, (unsigned) count);
    s_put_str (chunk, "3");
    for (size_t i = position; i < position + count; i++)
        for (int f = 0; f < 5; f++)
            s_put_str (chunk, gen->bets [i][f]);
    return last;
}

//  Scripts the numbered chunks of gen's bets from bet first on, batch at a
//  time, each answered 'O'; the chunk that starts at bet stop, if any, is
//  expected but left unanswered.
static void
s_fake_chunks (s_fake_t *fake, const s_gen_t *gen, size_t batch, size_t first,
               size_t stop)
{
    bool last = false;
    for (size_t position = first; !last; position += batch) {
        s_bytes_t chunk;
        last = s_numbered_chunk (gen, batch, position, &chunk);
        s_fake_bytes (fake, STEP_EXPECT, &chunk);
        if (position == stop)
            return;
        s_fake_step (fake, STEP_SEND, "O", 1);
    }
}

//  Scripts the end of a good run: the bets connection closed by the
//  client, then the winners query, answered with two documents.
static void
s_fake_winners (s_fake_t *fake)
{
    s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (fake, STEP_EXPECT, "W\x00\x01" "3", 4);
    s_fake_step (fake, STEP_SEND, "\x00\x02\x00\x03" "111\x00\x03" "222", 12);
    s_fake_step (fake, STEP_CLOSE, NULL, 0);
}

//  A v2 run: 7 generated bets in a data file, 3 a chunk, a fake server
//  to script, and the client's log once it ran.
typedef struct {
    s_gen_t gen;
    s_fake_t *fake;
    s_client_t *client;
    char *log;
} s_run_t;

static void
s_run_new (s_run_t *run, const char *name)
{
    s_gen_init (&run->gen, 7, 3);
    run->fake = s_fake_new ();
    run->client = s_client_new (name, run->fake->port);
    char *text = calloc (run->gen.count, 5 * 64 + 2);
    assert_non_null (text);
    for (size_t i = 0; i < run->gen.count; i++) {
        char (*bet) [64] = run->gen.bets [i];
        sprintf (text + strlen (text), "%s,%s,%s,%s,%s\r\n",
                 bet [0], bet [1], bet [2], bet [3], bet [4]);
    }
    free (s_write_file (run->client->dir, "agency-3.csv", text));
    free (text);
    s_client_env (run->client, "CLI_DATA_FILE=%s/agency-3.csv", run->client->dir);
    s_client_env (run->client, "CLI_BATCH_MAXAMOUNT=3");
    run->log = NULL;
}

//  Runs the script; run->log is the client's.
static void
s_run_play (s_run_t *run, int status)
{
    run->log = s_run_fake (&run->fake, run->client, status);
}

//  Scripts the chunks of the run's bets from first on; see s_fake_chunks.
static void
s_run_chunks (s_run_t *run, size_t first, size_t stop)
{
    s_fake_chunks (run->fake, &run->gen, 3, first, stop);
}

static void
s_run_destroy (s_run_t *run)
{
    free (run->log);
    s_client_destroy (&run->client);
    free (run->gen.bets);
}

//  A good run's lines: every bet stored, both winners, nothing failed.
static void
s_assert_success (const char *log, long bets)
{
    char *sent = tu_printf ("action: apuestas_enviadas | result: success"
                            " | cantidad: %ld\n", bets);
    assert_non_null (strstr (log, sent));       //  Exactly that count
    assert_int_equal (s_lines (log, "action: apuestas_enviadas"), 1);
    free (sent);
    assert_int_equal (s_lines (log, "action: consulta_ganadores | result: success"
                                    " | cant_ganadores: 2"), 1);
    s_assert_no_failure (log);
}

static void
test_client_v2_bytes (void **state)
{
    (void) state;
    //  The default protocol: 'H', then chunks numbered 0, 3, 6
    s_run_t run;
    s_run_new (&run, "client-v2");
    s_fake_greet (run.fake, 0, false);
    s_run_chunks (&run, 0, SIZE_MAX);
    s_fake_winners (run.fake);
    s_run_play (&run, 0);
    s_assert_success (run.log, 7);
    assert_int_equal (s_lines (run.log, "| protocol_version: 2"
                                        " | server_timeout: 30000ms | winners_timeout: 600000ms"), 1);
    assert_int_equal (s_lines (run.log, "action: chunk_enviado | result: success"), 3);
    assert_int_equal (s_lines (run.log, "action: saludo | result: success | agencia: 3"
                                        " | almacenadas: 0 | terminada: 0"), 1);
    assert_int_equal (s_lines (run.log, "reconectar"), 0);
    s_run_destroy (&run);
}

static void
test_client_v2_stored (void **state)
{
    (void) state;
    //  What the server holds already is not sent again
    static const struct {
        uint32_t stored;
        bool finished;
        size_t chunks;          //  Chunks the client sends
    } cases [] = {
        { 4, false, 1 },        //  Bets 4 to 6: one 'L' chunk at 4
        { 7, false, 1 },        //  All bets but not the end: an empty 'L'
        { 7, true, 0 },         //  Finished: nothing, then the winners
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        s_run_t run;
        s_run_new (&run, "client-v2-stored");
        s_fake_greet (run.fake, cases [i].stored, cases [i].finished);
        if (cases [i].chunks)
            s_run_chunks (&run, cases [i].stored, SIZE_MAX);
        s_fake_winners (run.fake);
        s_run_play (&run, 0);
        s_assert_success (run.log, 7);
        assert_int_equal (s_lines (run.log, "action: chunk_enviado"), cases [i].chunks);
        s_run_destroy (&run);
    }
}

static void
test_client_v2_stored_too_many (void **state)
{
    (void) state;
    //  The server holds more bets than the file has: not this file's data
    s_run_t run;
    s_run_new (&run, "client-v2-many");
    s_fake_greet (run.fake, 8, false);
    s_fake_step (run.fake, STEP_EXPECT_CLOSED, NULL, 0);
    s_run_play (&run, 1);
    s_assert_one_failure (run.log);
    assert_int_equal (s_lines (run.log, "action: apuestas_enviadas | result: fail"
                                        " | cantidad: 8 | reason: the server holds 8 bets"
                                        " of agency 3, more than the 7 of the data file"), 1);
    s_run_destroy (&run);
}

static void
test_client_v2_resume (void **state)
{
    (void) state;
    //  The connection drops after the first chunk's answer, with the second
    //  chunk in flight: the client connects again and goes on from what
    //  the new 'S' says
    static const struct {
        s_op_t drop;
        uint32_t stored;
        const char *reason;
    } cases [] = {
        //  Closed; the chunk in flight is lost (EOF, or a reset as it lands)
        { STEP_CLOSE, 3, "" },
        //  Reset after the server stored the chunk in flight, unanswered
        { STEP_RESET, 6, "recv: Connection reset by peer" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        s_run_t run;
        s_run_new (&run, "client-v2-resume");
        //  Stop-and-wait: the reset comes while the client waits for an
        //  answer, not while it sends
        s_client_env (run.client, "CLI_WINDOW=1");
        s_fake_greet (run.fake, 0, false);
        s_run_chunks (&run, 0, 3);              //  0 answered, 3 sent
        s_fake_step (run.fake, cases [i].drop, NULL, 0);
        s_fake_greet (run.fake, cases [i].stored, false);
        s_run_chunks (&run, cases [i].stored, SIZE_MAX);
        s_fake_winners (run.fake);
        s_run_play (&run, 0);
        s_assert_success (run.log, 7);
        const char *dropped [] = { "action: reconectar | result: in_progress | agencia: 3"
                                   " | reason: ", cases [i].reason, NULL };
        assert_int_equal (tu_count_lines (run.log, dropped), 1);
        char *resumed = tu_printf ("action: reconectar | result: success | agencia: 3"
                                   " | almacenadas: %u | terminada: 0", cases [i].stored);
        assert_int_equal (s_lines (run.log, resumed), 1);
        free (resumed);
        s_run_destroy (&run);
    }
}

static void
test_client_v2_stalled (void **state)
{
    (void) state;
    //  Every connection drops with nothing more stored: after loop.amount
    //  (2) such reconnections in a row the client gives up
    s_run_t run;
    s_run_new (&run, "client-v2-stalled");
    for (int i = 0; i < 2; i++) {
        s_fake_greet (run.fake, 0, false);
        s_run_chunks (&run, 0, 0);
        s_fake_step (run.fake, STEP_CLOSE, NULL, 0);
    }
    s_fake_greet (run.fake, 0, false);
    s_fake_step (run.fake, STEP_EXPECT_CLOSED, NULL, 0);
    s_run_play (&run, 1);
    s_assert_one_failure (run.log);
    assert_int_equal (s_lines (run.log, "action: reconectar | result: in_progress"), 2);
    assert_int_equal (s_lines (run.log, "action: apuestas_enviadas | result: fail | cantidad: 0"
                                        " | reason: the connection dropped 2 times in a row"), 1);
    s_run_destroy (&run);
}

static void
test_client_v2_busy (void **state)
{
    (void) state;
    //  Busy: another connection of the agency is still alive on the
    //  server. Tried again like a refused connection.
    s_run_t run;
    s_run_new (&run, "client-v2-busy");
    s_fake_hello (run.fake);
    s_fake_error (run.fake, LOT_REASON_BUSY);
    s_fake_greet (run.fake, 0, false);
    s_run_chunks (&run, 0, SIZE_MAX);
    s_fake_winners (run.fake);
    s_run_play (&run, 0);
    s_assert_success (run.log, 7);
    assert_int_equal (s_lines (run.log, "action: conectar | result: in_progress"), 1);
    assert_int_equal (s_lines (run.log, "| intento: 1 | reason: rejected by the server:"
                                        " agency busy on another connection"), 1);
    s_run_destroy (&run);
}

static void
test_client_v2_rejected (void **state)
{
    (void) state;
    //  Any other 'E' to a chunk is final: no retry
    s_run_t run;
    s_run_new (&run, "client-v2-rejected");
    s_fake_greet (run.fake, 0, false);
    s_run_chunks (&run, 0, 0);
    s_fake_error (run.fake, "no such bet");
    s_run_play (&run, 1);
    s_assert_one_failure (run.log);
    assert_int_equal (s_lines (run.log, "action: apuestas_enviadas | result: fail | cantidad: 0"
                                        " | reason: rejected by the server: no such bet"), 1);
    assert_int_equal (s_lines (run.log, "in_progress"), 0);
    s_run_destroy (&run);
}

//  Scripts the run's bets in the course's protocol: 'B', then each chunk,
//  answered 'O', as the numbered ones less their header ('N', u32).
static void
s_run_v1_chunks (s_run_t *run)
{
    s_fake_step (run->fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (run->fake, STEP_EXPECT, "B", 1);
    bool last = false;
    for (size_t position = 0; !last; position += 3) {
        s_bytes_t chunk;
        last = s_numbered_chunk (&run->gen, 3, position, &chunk);
        s_fake_step (run->fake, STEP_EXPECT, chunk.data + 5, chunk.size - 5);
        s_fake_step (run->fake, STEP_SEND, "O", 1);
    }
}

static void
test_client_falls_back_to_v1 (void **state)
{
    (void) state;
    //  A server that does not answer 'H' with 'S' speaks only the course's
    //  protocol: the client says so once and uploads in v1 at once
    static const struct {
        const char *name;
        s_op_t op;              //  What the server does after the 'H'
        const char *reason;
    } cases [] = {
        { "reset", STEP_RESET, "recv: Connection reset by peer" },
        { "closed", STEP_CLOSE, "the server closed the connection" },
        { "error", STEP_SEND, "rejected by the server: unknown message tag" },
        { "silent", STEP_EXPECT_CLOSED, "no answer from the server within 300ms" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        s_run_t run;
        s_run_new (&run, "client-fallback");
        s_client_env (run.client, "CLI_SERVER_TIMEOUT=300ms");
        s_fake_hello (run.fake);
        if (cases [i].op == STEP_SEND)
            s_fake_error (run.fake, "unknown message tag");
        else
            s_fake_step (run.fake, cases [i].op, NULL, 0);
        s_run_v1_chunks (&run);
        s_fake_winners (run.fake);
        s_run_play (&run, 0);
        s_assert_success (run.log, 7);
        const char *warned [] = { "WARNING  action: protocolo | result: success | version: 1",
                                  cases [i].reason, NULL };
        assert_int_equal (tu_count_lines (run.log, warned), 1);
        assert_int_equal (s_lines (run.log, "action: protocolo"), 1);
        assert_int_equal (s_lines (run.log, "in_progress"), 0);
        s_run_destroy (&run);
    }
}

static void
test_client_v2_never_downgraded (void **state)
{
    (void) state;
    //  Once the server said 'S', a connection that drops before the next
    //  'S' is a drop, not a refusal of v2: the client says 'H' again
    s_run_t run;
    s_run_new (&run, "client-v2-kept");
    s_client_env (run.client, "CLI_WINDOW=1");
    s_fake_greet (run.fake, 0, false);
    s_run_chunks (&run, 0, 3);
    s_fake_step (run.fake, STEP_RESET, NULL, 0);
    s_fake_hello (run.fake);
    s_fake_step (run.fake, STEP_RESET, NULL, 0);
    s_fake_greet (run.fake, 3, false);
    s_run_chunks (&run, 3, SIZE_MAX);
    s_fake_winners (run.fake);
    s_run_play (&run, 0);
    s_assert_success (run.log, 7);
    assert_int_equal (s_lines (run.log, "action: protocolo"), 0);
    assert_int_equal (s_lines (run.log, "action: conectar | result: in_progress"), 1);
    s_run_destroy (&run);
}

static void
test_client_silent_server (void **state)
{
    (void) state;
    //  A server that reads everything and answers nothing: each wait ends
    //  after server.timeout, as a dropped connection would. v1 cannot learn
    //  what was stored, so its upload fails.
    s_bytes_t chunk;
    s_run_t run;
    s_run_new (&run, "client-silent-v1");
    s_client_env (run.client, "CLI_SERVER_TIMEOUT=300ms");
    s_client_env (run.client, "CLI_PROTOCOL_VERSION=1");
    s_fake_step (run.fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (run.fake, STEP_EXPECT, "B", 1);
    s_numbered_chunk (&run.gen, 3, 0, &chunk);
    s_fake_step (run.fake, STEP_EXPECT, chunk.data + 5, chunk.size - 5);
    s_fake_step (run.fake, STEP_EXPECT_CLOSED, NULL, 0);
    s_run_play (&run, 1);
    s_assert_one_failure (run.log);
    assert_int_equal (s_lines (run.log, "action: apuestas_enviadas | result: fail"
                                        " | cantidad: 0 | reason: no answer from the"
                                        " server within 300ms"), 1);
    s_run_destroy (&run);

    //  v2 by default: no 'S', so v1; no answer there either, so 'H' again
    //  (a v2 server at its connection limit drops new connections too),
    //  until loop.amount (2) connections in a row stored nothing
    s_run_new (&run, "client-silent");
    s_client_env (run.client, "CLI_SERVER_TIMEOUT=300ms");
    for (int i = 0; i < 3; i++) {
        s_fake_hello (run.fake);
        s_fake_step (run.fake, STEP_EXPECT_CLOSED, NULL, 0);
        s_fake_step (run.fake, STEP_ACCEPT, NULL, 0);
        if (i == 2)
            break;
        s_fake_step (run.fake, STEP_EXPECT, "B", 1);
        s_fake_step (run.fake, STEP_EXPECT, chunk.data + 5, chunk.size - 5);
        s_fake_step (run.fake, STEP_EXPECT_CLOSED, NULL, 0);
    }
    s_fake_step (run.fake, STEP_EXPECT_ONLY_CLOSED, NULL, 0);
    s_run_play (&run, 1);
    s_assert_one_failure (run.log);
    assert_int_equal (s_lines (run.log, "action: apuestas_enviadas | result: fail"
                                        " | cantidad: 0 | reason: the connection dropped"
                                        " 2 times in a row with no more bets stored"), 1);
    assert_int_equal (s_lines (run.log, "WARNING  action: protocolo"), 1);
    assert_int_equal (s_lines (run.log, "DEBUG    action: protocolo"), 2);
    s_run_destroy (&run);

    //  v2, once the server said 'S': reconnect, and resume from the new 'S'
    s_run_new (&run, "client-silent-v2");
    s_client_env (run.client, "CLI_SERVER_TIMEOUT=300ms");
    s_client_env (run.client, "CLI_WINDOW=1");
    s_fake_greet (run.fake, 0, false);
    s_run_chunks (&run, 0, 0);
    s_fake_step (run.fake, STEP_EXPECT_CLOSED, NULL, 0);
    s_fake_greet (run.fake, 3, false);
    s_run_chunks (&run, 3, SIZE_MAX);
    s_fake_winners (run.fake);
    s_run_play (&run, 0);
    s_assert_success (run.log, 7);
    assert_int_equal (s_lines (run.log, "action: reconectar | result: in_progress | agencia: 3"
                                        " | reason: no answer from the server within 300ms"), 1);
    assert_int_equal (s_lines (run.log, "action: reconectar | result: success | agencia: 3"
                                        " | almacenadas: 3"), 1);
    s_run_destroy (&run);
}

//  Scripts the run's chunk at position as expected.
static void
s_run_expect (s_run_t *run, size_t position)
{
    s_bytes_t chunk;
    s_numbered_chunk (&run->gen, 3, position, &chunk);
    s_fake_bytes (run->fake, STEP_EXPECT, &chunk);
}

//  Scripts an 'E', after which the client sends nothing more and closes.
static void
s_run_refuse (s_run_t *run)
{
    s_fake_step (run->fake, STEP_SEND, "E\x00\x0bno such bet", 14);
    s_fake_step (run->fake, STEP_EXPECT_ONLY_CLOSED, NULL, 0);
}

//  A run with batch.window 2, scripted up to its three chunks: the one at
//  3 goes before the one at 0 is answered, the one at 6 only once it is.
static void
s_run_window_two (s_run_t *run, const char *name)
{
    s_run_new (run, name);
    s_client_env (run->client, "CLI_WINDOW=2");
    s_fake_greet (run->fake, 0, false);
    s_run_expect (run, 0);
    s_run_expect (run, 3);
    s_fake_step (run->fake, STEP_SEND, "O", 1);
    s_run_expect (run, 6);
}

static void
test_client_v2_window (void **state)
{
    (void) state;
    //  Answers come in order, one for each chunk
    s_run_t run;
    s_run_window_two (&run, "client-v2-window");
    s_fake_step (run.fake, STEP_SEND, "OO", 2);
    s_fake_winners (run.fake);
    s_run_play (&run, 0);
    s_assert_success (run.log, 7);
    assert_int_equal (s_lines (run.log, "| window: 2 |"), 1);
    s_run_destroy (&run);

    //  The connection drops with two chunks out: the new 'S' says the
    //  first of them is not stored, and both go again
    s_run_window_two (&run, "client-v2-window-resume");
    s_fake_step (run.fake, STEP_CLOSE, NULL, 0);
    s_fake_greet (run.fake, 3, false);
    s_run_expect (&run, 3);
    s_run_expect (&run, 6);
    s_fake_step (run.fake, STEP_SEND, "OO", 2);
    s_fake_winners (run.fake);
    s_run_play (&run, 0);
    s_assert_success (run.log, 7);
    assert_int_equal (s_lines (run.log, "action: reconectar | result: success | agencia: 3"
                                        " | almacenadas: 3 | terminada: 0"), 1);
    s_run_destroy (&run);

    //  An 'E' for any chunk ends the upload as with stop-and-wait, with
    //  what was confirmed before it: nothing past the window was sent
    static const struct { const char *window; size_t answered; } cases [] = {
        { "1", 0 }, { "2", 0 }, { "2", 1 }
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        s_run_new (&run, "client-v2-window-refused");
        s_client_env (run.client, "CLI_WINDOW=%s", cases [i].window);
        s_fake_greet (run.fake, 0, false);
        size_t window = (size_t) atoi (cases [i].window);
        for (size_t chunk = 0; chunk < window; chunk++)
            s_run_expect (&run, 3 * chunk);
        if (cases [i].answered) {
            s_fake_step (run.fake, STEP_SEND, "O", 1);
            s_run_expect (&run, 3 * window);
        }
        s_run_refuse (&run);
        s_run_play (&run, 1);
        s_assert_one_failure (run.log);
        char *failed = tu_printf ("action: apuestas_enviadas | result: fail | cantidad: %zu"
                                  " | reason: rejected by the server: no such bet",
                                  3 * cases [i].answered);
        assert_int_equal (s_lines (run.log, failed), 1);
        free (failed);
        s_run_destroy (&run);
    }
}

//  The progress lines' pace: none in the first seconds, then at most one
//  a second however often it is asked.
static void
test_feed_pace (void **state)
{
    (void) state;
    lot_feed_pace_t pace;
    lot_feed_pace_init (&pace, 5000);
    int64_t last = -1;
    size_t lines = 0;
    for (int64_t now = 5000; now < 5000 + 10000; now += 7) {
        if (!lot_feed_pace_due (&pace, now))
            continue;
        assert_true (now >= 5000 + LOT_FEED_PROGRESS_AFTER);
        if (last >= 0)
            assert_true (now - last >= LOT_FEED_PROGRESS_PERIOD);
        last = now;
        lines++;
    }
    //  From 2 s to 10 s, one a second
    assert_int_equal (lines, (10000 - LOT_FEED_PROGRESS_AFTER) / LOT_FEED_PROGRESS_PERIOD);
    //  Asked seldom, it answers each time
    lot_feed_pace_init (&pace, 0);
    assert_false (lot_feed_pace_due (&pace, LOT_FEED_PROGRESS_AFTER - 1));
    assert_true (lot_feed_pace_due (&pace, 60000));
    assert_false (lot_feed_pace_due (&pace, 60999));
    assert_true (lot_feed_pace_due (&pace, 61000));
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
    s_fake_t *fake = s_fake_new ();
    s_client_t *client = s_client_new ("client-progress", fake->port);
    free (s_write_file (client->dir, "agency-3.csv",
                        "Ana,Paz,11,2000-01-01,1\nBo,Lu,12,2000-01-02,2\n"
                        "Cy,Mo,13,2000-01-03,3\nDi,No,14,2000-01-04,4\n"));
    s_client_env (client, "CLI_DATA_FILE=%s/agency-3.csv", client->dir);
    s_client_env (client, "CLI_BATCH_MAXAMOUNT=1");
    s_client_env (client, "CLI_WINDOW=1");
    s_fake_greet (fake, 0, false);
    for (uint32_t i = 0; i < 4; i++) {
        s_bytes_t chunk = { .size = 0 };
        s_put_byte (&chunk, 'N');
        s_put_u32 (&chunk, i);
        s_put_byte (&chunk, i == 3 ? 'L' : 'C');
        s_put_u16 (&chunk, 1);
        s_put_str (&chunk, "3");
        s_put_bet (&chunk, bets [i]);
        s_fake_bytes (fake, STEP_EXPECT, &chunk);
        s_fake_step (fake, STEP_PAUSE, NULL, 700);
        s_fake_step (fake, STEP_SEND, "O", 1);
    }
    s_fake_winners (fake);
    char *log = s_run_fake (&fake, client, 0);
    s_assert_success (log, 4);
    //  One line at least (the third answer comes 2.1 s in), each for what
    //  was confirmed, none after the last answer, each in a second of its own
    const char *progress [] = { "action: progreso | result: in_progress | agencia: 3", NULL };
    size_t lines = tu_count_lines (log, progress);
    assert_true (lines >= 1 && lines <= 3);
    assert_int_equal (s_lines (log, "| enviadas: 1 | porcentaje: 25")
                    + s_lines (log, "| enviadas: 2 | porcentaje: 50")
                    + s_lines (log, "| enviadas: 3 | porcentaje: 75"), lines);
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
    free (log);
    s_client_destroy (&client);
}

//  A single-bet client; the bet's 'L' chunk at position, v2.
static s_client_t *
s_client_single (s_fake_t *fake, s_bytes_t *chunk, uint32_t position)
{
    s_client_t *client = s_client_new ("client-v2-single", fake->port);
    s_client_env (client, "CLI_DATA_FILE=%s/none.csv", client->dir);
    const char *bet [5] = { "Ana", "Paz", "30904465", "1999-03-17", "7574" };
    const char *names [5] = { "NOMBRE", "APELLIDO", "DOCUMENTO", "NACIMIENTO", "NUMERO" };
    for (int f = 0; f < 5; f++)
        s_client_env (client, "%s=%s", names [f], bet [f]);
    s_put_byte (chunk, 'N');
    s_put_u32 (chunk, position);
    s_put_byte (chunk, 'L');
    s_put_u16 (chunk, 1);
    s_put_str (chunk, "3");
    s_put_bet (chunk, bet);
    return client;
}

static void
s_assert_single_sent (const char *log)
{
    assert_int_equal (s_lines (log, "action: apuesta_enviada | result: success"
                                    " | dni: 30904465 | numero: 7574"), 1);
    assert_int_equal (s_lines (log, "consulta_ganadores"), 0);
    s_assert_no_failure (log);
}

static void
test_client_v2_single (void **state)
{
    (void) state;
    //  The bet goes at the position the server says; an agency already
    //  finished holds it, and nothing is sent
    static const struct { uint32_t stored; bool finished; } cases [] = {
        { 0, false }, { 4, false }, { 1, true }
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        s_fake_t *fake = s_fake_new ();
        s_bytes_t chunk = { .size = 0 };
        s_client_t *client = s_client_single (fake, &chunk, cases [i].stored);
        s_fake_greet (fake, cases [i].stored, cases [i].finished);
        if (!cases [i].finished) {
            s_fake_bytes (fake, STEP_EXPECT, &chunk);
            s_fake_step (fake, STEP_SEND, "O", 1);
        }
        s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
        char *log = s_run_fake (&fake, client, 0);
        s_assert_single_sent (log);
        assert_int_equal (s_lines (log, "chunk_enviado"), !cases [i].finished);
        free (log);
        s_client_destroy (&client);
    }
}

static void
test_client_v2_single_resume (void **state)
{
    (void) state;
    //  The connection drops before the bet's answer; the new 'S' says the
    //  agency finished: the bet is stored
    s_fake_t *fake = s_fake_new ();
    s_bytes_t chunk = { .size = 0 };
    s_client_t *client = s_client_single (fake, &chunk, 0);
    s_fake_greet (fake, 0, false);
    s_fake_bytes (fake, STEP_EXPECT, &chunk);
    s_fake_step (fake, STEP_CLOSE, NULL, 0);
    s_fake_greet (fake, 1, true);
    s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
    char *log = s_run_fake (&fake, client, 0);
    s_assert_single_sent (log);
    assert_int_equal (s_lines (log, "action: reconectar | result: in_progress"), 1);
    assert_int_equal (s_lines (log, "action: reconectar | result: success | agencia: 3"
                                    " | almacenadas: 1 | terminada: 1"), 1);
    free (log);
    s_client_destroy (&client);
}

//  Scripts an empty file's upload, v2, up to the winners query.
static void
s_fake_empty_upload (s_fake_t *fake)
{
    s_fake_greet (fake, 0, false);
    s_fake_step (fake, STEP_EXPECT, "N\x00\x00\x00\x00" "L\x00\x00\x00\x01" "3", 11);
    s_fake_step (fake, STEP_SEND, "O", 1);
    s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (fake, STEP_EXPECT, "W\x00\x01" "3", 4);
}

//  Runs an empty file's client with a 300 ms winners limit against the
//  script, which ends the winners query its own way; checks that the
//  client fails on time, with the limit as the reason. Returns the log.
static char *
s_winners_times_out (s_fake_t *fake, const char *name, const char *loop_amount)
{
    s_client_t *client = s_client_new (name, fake->port);
    s_client_env (client, "CLI_DATA_FILE=%s", "/dev/null");
    s_client_env (client, "CLI_WINNERS_TIMEOUT=300ms");
    s_client_env (client, "CLI_LOOP_AMOUNT=%s", loop_amount);
    long long start = zclock_mono ();
    char *log = s_run_fake (&fake, client, 1);
    long long took = zclock_mono () - start;
    assert_true (took >= 300);
    assert_true (took < 3000);
    s_assert_one_failure (log);
    assert_int_equal (s_lines (log, "action: consulta_ganadores | result: fail | agencia: 3"
                                    " | reason: no answer within 300ms"), 1);
    s_client_destroy (&client);
    return log;
}

static void
test_client_winners_timeout (void **state)
{
    (void) state;
    //  No answer at all
    s_fake_t *fake = s_fake_new ();
    s_fake_empty_upload (fake);
    s_fake_step (fake, STEP_EXPECT_CLOSED, NULL, 0);
    char *log = s_winners_times_out (fake, "client-winners-timeout", "2");
    assert_int_equal (s_lines (log, "reconectar"), 0);
    free (log);

    //  The winners connection drops and the server is gone: the limit
    //  cuts the connection attempts short (1000 x 50 ms would be more)
    fake = s_fake_new ();
    s_fake_empty_upload (fake);
    s_fake_step (fake, STEP_UNLISTEN, NULL, 0);
    s_fake_step (fake, STEP_CLOSE, NULL, 0);
    log = s_winners_times_out (fake, "client-winners-gone", "1000");
    assert_int_equal (s_lines (log, "action: reconectar | result: in_progress"), 1);
    assert_true (s_lines (log, "action: conectar | result: in_progress") >= 2);
    assert_int_equal (s_lines (log, "action: conectar | result: fail"), 0);
    free (log);
}

static void
test_client_v2_sigterm (void **state)
{
    (void) state;
    //  SIGTERM while the client waits to try a busy agency again
    s_fake_t *fake = s_fake_new ();
    s_client_t *client = s_client_new ("client-v2-sigterm", fake->port);
    s_client_env (client, "CLI_DATA_FILE=/dev/null");
    s_client_env (client, "CLI_LOOP_PERIOD=1m");
    s_fake_hello (fake);
    s_fake_error (fake, LOT_REASON_BUSY);
    s_fake_step (fake, STEP_NOTIFY, NULL, 0);
    free (s_run_sigterm (&fake, client));
    s_client_destroy (&client);
}

//  ---------------------------------------------------------------------
//  A server's addresses: the order they are tried in

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
test_dial_order (void **state)
{
    (void) state;
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
    char drawn [10][S_LIST_MAX + 1], text [S_LIST_MAX + 1];
    for (int i = 0; i < 10; i++)
        s_list_order (&list, 4, &seed, drawn [i]);
    size_t differ = 0;
    for (int i = 0; i < 10; i++) {
        s_list_order (&list, 4, &again, text);
        assert_string_equal (text, drawn [i]);
    }
    lot_dial_seed (&again, 43);
    for (int i = 0; i < 10; i++) {
        s_list_order (&list, 4, &again, text);
        differ += strcmp (text, drawn [i]) != 0;
    }
    assert_true (differ > 0);
}

static void
test_dial_spread (void **state)
{
    (void) state;
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

static void
test_dial_name (void **state)
{
    (void) state;
    s_list_t list;
    s_list_init (&list, 2);
    char text [LOT_DIAL_NAME_MAX];
    assert_int_equal (lot_dial_name (&list.items [1], text, sizeof text), 0);
    assert_string_equal (text, "127.0.0.2:12345");
    struct sockaddr_in6 addr6 = { .sin6_family = AF_INET6, .sin6_port = htons (80),
                                  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    struct addrinfo six = { .ai_family = AF_INET6, .ai_socktype = SOCK_STREAM,
                            .ai_addr = (struct sockaddr *) &addr6,
                            .ai_addrlen = sizeof addr6 };
    assert_int_equal (lot_dial_name (&six, text, sizeof text), 0);
    assert_string_equal (text, "[::1]:80");
    //  No room for it
    assert_int_equal (lot_dial_name (&list.items [0], text, 8), -1);
    assert_string_equal (text, "?");
}

//  ---------------------------------------------------------------------
//  A server's addresses, end to end
//
//  The client runs with a hosts file of the test's as its /etc/hosts (see
//  s_hosts_argv), where the name S_NAME stands for the addresses the test
//  likes, as Docker's DNS answers a service's name with its replicas'.
//  The fakes listen on loopback addresses (all of 127/8 is loopback), and
//  the addresses that refuse are loopback ones the test binds and does
//  not listen on.

#define S_NAME "frontends"
#define S_REFUSING_MAX 4

//  True when the machine lets a client have a hosts file of its own (a
//  mount namespace, where it may bind a file); says why not, once, when
//  it does not.
static bool
s_hosts_usable (void)
{
    static int usable = -1;
    if (usable < 0) {
        char *dir = tu_tempdir ("client-hosts");
        assert_non_null (dir);
        char *hosts = s_write_file (dir, "hosts", "127.0.0.1 " S_NAME "\n");
        char *log = tu_printf ("%s/probe.log", dir);
        char *argv [12];
        s_hosts_argv (argv, hosts, "/bin/true");
        tu_proc_t *proc = tu_spawn (dir, argv, NULL, log);
        usable = proc && tu_wait (proc, WAIT_MS) == 0;
        if (!usable) {
            char *text = tu_read_file (log, NULL);
            print_message ("cannot give a client its own /etc/hosts here (%s):"
                           " the test is skipped\n%s", S_UNSHARE " --mount",
                           text ? text : "");
            free (text);
        }
        tu_proc_destroy (&proc);
        free (log);
        free (hosts);
        tu_remove_dir (dir);
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
        int fd = s_bound_socket (ips [i], &bound);
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
    self->listener = s_bound_socket ("127.0.0.6", &port);
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
    assert_int_equal (poll (&item, 1, WAIT_MS), 1);
}

static void
s_silent_close (s_silent_t *self)
{
    close (self->filler);
    close (self->listener);
}

//  Gives the client a hosts file with text in it, and the server's
//  address as S_NAME:port.
static void
s_client_hosts (s_client_t *client, int port, const char *text)
{
    client->hosts = s_write_file (client->dir, "hosts", text);
    s_client_env (client, "CLI_SERVER_ADDRESS=" S_NAME ":%d", port);
}

//  How many of the log's lines say that connection connected to address.
static size_t
s_connected (const char *log, const char *connection, const char *address)
{
    const char *parts [] = { "action: conectar | result: success | resource: ",
                             connection, "| address: ", address, NULL };
    return tu_count_lines (log, parts);
}

//  How many of the log's lines say that address refused (or failed), for
//  a reason that starts with reason ("": any).
static size_t
s_passed_over (const char *log, const char *address, const char *reason)
{
    char *text = tu_printf ("action: conectar | result: in_progress | server: "
                            S_NAME ":%s | address: %s | reason: %s",
                            strrchr (address, ':') + 1, address, reason);
    size_t lines = s_lines (log, text);
    free (text);
    return lines;
}

static void
test_client_addresses_fallback (void **state)
{
    (void) state;
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
        s_run_t run;
        s_run_new (&run, "client-addresses");
        int port = run.fake->port;
        s_refusing_t refusing;
        s_refusing_init (&refusing, port);
        char *hosts = tu_printf ("%s127.0.0.1 %s\n", refusing.hosts, S_NAME);
        s_client_hosts (run.client, port, hosts);
        s_fake_greet (run.fake, 0, false);
        s_run_chunks (&run, 0, SIZE_MAX);
        s_fake_winners (run.fake);
        s_run_play (&run, 0);
        s_assert_success (run.log, 7);
        char *good = tu_printf ("127.0.0.1:%d", port);
        assert_int_equal (s_connected (run.log, "bets_connection", good), 1);
        assert_int_equal (s_connected (run.log, "winners_connection", good), 1);
        assert_int_equal (s_passed_over (run.log, good, ""), 0);
        //  Each refusing address at most once a connection
        for (size_t k = 0; k < refusing.count; k++)
            assert_in_range (s_passed_over (run.log, refusing.names [k], ""), 0, 2);
        assert_int_equal (s_lines (run.log, "| intento: "), 0);
        free (good);
        free (hosts);
        s_refusing_close (&refusing);
        s_run_destroy (&run);
    }
}

static void
test_client_addresses_refused (void **state)
{
    (void) state;
    if (!s_hosts_usable ())
        skip ();
    //  Every address refuses: each attempt tries each address once, and
    //  only then counts as failed (loop.amount is 2)
    int port = 0;
    int held = s_bound_socket ("127.0.0.5", &port);
    assert_true (held >= 0);
    s_refusing_t refusing;
    s_refusing_init (&refusing, port);
    s_client_t *client = s_client_new ("client-refused", port);
    s_client_hosts (client, port, refusing.hosts);
    char *data = s_write_file (client->dir, "agency-3.csv", s_three_csv);
    s_client_env (client, "CLI_DATA_FILE=%s", data);
    s_client_start (client);
    char *log;
    s_client_exits (client, 1, &log);
    s_assert_one_failure (log);
    for (size_t k = 0; k < refusing.count; k++)
        assert_int_equal (s_passed_over (log, refusing.names [k], ""), 2);
    assert_int_equal (s_lines (log, "action: conectar | result: in_progress | server: "
                                    S_NAME), 2 * refusing.count + 1);
    assert_int_equal (s_lines (log, "| intento: 1 | reason: Connection refused (all"), 1);
    char *failed = tu_printf ("action: conectar | result: fail | server: " S_NAME ":%d"
                              " | intentos: 2 | reason: Connection refused (all %zu"
                              " addresses of " S_NAME ")\n", port, refusing.count);
    assert_non_null (strstr (log, failed));
    free (failed);
    free (log);
    free (data);
    s_refusing_close (&refusing);
    close (held);
    s_client_destroy (&client);
}

static void
test_client_addresses_silent (void **state)
{
    (void) state;
    if (!s_hosts_usable ())
        skip ();
    //  The name stands for the fake's address and one that never answers
    //  (a front-end whose node died, still in the DNS): a connect there is
    //  given up after 2 s, and the client goes on to the fake's, so the
    //  run ends well within WAIT_MS instead of after minutes. Runs until
    //  the client met the silent address (each connection picks it first
    //  half the time, so a run misses it with both once in four): eight
    //  runs that all missed it, once in 65,536.
    bool met = false;
    for (int i = 0; i < 8 && !met; i++) {
        s_run_t run;
        s_run_new (&run, "client-silent");
        int port = run.fake->port;
        s_silent_t silent;
        s_silent_init (&silent, port);
        s_client_hosts (run.client, port, "127.0.0.6 " S_NAME "\n127.0.0.1 " S_NAME "\n");
        s_fake_greet (run.fake, 0, false);
        s_run_chunks (&run, 0, SIZE_MAX);
        s_fake_winners (run.fake);
        s_run_play (&run, 0);
        s_assert_success (run.log, 7);
        size_t passed = s_passed_over (run.log, silent.name, "");
        assert_in_range (passed, 0, 2);
        assert_int_equal (s_passed_over (run.log, silent.name,
                                         "no answer to connect within 2000ms"), passed);
        assert_int_equal (s_lines (run.log, "| intento: "), 0);
        met = passed > 0;
        s_silent_close (&silent);
        s_run_destroy (&run);
    }
    assert_true (met);
}

static void
test_client_address_silent (void **state)
{
    (void) state;
    //  A name with one address waits for its answer as long as the
    //  kernel tries, as before: no attempt fails 2 s on, and a SIGTERM
    //  still ends the wait
    s_silent_t silent;
    s_silent_init (&silent, 0);
    s_client_t *client = s_client_new ("client-silent-one", 0);
    s_client_env (client, "CLI_SERVER_ADDRESS=%s", silent.name);
    free (s_write_file (client->dir, "agency-3.csv", s_three_csv));
    s_client_env (client, "CLI_DATA_FILE=%s/agency-3.csv", client->dir);
    s_client_start (client);
    const char *connecting [] = { "action: conectar | result: ", NULL };
    assert_false (tu_wait_for_lines (client->log, connecting, 1, 3000));
    assert_int_equal (tu_stop (client->proc, SIGTERM, WAIT_MS), 0);
    char *log = tu_read_file (client->log, NULL);
    assert_non_null (log);
    assert_int_equal (s_lines (log, "action: exit | result: success | signal: SIGTERM"), 1);
    assert_int_equal (s_lines (log, "action: conectar"), 0);
    free (log);
    s_silent_close (&silent);
    s_client_destroy (&client);
}

static void
test_client_addresses_moved (void **state)
{
    (void) state;
    if (!s_hosts_usable ())
        skip ();
    //  The front-end the client reached goes away mid-upload, and the name
    //  now stands for another one: the client resolves the name again as
    //  it reconnects, and resumes there (v2), the winners too
    s_run_t run;
    s_run_new (&run, "client-moved");
    s_client_env (run.client, "CLI_WINDOW=1");
    int port = run.fake->port;
    s_fake_t *moved = s_fake_new_at ("127.0.0.3", port);
    s_client_hosts (run.client, port, "127.0.0.1 " S_NAME "\n");
    s_fake_greet (run.fake, 0, false);
    s_run_chunks (&run, 0, 3);                  //  0 answered, 3 sent
    s_fake_step (run.fake, STEP_NOTIFY, NULL, 0);
    s_fake_step (run.fake, STEP_WAIT, NULL, 0);
    s_fake_step (run.fake, STEP_CLOSE, NULL, 0);
    s_fake_greet (moved, 3, false);
    s_fake_chunks (moved, &run.gen, 3, 3, SIZE_MAX);
    s_fake_winners (moved);
    s_fake_start (run.fake);
    s_fake_start (moved);
    s_client_start (run.client);
    //  The client waits for chunk 3's answer: the name moves meanwhile
    assert_true (s_fake_reached (run.fake));
    free (s_write_file (run.client->dir, "hosts", "127.0.0.3 " S_NAME "\n"));
    s_fake_go (run.fake);
    s_client_exits (run.client, 0, &run.log);
    s_fake_destroy (&run.fake);                 //  No other connection came
    s_fake_destroy (&moved);
    s_assert_success (run.log, 7);
    char *first = tu_printf ("127.0.0.1:%d", port);
    char *second = tu_printf ("127.0.0.3:%d", port);
    assert_int_equal (s_connected (run.log, "bets_connection", first), 1);
    assert_int_equal (s_connected (run.log, "bets_connection", second), 1);
    assert_int_equal (s_connected (run.log, "winners_connection", second), 1);
    assert_int_equal (s_lines (run.log, "action: reconectar | result: success | agencia: 3"
                                        " | almacenadas: 3 | terminada: 0"), 1);
    free (first);
    free (second);
    s_run_destroy (&run);
}

//  ---------------------------------------------------------------------
//  The health check's probe (lottery-ping) and a name's addresses

//  Runs lottery-ping on S_NAME:port with hosts as its /etc/hosts and
//  timeout seconds; returns its exit status, and its log in *log.
static int
s_ping (const char *hosts_text, int port, int timeout, char **log)
{
    char *dir = tu_tempdir ("ping-addresses");
    assert_non_null (dir);
    char *hosts = s_write_file (dir, "hosts", hosts_text);
    char *ping = tu_program ("lottery-ping");
    assert_non_null (ping);
    char *path = tu_printf ("%s/ping.log", dir);
    char *env [] = { tu_printf ("PING_ADDRESS=" S_NAME ":%d", port),
                     tu_printf ("PING_TIMEOUT=%d", timeout), NULL };
    char *argv [12];
    s_hosts_argv (argv, hosts, ping);
    tu_proc_t *proc = tu_spawn (dir, argv, env, path);
    assert_non_null (proc);
    //  It ends in time whatever the addresses do, not after the minutes
    //  a silent one would hold a connect
    int status = tu_wait (proc, WAIT_MS);
    *log = tu_read_file (path, NULL);
    assert_non_null (*log);
    tu_proc_destroy (&proc);
    free (env [0]);
    free (env [1]);
    free (path);
    free (ping);
    free (hosts);
    tu_remove_dir (dir);
    return status;
}

static void
test_ping_addresses (void **state)
{
    (void) state;
    if (!s_hosts_usable ())
        skip ();
    //  The name stands for addresses that refuse, one that never answers,
    //  and last the fake's: the probe passes them over, each within its
    //  share of the time, and the server is up
    s_fake_t *fake = s_fake_new ();
    s_fake_step (fake, STEP_ACCEPT, NULL, 0);
    s_fake_step (fake, STEP_EXPECT, "P", 1);
    s_fake_step (fake, STEP_SEND, "O", 1);
    s_fake_start (fake);
    int port = fake->port;
    s_refusing_t refusing;
    s_refusing_init (&refusing, port);
    s_silent_t silent;
    s_silent_init (&silent, port);
    char *hosts = tu_printf ("%s127.0.0.6 %s\n127.0.0.1 %s\n", refusing.hosts,
                             S_NAME, S_NAME);
    char *log;
    assert_int_equal (s_ping (hosts, port, 3, &log), 0);
    char *line = tu_printf ("action: test_echo_server | result: success | server: "
                            S_NAME ":%d\n", port);
    assert_non_null (strstr (log, line));
    s_fake_destroy (&fake);
    free (line);
    free (log);
    free (hosts);

    //  None answers: down, saying so for all of them, once the time is up
    hosts = tu_printf ("%s127.0.0.6 %s\n", refusing.hosts, S_NAME);
    assert_int_equal (s_ping (hosts, port, 1, &log), 1);
    assert_int_equal (s_lines (log, "action: test_echo_server | result: fail | server: "
                                    S_NAME ":"), 1);
    char *all = tu_printf ("(all %zu addresses of " S_NAME ")\n", refusing.count + 1);
    assert_non_null (strstr (log, all));
    free (all);
    free (log);
    free (hosts);
    s_silent_close (&silent);
    s_refusing_close (&refusing);
}

int
main (void)
{
    s_client_path = tu_program ("lottery-client");
    if (!s_client_path) {
        fprintf (stderr, "lottery-client not found in LOTTERY_BIN_DIR (default bin):"
                         " run from the repository root\n");
        return 1;
    }
    signal (SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_config_yaml, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_config_env_overrides, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_config_defaults, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_config_durations, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_config_invalid, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_chunk_counts, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_chunk_byte_cap, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_chunk_exact_bytes, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_chunk_oversized, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_csv_line_endings, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_csv_bad_records, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_bets_and_winners, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_single_bet, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_nothing_to_send, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_unreachable, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_rejected, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_bad_file, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_winners_dropped, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_sigterm, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_config_fail, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_bytes, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_stored, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_stored_too_many, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_resume, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_stalled, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_busy, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_rejected, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_falls_back_to_v1, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_never_downgraded, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_silent_server, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_single, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_single_resume, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_winners_timeout, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_sigterm, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_v2_window, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_feed_pace, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_progress, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_dial_order, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_dial_spread, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_dial_name, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_addresses_fallback, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_addresses_refused, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_addresses_silent, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_address_silent, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_client_addresses_moved, s_clean_env, s_teardown),
        cmocka_unit_test_setup_teardown (test_ping_addresses, s_clean_env, s_teardown),
    };
    int failed = cmocka_run_group_tests (tests, NULL, NULL);
    free (s_client_path);
    return failed;
}
