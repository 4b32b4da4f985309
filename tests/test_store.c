/*  test_store - the bets file and its journal: verdicts, commits, and
    recovery from every way a crash can cut the last group
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "lot_log.h"
#include "lot_store.h"
#include "testutil.h"

#define AGENCIES 5

static char *s_dir;                 //  Temp directory of the test
static char *s_bets;                //  Its bets file and journal
static char *s_journal;
static bool s_fsync;                //  How s_open opens the store

static int
s_setup (void **state)
{
    (void) state;
    s_dir = tu_tempdir ("store");
    if (!s_dir)
        return -1;
    s_bets = tu_printf ("%s/bets.csv", s_dir);
    s_journal = tu_printf ("%s/bets.journal", s_dir);
    s_fsync = false;
    lot_log_set_level (LOT_LOG_INFO);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    tu_remove_dir (s_dir);
    free (s_bets);
    free (s_journal);
    lot_log_set_level (LOT_LOG_INFO);
    return 0;
}

//  A chunk with its own lines: bet i of an agency is always the same line,
//  so a chunk sent again carries the same bytes.
typedef struct {
    lot_store_chunk_t chunk;
    char lines [256];
} chunk_t;

static void
s_chunk (chunk_t *self, uint32_t agency, uint32_t position, uint32_t count, bool last)
{
    self->chunk = (lot_store_chunk_t) { agency, position, count, last, self->lines, 0 };
    for (uint32_t bet = position; bet < position + count; bet++) {
        size_t room = sizeof self->lines - self->chunk.size;
        int size = snprintf (self->lines + self->chunk.size, room,
                             "%" PRIu32 ",N%" PRIu32 ",L,%" PRIu32 ",2000-01-01,%" PRIu32 "\r\n",
                             agency, bet, agency * 1000 + bet, bet);
        assert_true (size > 0 && (size_t) size < room);
        self->chunk.size += (size_t) size;
    }
}

static lot_store_t *
s_open (void)
{
    char *error = NULL;
    lot_store_t *store = lot_store_new (s_bets, s_journal, AGENCIES, s_fsync, &error);
    if (!store)
        fail_msg ("lot_store_new: %s", error ? error : "(no error)");
    assert_null (error);
    return store;
}

//  Expects lot_store_new to fail with an error that holds text.
static void
s_expect_error (const char *text)
{
    char *error = NULL;
    lot_store_t *store = lot_store_new (s_bets, s_journal, AGENCIES, false, &error);
    assert_null (store);
    assert_non_null (error);
    if (!strstr (error, text))
        fail_msg ("error '%s' does not say '%s'", error, text);
    free (error);
}

static void
s_admit (lot_store_t *store, chunk_t *chunk, lot_store_verdict_t expected,
         const char *expected_reason)
{
    const char *reason = "unset";
    lot_store_verdict_t verdict = lot_store_admit (store, &chunk->chunk, &reason);
    if (verdict != expected)
        fail_msg ("agency %" PRIu32 " position %" PRIu32 " count %" PRIu32
                  ": verdict %d, expected %d (%s)", chunk->chunk.agency,
                  chunk->chunk.position, chunk->chunk.count, verdict, expected,
                  reason ? reason : "no reason");
    if (expected_reason)
        assert_string_equal (reason, expected_reason);
    else
        assert_null (reason);
}

//  Admits a chunk made on the spot. Its lines must live until commit, so
//  it comes from a ring longer than any group of these tests.
static void
s_expect (lot_store_t *store, uint32_t agency, uint32_t position, uint32_t count,
          bool last, lot_store_verdict_t expected, const char *expected_reason)
{
    static chunk_t ring [64];
    static size_t next;
    chunk_t *chunk = &ring [next++ % 64];
    s_chunk (chunk, agency, position, count, last);
    s_admit (store, chunk, expected, expected_reason);
}

//  Overwrites a file with data, without cutting it to zero first: ext4
//  flushes a file cut to zero at its close, which would make the crash
//  tests crawl on a disk.
static void
s_write_file (const char *path, const void *data, size_t size)
{
    int fd = open (path, O_WRONLY | O_CREAT, 0644);
    assert_true (fd >= 0);
    assert_int_equal (pwrite (fd, data, size, 0), (ssize_t) size);
    assert_int_equal (ftruncate (fd, (off_t) size), 0);
    assert_int_equal (close (fd), 0);
}

static size_t
s_file_size (const char *path)
{
    struct stat info;
    assert_int_equal (stat (path, &info), 0);
    return (size_t) info.st_size;
}

static void
s_assert_file (const char *path, const void *data, size_t size)
{
    size_t got = 0;
    char *text = tu_read_file (path, &got);
    assert_non_null (text);
    assert_int_equal (got, size);
    assert_memory_equal (text, data, size);
    free (text);
}

//  --------------------------------------------------------------------------
//  Verdicts

static void
test_verdict_rules (void **state)
{
    (void) state;
    lot_store_t *store = s_open ();
    //  1. Unknown agency
    s_expect (store, 0, 0, 1, false, LOT_STORE_REJECT, "unknown agency");
    s_expect (store, AGENCIES + 1, 0, 1, false, LOT_STORE_REJECT, "unknown agency");

    //  Within one pending group
    chunk_t first, second;
    s_chunk (&first, 1, 0, 2, false);
    s_chunk (&second, 1, 2, 1, false);
    s_admit (store, &first, LOT_STORE_APPEND, NULL);                //  2.
    s_admit (store, &first, LOT_STORE_REPEAT, NULL);                //  4.
    s_admit (store, &second, LOT_STORE_APPEND, NULL);
    s_expect (store, 1, 0, 1, false, LOT_STORE_REPEAT, NULL);       //  Inside S'
    s_expect (store, 1, 3, 0, false, LOT_STORE_APPEND, NULL);       //  Empty, at S'
    s_expect (store, 1, 5, 1, false, LOT_STORE_EARLY, "chunk out of order");
    s_expect (store, 1, 2, 3, false, LOT_STORE_REJECT, "chunk overlaps stored bets");
    chunk_t closing;
    s_chunk (&closing, 2, 0, 0, true);
    s_admit (store, &closing, LOT_STORE_APPEND, NULL);              //  Empty last chunk
    s_admit (store, &closing, LOT_STORE_REPEAT, NULL);
    s_expect (store, 2, 0, 1, false, LOT_STORE_REJECT, "agency already finished");
    s_expect (store, 3, 0, 2, true, LOT_STORE_APPEND, NULL);
    s_expect (store, 3, 2, 1, false, LOT_STORE_REJECT, "agency already finished");
    assert_int_equal (lot_store_pending (store), 5);

    //  The durable state moves only at commit
    assert_int_equal (lot_store_stored (store, 1), 0);
    assert_false (lot_store_finished (store, 2));
    assert_null (lot_store_commit (store));
    assert_int_equal (lot_store_pending (store), 0);

    //  The same, and more, across a reopen; a pending group is dropped
    for (int round = 0; round < 2; round++) {
        assert_int_equal (lot_store_stored (store, 1), 3);
        assert_false (lot_store_finished (store, 1));
        assert_int_equal (lot_store_stored (store, 2), 0);
        assert_true (lot_store_finished (store, 2));
        assert_int_equal (lot_store_stored (store, 3), 2);
        assert_true (lot_store_finished (store, 3));
        assert_int_equal (lot_store_stored (store, 4), 0);
        assert_int_equal (lot_store_stored (store, AGENCIES + 1), 0);
        assert_false (lot_store_finished (store, 0));

        //  3. Sent again, also an empty chunk at S once the agency finished
        s_admit (store, &first, LOT_STORE_STORED, NULL);
        s_admit (store, &second, LOT_STORE_STORED, NULL);
        s_expect (store, 1, 0, 3, false, LOT_STORE_STORED, NULL);
        s_admit (store, &closing, LOT_STORE_STORED, NULL);
        s_expect (store, 3, 0, 2, true, LOT_STORE_STORED, NULL);
        s_expect (store, 3, 2, 0, true, LOT_STORE_STORED, NULL);
        s_expect (store, 3, 2, 1, true, LOT_STORE_REJECT, "agency already finished");
        s_expect (store, 3, 1, 2, true, LOT_STORE_REJECT, "agency already finished");
        //  Beyond S' or across it
        s_expect (store, 1, 4, 1, false, LOT_STORE_EARLY, "chunk out of order");
        s_expect (store, 1, 2, 2, false, LOT_STORE_REJECT, "chunk overlaps stored bets");
        //  Stored against pending: durable copies say STORED, the rest REPEAT
        s_expect (store, 1, 3, 2, false, LOT_STORE_APPEND, NULL);
        s_expect (store, 1, 2, 1, false, LOT_STORE_STORED, NULL);
        s_expect (store, 1, 2, 2, false, LOT_STORE_REPEAT, NULL);
        s_expect (store, 1, 3, 2, false, LOT_STORE_REPEAT, NULL);
        s_expect (store, 1, 5, 0, true, LOT_STORE_APPEND, NULL);
        s_expect (store, 1, 5, 0, false, LOT_STORE_REPEAT, NULL);
        s_expect (store, 1, 5, 1, false, LOT_STORE_REJECT, "agency already finished");
        assert_int_equal (lot_store_stored (store, 1), 3);
        lot_store_destroy (&store);
        assert_null (store);
        store = s_open ();
    }
    lot_store_destroy (&store);
}

//  --------------------------------------------------------------------------
//  Commits

static void
test_commit_then_reopen (void **state)
{
    (void) state;
    s_fsync = true;                         //  Once with every sync
    lot_store_t *store = s_open ();
    s_fsync = false;
    chunk_t chunks [5];
    s_chunk (&chunks [0], 1, 0, 2, false);
    s_chunk (&chunks [1], 2, 0, 1, true);
    s_chunk (&chunks [2], 1, 2, 3, false);
    s_chunk (&chunks [3], 4, 0, 0, false);
    s_chunk (&chunks [4], 1, 5, 1, true);
    char expected [1024];
    size_t size = 0;
    for (int i = 0; i < 5; i++) {
        s_admit (store, &chunks [i], LOT_STORE_APPEND, NULL);
        memcpy (expected + size, chunks [i].lines, chunks [i].chunk.size);
        size += chunks [i].chunk.size;
        if (i == 1 || i == 4)
            assert_null (lot_store_commit (store));
    }
    assert_null (lot_store_commit (store));         //  Nothing pending
    assert_int_equal (lot_store_sync (store), 0);
    lot_store_destroy (&store);
    s_assert_file (s_bets, expected, size);
    store = s_open ();
    assert_int_equal (lot_store_stored (store, 1), 6);
    assert_true (lot_store_finished (store, 1));
    assert_int_equal (lot_store_stored (store, 2), 1);
    assert_true (lot_store_finished (store, 2));
    for (uint32_t agency = 3; agency <= AGENCIES; agency++) {
        assert_int_equal (lot_store_stored (store, agency), 0);
        assert_false (lot_store_finished (store, agency));
    }
    //  An empty chunk of an agency not finished is new at S, every time
    for (int i = 0; i < 5; i++)
        s_admit (store, &chunks [i], i == 3 ? LOT_STORE_APPEND : LOT_STORE_STORED, NULL);
    assert_null (lot_store_commit (store));
    lot_store_destroy (&store);
    s_assert_file (s_bets, expected, size);
}

static uint32_t
s_crc (const char *text)
{
    return (uint32_t) crc32 (0, (const Bytef *) text, (uInt) strlen (text));
}

//  A journal line as the header comment documents it: body, space, CRC.
static char *
s_journal_line (const char *body)
{
    return tu_printf ("%s %08" PRIx32 "\n", body, s_crc (body));
}

static void
test_journal_format (void **state)
{
    (void) state;
    s_write_file (s_bets, "x\r\n", 3);              //  A line from before
    lot_log_set_level (LOT_LOG_ERROR);
    lot_store_t *store = s_open ();
    chunk_t chunk;
    s_chunk (&chunk, 3, 0, 2, true);
    s_admit (store, &chunk, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    lot_store_destroy (&store);

    char *header = s_journal_line ("lottery-journal 1 base 3");
    char *body = tu_printf ("3 0 2 1 1 %zu %08" PRIx32, 3 + chunk.chunk.size,
                            (uint32_t) crc32 (0, (const Bytef *) chunk.lines,
                                              (uInt) chunk.chunk.size));
    char *record = s_journal_line (body);
    char *expected = tu_printf ("%s%s", header, record);
    s_assert_file (s_journal, expected, strlen (expected));
    free (header);
    free (body);
    free (record);
    free (expected);
}

//  A bets file from before the journal: its whole lines stay, for no agency.
static void
test_bets_file_without_journal (void **state)
{
    (void) state;
    const char *old = "1,Ana,Paz,1,1990-01-01,7574\r\n1,Bea,Paz,2,1990-01-01,1\r\n";
    char *torn = tu_printf ("%s1,Car", old);
    s_write_file (s_bets, torn, strlen (torn));
    s_write_file (s_journal, "", 0);                //  Created, never written
    char *log_path = tu_printf ("%s/log.txt", s_dir);
    tu_capture_t capture = tu_capture_begin (1, log_path);
    char *error = NULL;
    lot_store_t *store = lot_store_new (s_bets, s_journal, AGENCIES, false, &error);
    char *log = tu_capture_end (capture);
    assert_non_null (store);
    char *repair = tu_printf ("action: bets_file_repair | result: success | path: %s"
                              " | removed_bytes: 5\n", s_bets);
    assert_non_null (strstr (log, repair));
    assert_non_null (strstr (log, "action: journal | result: in_progress | path: "));
    assert_non_null (strstr (log, "count for no agency"));
    free (log);

    assert_int_equal (lot_store_stored (store, 1), 0);
    chunk_t chunk;
    s_chunk (&chunk, 1, 0, 1, false);
    s_admit (store, &chunk, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    lot_store_destroy (&store);

    //  A clean reopen logs nothing and keeps it all
    capture = tu_capture_begin (1, log_path);
    store = lot_store_new (s_bets, s_journal, AGENCIES, false, &error);
    log = tu_capture_end (capture);
    assert_non_null (store);
    assert_string_equal (log, "");
    assert_int_equal (lot_store_stored (store, 1), 1);
    lot_store_destroy (&store);
    char *expected = tu_printf ("%s%.*s", old, (int) chunk.chunk.size, chunk.lines);
    s_assert_file (s_bets, expected, strlen (expected));
    free (expected);
    free (log);
    free (repair);
    free (log_path);
    free (torn);
}

//  --------------------------------------------------------------------------
//  Crash recovery

#define LAST_CHUNKS 5

//  A durable state of two groups (over a line from before the journal),
//  then a last group whose files the test cuts every way.
typedef struct {
    chunk_t last [LAST_CHUNKS];
    char *bets;                     //  The files after the last group
    size_t bets_size;
    char *journal;
    size_t journal_size;
    size_t bets_end [LAST_CHUNKS + 1];      //  After k chunks of the last group
    size_t journal_end [LAST_CHUNKS + 1];
    uint32_t stored [LAST_CHUNKS + 1][AGENCIES + 1];
    bool finished [LAST_CHUNKS + 1][AGENCIES + 1];
} history_t;

static void
s_history (history_t *self)
{
    s_write_file (s_bets, "1,Old,Bet,99,1990-01-01,5\r\n", 27);
    lot_log_set_level (LOT_LOG_ERROR);
    lot_store_t *store = s_open ();
    const uint32_t durable [][4] = {            //  agency, position, count, last
        { 1, 0, 2, 0 }, { 2, 0, 1, 0 }, { 0 },
        { 1, 2, 1, 0 }, { 3, 0, 2, 1 }, { 0 }
    };
    memset (self, 0, sizeof *self);
    for (size_t i = 0; i < sizeof durable / sizeof durable [0]; i++) {
        const uint32_t *row = durable [i];
        if (row [0] == 0) {
            assert_null (lot_store_commit (store));
            continue;
        }
        s_expect (store, row [0], row [1], row [2], row [3], LOT_STORE_APPEND, NULL);
        self->stored [0][row [0]] = row [1] + row [2];
        self->finished [0][row [0]] = row [3];
    }
    self->bets_end [0] = s_file_size (s_bets);
    self->journal_end [0] = s_file_size (s_journal);
    const uint32_t last [LAST_CHUNKS][4] = {
        { 1, 3, 1, 0 }, { 2, 1, 2, 1 }, { 4, 0, 1, 0 }, { 1, 4, 1, 1 }, { 5, 0, 0, 1 }
    };
    for (int k = 0; k < LAST_CHUNKS; k++) {
        const uint32_t *row = last [k];
        s_chunk (&self->last [k], row [0], row [1], row [2], row [3]);
        s_admit (store, &self->last [k], LOT_STORE_APPEND, NULL);
        memcpy (self->stored [k + 1], self->stored [k], sizeof self->stored [k]);
        memcpy (self->finished [k + 1], self->finished [k], sizeof self->finished [k]);
        self->stored [k + 1][row [0]] = row [1] + row [2];
        self->finished [k + 1][row [0]] = row [3];
        self->bets_end [k + 1] = self->bets_end [k] + self->last [k].chunk.size;
    }
    assert_null (lot_store_commit (store));
    lot_store_destroy (&store);
    lot_log_set_level (LOT_LOG_INFO);
    self->bets = tu_read_file (s_bets, &self->bets_size);
    self->journal = tu_read_file (s_journal, &self->journal_size);
    assert_int_equal (self->bets_size, self->bets_end [LAST_CHUNKS]);
    for (int k = 0; k < LAST_CHUNKS; k++) {
        const char *newline = memchr (self->journal + self->journal_end [k], '\n',
                                      self->journal_size - self->journal_end [k]);
        assert_non_null (newline);
        self->journal_end [k + 1] = (size_t) (newline - self->journal) + 1;
    }
    assert_int_equal (self->journal_size, self->journal_end [LAST_CHUNKS]);
}

static void
s_history_free (history_t *self)
{
    free (self->bets);
    free (self->journal);
}

//  Opens the store over files as a crash left them, expecting the first
//  kept chunks of the last group to be stored; then sends the whole last
//  group again, as agencies would, and expects the files of no crash.
static void
s_recover (history_t *self, size_t kept)
{
    lot_store_t *store = s_open ();
    assert_int_equal (s_file_size (s_bets), self->bets_end [kept]);
    assert_int_equal (s_file_size (s_journal), self->journal_end [kept]);
    for (uint32_t agency = 1; agency <= AGENCIES; agency++) {
        assert_int_equal (lot_store_stored (store, agency), self->stored [kept][agency]);
        assert_int_equal (lot_store_finished (store, agency), self->finished [kept][agency]);
    }
    for (size_t k = 0; k < LAST_CHUNKS; k++)
        s_admit (store, &self->last [k], k < kept ? LOT_STORE_STORED : LOT_STORE_APPEND,
                 NULL);
    assert_null (lot_store_commit (store));
    for (uint32_t agency = 1; agency <= AGENCIES; agency++)
        assert_int_equal (lot_store_stored (store, agency),
                          self->stored [LAST_CHUNKS][agency]);
    lot_store_destroy (&store);
    s_assert_file (s_bets, self->bets, self->bets_size);
}

//  How many chunks of the last group lie whole below offset.
static size_t
s_whole (const size_t *ends, size_t offset)
{
    size_t count = 0;
    while (count < LAST_CHUNKS && ends [count + 1] <= offset)
        count++;
    return count;
}

//  Writes the first keep bytes of a file's full text; when zeroed, the
//  rest of its size as zeros (the size reached the disk, the data not).
static void
s_write_torn (const char *path, const char *text, size_t size, size_t keep,
              bool zeroed)
{
    static char torn [4096];
    assert_true (size <= sizeof torn);
    memcpy (torn, text, keep);
    memset (torn + keep, 0, size - keep);
    s_write_file (path, torn, zeroed ? size : keep);
}

//  A power cut may persist any prefix of either file's last group, or its
//  size with zeros past that prefix, so every pair of cuts (SQLite's crash
//  tests do the same) must recover to the chunks whole in both, and a
//  resend must complete the group exactly once.
static void
test_crash_at_every_cut (void **state)
{
    (void) state;
    history_t history;
    s_history (&history);
    lot_log_set_level (LOT_LOG_ERROR);      //  Thousands of repairs
    size_t cases = 0;
    for (int zeroed = 0; zeroed < 2; zeroed++)
    for (size_t bets = history.bets_end [0]; bets <= history.bets_size; bets++)
    for (size_t journal = history.journal_end [0]; journal <= history.journal_size;
         journal++) {
        s_write_torn (s_bets, history.bets, history.bets_size, bets, zeroed);
        s_write_torn (s_journal, history.journal, history.journal_size, journal, zeroed);
        size_t in_bets = s_whole (history.bets_end, bets);
        size_t in_journal = s_whole (history.journal_end, journal);
        s_recover (&history, in_bets < in_journal ? in_bets : in_journal);
        cases++;
    }
    lot_log_set_level (LOT_LOG_INFO);
    print_message ("%zu cuts of %zu bets bytes by %zu journal bytes, cut or zeroed\n",
                   cases, history.bets_size - history.bets_end [0],
                   history.journal_size - history.journal_end [0]);
    s_history_free (&history);
}

//  A page of the last group that came back wrong: its lines or its record.
static void
test_crash_flipped_bytes (void **state)
{
    (void) state;
    history_t history;
    s_history (&history);
    s_fsync = true;                         //  Recovery syncs what it cuts
    char *log_path = tu_printf ("%s/log.txt", s_dir);
    for (size_t k = 0; k < LAST_CHUNKS; k++) {
        //  In the lines of chunk k (an empty one has none)
        if (history.last [k].chunk.size) {
            char *bets = malloc (history.bets_size);
            assert_non_null (bets);
            memcpy (bets, history.bets, history.bets_size);
            bets [history.bets_end [k] + 1] ^= 0x20;
            s_write_file (s_bets, bets, history.bets_size);
            s_write_file (s_journal, history.journal, history.journal_size);
            tu_capture_t capture = tu_capture_begin (1, log_path);
            s_recover (&history, k);
            char *log = tu_capture_end (capture);
            assert_non_null (strstr (log, "action: bets_file_repair | result: success"));
            assert_non_null (strstr (log, "action: journal_repair | result: success"));
            free (log);
            free (bets);
        }
        //  In its record
        char *journal = malloc (history.journal_size);
        assert_non_null (journal);
        memcpy (journal, history.journal, history.journal_size);
        journal [history.journal_end [k]] ^= 0x01;
        s_write_file (s_bets, history.bets, history.bets_size);
        s_write_file (s_journal, journal, history.journal_size);
        lot_log_set_level (LOT_LOG_ERROR);
        s_recover (&history, k);
        lot_log_set_level (LOT_LOG_INFO);
        free (journal);
    }
    free (log_path);
    s_history_free (&history);
}

//  --------------------------------------------------------------------------
//  Failures

//  A write that fails halfway (the file-size limit stops it) leaves both
//  files and the state as they were; the next commit goes through.
static void
test_failed_write_cuts_back (void **state)
{
    (void) state;
    lot_store_t *store = s_open ();
    s_expect (store, 1, 0, 1, false, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    size_t bets_size, journal_size;
    char *bets = tu_read_file (s_bets, &bets_size);
    char *journal = tu_read_file (s_journal, &journal_size);
    chunk_t chunk;
    s_chunk (&chunk, 1, 1, 1, false);
    assert_true (bets_size + chunk.chunk.size < journal_size);

    struct rlimit saved;
    assert_int_equal (getrlimit (RLIMIT_FSIZE, &saved), 0);
    void (*handler) (int) = signal (SIGXFSZ, SIG_IGN);
    //  First the bets file stops halfway, then the journal does
    const rlim_t limits [] = { bets_size + chunk.chunk.size / 2,
                               bets_size + chunk.chunk.size };
    for (size_t i = 0; i < sizeof limits / sizeof limits [0]; i++) {
        s_admit (store, &chunk, LOT_STORE_APPEND, NULL);
        struct rlimit limit = { limits [i], saved.rlim_max };
        assert_int_equal (setrlimit (RLIMIT_FSIZE, &limit), 0);
        const char *reason = lot_store_commit (store);
        assert_int_equal (setrlimit (RLIMIT_FSIZE, &saved), 0);
        assert_non_null (reason);
        assert_string_equal (reason, "bets file write failed");
        assert_int_equal (lot_store_pending (store), 0);
        assert_int_equal (lot_store_stored (store, 1), 1);
        s_assert_file (s_bets, bets, bets_size);
        s_assert_file (s_journal, journal, journal_size);
    }
    signal (SIGXFSZ, handler);
    s_admit (store, &chunk, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    assert_int_equal (lot_store_stored (store, 1), 2);
    lot_store_destroy (&store);
    store = s_open ();
    assert_int_equal (lot_store_stored (store, 1), 2);
    lot_store_destroy (&store);
    free (bets);
    free (journal);
}

//  A full device says so; a file that cannot be cut back stops the store.
static void
test_device_full (void **state)
{
    (void) state;
    if (access ("/dev/full", W_OK))
        skip ();
    char *error = NULL;
    lot_store_t *store = lot_store_new ("/dev/full", s_journal, AGENCIES, false, &error);
    assert_non_null (store);
    s_expect (store, 1, 0, 1, false, LOT_STORE_APPEND, NULL);
    char *log_path = tu_printf ("%s/log.txt", s_dir);
    tu_capture_t capture = tu_capture_begin (1, log_path);
    const char *reason = lot_store_commit (store);
    char *log = tu_capture_end (capture);
    assert_string_equal (reason, "bets file device full");
    assert_non_null (strstr (log, "action: bets_file_truncate | result: fail"));
    s_expect (store, 1, 0, 1, false, LOT_STORE_APPEND, NULL);
    assert_string_equal (lot_store_commit (store), "bets file write failed");
    assert_int_equal (lot_store_stored (store, 1), 0);
    lot_store_destroy (&store);
    free (log);
    free (log_path);
}

static void
test_open_errors (void **state)
{
    (void) state;
    char *error = NULL;
    char *missing = tu_printf ("%s/no/such/dir/bets.csv", s_dir);
    assert_null (lot_store_new (missing, s_journal, AGENCIES, false, &error));
    assert_non_null (strstr (error, "cannot open the bets file"));
    free (error);
    assert_null (lot_store_new (s_bets, missing, AGENCIES, false, &error));
    assert_non_null (strstr (error, "cannot create the journal"));
    free (error);
    assert_null (lot_store_new (s_bets, missing, AGENCIES, false, NULL));
    free (missing);

    //  Headers: never discarded, the operator must look
    const char *bets = "1,Ana,Paz,1,1990-01-01,7574\r\n";
    s_write_file (s_bets, bets, strlen (bets));
    char *header = s_journal_line ("lottery-journal 1 base 0");
    char *wrong_crc = strdup (header);
    wrong_crc [strlen (wrong_crc) - 2] ^= 0x01;
    char *torn = strndup (header, strlen (header) - 1);
    char *later = s_journal_line ("lottery-journal 2 base 0");
    const char *unreadable [] = { "garbage\n", wrong_crc, torn, later };
    for (size_t i = 0; i < sizeof unreadable / sizeof unreadable [0]; i++) {
        s_write_file (s_journal, unreadable [i], strlen (unreadable [i]));
        s_expect_error ("its header is unreadable");
        s_assert_file (s_journal, unreadable [i], strlen (unreadable [i]));
    }
    char *beyond = s_journal_line ("lottery-journal 1 base 100");
    s_write_file (s_journal, beyond, strlen (beyond));
    s_expect_error ("starts at byte 100 of the bets file");
    s_assert_file (s_bets, bets, strlen (bets));

    //  A record with good checksums that no commit wrote: agency 1 at
    //  position 0 twice
    chunk_t chunk;
    s_chunk (&chunk, 1, 0, 1, false);
    char *body = tu_printf ("1 0 1 0 1 %zu %08" PRIx32, chunk.chunk.size,
                            (uint32_t) crc32 (0, (const Bytef *) chunk.lines,
                                              (uInt) chunk.chunk.size));
    char *record = s_journal_line (body);
    char *twice_body = tu_printf ("1 0 1 0 1 %zu %08" PRIx32, 2 * chunk.chunk.size,
                                  (uint32_t) crc32 (0, (const Bytef *) chunk.lines,
                                                    (uInt) chunk.chunk.size));
    char *twice = s_journal_line (twice_body);
    char *journal = tu_printf ("%s%s%s", header, record, twice);
    char *lines = tu_printf ("%.*s%.*s", (int) chunk.chunk.size, chunk.lines,
                             (int) chunk.chunk.size, chunk.lines);
    s_write_file (s_bets, lines, strlen (lines));
    s_write_file (s_journal, journal, strlen (journal));
    s_expect_error ("record 2 (agency 1, position 0) does not follow");

    //  Agencies above the highest known count for none
    lot_store_t *store = lot_store_new (s_bets, s_journal, 0, false, &error);
    assert_non_null (store);
    lot_store_destroy (&store);
    s_assert_file (s_journal, journal, strlen (journal));

    free (header);
    free (wrong_crc);
    free (torn);
    free (later);
    free (beyond);
    free (body);
    free (record);
    free (twice_body);
    free (twice);
    free (journal);
    free (lines);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_verdict_rules, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_commit_then_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_journal_format, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bets_file_without_journal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_crash_at_every_cut, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_crash_flipped_bytes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failed_write_cuts_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_device_full, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_open_errors, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("store", tests, NULL, NULL);
}
