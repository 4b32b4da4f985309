/*  test_store - the bets file and its journal: verdicts, commits, and
    recovery from every way a crash can cut the last group
*/
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zlib.h>

#include "lot_log.h"
#include "lot_store.h"
#include "testutil.h"

#define AGENCIES 5
#define BETS     "./bets.csv"       //  In tu_dir, as the server's default is
#define JOURNAL  "./bets.journal"

static bool s_fsync;                //  How s_open opens the store

//  The syncs asked for since the test cleared it, in order: "bets",
//  "journal" (an fdatasync of either), "fs" (a syncfs), each followed by
//  a space. The store's calls land here, then in the kernel.
static char s_syncs [256];

static void
s_synced (const char *what)
{
    size_t used = strlen (s_syncs);
    snprintf (s_syncs + used, sizeof s_syncs - used, "%s ", what);
}

int
fdatasync (int fd)
{
    char link [64], path [4096];
    snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t size = readlink (link, path, sizeof path - 1);
    path [size > 0 ? size : 0] = '\0';
    const char *name = strrchr (path, '/');
    name = name ? name + 1 : path;
    s_synced (strcmp (name, "bets.csv") == 0 ? "bets"
              : strcmp (name, "bets.journal") == 0 ? "journal" : "other");
    return (int) syscall (SYS_fdatasync, fd);
}

int
syncfs (int fd)
{
    s_synced ("fs");
    return (int) syscall (SYS_syncfs, fd);
}

static int
s_setup (void **state)
{
    s_fsync = false;
    lot_log_set_level (LOT_LOG_INFO);
    return tu_dir_setup (state);
}

static int
s_teardown (void **state)
{
    lot_log_set_level (LOT_LOG_INFO);
    return tu_dir_teardown (state);
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
    lot_store_t *store = lot_store_new (BETS, JOURNAL, AGENCIES, s_fsync, &error);
    if (!store)
        fail_msg ("lot_store_new: %s", error ? error : "(no error)");
    assert_null (error);
    return store;
}

//  Expects lot_store_new to fail with an error that holds text.
static void
s_expect_error (const char *bets, const char *journal, const char *text)
{
    char *error = NULL;
    assert_null (lot_store_new (bets, journal, AGENCIES, false, &error));
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

//  Each agency's stored bets and finished flag, from 0 to AGENCIES + 1
//  (neither of those two is an agency: 0 and false).
static void
s_assert_state (lot_store_t *store, const uint32_t stored [AGENCIES + 2],
                const bool finished [AGENCIES + 2])
{
    for (uint32_t agency = 0; agency <= AGENCIES + 1; agency++) {
        if (lot_store_stored (store, agency) != stored [agency]
        ||  lot_store_finished (store, agency) != finished [agency])
            fail_msg ("agency %" PRIu32 ": stored %" PRIu32 ", finished %d;"
                      " expected %" PRIu32 ", %d", agency, lot_store_stored (store, agency),
                      lot_store_finished (store, agency), stored [agency], finished [agency]);
    }
}

static size_t
s_file_size (const char *path)
{
    struct stat info;
    assert_int_equal (stat (path, &info), 0);
    return (size_t) info.st_size;
}

static uint32_t
s_crc (const void *data, size_t size)
{
    return (uint32_t) crc32 (0, (const Bytef *) data, (uInt) size);
}

//  --------------------------------------------------------------------------
//  Verdicts

static void
test_verdict_rules (void **state)
{
    lot_store_t *store = s_open ();
    //  1. Unknown agency
    s_expect (store, 0, 0, 1, false, LOT_STORE_REJECT, "unknown agency");
    s_expect (store, AGENCIES + 1, 0, 1, false, LOT_STORE_REJECT, "unknown agency");

    //  Within one pending group; the same chunk again is the same bytes
    s_expect (store, 1, 0, 2, false, LOT_STORE_APPEND, NULL);       //  2.
    s_expect (store, 1, 0, 2, false, LOT_STORE_REPEAT, NULL);       //  4.
    s_expect (store, 1, 2, 1, false, LOT_STORE_APPEND, NULL);
    s_expect (store, 1, 0, 1, false, LOT_STORE_REPEAT, NULL);       //  Inside S'
    s_expect (store, 1, 3, 0, false, LOT_STORE_APPEND, NULL);       //  Empty, at S'
    s_expect (store, 1, 5, 1, false, LOT_STORE_EARLY, "chunk out of order");
    s_expect (store, 1, 2, 3, false, LOT_STORE_REJECT, "chunk overlaps stored bets");
    s_expect (store, 2, 0, 0, true, LOT_STORE_APPEND, NULL);        //  Empty last chunk
    s_expect (store, 2, 0, 0, true, LOT_STORE_REPEAT, NULL);
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
    const uint32_t stored [AGENCIES + 2] = { 0, 3, 0, 2 };
    const bool finished [AGENCIES + 2] = { false, false, true, true };
    for (int round = 0; round < 2; round++) {
        s_assert_state (store, stored, finished);
        //  3. Sent again, also an empty chunk at S once the agency finished
        s_expect (store, 1, 0, 2, false, LOT_STORE_STORED, NULL);
        s_expect (store, 1, 2, 1, false, LOT_STORE_STORED, NULL);
        s_expect (store, 1, 0, 3, false, LOT_STORE_STORED, NULL);
        s_expect (store, 2, 0, 0, true, LOT_STORE_STORED, NULL);
        s_expect (store, 3, 0, 2, true, LOT_STORE_STORED, NULL);
        s_expect (store, 3, 2, 0, true, LOT_STORE_STORED, NULL);
        s_expect (store, 3, 2, 1, true, LOT_STORE_REJECT, "agency already finished");
        s_expect (store, 3, 1, 2, true, LOT_STORE_REJECT, "agency already finished");
        //  Beyond S'
        s_expect (store, 1, 4, 1, false, LOT_STORE_EARLY, "chunk out of order");
        //  Stored against pending: durable copies say STORED, the rest REPEAT
        s_expect (store, 1, 3, 2, false, LOT_STORE_APPEND, NULL);
        s_expect (store, 1, 2, 1, false, LOT_STORE_STORED, NULL);
        s_expect (store, 1, 2, 2, false, LOT_STORE_REPEAT, NULL);
        s_expect (store, 1, 3, 2, false, LOT_STORE_REPEAT, NULL);
        //  Across S' (A. needs nothing pending)
        s_expect (store, 1, 2, 4, false, LOT_STORE_REJECT, "chunk overlaps stored bets");
        s_expect (store, 1, 4, 2, false, LOT_STORE_REJECT, "chunk overlaps stored bets");
        s_expect (store, 1, 5, 0, true, LOT_STORE_APPEND, NULL);
        s_expect (store, 1, 5, 0, false, LOT_STORE_REPEAT, NULL);
        s_expect (store, 1, 5, 1, false, LOT_STORE_REJECT, "agency already finished");
        assert_int_equal (lot_store_stored (store, 1), 3);
        lot_store_destroy (&store);
        assert_null (store);
        store = s_open ();
    }
    //  A. Across S with nothing pending: the bets from S on are new, a
    //  copy shares their fate; a last chunk that ends at S finishes its
    //  agency with no bets
    s_expect (store, 1, 2, 2, false, LOT_STORE_APPEND, NULL);
    s_expect (store, 1, 2, 2, false, LOT_STORE_REPEAT, NULL);
    s_expect (store, 1, 1, 4, false, LOT_STORE_REJECT, "chunk overlaps stored bets");
    s_expect (store, 4, 0, 1, false, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    s_expect (store, 4, 0, 1, true, LOT_STORE_APPEND, NULL);
    s_expect (store, 4, 0, 1, true, LOT_STORE_REPEAT, NULL);
    s_expect (store, 3, 1, 2, false, LOT_STORE_REJECT, "agency already finished");
    assert_int_equal (lot_store_pending (store), 1);
    assert_null (lot_store_commit (store));
    s_assert_state (store, (uint32_t []) { 0, 4, 0, 2, 1, 0, 0 },
                    (bool []) { false, false, true, true, true, false, false });
    s_expect (store, 4, 0, 1, true, LOT_STORE_STORED, NULL);
    s_expect (store, 4, 0, 1, false, LOT_STORE_STORED, NULL);
    lot_store_destroy (&store);
    //  Bet 3 of agency 1 once, and the empty last chunk of agency 4
    size_t size;
    char *journal = tu_read_file (JOURNAL, &size);
    chunk_t bet3;
    s_chunk (&bet3, 1, 3, 1, false);
    char *bets = tu_read_file (BETS, &size);
    assert_non_null (strstr (bets, bet3.lines));
    assert_null (strstr (strstr (bets, bet3.lines) + 1, bet3.lines));
    assert_non_null (strstr (journal, "\n1 3 1 0 "));
    assert_non_null (strstr (journal, "\n4 1 0 1 "));
    free (bets);
    free (journal);
}

//  --------------------------------------------------------------------------
//  Commits

static void
test_commit_then_reopen (void **state)
{
    s_fsync = true;                         //  Once with every sync
    lot_store_t *store = s_open ();
    s_fsync = false;
    const uint32_t rows [5][4] = {          //  agency, position, count, last
        { 1, 0, 2, 0 }, { 2, 0, 1, 1 }, { 1, 2, 3, 0 }, { 4, 0, 0, 0 }, { 1, 5, 1, 1 }
    };
    chunk_t chunks [5];
    char expected [1024];
    size_t size = 0;
    for (int i = 0; i < 5; i++) {
        s_chunk (&chunks [i], rows [i][0], rows [i][1], rows [i][2], rows [i][3]);
        s_admit (store, &chunks [i], LOT_STORE_APPEND, NULL);
        memcpy (expected + size, chunks [i].lines, chunks [i].chunk.size);
        size += chunks [i].chunk.size;
        if (i == 1 || i == 4)
            assert_null (lot_store_commit (store));
    }
    assert_null (lot_store_commit (store));         //  Nothing pending
    assert_int_equal (lot_store_sync (store), 0);
    lot_store_destroy (&store);
    tu_assert_file (BETS, expected, size);
    store = s_open ();
    s_assert_state (store, (uint32_t []) { 0, 6, 1, 0, 0, 0, 0 },
                    (bool []) { false, true, true, false, false, false, false });
    //  An empty chunk of an agency not finished is new at S, every time
    for (int i = 0; i < 5; i++)
        s_admit (store, &chunks [i], i == 3 ? LOT_STORE_APPEND : LOT_STORE_STORED, NULL);
    assert_null (lot_store_commit (store));
    lot_store_destroy (&store);
    tu_assert_file (BETS, expected, size);
}

//  A bets file from before the journal: its whole lines stay, for no
//  agency; the journal starts after them, a header and a record a chunk.
static void
test_bets_file_without_journal (void **state)
{
    const char *old = "1,Ana,Paz,1,1990-01-01,7574\r\n1,Bea,Paz,2,1990-01-01,1\r\n";
    char *torn = tu_printf ("%s1,Car", old);
    tu_write_file (BETS, torn, strlen (torn));
    tu_write_file (JOURNAL, "", 0);                  //  Created, never written
    tu_capture_t capture = tu_capture_begin (1, "log.txt");
    char *error = NULL;
    lot_store_t *store = lot_store_new (BETS, JOURNAL, AGENCIES, false, &error);
    char *log = tu_capture_end (capture);
    assert_non_null (store);
    assert_non_null (strstr (log, "action: bets_file_repair | result: success | path: " BETS
                                  " | removed_bytes: 5\n"));
    assert_non_null (strstr (log, "action: journal | result: in_progress | path: "));
    assert_non_null (strstr (log, "count for no agency"));
    free (log);

    assert_int_equal (lot_store_stored (store, 1), 0);
    chunk_t chunk;
    s_chunk (&chunk, 1, 0, 2, true);
    s_admit (store, &chunk, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    lot_store_destroy (&store);
    char *expected = tu_printf ("%s%s", tu_journal_line ("lottery-journal 1 base %zu",
                                                         strlen (old)),
                                tu_journal_line ("1 0 2 1 1 %zu %08" PRIx32,
                                                 strlen (old) + chunk.chunk.size,
                                                 s_crc (chunk.lines, chunk.chunk.size)));
    tu_assert_file (JOURNAL, expected, strlen (expected));
    free (expected);

    //  A clean reopen logs nothing and keeps it all
    capture = tu_capture_begin (1, "log.txt");
    store = lot_store_new (BETS, JOURNAL, AGENCIES, false, &error);
    log = tu_capture_end (capture);
    assert_non_null (store);
    assert_string_equal (log, "");
    assert_int_equal (lot_store_stored (store, 1), 2);
    lot_store_destroy (&store);
    expected = tu_printf ("%s%.*s", old, (int) chunk.chunk.size, chunk.lines);
    tu_assert_file (BETS, expected, strlen (expected));
    free (expected);
    free (log);
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
    uint32_t stored [LAST_CHUNKS + 1][AGENCIES + 2];
    bool finished [LAST_CHUNKS + 1][AGENCIES + 2];
} history_t;

static void
s_history (history_t *self)
{
    tu_write_file (BETS, "1,Old,Bet,99,1990-01-01,5\r\n", 27);
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
    self->bets_end [0] = s_file_size (BETS);
    self->journal_end [0] = s_file_size (JOURNAL);
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
    self->bets = tu_read_file (BETS, &self->bets_size);
    self->journal = tu_read_file (JOURNAL, &self->journal_size);
    assert_int_equal (self->bets_size, self->bets_end [LAST_CHUNKS]);
    for (int k = 0; k < LAST_CHUNKS; k++) {
        const char *newline = memchr (self->journal + self->journal_end [k], '\n',
                                      self->journal_size - self->journal_end [k]);
        assert_non_null (newline);
        self->journal_end [k + 1] = (size_t) (newline - self->journal) + 1;
    }
    assert_int_equal (self->journal_size, self->journal_end [LAST_CHUNKS]);
}

//  Opens the store over files as a crash left them, where the first
//  records records of the last group are valid and the bets file's lines
//  are whole up to lines_end. Expects those records kept, and every whole
//  line past them adopted: one record per run of one agency's lines, in
//  a group of its own, the agency not finished. Then sends the whole last
//  group again, as agencies would: a chunk adopted whole is stored (a
//  last one is new, with no bets, to finish its agency), one adopted in
//  part stores the rest. Expects the files of no crash, and the same
//  state from a reopen.
static void
s_recover (history_t *self, size_t records, size_t lines_end)
{
    size_t from = self->bets_end [records], to = from;
    for (size_t at = from; at < lines_end; at++)
        if (self->bets [at] == '\n')
            to = at + 1;
    uint32_t stored [AGENCIES + 2];
    memcpy (stored, self->stored [records], sizeof stored);
    char journal [4096];
    size_t journal_size = self->journal_end [records];
    memcpy (journal, self->journal, journal_size);
    unsigned group = records ? 4 : 3;       //  Two durable groups, the last one
    for (size_t at = from; at < to;) {
        uint32_t agency = (uint32_t) (self->bets [at] - '0'), count = 0;
        size_t start = at;
        while (at < to && self->bets [at] == (char) ('0' + agency)) {
            at = (size_t) ((const char *) memchr (self->bets + at, '\n', to - at)
                           - self->bets) + 1;
            count++;
        }
        const char *line = tu_journal_line ("%" PRIu32 " %" PRIu32 " %" PRIu32 " 0 %u %zu %08"
                                            PRIx32, agency, stored [agency], count, group,
                                            at, s_crc (self->bets + start, at - start));
        assert_true (journal_size + strlen (line) <= sizeof journal);
        memcpy (journal + journal_size, line, strlen (line));
        journal_size += strlen (line);
        stored [agency] += count;
    }
    lot_store_t *store = s_open ();
    assert_int_equal (s_file_size (BETS), to);
    tu_assert_file (JOURNAL, journal, journal_size);
    s_assert_state (store, stored, self->finished [records]);
    for (size_t k = 0; k < LAST_CHUNKS; k++) {
        const lot_store_chunk_t *chunk = &self->last [k].chunk;
        bool adopted = chunk->count > 0 && !chunk->last
                    && chunk->position + chunk->count <= stored [chunk->agency];
        s_admit (store, &self->last [k], k < records || adopted ? LOT_STORE_STORED
                                                                : LOT_STORE_APPEND, NULL);
    }
    assert_null (lot_store_commit (store));
    s_assert_state (store, self->stored [LAST_CHUNKS], self->finished [LAST_CHUNKS]);
    lot_store_destroy (&store);
    tu_assert_file (BETS, self->bets, self->bets_size);
    store = s_open ();
    s_assert_state (store, self->stored [LAST_CHUNKS], self->finished [LAST_CHUNKS]);
    lot_store_destroy (&store);
    tu_assert_file (BETS, self->bets, self->bets_size);
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
    tu_write_file (path, torn, zeroed ? size : keep);
}

//  Writes a file's full text with the bits of mask flipped in byte at.
static void
s_write_flipped (const char *path, const char *text, size_t size, size_t at, int mask)
{
    s_write_torn (path, text, size, size, false);
    char byte = (char) (text [at] ^ mask);
    int fd = open (path, O_WRONLY);
    assert_int_equal (pwrite (fd, &byte, 1, (off_t) at), 1);
    assert_int_equal (close (fd), 0);
}

//  A power cut may persist any prefix of either file's last group, or its
//  size with zeros past that prefix, so every pair of cuts (SQLite's crash
//  tests do the same) must recover to the records whole in both, then the
//  whole lines past them (their records lost), and a resend must complete
//  the group exactly once. Then a page of the last
//  group that came back wrong: its lines or its record.
static void
test_crash_recovery (void **state)
{
    history_t history;
    s_history (&history);
    lot_log_set_level (LOT_LOG_ERROR);      //  Thousands of repairs
    size_t cases = 0;
    for (int zeroed = 0; zeroed < 2; zeroed++)
    for (size_t bets = history.bets_end [0]; bets <= history.bets_size; bets++)
    for (size_t journal = history.journal_end [0]; journal <= history.journal_size;
         journal++) {
        s_write_torn (BETS, history.bets, history.bets_size, bets, zeroed);
        s_write_torn (JOURNAL, history.journal, history.journal_size, journal, zeroed);
        size_t in_bets = s_whole (history.bets_end, bets);
        size_t in_journal = s_whole (history.journal_end, journal);
        s_recover (&history, in_bets < in_journal ? in_bets : in_journal, bets);
        cases++;
    }
    lot_log_set_level (LOT_LOG_INFO);
    print_message ("%zu cuts of %zu bets bytes by %zu journal bytes, cut or zeroed\n",
                   cases, history.bets_size - history.bets_end [0],
                   history.journal_size - history.journal_end [0]);
    s_fsync = true;                         //  Recovery syncs what it cuts
    for (size_t k = 0; k < LAST_CHUNKS; k++) {
        //  In the lines of chunk k (an empty one has none)
        if (history.last [k].chunk.size) {
            s_write_flipped (BETS, history.bets, history.bets_size, history.bets_end [k] + 1, 0x20);
            tu_write_file (JOURNAL, history.journal, history.journal_size);
            tu_capture_t capture = tu_capture_begin (1, "log.txt");
            s_recover (&history, k, history.bets_end [k]);
            char *log = tu_capture_end (capture);
            assert_non_null (strstr (log, "action: bets_file_repair | result: success"));
            assert_non_null (strstr (log, "action: journal_repair | result: success"));
            free (log);
        }
        //  In its record
        tu_write_file (BETS, history.bets, history.bets_size);
        s_write_flipped (JOURNAL, history.journal, history.journal_size,
                         history.journal_end [k], 0x01);
        lot_log_set_level (LOT_LOG_ERROR);
        s_recover (&history, k, history.bets_size);
        lot_log_set_level (LOT_LOG_INFO);
    }
    free (history.bets);
    free (history.journal);
}

//  --------------------------------------------------------------------------
//  Lines past the journal's last record

//  Appends a journal line to a text of *size bytes.
static void
s_append (char *text, size_t capacity, size_t *size, const char *line)
{
    assert_true (*size + strlen (line) <= capacity);
    memcpy (text + *size, line, strlen (line));
    *size += strlen (line);
}

//  A record as the store writes it, for chunk lines ending at end
static const char *
s_record (uint32_t agency, uint32_t position, uint32_t count, bool last, unsigned group,
          size_t end, const char *lines, size_t size)
{
    return tu_journal_line ("%" PRIu32 " %" PRIu32 " %" PRIu32 " %d %u %zu %08" PRIx32,
                            agency, position, count, last, group, end,
                            s_crc (lines, size));
}

//  Where the nth line of a chunk ends
static size_t
s_line_end (const chunk_t *chunk, int nth)
{
    size_t at = 0;
    for (int line = 0; line < nth; line++)
        at = (size_t) ((const char *) memchr (chunk->lines + at, '\n',
                                               chunk->chunk.size - at) - chunk->lines) + 1;
    return at;
}

#define ADOPT_CHUNKS 6

//  Three groups over empty files: their chunks, the files after them, and
//  the journal's size after the first
typedef struct {
    chunk_t chunks [ADOPT_CHUNKS];
    char *bets;
    size_t bets_size;
    char *journal;
    size_t journal_size;
    size_t journal_first;           //  After the first group's records
    size_t bets_first;              //  After its lines
} adopt_t;

//  Appends the records of chunks [from, ADOPT_CHUNKS) of group, whole,
//  their lines ending from *end on.
static void
s_append_chunks (char *text, size_t capacity, size_t *size, size_t *end,
                 const chunk_t *chunks, int from, unsigned group)
{
    for (int i = from; i < ADOPT_CHUNKS; i++) {
        *end += chunks [i].chunk.size;
        s_append (text, capacity, size,
                  s_record (chunks [i].chunk.agency, chunks [i].chunk.position,
                            chunks [i].chunk.count, false, group, *end, chunks [i].lines,
                            chunks [i].chunk.size));
    }
}

static void
s_adopt_history (adopt_t *self)
{
    const uint32_t rows [ADOPT_CHUNKS][4] = {       //  agency, position, count, last
        { 1, 0, 2, 0 }, { 2, 0, 1, 0 },
        { 1, 2, 3, 0 }, { 2, 1, 2, 0 }, { 1, 5, 1, 0 },
        { 3, 0, 2, 0 }
    };
    memset (self, 0, sizeof *self);
    lot_store_t *store = s_open ();
    for (int i = 0; i < ADOPT_CHUNKS; i++) {
        s_chunk (&self->chunks [i], rows [i][0], rows [i][1], rows [i][2], rows [i][3]);
        s_admit (store, &self->chunks [i], LOT_STORE_APPEND, NULL);
        if (i == 1 || i == 4 || i == 5)
            assert_null (lot_store_commit (store));
        if (i == 1) {
            self->journal_first = s_file_size (JOURNAL);
            self->bets_first = s_file_size (BETS);
        }
    }
    lot_store_destroy (&store);
    self->bets = tu_read_file (BETS, &self->bets_size);
    self->journal = tu_read_file (JOURNAL, &self->journal_size);
}

//  Opens the store and returns what it logged
static lot_store_t *
s_open_logged (char **log)
{
    tu_capture_t capture = tu_capture_begin (1, "log.txt");
    lot_store_t *store = s_open ();
    *log = tu_capture_end (capture);
    return store;
}

//  A reopen that finds nothing to cut or adopt, with the state given.
static lot_store_t *
s_reopen_quiet (const uint32_t *stored, const bool *finished)
{
    char *log;
    lot_store_t *store = s_open_logged (&log);
    assert_string_equal (log, "");
    free (log);
    s_assert_state (store, stored, finished);
    return store;
}

static void
s_expect_log (const char *log, const char *text)
{
    if (!strstr (log, text))
        fail_msg ("log '%s' does not say '%s'", log, text);
}

//  A power cut lost the records of the last two groups (their commits
//  synced the bets file only) but not their lines: recovery adopts them,
//  one record per run of one agency, and a resend of every chunk stores
//  nothing twice.
static void
test_adopt_lost_records (void **state)
{
    adopt_t history;
    s_adopt_history (&history);
    const chunk_t *c = history.chunks;
    tu_write_file (JOURNAL, history.journal, history.journal_first);
    char *log;
    lot_store_t *store = s_open_logged (&log);
    s_expect_log (log, "action: journal_rebuild | result: success | path: " JOURNAL
                       " | adopted_lines: 8\n");
    assert_null (strstr (log, "repair"));
    free (log);
    const uint32_t stored [AGENCIES + 2] = { 0, 6, 3, 2 };
    const bool finished [AGENCIES + 2] = { false };
    s_assert_state (store, stored, finished);
    tu_assert_file (BETS, history.bets, history.bets_size);
    char journal [2048];
    size_t size = history.journal_first;
    memcpy (journal, history.journal, size);
    size_t end = history.bets_first;
    s_append_chunks (journal, sizeof journal, &size, &end, c, 2, 2);
    tu_assert_file (JOURNAL, journal, size);
    for (int i = 0; i < ADOPT_CHUNKS; i++)
        s_admit (store, &history.chunks [i], LOT_STORE_STORED, NULL);
    assert_int_equal (lot_store_pending (store), 0);
    assert_null (lot_store_commit (store));
    lot_store_destroy (&store);
    tu_assert_file (BETS, history.bets, history.bets_size);
    tu_assert_file (JOURNAL, journal, size);

    //  The records are there now: a reopen finds nothing to do
    store = s_reopen_quiet (stored, finished);
    lot_store_destroy (&store);
    free (history.bets);
    free (history.journal);
}

//  Of a chunk adopted in part, a resend stores the rest only, also after
//  a second crash: the records of the lines adopted are durable then.
static void
test_adopt_part_of_a_chunk (void **state)
{
    adopt_t history;
    s_adopt_history (&history);
    const chunk_t *c = history.chunks;
    //  Two of the three lines of chunk 2, and half of its third
    size_t two = s_line_end (&c [2], 2);
    tu_write_file (BETS, history.bets, history.bets_first + two + 5);
    tu_write_file (JOURNAL, history.journal, history.journal_first);
    char *log;
    lot_store_t *store = s_open_logged (&log);
    s_expect_log (log, "action: bets_file_repair | result: success | path: " BETS
                       " | removed_bytes: 5\n");
    s_expect_log (log, "action: journal_rebuild | result: success | path: " JOURNAL
                       " | adopted_lines: 2\n");
    free (log);
    s_assert_state (store, (uint32_t []) { 0, 4, 1, 0, 0, 0, 0 },
                    (bool [AGENCIES + 2]) { false });
    char journal [2048];
    size_t size = history.journal_first;
    memcpy (journal, history.journal, size);
    size_t end = history.bets_first + two;
    s_append (journal, sizeof journal, &size,
              s_record (1, 2, 2, false, 2, end, c [2].lines, two));
    tu_assert_file (JOURNAL, journal, size);
    //  A second crash before anything is sent again
    lot_store_destroy (&store);
    store = s_reopen_quiet ((uint32_t []) { 0, 4, 1, 0, 0, 0, 0 },
                            (bool [AGENCIES + 2]) { false });

    //  Sent again: the first two as before, the rest new; a copy of the
    //  chunk adopted in part shares its fate
    s_admit (store, &history.chunks [0], LOT_STORE_STORED, NULL);
    s_admit (store, &history.chunks [1], LOT_STORE_STORED, NULL);
    s_admit (store, &history.chunks [2], LOT_STORE_APPEND, NULL);
    s_admit (store, &history.chunks [2], LOT_STORE_REPEAT, NULL);
    for (int i = 3; i < ADOPT_CHUNKS; i++)
        s_admit (store, &history.chunks [i], LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    const uint32_t stored [AGENCIES + 2] = { 0, 6, 3, 2 };
    const bool finished [AGENCIES + 2] = { false };
    s_assert_state (store, stored, finished);
    end += c [2].chunk.size - two;
    s_append (journal, sizeof journal, &size,
              s_record (1, 4, 1, false, 3, end, c [2].lines + two, c [2].chunk.size - two));
    s_append_chunks (journal, sizeof journal, &size, &end, c, 3, 3);
    lot_store_destroy (&store);
    tu_assert_file (BETS, history.bets, history.bets_size);
    tu_assert_file (JOURNAL, journal, size);
    store = s_reopen_quiet (stored, finished);
    for (int i = 0; i < ADOPT_CHUNKS; i++)
        s_admit (store, &history.chunks [i], LOT_STORE_STORED, NULL);
    lot_store_destroy (&store);
    free (history.bets);
    free (history.journal);
}

//  Past the lines adopted, the first line that is not a whole bet of a
//  known agency not finished ends the bets file: a power cut's torn or
//  zeroed tail, a line no commit wrote. The lines before it stay.
static void
test_adopt_stops_at_a_bad_line (void **state)
{
    adopt_t history;
    s_adopt_history (&history);
    const chunk_t *c = history.chunks;
    size_t good = history.bets_first + c [2].chunk.size;     //  Chunk 2 adopted
    char *bets = malloc (history.bets_size + 256);
    assert_non_null (bets);
    const char *tails [] = {
        "zeros", "torn", "flipped", "agency above AGENCIES", "finished agency",
        "not canonical", "no CR"
    };
    for (size_t t = 0; t < sizeof tails / sizeof tails [0]; t++) {
        tu_case ("%s", tails [t]);
        memcpy (bets, history.bets, history.bets_size);
        size_t size = history.bets_size;
        const char *line = NULL;
        switch (t) {
            case 0: memset (bets + good, 0, size - good); break;
            case 1: size = good + 7; break;
            case 2: bets [good + 1] ^= 0x20; break;      //  The comma after the agency
            case 3: line = "6,N0,L,6000,2000-01-01,0\r\n"; break;
            case 4: line = "4,N0,L,4000,2000-01-01,0\r\n"; break;
            case 5: line = "2,N1,L,2001,2000-01-01,007\r\n"; break;
            case 6: line = "2,N1,L,2001,2000-01-01,1\n"; break;
        }
        if (line) {
            //  Before the rest, which stays unadopted behind it
            memmove (bets + good + strlen (line), bets + good, size - good);
            memcpy (bets + good, line, strlen (line));
            size += strlen (line);
        }
        tu_write_file (BETS, bets, size);
        tu_write_file (JOURNAL, history.journal, history.journal_first);
        if (t == 3) {
            //  A bet of a run with more agencies: refused, and nothing cut
            s_expect_error (BETS, JOURNAL, "the bets file " BETS " holds bets of agency 6"
                            " past its journal's last record, and AGENCIES is 5: start"
                            " with AGENCIES 6 or more");
            tu_assert_file (BETS, bets, size);
            tu_case_done ();
            continue;
        }
        if (t == 4) {
            //  Agency 4 finished in a record of the first group
            int fd = open (JOURNAL, O_WRONLY | O_APPEND);
            const char *record = s_record (4, 0, 0, true, 1, history.bets_first, "", 0);
            assert_int_equal (write (fd, record, strlen (record)), (ssize_t) strlen (record));
            assert_int_equal (close (fd), 0);
        }
        char *log;
        lot_store_t *store = s_open_logged (&log);
        s_expect_log (log, "action: journal_rebuild | result: success | path: " JOURNAL
                           " | adopted_lines: 3\n");
        char *removed = tu_printf ("action: bets_file_repair | result: success | path: "
                                   BETS " | removed_bytes: %zu\n", size - good);
        s_expect_log (log, removed);
        free (removed);
        free (log);
        s_assert_state (store, (uint32_t []) { 0, 5, 1, 0, 0, 0, 0 },
                        (bool []) { false, false, false, false, t == 4, false, false });
        tu_assert_file (BETS, history.bets, good);
        //  The rest comes again and is stored once
        for (int i = 0; i < ADOPT_CHUNKS; i++)
            s_admit (store, &history.chunks [i], i < 3 ? LOT_STORE_STORED : LOT_STORE_APPEND,
                     NULL);
        assert_null (lot_store_commit (store));
        lot_store_destroy (&store);
        tu_assert_file (BETS, history.bets, history.bets_size);
        tu_case_done ();
    }
    free (bets);
    free (history.bets);
    free (history.journal);
}

//  The clock judges no line read back: one born after today (the clock
//  set back since it was stored) is adopted, not cut.
static void
test_adopt_ignores_the_clock (void **state)
{
    const char *line = "1,Ana,Paz,1,2999-01-01,7574\r\n";
    const char *header = tu_journal_line ("lottery-journal 1 base 0");
    tu_write_file (BETS, line, strlen (line));
    tu_write_file (JOURNAL, header, strlen (header));
    char *log;
    lot_store_t *store = s_open_logged (&log);
    s_expect_log (log, "action: journal_rebuild | result: success | path: " JOURNAL
                       " | adopted_lines: 1\n");
    free (log);
    assert_int_equal (lot_store_stored (store, 1), 1);
    lot_store_destroy (&store);
    tu_assert_file (BETS, line, strlen (line));
}

//  A commit syncs the bets file only, unless its group finishes an
//  agency: then the journal too, so that no finished agency depends on
//  lines adopted (they come back not finished); and every so many groups,
//  so that what a recovery adopts is bounded.
static void
test_last_chunk_syncs_journal (void **state)
{
    s_fsync = true;
    lot_store_t *store = s_open ();
    s_syncs [0] = '\0';
    s_expect (store, 1, 0, 2, false, LOT_STORE_APPEND, NULL);
    s_expect (store, 2, 0, 1, false, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    assert_string_equal (s_syncs, "bets ");
    s_syncs [0] = '\0';
    s_expect (store, 1, 2, 1, true, LOT_STORE_APPEND, NULL);
    s_expect (store, 2, 1, 1, false, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    //  One filesystem: one syncfs for both
    assert_string_equal (s_syncs, "fs ");
    s_syncs [0] = '\0';
    s_expect (store, 2, 2, 1, false, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    assert_string_equal (s_syncs, "bets ");
    //  The journal again, at the latest with the LOT_STORE_JOURNAL_SYNC_GROUPS-th
    //  group since
    for (uint32_t group = 2; group <= LOT_STORE_JOURNAL_SYNC_GROUPS; group++) {
        s_syncs [0] = '\0';
        s_expect (store, 2, group + 1, 1, false, LOT_STORE_APPEND, NULL);
        assert_null (lot_store_commit (store));
        assert_string_equal (s_syncs, group < LOT_STORE_JOURNAL_SYNC_GROUPS ? "bets " : "fs ");
    }
    lot_store_destroy (&store);
    s_fsync = false;
    //  Without fsync nothing syncs, as before
    store = s_open ();
    s_syncs [0] = '\0';
    s_expect (store, 3, 0, 1, true, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    lot_store_destroy (&store);
    assert_string_equal (s_syncs, "");
}

//  The records of a group with an agency's last chunk were lost, the
//  group unconfirmed: its lines are adopted, the agency not finished. The
//  last chunk sent again stores no bets and finishes it.
static void
test_adopt_last_chunk (void **state)
{
    lot_store_t *store = s_open ();
    chunk_t first, last;
    s_chunk (&first, 4, 0, 2, false);
    s_chunk (&last, 4, 2, 2, true);
    s_admit (store, &first, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    size_t journal_first = s_file_size (JOURNAL);
    s_admit (store, &last, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    lot_store_destroy (&store);
    size_t bets_size, journal_size;
    char *bets = tu_read_file (BETS, &bets_size);
    char *journal = tu_read_file (JOURNAL, &journal_size);
    tu_write_file (JOURNAL, journal, journal_first);
    char *log;
    store = s_open_logged (&log);
    s_expect_log (log, "adopted_lines: 2\n");
    free (log);
    assert_int_equal (lot_store_stored (store, 4), 4);
    assert_false (lot_store_finished (store, 4));
    s_admit (store, &first, LOT_STORE_STORED, NULL);
    s_admit (store, &last, LOT_STORE_APPEND, NULL);
    s_admit (store, &last, LOT_STORE_REPEAT, NULL);
    assert_null (lot_store_commit (store));
    assert_int_equal (lot_store_stored (store, 4), 4);
    assert_true (lot_store_finished (store, 4));
    s_admit (store, &last, LOT_STORE_STORED, NULL);
    lot_store_destroy (&store);
    char expected [1024];
    size_t size = journal_first;
    memcpy (expected, journal, size);
    s_append (expected, sizeof expected, &size,
              s_record (4, 2, 2, false, 2, bets_size, last.lines, last.chunk.size));
    s_append (expected, sizeof expected, &size, s_record (4, 4, 0, true, 3, bets_size, "", 0));
    tu_assert_file (JOURNAL, expected, size);
    tu_assert_file (BETS, bets, bets_size);
    store = s_open ();
    assert_true (lot_store_finished (store, 4));
    lot_store_destroy (&store);
    free (bets);
    free (journal);
}

//  --------------------------------------------------------------------------
//  Failures

//  A write that fails halfway (the file-size limit stops it) leaves both
//  files and the state as they were; the next commit goes through.
static void
test_failed_write_cuts_back (void **state)
{
    lot_store_t *store = s_open ();
    s_expect (store, 1, 0, 1, false, LOT_STORE_APPEND, NULL);
    assert_null (lot_store_commit (store));
    size_t bets_size, journal_size;
    char *bets = tu_read_file (BETS, &bets_size);
    char *journal = tu_read_file (JOURNAL, &journal_size);
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
        tu_assert_file (BETS, bets, bets_size);
        tu_assert_file (JOURNAL, journal, journal_size);
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
    if (access ("/dev/full", W_OK))
        skip ();
    char *error = NULL;
    lot_store_t *store = lot_store_new ("/dev/full", JOURNAL, AGENCIES, false, &error);
    assert_non_null (store);
    s_expect (store, 1, 0, 1, false, LOT_STORE_APPEND, NULL);
    tu_capture_t capture = tu_capture_begin (1, "log.txt");
    const char *reason = lot_store_commit (store);
    char *log = tu_capture_end (capture);
    assert_string_equal (reason, "bets file device full");
    assert_non_null (strstr (log, "action: bets_file_truncate | result: fail"));
    s_expect (store, 1, 0, 1, false, LOT_STORE_APPEND, NULL);
    assert_string_equal (lot_store_commit (store), "bets file write failed");
    assert_int_equal (lot_store_stored (store, 1), 0);
    lot_store_destroy (&store);
    free (log);
}

static void
test_open_errors (void **state)
{
    const char *missing = "./no/such/dir/bets.csv";
    s_expect_error (missing, JOURNAL, "cannot open the bets file");
    s_expect_error (BETS, missing, "cannot create the journal");
    assert_null (lot_store_new (BETS, missing, AGENCIES, false, NULL));

    //  Headers: never discarded, the operator must look
    const char *bets = "1,Ana,Paz,1,1990-01-01,7574\r\n";
    tu_write_file (BETS, bets, strlen (bets));
    char header [64], wrong_crc [64], torn [64];
    snprintf (header, sizeof header, "%s", tu_journal_line ("lottery-journal 1 base 0"));
    snprintf (wrong_crc, sizeof wrong_crc, "%s", header);
    wrong_crc [strlen (wrong_crc) - 2] ^= 0x01;
    snprintf (torn, sizeof torn, "%.*s", (int) strlen (header) - 1, header);
    const char *unreadable [] = {
        "garbage\n", wrong_crc, torn, tu_journal_line ("lottery-journal 2 base 0")
    };
    for (size_t i = 0; i < sizeof unreadable / sizeof unreadable [0]; i++) {
        tu_write_file (JOURNAL, unreadable [i], strlen (unreadable [i]));
        s_expect_error (BETS, JOURNAL, "its header is unreadable");
        tu_assert_file (JOURNAL, unreadable [i], strlen (unreadable [i]));
    }
    const char *beyond = tu_journal_line ("lottery-journal 1 base 100");
    tu_write_file (JOURNAL, beyond, strlen (beyond));
    s_expect_error (BETS, JOURNAL, "starts at byte 100 of the bets file");
    tu_assert_file (BETS, bets, strlen (bets));

    //  A record with good checksums that no commit wrote: agency 1 at
    //  position 0 twice
    chunk_t chunk;
    s_chunk (&chunk, 1, 0, 1, false);
    uint32_t crc = s_crc (chunk.lines, chunk.chunk.size);
    char *journal = tu_printf ("%s%s%s", header,
                               tu_journal_line ("1 0 1 0 1 %zu %08" PRIx32, chunk.chunk.size, crc),
                               tu_journal_line ("1 0 1 0 1 %zu %08" PRIx32,
                                                2 * chunk.chunk.size, crc));
    char *lines = tu_printf ("%.*s%.*s", (int) chunk.chunk.size, chunk.lines,
                             (int) chunk.chunk.size, chunk.lines);
    tu_write_file (BETS, lines, strlen (lines));
    tu_write_file (JOURNAL, journal, strlen (journal));
    s_expect_error (BETS, JOURNAL, "record 2 (agency 1, position 0) does not follow");

    //  Agencies above the highest known count for none
    char *error = NULL;
    lot_store_t *store = lot_store_new (BETS, JOURNAL, 0, false, &error);
    assert_non_null (store);
    lot_store_destroy (&store);
    tu_assert_file (JOURNAL, journal, strlen (journal));
    free (journal);
    free (lines);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_verdict_rules, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_commit_then_reopen, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_bets_file_without_journal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_crash_recovery, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_adopt_lost_records, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_adopt_part_of_a_chunk, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_adopt_stops_at_a_bad_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_adopt_ignores_the_clock, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_last_chunk_syncs_journal, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_adopt_last_chunk, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_failed_write_cuts_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_device_full, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_open_errors, s_setup, s_teardown),
    };
    return cmocka_run_group_tests_name ("store", tests, NULL, NULL);
}
