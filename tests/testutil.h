/*  testutil - helpers for tests that run the real programs

    Starts programs as child processes with their own environment and a
    log file, waits for them with a deadline, and reads what they wrote.
    Every wait has a deadline: a test that hangs fails instead.
*/
#ifndef TESTUTIL_H_INCLUDED
#define TESTUTIL_H_INCLUDED

#include "lot_bet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    char *log_path;
    int status;             //  Exit status once reaped, -1 before
} tu_proc_t;

//  A span over a C string.
lot_span_t tu_span (const char *text);

//  Asserts (with cmocka, which the test includes) that a span holds text.
#define tu_assert_span(span, text) do { \
    lot_span_t tu_span_ = (span); \
    const char *tu_text_ = (text); \
    assert_int_equal (tu_span_.size, strlen (tu_text_)); \
    assert_memory_equal (tu_span_.data, tu_text_, tu_span_.size); \
} while (0)

//  Wire bytes built by hand, as protocol.md lays them out: the tests'
//  one builder, never lot_codec, whose bytes they check.
typedef struct {
    uint8_t data [16384];
    size_t size;
} tu_wire_t;

void tu_wire_byte (tu_wire_t *wire, unsigned value);
void tu_wire_u16 (tu_wire_t *wire, unsigned value);
void tu_wire_u32 (tu_wire_t *wire, uint32_t value);
//  A string: u16 length, then its bytes.
void tu_wire_str (tu_wire_t *wire, const char *text);
void tu_wire_bytes (tu_wire_t *wire, const void *data, size_t size);
//  A v1 chunk's head (tag, count, agency); its bets follow, each of five
//  strings (tu_wire_bet).
void tu_wire_chunk (tu_wire_t *wire, char tag, unsigned count, const char *agency);
void tu_wire_bet (tu_wire_t *wire, const char *const bet [5]);
//  The digest an 'S' carries for the stored bets whose bets-file lines
//  are lines: BLAKE2b-256 of them, by libsodium itself.
void tu_wire_digest (tu_wire_t *wire, const char *lines);

//  Asserts that got holds exactly want, saying where they first differ.
void tu_assert_bytes (const void *got, size_t got_size, const void *want,
                      size_t want_size);

//  Reads want's size from fd within 10 s and asserts they are want.
void tu_expect_bytes (int fd, const void *want, size_t size);

//  Names the table row a test is checking (printf-style), so that a
//  failure says which: tu_case_teardown, a cmocka teardown, prints the
//  row a failing test stopped in. tu_case_done after the last row.
void tu_case (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
void tu_case_done (void);
int tu_case_teardown (void **state);

//  A cmocka setup and teardown: each test runs in a fresh temporary
//  directory (tu_dir) as its working directory, removed after it, and in
//  the one the program started in (tu_home, the repository root) again.
int tu_dir_setup (void **state);
int tu_dir_teardown (void **state);
const char *tu_dir (void);
const char *tu_home (void);

//  A freshly allocated formatted string (aborts when out of memory).
char *tu_printf (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

//  A fresh empty directory under $TMPDIR (or /tmp); the caller frees the
//  path.
char *tu_tempdir (const char *name);

//  Removes a directory made by tu_tempdir, with all it holds, and frees
//  its path. A failing test never gets here, so its files stay to look at.
void tu_remove_dir (char *dir);

//  A TCP port on 127.0.0.1 that refuses connections for as long as the
//  test keeps *fd open (it is bound, and nothing listens on it).
int tu_closed_port (int *fd);

//  Starts argv [0] (a path) in cwd with the current environment plus env
//  ("NAME=value" strings, NULL-terminated), stdout and stderr to log_path.
//  The child dies with the test program, and tu_kill_all ends it.
tu_proc_t *tu_spawn (const char *cwd, char *const argv [], char *const env [],
                     const char *log_path);

//  Kills and reaps every spawned process still running: a cmocka
//  teardown, so a test that fails halfway leaves nothing behind.
int tu_kill_all (void **state);

//  Waits up to timeout_ms for the process; returns its exit status, or -1
//  on timeout (the process is then killed).
int tu_wait (tu_proc_t *proc, int timeout_ms);

//  Sends a signal and waits like tu_wait.
int tu_stop (tu_proc_t *proc, int signal, int timeout_ms);

void tu_proc_destroy (tu_proc_t **proc_p);

//  Whole file contents, NUL-terminated; NULL when unreadable.
char *tu_read_file (const char *path, size_t *size);

//  Sends what a file descriptor (1 for stdout, 2 for stderr) gets to a
//  file until tu_capture_end, which returns what it got (NUL-terminated,
//  the caller frees). Keep assertions out of the span: a failing one
//  would leave the descriptor captured.
typedef struct {
    int fd;
    int saved;
    const char *path;
} tu_capture_t;

tu_capture_t tu_capture_begin (int fd, const char *path);
char *tu_capture_end (tu_capture_t capture);

//  Waits until the file contains text, up to timeout_ms. True when found.
bool tu_wait_for_text (const char *path, const char *text, int timeout_ms);

//  Waits up to timeout_ms for a line of the file that holds every part;
//  returns the value after "key: " (up to " |" or the end of the line) in
//  the last such line, freshly allocated, or NULL.
char *tu_log_value (const char *path, const char *const parts [], const char *key,
                    int timeout_ms);

//  The parts a line holds, a NULL-terminated list written in place
#define PARTS(...) ((const char *const []) { __VA_ARGS__, NULL })

//  Waits until at least count lines of the file hold every part, up to
//  timeout_ms. True when they do.
bool tu_wait_for_lines (const char *path, const char *const parts [],
                        size_t count, int timeout_ms);

//  How many lines of text contain every one of the given substrings
//  (NULL-terminated list).
size_t tu_count_lines (const char *text, const char *const parts []);

//  Sum of the numbers after "key: " on lines that contain every part.
long tu_sum_field (const char *text, const char *const parts [], const char *key);

//  Offset of the first line containing every part, or -1.
long tu_first_line (const char *text, const char *const parts []);
//  Offset of the last line containing every part, or -1.
long tu_last_line (const char *text, const char *const parts []);

//  A connected TCP socket to 127.0.0.1:port, retrying for up to timeout_ms.
int tu_connect (int port, int timeout_ms);

//  One TCP connection attempt to address (IPv4 or IPv6, as text):port,
//  closed at once. Returns 0 when it was accepted, else connect's errno
//  (ECONNREFUSED: nothing listens at that address).
int tu_reach (const char *address, int port);

//  Writes all; returns 0 or -1.
int tu_send_all (int fd, const void *data, size_t size);

//  A TCP port free on every interface now (the kernel's pick, let go).
int tu_free_port (void);

//  One HTTP/1.1 request to 127.0.0.1:port (request: its first line, "GET
//  /metrics") and the answer, headers and body, read until the server
//  closes; *status is its code. NULL when no whole answer came within
//  timeout_ms, the connect included. Asserts nothing: safe on a thread
//  of the test's own.
char *tu_http (int port, const char *request, int *status, int timeout_ms);

//  Prometheus's text format: the sum of the samples whose line starts
//  with name (a name and labels, or a prefix of them) and holds every
//  one of parts (NULL-terminated, or NULL); and one sample's value
//  ("name{labels}", exactly), 0 when absent.
double tu_metrics_sum (const char *text, const char *name, const char *const parts []);
double tu_metric_value (const char *text, const char *sample);

//  Reads exactly size bytes within timeout_ms; returns bytes read (less on
//  EOF or timeout).
size_t tu_recv_exact (int fd, void *data, size_t size, int timeout_ms);

//  True when the peer closed the connection within timeout_ms (reads EOF).
bool tu_wait_closed (int fd, int timeout_ms);

//  The thread of process pid named name (prctl's, as /proc shows it),
//  other than its main thread, or 0.
pid_t tu_thread (pid_t pid, const char *name);

//  A small deterministic random generator (splitmix64) for fuzz and
//  generated test data: the same seed gives the same sequence.
typedef struct {
    unsigned long long state;
} tu_rng_t;

unsigned long long tu_rand (tu_rng_t *rng);

//  A number from 0 to n - 1.
size_t tu_below (tu_rng_t *rng, size_t n);

//  Path of the shared real data file for an agency, or NULL if absent.
char *tu_shared_data (int agency);

//  Absolute path of one of our programs ("lottery-server"), found in
//  $LOTTERY_BIN_DIR (default bin, from the repository root the tests run
//  in), so the same tests can run a sanitized or wrapped build; NULL when
//  it is not there.
char *tu_program (const char *name);

//  Makes $LOTTERY_BIN_DIR (default bin) an absolute path, for tests whose
//  fixtures change directory (tu_dir_setup) before they find a program.
void tu_bin_dir_absolute (void);

//  ---------------------------------------------------------------------
//  test_e2e and test_actors: strings and blocks that live until the
//  test's teardown calls tu_temp_free, so that a test frees none of them.

//  A formatted string.
char *tu_temp (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
//  Takes a heap block (or NULL) to free then; returns it.
void *tu_temp_own (void *data);
void tu_temp_free (void);

//  Appends values to wire by a picture, as zsock_send reads its
//  arguments: '1', '2', '4' a big-endian number of that many bytes (an
//  unsigned), 's' a string (as tu_wire_str), 'b' bytes (a pointer, then
//  a size_t count).
void tu_wire_pack (tu_wire_t *wire, const char *picture, ...);
//  Fresh wire bytes, packed by a picture.
tu_wire_t tu_wire (const char *picture, ...);
//  Expects on fd (tu_expect_bytes) exactly what the picture packs.
void tu_expect_pack (int fd, const char *picture, ...);

//  --------------------------------------------------------------------------
//  For the tests of lib/ (test_codec, test_msg, test_bets, test_draw,
//  test_journal, test_store)

//  cmocka, with the headers it needs before it; a test that includes this
//  needs no other. cmocka hands every test a state that most never use:
//  no (void) state in each.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#pragma GCC diagnostic ignored "-Wunused-parameter"

//  Writes a file of size bytes of data in place, then cuts it there: no
//  cut to zero first, which ext4 flushes at the close (crash tests crawl).
void tu_write_file (const char *path, const void *data, size_t size);

//  Asserts that the file holds exactly size bytes of data.
void tu_assert_file (const char *path, const void *data, size_t size);

//  A journal line as lot_journal.h documents it: the body (printf
//  format), a space, the body's CRC-32 (zlib's, not the module's) in
//  8 hex digits, a newline. From a ring: valid for the next 7 calls.
const char *tu_journal_line (const char *format, ...)
    __attribute__ ((format (printf, 1, 2)));

#endif
