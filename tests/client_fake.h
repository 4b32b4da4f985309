/*  client_fake - what the agency client's tests share: a scripted fake
    server, the real lottery-client run against it, generated bets

    Each test (CF_TEST) runs in a fresh directory, tu_dir (), with no
    CLI_* variable set; the client runs there too and logs to CF_LOG. The
    fake plays its script in the test's thread while the client, a child
    process, talks to it: a wrong byte fails the test where it is read,
    and the teardown names the step, the table's case and the client's log.
    The clients and runs a test makes are its teardown's to free.
*/
#ifndef CLIENT_FAKE_H_INCLUDED
#define CLIENT_FAKE_H_INCLUDED

#include "lot_codec.h"
#include "testutil.h"

#include <czmq.h>
#include <setjmp.h>
#include <cmocka.h>

#define CF_WAIT_MS 10000            //  Deadline for anything that should happen
#define CF_LOG     "client.log"

//  A test; the group's setup (cf_init) finds the programs in bin/.
#define CF_TEST(f) cmocka_unit_test_setup_teardown (f, cf_setup, cf_teardown)
int cf_setup (void **state);
int cf_teardown (void **state);
int cf_init (void **state);
int cf_end (void **state);
extern char *cf_client_path, *cf_ping_path;

//  A loop over a table that, when a case fails, says which (label).
#define CF_COUNT(a) (sizeof (a) / sizeof (a) [0])
#define CF_EACH(i, cases, label) \
    for (size_t i = 0; cf_case (i, i < CF_COUNT (cases) ? (label) : NULL); i++)
bool cf_case (size_t index, const char *label);

//  Writes text to the file name (in tu_dir); returns name.
const char *cf_write (const char *name, const char *text);
//  A TCP socket bound to ip (numbers, v4 or v6) and *port (0: any, then
//  *port says which), not listening: connections there are refused.
//  -1 when this machine has no such address.
int cf_bound_socket (const char *ip, int *port);

//  Three bets of agency 3, and the same as a data file, LF and CRLF.
extern const char *cf_three [3][5];
extern const char *cf_three_csv, *cf_three_crlf;

//  Generated bets, of lengths that vary; cf_gen_next is a feed source.
typedef struct {
    char (*bets) [5][64];
    size_t count, next;
} cf_gen_t;
void cf_gen_init (cf_gen_t *gen, size_t count, size_t name_size);
int cf_gen_next (void *gen, lot_span_t fields [LOT_BET_FIELDS]);

//  A step of the fake server's script. From CF_HELLO on, parts of agency
//  3's conversation, expanded as they are added; the chunks are those of
//  the fake's gen, 3 a chunk.
typedef enum {
    CF_END,                     //  Ends a script
    CF_ACCEPT,                  //  Accept the next connection
    CF_EXPECT,                  //  Receive exactly bytes
    CF_SEND,
    CF_BREAK,                   //  cf_play returns; the next call plays on
    CF_CLOSED,                  //  The client closes the connection
    CF_ONLY_CLOSED,             //  ... sending nothing more first
    CF_PAUSE,                   //  Wait at milliseconds
    CF_CLOSE,
    CF_RESET,                   //  Close with a reset (RST), as a crash would
    CF_UNLISTEN,                //  Stop listening: connections are refused
    CF_HELLO,                   //  Accept, receive v3's 'H'
    CF_GREET,                   //  CF_HELLO, answered 'S': at stored, finished,
                                //  the digest of those bets
    CF_HELLO_V2,                //  The same in v2: 'H' 2,
    CF_GREET_V2,                //  answered with v2's 'S', no digest
    CF_ERROR,                   //  Send 'E' with the reason bytes; CF_CLOSED
    CF_CHUNK,                   //  Receive the v2 chunk at position at
    CF_CHUNK_V1,                //  ... the same less its 'N' and position
    CF_CHUNKS,                  //  The v2 chunks from at to the last, each answered 'O'
    CF_WINNERS                  //  CF_CLOSED; the winners asked for, two given
} cf_op_t;

//  A row names only the fields its step uses
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
typedef struct {
    cf_op_t op;
    const void *bytes;
    size_t size;
    size_t at;
    bool finished;
} cf_row_t;

//  A row of a string literal's bytes, NULs and all
#define CF_BYTES(op, text) { op, text, sizeof ("" text) - 1 }
#define CF_EXPECTS(text)   CF_BYTES (CF_EXPECT, text)
#define CF_SENDS(text)     CF_BYTES (CF_SEND, text)
#define CF_ERRORS(text)    CF_BYTES (CF_ERROR, text)

typedef struct {
    int port, listener;
    int fd;                     //  The connection accepted last
    const cf_gen_t *gen;        //  The bets of CF_CHUNK and CF_CHUNKS
    size_t count, next;         //  Steps scripted, and played
    struct {
        cf_op_t op;
        tu_wire_t wire;         //  CF_PAUSE: its size is the milliseconds
    } steps [64];
} cf_fake_t;

//  On ip:port (0: any); cf_fake_new on 127.0.0.1.
cf_fake_t *cf_fake_new_at (const char *ip, int port);
#define cf_fake_new() cf_fake_new_at ("127.0.0.1", 0)
//  Adds the rows, up to CF_END, to the script; each part expanded.
void cf_rows (cf_fake_t *fake, const cf_row_t *rows);
#define cf_script(fake, ...) cf_rows (fake, (const cf_row_t []) { __VA_ARGS__, { CF_END } })
//  Plays the script up to its next CF_BREAK or its end.
void cf_play (cf_fake_t *fake);
//  Checks that the script was played to its end and that no other
//  connection is waiting.
void cf_fake_destroy (cf_fake_t **fake_p);

//  The real client: agency 3 at 127.0.0.1:port, two attempts 50 ms
//  apart, DEBUG, a fresh CF_LOG. cf_env sets one more variable.
typedef struct {
    char *env [17];
    char env_text [16][256];
    size_t env_count;
    const char *hosts;          //  Its /etc/hosts, or NULL: the machine's
    tu_proc_t *proc;
    char *log;                  //  CF_LOG's text once it exited
} cf_client_t;

cf_client_t *cf_client_new (int port);
void cf_env (cf_client_t *client, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
//  NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO and NUMERO: a single bet.
void cf_env_bet (cf_client_t *client, const char *const bet [5]);
void cf_client_start (cf_client_t *client);
//  Waits for the exit, checks its status, returns the log.
const char *cf_client_exits (cf_client_t *client, int status);
//  Starts the client, plays the script to its end, checks the exit status
//  and destroys the fake; returns the log. _sigterm stops the client
//  at the script's CF_BREAK, and checks that it exits 0 and says so.
const char *cf_client_run (cf_fake_t **fake_p, cf_client_t *client, int status);
const char *cf_client_run_sigterm (cf_fake_t **fake_p, cf_client_t *client);

//  argv (room for 12) that runs program with hosts as its /etc/hosts, in
//  a mount namespace of its own (and a user one, to mount, unless root).
#define CF_UNSHARE "/usr/bin/unshare"
void cf_hosts_argv (char *argv [], const char *hosts, const char *program);

//  How many lines of the log hold the formatted text.
size_t cf_lines (const char *log, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
#define cf_assert_once(log, ...) assert_int_equal (cf_lines (log, __VA_ARGS__), 1)
#define cf_assert_none(log, ...) assert_int_equal (cf_lines (log, __VA_ARGS__), 0)
//  Whether the formatted text is in the log (for what spans a line's end).
bool cf_has (const char *log, const char *format, ...) __attribute__ ((format (printf, 2, 3)));
//  A run that failed once: the reason's line, then the exit line.
void cf_assert_one_failure (const char *log);
void cf_assert_no_failure (const char *log);
//  A good upload: exactly bets stored, both winners, nothing failed.
void cf_assert_success (const char *log, long bets);

//  A run: 7 generated bets in agency-3.csv, 3 a chunk, a fake to script
//  (its gen the run's), and the log once played.
typedef struct {
    cf_gen_t gen;
    cf_fake_t *fake;
    cf_client_t *client;
    const char *log;
} cf_run_t;

cf_run_t *cf_run_new (void);
//  Runs the client against the script: status 0, a good upload of the 7
//  bets (cf_assert_success); 1, a run that failed once.
void cf_run_play (cf_run_t *run, int status);

#endif
